//! The command line: `emporium users create-admin` (password from stdin, or typed
//! twice at a terminal), and `serve users` refusing to start without the shared
//! token signing secret.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::TestServer;

#[tokio::test]
async fn create_admin_command_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_emporium"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["users", "create-admin", "--email", "ops@example.com"])
        .env_remove("EMPORIUM_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"stdin password\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{printed}");
    assert!(!printed.contains("stdin password"));
    let server = TestServer::start(dir.path()).await;
    let access = server
        .access_token("ops@example.com", "stdin password")
        .await;
    let me = server.me(&access).await;
    assert_eq!(me["attributes"]["role"], "admin");
    assert_eq!(me["attributes"]["name"], "Administrator");
    server.shutdown().await;
}

/// Runs `emporium users create-admin` at a pseudo-terminal (util-linux `script`),
/// typing each answer once its prompt has appeared. Returns whether it succeeded
/// and everything the terminal showed.
fn create_admin_at_a_terminal(data_dir: &Path, email: &str, answers: [&str; 2]) -> (bool, String) {
    const PROMPTS: [&str; 2] = ["Administrator password:", "Repeat the password:"];
    const PATIENCE: Duration = Duration::from_secs(60);
    let command = format!(
        "'{}' --data-dir '{}' users create-admin --email '{email}'",
        env!("CARGO_BIN_EXE_emporium"),
        data_dir.display()
    );
    let mut child = Command::new("script")
        .args([
            "--quiet",
            "--flush",
            "--return",
            "--command",
            &command,
            "/dev/null",
        ])
        .env_remove("EMPORIUM_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("util-linux `script` runs (package bsdutils)");
    let shown = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let shown = Arc::clone(&shown);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 1024];
            while let Ok(read) = stdout.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                shown.lock().unwrap().extend_from_slice(&buffer[..read]);
            }
        })
    };
    let text =
        |shown: &Mutex<Vec<u8>>| String::from_utf8_lossy(&shown.lock().unwrap()).into_owned();
    let mut stdin = child.stdin.take().unwrap();
    for (prompt, answer) in PROMPTS.into_iter().zip(answers) {
        let started = Instant::now();
        while !text(&shown).contains(prompt) {
            assert!(
                started.elapsed() < PATIENCE,
                "no {prompt:?} prompt: {}",
                text(&shown)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    (status.success(), text(&shown))
}

#[tokio::test]
async fn create_admin_command_prompts_twice_at_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (created, shown) = create_admin_at_a_terminal(
        dir.path(),
        "tty@example.com",
        ["terminal password", "terminal password"],
    );
    assert!(created, "{shown}");
    let (created, shown) = create_admin_at_a_terminal(
        dir.path(),
        "typo@example.com",
        ["first try password", "second try password"],
    );
    assert!(!created, "{shown}");
    assert!(shown.contains("the two passwords differ"), "{shown}");

    let server = TestServer::start(dir.path()).await;
    let access = server
        .access_token("tty@example.com", "terminal password")
        .await;
    let me = server.me(&access).await;
    assert_eq!(me["attributes"]["role"], "admin");
    for password in ["first try password", "second try password"] {
        server
            .assert_log_in_refused("typo@example.com", password)
            .await;
    }
    server.shutdown().await;
}

/// `serve users` without the shared signing secret stops at once, naming the
/// setting: with a secret of its own, no other service would accept its tokens.
#[test]
fn the_users_service_refuses_to_start_without_the_shared_secret() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_emporium"))
        .args(["serve", "users", "--addr", "127.0.0.1:0"])
        .env("EMPORIUM_DATA_DIR", dir.path())
        .env("EMPORIUM_API_KEY", "a-shared-service-key-0123")
        .env_remove("EMPORIUM_DATABASE_URL")
        .env_remove("EMPORIUM_JWT_SECRET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{printed}");
    assert!(printed.contains("EMPORIUM_JWT_SECRET"), "{printed}");
    assert!(
        !dir.path().join("jwt-secret").exists(),
        "no secret of its own is generated"
    );
}
