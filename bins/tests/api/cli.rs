//! The command line: `emporium users create-admin` (password from stdin, or typed
//! twice at a terminal), and `serve users` refusing to start without the shared
//! token signing secret; `emporium events dead` and `events replay`.

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

/// `emporium events dead` lists the dead letters of the bus as JSON lines and
/// `emporium events replay ID` publishes one again and removes it (on a real Redis).
#[tokio::test]
async fn events_commands_list_and_replay_dead_letters() {
    use emporium_adapters::redis_streams::{RedisStreamsEventBus, RedisStreamsOptions};
    use emporium_adapters::testing;
    use emporium_domain::orders::{DomainEvent, EventBus, EventHandler};

    struct Refuses;
    #[async_trait::async_trait]
    impl EventHandler for Refuses {
        async fn handle(&self, _event: &DomainEvent) -> Result<(), anyhow::Error> {
            anyhow::bail!("refused by the test")
        }
    }

    let Some(url) = testing::redis_url() else {
        return;
    };
    let prefix = testing::unique_prefix();
    let bus = RedisStreamsEventBus::connect_with(
        &url,
        RedisStreamsOptions {
            prefix: prefix.clone(),
            max_failures: 1,
            block: Duration::from_millis(200),
            stop_grace: Duration::from_millis(100),
            ..RedisStreamsOptions::default()
        },
    )
    .await
    .unwrap();
    bus.subscribe("mailer", Arc::new(Refuses));
    let event: DomainEvent = serde_json::from_value(serde_json::json!({
        "id": uuid::Uuid::now_v7(), "type": "order.created", "timestamp": "2026-12-01T08:00:00Z",
        "data": {"orderId": uuid::Uuid::now_v7(), "userId": uuid::Uuid::now_v7(),
            "email": "ada@example.com", "status": "pending", "lines": [], "total": "0.00",
            "currency": "EUR"}}))
    .unwrap();
    bus.publish(&event).await.unwrap();
    let dead = bus.dead_letters();
    let started = Instant::now();
    while dead.list(10).await.unwrap().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(5), "no dead letter");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bus.stop().await;

    let events = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_emporium"))
            .arg("events")
            .args(args)
            .env_clear()
            .env("EMPORIUM_BUS_REDIS_URL", &url)
            .env("EMPORIUM_REDIS_PREFIX", &prefix)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, listed, said) = events(&["dead"]);
    assert!(ok, "{said}");
    let letters: Vec<serde_json::Value> = listed
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(letters.len(), 1, "{listed}");
    assert_eq!(letters[0]["group"], "mailer");
    assert_eq!(letters[0]["event"]["id"], event.id.0.to_string());
    assert!(
        letters[0]["error"]
            .as_str()
            .unwrap()
            .contains("refused by the test")
    );
    let id = letters[0]["id"].as_str().unwrap().to_owned();

    let (ok, _, said) = events(&["replay", &id]);
    assert!(ok, "{said}");
    let (ok, listed, _) = events(&["dead"]);
    assert!(ok);
    assert!(listed.trim().is_empty(), "{listed}");
    // Again: no such dead letter any more, a failure that says so.
    let (ok, _, said) = events(&["replay", &id]);
    assert!(!ok);
    assert!(said.contains("no dead letter"), "{said}");
    // Without a bus on Redis there is nothing to list.
    let output = Command::new(env!("CARGO_BIN_EXE_emporium"))
        .args(["events", "dead"])
        .env_clear()
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("EMPORIUM_BUS_REDIS_URL"));
}
