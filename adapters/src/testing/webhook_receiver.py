"""A real webhook receiver for Emporium's tests. It verifies every delivery with
the `standardwebhooks` package from PyPI (an implementation independent of the
server's), answers as planned, and records each request as one JSON line.

    python webhook_receiver.py PORT DIR

DIR/secrets   the secrets to verify with, one per line (any one may match)
DIR/plan      status codes to answer, comma-separated, used in turn; the last one
              repeats (default 200). "503+7" answers 503 with Retry-After: 7.
DIR/requests.jsonl  what arrived: path, headers, body, verified, error, answered
A POST to /redirect is answered 302 to /landed on this receiver.
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
COUNT = {"n": 0}


def read(directory, name, default=""):
    try:
        with open(os.path.join(directory, name)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return default


class Handler(BaseHTTPRequestHandler):
    directory = "."

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified, error = False, None
        for secret in read(self.directory, "secrets").splitlines():
            try:
                Webhook(secret.strip()).verify(body, headers)
                verified, error = True, None
                break
            except WebhookVerificationError as e:
                error = str(e)
        with LOCK:
            index = COUNT["n"]
            COUNT["n"] += 1
            plan = [p for p in read(self.directory, "plan", "200").split(",") if p]
            answer = plan[min(index, len(plan) - 1)]
            status, _, retry_after = answer.partition("+")
            status = int(status)
            if self.path == "/redirect":
                status = 302
            record = {
                "path": self.path,
                "headers": headers,
                "body": body.decode("utf-8", "replace"),
                "verified": verified,
                "error": error,
                "answered": status,
            }
            with open(os.path.join(self.directory, "requests.jsonl"), "a") as out:
                out.write(json.dumps(record) + "\n")
        self.send_response(status)
        if self.path == "/redirect":
            self.send_header("Location", "http://%s:%d/landed" % self.server.server_address[:2])
        if retry_after:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    Handler.directory = directory
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
