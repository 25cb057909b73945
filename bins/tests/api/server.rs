//! The `emporium` binary as a server out of file descriptors: started with
//! `ulimit -n 64` and offered more clients than it can accept, it backs off (and says
//! so in its log) instead of spinning a core on failing accepts, and serves again
//! once the clients leave. Also [`ServerProcess`], the guard the README test starts
//! the binary with.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_emporium");
/// How long the server may take to answer `/health` after it starts.
const START_PATIENCE: Duration = Duration::from_secs(60);
/// Clients opened at once: more than a process limited to 64 file descriptors can
/// accept.
const CLIENTS: usize = 100;
/// The log line of a failed accept.
const BACKING_OFF: &str = "accepting a connection failed; backing off";

/// `emporium` on the data directory `dir`, with nothing of the caller's environment
/// but `PATH`.
pub fn emporium_command(dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("EMPORIUM_DATA_DIR", dir);
    command
}

/// `emporium serve` (all in one) on `dir` and `addr`, the admin `admin` (e-mail,
/// password) created at start-up, and limits no test load reaches (unpaid orders
/// per customer, auth attempts); callers add their own settings.
pub fn serve_command(dir: &Path, addr: SocketAddr, admin: (&str, &str)) -> Command {
    let mut command = emporium_command(dir);
    command
        .arg("serve")
        .env("EMPORIUM_ADDR", addr.to_string())
        .env("EMPORIUM_ADMIN_EMAIL", admin.0)
        .env("EMPORIUM_ADMIN_PASSWORD", admin.1)
        .env("EMPORIUM_MAX_PENDING_ORDERS", "1000000")
        .env("EMPORIUM_AUTH_RATE_PER_MINUTE", "100000");
    command
}

/// A server process started from the binary, its stdout and stderr in files; killed
/// when dropped (also when a test panics).
pub struct ServerProcess {
    child: Child,
    log_dir: PathBuf,
}

impl ServerProcess {
    /// Runs `command` (program, arguments and environment set by the caller) with
    /// stdout and stderr in `log_dir`, and waits until `addr` answers `/health`.
    pub fn start(mut command: Command, addr: SocketAddr, log_dir: &Path) -> Self {
        let stdout = File::create(log_dir.join("server.stdout")).expect("creating the log file");
        let stderr = File::create(log_dir.join("server.stderr")).expect("creating the log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("starting the server");
        let mut server = Self {
            child,
            log_dir: log_dir.to_path_buf(),
        };
        let started = Instant::now();
        while health(addr, Duration::from_secs(1)) != Some(200) {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "the server stopped ({status}) before answering /health\n{}",
                    server.logs()
                );
            }
            assert!(
                started.elapsed() < START_PATIENCE,
                "no /health within {START_PATIENCE:?}\n{}",
                server.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// `kill -9`, and waits until it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote to stdout (its JSON log lines).
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.log_dir.join("server.stdout")).unwrap_or_default()
    }

    /// What it wrote to stderr (the readable start-up line).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.log_dir.join("server.stderr")).unwrap_or_default()
    }

    /// Its stdout and stderr, for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "--- server stdout ---\n{}\n--- server stderr ---\n{}",
            self.stdout(),
            self.stderr()
        )
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free address on 127.0.0.1.
pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
}

/// `GET /health` on a new connection: the status, or `None` when no answer came
/// within `patience` (per step).
pub fn health(addr: SocketAddr, patience: Duration) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, patience).ok()?;
    stream.set_read_timeout(Some(patience)).ok()?;
    stream.set_write_timeout(Some(patience)).ok()?;
    stream
        .write_all(
            b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/vnd.api+json\r\n\
              Connection: close\r\n\r\n",
        )
        .ok()?;
    let mut answer = Vec::new();
    // Until the server closes the connection; on a timeout, what came so far.
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|status| status.parse().ok())
}

/// The CPU time (user + system) process `pid` has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/stat: {e}"));
    // The command name (field 2) is in parentheses and may hold spaces: count the
    // fields after it, the first of which is field 3.
    let after_name = &stat[stat.rfind(')').expect("a command name in parentheses") + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |number: usize| -> u64 {
        fields[number - 3]
            .parse()
            .unwrap_or_else(|e| panic!("field {number} of {stat:?}: {e}"))
    };
    field(14) + field(15)
}

/// Clock ticks per second (`getconf CLK_TCK`, normally 100).
fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100)
}

#[test]
fn out_of_file_descriptors_the_server_backs_off_and_recovers() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let addr = free_addr();
    let mut command = Command::new("sh");
    command
        .args(["-c", r#"ulimit -n 64; exec "$0" serve"#, BINARY])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("EMPORIUM_ADDR", addr.to_string())
        .env("EMPORIUM_DATA_DIR", dir.path())
        .env("EMPORIUM_MAX_CONNECTIONS", "10000")
        .env("EMPORIUM_IDLE_TIMEOUT", "60");
    let server = ServerProcess::start(command, addr, dir.path());
    // Besides its JSON log lines, it says readably where the API and its docs are.
    let started = server.stderr();
    for url in [format!("http://{addr}/v1"), format!("http://{addr}/docs")] {
        assert!(started.contains(&url), "no {url} in\n{started}");
    }

    // More clients than the server has file descriptors for; they stay connected.
    let clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| {
            TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                .unwrap_or_else(|e| panic!("connecting a client: {e}\n{}", server.logs()))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));

    // Failing accepts are retried after a pause, not at full speed.
    let ticks_per_second = clock_ticks_per_second();
    let before = cpu_ticks(server.pid());
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(server.pid()) - before;
    let share = used as f64 / ticks_per_second as f64 / window.elapsed().as_secs_f64();
    assert!(
        share < 0.5,
        "the server used {:.0}% of a core while out of file descriptors",
        share * 100.0
    );

    // … and says why.
    let logged = Instant::now();
    while !server.stdout().contains(BACKING_OFF) {
        assert!(
            logged.elapsed() < Duration::from_secs(5),
            "no {BACKING_OFF:?} in the log\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Once the clients leave, it serves again.
    drop(clients);
    let recovering = Instant::now();
    while health(addr, Duration::from_secs(1)) != Some(200) {
        assert!(
            recovering.elapsed() < Duration::from_secs(5),
            "/health did not answer within 5 s of the clients leaving\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(server);
}
