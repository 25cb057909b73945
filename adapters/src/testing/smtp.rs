//! A real SMTP server for tests: `smtp_sink.py` on aiosmtpd, run with the Python of
//! `EMPORIUM_TEST_SMTP_PYTHON` (a virtualenv with `aiosmtpd`, which `scripts/test`
//! provides). It keeps each accepted message as an `.eml` file, which tests read
//! back with an independent parser, and can be told to refuse mail or be stopped
//! and started again on the same port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{TempDir, free_local_address, python_of, wait_until_listening};

const SCRIPT: &str = include_str!("smtp_sink.py");

/// The variable naming the Python that has aiosmtpd.
pub const PYTHON_VARIABLE: &str = "EMPORIUM_TEST_SMTP_PYTHON";

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope's recipients (`RCPT TO`).
    pub recipients: Vec<String>,
    /// The message as it arrived (RFC 5322).
    pub raw: Vec<u8>,
}

/// A running SMTP sink.
pub struct SmtpSink {
    /// Where it listens.
    pub address: SocketAddr,
    python: PathBuf,
    dir: TempDir,
    child: Option<Child>,
}

impl SmtpSink {
    /// Starts a sink on a free port; `None` (after a SKIP line) without aiosmtpd.
    pub fn start() -> Option<Self> {
        let python = python_of(PYTHON_VARIABLE, "with SMTP")?;
        let address = free_local_address();
        let mut sink = Self {
            address,
            python,
            dir: TempDir::new(),
            child: None,
        };
        std::fs::write(sink.dir.path().join("smtp_sink.py"), SCRIPT).expect("writing the sink");
        sink.resume();
        Some(sink)
    }

    /// `smtp://127.0.0.1:<port>` (plain: the sink speaks no TLS).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// Starts the sink again on its port after [`SmtpSink::stop`].
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the sink is running");
        let log = std::fs::File::create(self.dir.path().join("sink.log")).expect("the sink log");
        let child = Command::new(&self.python)
            .arg(self.dir.path().join("smtp_sink.py"))
            .arg(self.address.port().to_string())
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting the SMTP sink");
        self.child = Some(child);
        wait_until_listening(self.address, &self.dir.path().join("sink.log"), "SMTP sink");
    }

    /// Stops the sink (connections to it are refused until [`SmtpSink::resume`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether every recipient is refused (550) from now on.
    pub fn refuse(&self, refuse: bool) {
        let flag = self.dir.path().join("refuse");
        if refuse {
            std::fs::write(flag, b"").expect("setting the refusal flag");
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }

    /// Every message accepted so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("reading the sink's directory")
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|extension| extension == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|path| {
                let envelope: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(path.with_extension("json")).expect("the envelope"),
                )
                .expect("an envelope in JSON");
                Received {
                    recipients: envelope["rcpt_tos"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|to| to.as_str().map(str::to_owned))
                        .collect(),
                    raw: std::fs::read(&path).expect("the message"),
                }
            })
            .collect()
    }

    /// Waits until at least `count` messages arrived (at most `timeout`), and returns
    /// them all.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= count || started.elapsed() > timeout {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
