//! A real webhook receiver for tests: `webhook_receiver.py`, run with the Python of
//! `EMPORIUM_TEST_WEBHOOK_PYTHON` (a virtualenv with the `standardwebhooks` package
//! from PyPI, which `scripts/test` provides). It verifies every delivery with that
//! independent implementation, answers as planned, and records what arrived.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{TempDir, free_local_address, python_of, wait_until_listening};

const SCRIPT: &str = include_str!("webhook_receiver.py");

/// The variable naming the Python that has `standardwebhooks`.
pub const PYTHON_VARIABLE: &str = "EMPORIUM_TEST_WEBHOOK_PYTHON";

/// One request the receiver got.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Delivered {
    /// The request path.
    pub path: String,
    /// Its headers, names in lower case.
    pub headers: std::collections::BTreeMap<String, String>,
    /// Its body.
    pub body: String,
    /// Whether a secret verified its signature.
    pub verified: bool,
    /// Why verification failed, when it did.
    pub error: Option<String>,
    /// The status code it was answered.
    pub answered: u16,
}

/// A running receiver.
pub struct WebhookReceiver {
    /// Where it listens.
    pub address: SocketAddr,
    dir: TempDir,
    child: Child,
}

impl WebhookReceiver {
    /// Starts a receiver on a free port; `None` (after a SKIP line) without its
    /// Python.
    pub fn start() -> Option<Self> {
        let python = python_of(PYTHON_VARIABLE, "webhooks")?;
        let address = free_local_address();
        let dir = TempDir::new();
        std::fs::write(dir.path().join("webhook_receiver.py"), SCRIPT).expect("the receiver");
        let log = std::fs::File::create(dir.path().join("receiver.log")).expect("its log");
        let child = Command::new(python)
            .arg(dir.path().join("webhook_receiver.py"))
            .arg(address.port().to_string())
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting the webhook receiver");
        wait_until_listening(
            address,
            &dir.path().join("receiver.log"),
            "webhook receiver",
        );
        Some(Self {
            address,
            dir,
            child,
        })
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The secrets it verifies with.
    pub fn trust(&self, secrets: &[&str]) {
        std::fs::write(self.dir.path().join("secrets"), secrets.join("\n")).expect("secrets");
    }

    /// The status codes it answers in turn (the last repeats); `503+7` adds
    /// `Retry-After: 7`.
    pub fn plan(&self, answers: &[&str]) {
        std::fs::write(self.dir.path().join("plan"), answers.join(",")).expect("the plan");
    }

    /// What arrived so far.
    pub fn delivered(&self) -> Vec<Delivered> {
        std::fs::read_to_string(self.dir.path().join("requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a recorded request"))
            .collect()
    }

    /// Waits until at least `count` requests arrived (at most `timeout`).
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Delivered> {
        let started = Instant::now();
        loop {
            let delivered = self.delivered();
            if delivered.len() >= count || started.elapsed() > timeout {
                return delivered;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
