//! The repository's nginx gateway (`deploy/nginx/nginx.conf.template`) for tests:
//! rendered with the ports and replicas a test picked, and run as one nginx process
//! (`master_process off`, so stopping it stops the gateway).

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{TempDir, services_required};

const TEMPLATE: &str = include_str!("../../../deploy/nginx/nginx.conf.template");
const ERRORS: &str = include_str!("../../../deploy/nginx/errors.conf");

/// The nginx to run: `EMPORIUM_TEST_NGINX`, else `nginx` on the `PATH` or in
/// `/usr/sbin`. `None` (after a SKIP line) when there is none, a failure when
/// servers are required.
fn nginx_binary() -> Option<PathBuf> {
    let candidates = std::env::var_os("EMPORIUM_TEST_NGINX")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::var_os("PATH").into_iter().flat_map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("nginx"))
                .collect::<Vec<_>>()
        }))
        .chain([PathBuf::from("/usr/sbin/nginx")]);
    for candidate in candidates {
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    assert!(
        !services_required(),
        "nginx is not installed but EMPORIUM_REQUIRE_SERVICES=1: run the tests with scripts/test"
    );
    eprintln!("SKIP: no nginx; run scripts/test to test the gateway");
    None
}

/// A running gateway.
pub struct Gateway {
    /// The public entry point, `http://127.0.0.1:<port>`.
    pub base: String,
    child: Child,
    _dir: TempDir,
}

/// `server host:port;` for each address.
fn servers(addresses: &[SocketAddr]) -> String {
    addresses
        .iter()
        .map(|address| format!("server {address} max_fails=1 fail_timeout=2s;"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Gateway {
    /// Renders the repository's configuration and starts nginx on `public` and
    /// `internal` (ports picked by the caller, who gave them to the services).
    pub fn start(
        public: SocketAddr,
        internal: SocketAddr,
        upstreams: &[(&str, &[SocketAddr])],
    ) -> Option<Self> {
        let nginx = nginx_binary()?;
        let dir = TempDir::new();
        let run_dir = dir.path().to_path_buf();
        // nginx's workers may run as another user: let them in.
        std::fs::set_permissions(
            &run_dir,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("opening the gateway's directory");
        let mut config = TEMPLATE
            .replace("${EMPORIUM_GATEWAY_LISTEN}", &public.to_string())
            .replace("${EMPORIUM_GATEWAY_INTERNAL_LISTEN}", &internal.to_string())
            .replace(
                "${EMPORIUM_GATEWAY_RUN_DIR}",
                &run_dir.display().to_string(),
            );
        for (name, addresses) in upstreams {
            config = config.replace(
                &format!("${{EMPORIUM_{name}_SERVERS}}"),
                &servers(addresses),
            );
        }
        // A service the test does not run: its routes answer 502.
        for name in ["USERS", "PRODUCTS", "INVENTORY", "ORDERS", "NOTIFICATIONS"] {
            config = config.replace(
                &format!("${{EMPORIUM_{name}_SERVERS}}"),
                "server 127.0.0.1:9 down;",
            );
        }
        assert!(
            !config.contains("${EMPORIUM_"),
            "a placeholder was left: {config}"
        );
        std::fs::write(run_dir.join("nginx.conf"), config).expect("writing nginx.conf");
        std::fs::write(run_dir.join("errors.conf"), ERRORS).expect("writing errors.conf");
        let log = std::fs::File::create(run_dir.join("nginx.log")).expect("the nginx log");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(&run_dir)
            .arg("-c")
            .arg(run_dir.join("nginx.conf"))
            // One process, so stopping the child stops the gateway.
            .args(["-g", "daemon off; master_process off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting nginx");
        let started = Instant::now();
        while TcpStream::connect(public).is_err() || TcpStream::connect(internal).is_err() {
            let log = std::fs::read_to_string(run_dir.join("nginx.log")).unwrap_or_default();
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "nginx did not start: {log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Its own health answer, read back: the gateway serves, not just listens.
        let mut stream = TcpStream::connect(public).expect("connecting to the gateway");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a read timeout");
        std::io::Write::write_all(
            &mut stream,
            b"GET /health HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n",
        )
        .expect("asking the gateway");
        let mut answer = String::new();
        let _ = std::io::Read::read_to_string(&mut stream, &mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "the gateway answered {answer:?}; its log: {}",
            std::fs::read_to_string(run_dir.join("nginx.log")).unwrap_or_default()
        );
        Some(Self {
            base: format!("http://{public}"),
            child,
            _dir: dir,
        })
    }
}

impl Gateway {
    /// What nginx logged (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("nginx.log")).unwrap_or_default()
    }

    /// Whether nginx is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
