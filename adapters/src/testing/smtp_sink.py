"""A real SMTP server for Emporium's tests (aiosmtpd): keeps every message it
accepts as <dir>/NNNNNN.eml, with its envelope in NNNNNN.json (numbering on from
the files already there), and refuses every recipient (550) while the file
<dir>/refuse exists.

    python smtp_sink.py PORT DIR
"""

import json
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        # A sink restarted on the same directory numbers on (scripts/soak does so).
        numbers = [int(name[:6]) for name in os.listdir(directory)
                   if name.endswith(".eml") and name[:6].isdigit()]
        self.count = max(numbers, default=0)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if os.path.exists(os.path.join(self.directory, "refuse")):
            return "550 5.7.1 refused by the test sink"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            name = os.path.join(self.directory, "%06d" % self.count)
        with open(name + ".eml.partial", "wb") as out:
            out.write(envelope.original_content or envelope.content)
        with open(name + ".json.partial", "w") as out:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, out)
        os.rename(name + ".json.partial", name + ".json")
        os.rename(name + ".eml.partial", name + ".eml")
        return "250 Message accepted"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
