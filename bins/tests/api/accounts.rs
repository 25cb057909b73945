//! Accounts over HTTP: registration, sessions and the current user.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, spawn_app};

pub fn register_doc(email: &str, password: &str) -> Value {
    json!({"data": {"type": "users", "attributes":
        {"email": email, "password": password, "name": "Ada"}}})
}

fn credentials(email: &str, password: &str) -> Value {
    json!({"data": {"type": "credentials", "attributes": {"email": email, "password": password}}})
}

fn refresh_doc(token: &str) -> Value {
    json!({"data": {"type": "tokens", "attributes": {"refreshToken": token}}})
}

pub async fn anonymous(app: &TestApp, method: Method, path: &str, body: &Value) -> Answer {
    app.request_with(method, path, Some(body), &[]).await
}

pub async fn log_in(app: &TestApp, email: &str, password: &str) -> Answer {
    anonymous(
        app,
        Method::POST,
        "/v1/auth/login",
        &credentials(email, password),
    )
    .await
}

pub async fn with_token(app: &TestApp, method: Method, path: &str, token: &str) -> Answer {
    app.request_with(
        method,
        path,
        None,
        &[("Authorization", &format!("Bearer {token}"))],
    )
    .await
}

fn tokens(answer: &Answer) -> (String, String) {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let attributes = &answer.body["data"]["attributes"];
    assert_eq!(answer.body["data"]["type"], "tokens");
    assert_eq!(attributes["tokenType"], "Bearer");
    assert_eq!(attributes["expiresIn"], 900);
    (
        attributes["accessToken"].as_str().unwrap().to_owned(),
        attributes["refreshToken"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn register_log_in_refresh_and_log_out() {
    let app = spawn_app().await;
    let registered = anonymous(
        &app,
        Method::POST,
        "/v1/auth/register",
        &register_doc("ada@example.com", "correct horse"),
    )
    .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    let id = registered.body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        registered.header("location"),
        Some(&*format!("/v1/users/{id}"))
    );
    let attributes = &registered.body["data"]["attributes"];
    assert_eq!(attributes["role"], "customer");
    assert_eq!(attributes["active"], true);
    assert!(attributes.get("password").is_none());
    assert!(!registered.body.to_string().contains("correct horse"));

    let (access, refresh) = tokens(&log_in(&app, "ada@example.com", "correct horse").await);
    let me = with_token(&app, Method::GET, "/v1/users/me", &access).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["data"]["id"], id);
    assert_eq!(me.body["data"]["attributes"]["email"], "ada@example.com");
    // Without a token, /me is refused.
    app.get("/v1/users/me")
        .await
        .assert_error(401, "unauthenticated", None);
    // A refresh token is no access token.
    with_token(&app, Method::GET, "/v1/users/me", &refresh)
        .await
        .assert_error(401, "invalid_token", None);

    let renewed = anonymous(
        &app,
        Method::POST,
        "/v1/auth/refresh",
        &refresh_doc(&refresh),
    )
    .await;
    let (access2, refresh2) = tokens(&renewed);
    assert_ne!(refresh2, refresh);
    assert_eq!(
        with_token(&app, Method::GET, "/v1/users/me", &access2)
            .await
            .status,
        StatusCode::OK
    );
    // The old refresh token is spent; reusing it revokes the whole family.
    anonymous(
        &app,
        Method::POST,
        "/v1/auth/refresh",
        &refresh_doc(&refresh),
    )
    .await
    .assert_error(401, "invalid_token", None);
    anonymous(
        &app,
        Method::POST,
        "/v1/auth/refresh",
        &refresh_doc(&refresh2),
    )
    .await
    .assert_error(401, "invalid_token", None);

    // A fresh session ends with log-out.
    let (_, refresh3) = tokens(&log_in(&app, "ada@example.com", "correct horse").await);
    let out = anonymous(
        &app,
        Method::POST,
        "/v1/auth/logout",
        &refresh_doc(&refresh3),
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.body);
    anonymous(
        &app,
        Method::POST,
        "/v1/auth/refresh",
        &refresh_doc(&refresh3),
    )
    .await
    .assert_error(401, "invalid_token", None);
    app.shutdown().await;
}

#[tokio::test]
async fn registration_cannot_choose_a_role_or_reuse_an_address() {
    let app = spawn_app().await;
    let mut escalate = register_doc("eve@example.com", "correct horse");
    escalate["data"]["attributes"]["role"] = json!("admin");
    anonymous(&app, Method::POST, "/v1/auth/register", &escalate)
        .await
        .assert_error(403, "read_only_attribute", Some("/data/attributes/role"));
    // Nothing was created.
    log_in(&app, "eve@example.com", "correct horse")
        .await
        .assert_error(401, "invalid_credentials", None);

    let doc = register_doc("bob@example.com", "correct horse");
    let first = anonymous(&app, Method::POST, "/v1/auth/register", &doc).await;
    assert_eq!(first.status, StatusCode::CREATED);
    anonymous(
        &app,
        Method::POST,
        "/v1/auth/register",
        &register_doc("BOB@example.com", "another one"),
    )
    .await
    .assert_error(409, "duplicate_email", Some("/data/attributes/email"));

    let bad = anonymous(
        &app,
        Method::POST,
        "/v1/auth/register",
        &register_doc("not-an-address", "short"),
    )
    .await;
    bad.assert_error(422, "invalid_value", Some("/data/attributes/email"));
    bad.assert_error(422, "invalid_value", Some("/data/attributes/password"));
    assert!(!bad.body.to_string().contains("\"short\""));
    app.shutdown().await;
}

#[tokio::test]
async fn over_long_passwords_are_refused_without_hashing() {
    let app = spawn_app().await;
    let long = "p".repeat(10_000);
    let started = Instant::now();
    let register = anonymous(
        &app,
        Method::POST,
        "/v1/auth/register",
        &register_doc("long@example.com", &long),
    )
    .await;
    register.assert_error(422, "invalid_value", Some("/data/attributes/password"));
    assert!(!register.body.to_string().contains("pppppppp"));
    let login = log_in(&app, "long@example.com", &long).await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() < Duration::from_secs(2));
    app.shutdown().await;
}

#[tokio::test]
async fn log_in_failures_are_uniform() {
    let app = spawn_app().await;
    let created = anonymous(
        &app,
        Method::POST,
        "/v1/auth/register",
        &register_doc("carol@example.com", "correct horse"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let unknown = log_in(&app, "nobody@example.com", "correct horse").await;
    let wrong = log_in(&app, "carol@example.com", "wrong horse!").await;
    unknown.assert_error(401, "invalid_credentials", None);
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(
        unknown.header("www-authenticate"),
        wrong.header("www-authenticate")
    );
    app.shutdown().await;
}

/// Registers `email` (password "correct horse") and logs in: (id, access, refresh).
pub async fn register_and_log_in(app: &TestApp, email: &str) -> (String, String, String) {
    let created = anonymous(
        app,
        Method::POST,
        "/v1/auth/register",
        &register_doc(email, "correct horse"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let (access, refresh) = tokens(&log_in(app, email, "correct horse").await);
    (id, access, refresh)
}

async fn patch_user(app: &TestApp, id: &str, token: &str, attributes: Value) -> Answer {
    app.request_with(
        Method::PATCH,
        &format!("/v1/users/{id}"),
        Some(&json!({"data": {"type": "users", "id": id, "attributes": attributes}})),
        &[("Authorization", &format!("Bearer {token}"))],
    )
    .await
}

#[tokio::test]
async fn admins_list_and_update_users() {
    let app = spawn_app().await;
    let (id, customer, refresh) = register_and_log_in(&app, "dan@example.com").await;
    let admin = app.access_token(emporium_domain::Role::Admin);

    app.get("/v1/users")
        .await
        .assert_error(401, "unauthenticated", None);
    with_token(&app, Method::GET, "/v1/users", &customer)
        .await
        .assert_error(403, "forbidden", None);
    let listed = with_token(&app, Method::GET, "/v1/users?page%5Bsize%5D=10", &admin).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["meta"]["total"], 1);
    assert_eq!(listed.body["data"][0]["id"], id);
    assert!(
        listed.body["data"][0]["attributes"]
            .get("password")
            .is_none()
    );

    // Customers may not administer, not even themselves; checked before the body.
    patch_user(&app, &id, &customer, json!({"role": "admin"}))
        .await
        .assert_error(403, "forbidden", None);
    let garbage = app
        .request_with(
            Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(&json!("{")),
            &[("Authorization", &format!("Bearer {customer}"))],
        )
        .await;
    assert_eq!(garbage.status, StatusCode::FORBIDDEN);
    patch_user(&app, &id, &admin, json!({"role": "root"}))
        .await
        .assert_error(422, "invalid_value", Some("/data/attributes/role"));
    patch_user(&app, &id, &admin, json!({"email": "x@example.com"}))
        .await
        .assert_error(403, "read_only_attribute", Some("/data/attributes/email"));
    let missing = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        patch_user(&app, &missing, &admin, json!({"active": false}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let promoted = patch_user(&app, &id, &admin, json!({"role": "admin"})).await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);
    assert_eq!(promoted.body["data"]["attributes"]["role"], "admin");

    let deactivated = patch_user(&app, &id, &admin, json!({"active": false})).await;
    assert_eq!(deactivated.status, StatusCode::OK, "{}", deactivated.body);
    assert_eq!(deactivated.body["data"]["attributes"]["active"], false);
    log_in(&app, "dan@example.com", "correct horse")
        .await
        .assert_error(401, "invalid_credentials", None);
    anonymous(
        &app,
        Method::POST,
        "/v1/auth/refresh",
        &refresh_doc(&refresh),
    )
    .await
    .assert_error(401, "invalid_token", None);
    app.shutdown().await;
}

#[tokio::test]
async fn the_first_admin_comes_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = emporium::config::Config::embedded(dir.path().to_path_buf());
    config.bootstrap_admin = Some(("root@example.com".into(), "admin password".into()));
    let app =
        crate::helpers::spawn_with(config.clone(), emporium::config::ServiceSet::All, dir).await;
    let (access, _) = tokens(&log_in(&app, "root@example.com", "admin password").await);
    let me = with_token(&app, Method::GET, "/v1/users/me", &access).await;
    assert_eq!(me.body["data"]["attributes"]["role"], "admin");
    let created = app
        .request_with(
            Method::POST,
            "/v1/products",
            Some(&crate::helpers::product_doc("ROOT-1", "2.00", None)),
            &[("Authorization", &format!("Bearer {access}"))],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let listed = with_token(&app, Method::GET, "/v1/users", &access).await;
    assert_eq!(listed.body["meta"]["total"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn an_existing_account_is_left_alone_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let first = crate::helpers::spawn_with(
        emporium::config::Config::embedded(path.clone()),
        emporium::config::ServiceSet::All,
        tempfile::tempdir().unwrap(),
    )
    .await;
    register_and_log_in(&first, "taken@example.com").await;
    first.shutdown().await;
    let mut config = emporium::config::Config::embedded(path);
    config.bootstrap_admin = Some(("taken@example.com".into(), "other password".into()));
    let app = crate::helpers::spawn_with(config, emporium::config::ServiceSet::All, dir).await;
    let (access, _) = tokens(&log_in(&app, "taken@example.com", "correct horse").await);
    let me = with_token(&app, Method::GET, "/v1/users/me", &access).await;
    assert_eq!(me.body["data"]["attributes"]["role"], "customer");
    log_in(&app, "taken@example.com", "other password")
        .await
        .assert_error(401, "invalid_credentials", None);
    app.shutdown().await;
}

#[tokio::test]
async fn create_admin_command_reads_the_password_from_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_emporium"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["users", "create-admin", "--email", "ops@example.com"])
        .env_remove("EMPORIUM_DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
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
    let config = emporium::config::Config::embedded(dir.path().to_path_buf());
    let app = crate::helpers::spawn_with(config, emporium::config::ServiceSet::All, dir).await;
    let (access, _) = tokens(&log_in(&app, "ops@example.com", "stdin password").await);
    let me = with_token(&app, Method::GET, "/v1/users/me", &access).await;
    assert_eq!(me.body["data"]["attributes"]["role"], "admin");
    assert_eq!(me.body["data"]["attributes"]["name"], "Administrator");
    app.shutdown().await;
}

/// Runs `emporium users create-admin` at a pseudo-terminal (util-linux `script`),
/// typing each answer once its prompt has appeared. Returns whether it succeeded
/// and everything the terminal showed.
fn create_admin_at_a_terminal(
    data_dir: &std::path::Path,
    email: &str,
    answers: [&str; 2],
) -> (bool, String) {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    const PROMPTS: [&str; 2] = ["Administrator password:", "Repeat the password:"];
    const PATIENCE: Duration = Duration::from_secs(60);
    let command = format!(
        "'{}' --data-dir '{}' users create-admin --email '{email}'",
        env!("CARGO_BIN_EXE_emporium"),
        data_dir.display()
    );
    let mut child = std::process::Command::new("script")
        .args([
            "--quiet",
            "--flush",
            "--return",
            "--command",
            &command,
            "/dev/null",
        ])
        .env_remove("EMPORIUM_DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
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

    let config = emporium::config::Config::embedded(dir.path().to_path_buf());
    let app = crate::helpers::spawn_with(config, emporium::config::ServiceSet::All, dir).await;
    let (access, _) = tokens(&log_in(&app, "tty@example.com", "terminal password").await);
    let me = with_token(&app, Method::GET, "/v1/users/me", &access).await;
    assert_eq!(me.body["data"]["attributes"]["role"], "admin");
    for password in ["first try password", "second try password"] {
        log_in(&app, "typo@example.com", password)
            .await
            .assert_error(401, "invalid_credentials", None);
    }
    app.shutdown().await;
}

#[tokio::test]
async fn log_in_and_registration_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = emporium::config::Config::embedded(dir.path().to_path_buf());
    config.auth_rate_per_minute = 3;
    let app = crate::helpers::spawn_with(config, emporium::config::ServiceSet::All, dir).await;
    for _ in 0..3 {
        log_in(&app, "victim@example.com", "guess guess")
            .await
            .assert_error(401, "invalid_credentials", None);
    }
    let limited = log_in(&app, "victim@example.com", "guess guess").await;
    limited.assert_error(429, "too_many_requests", None);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // The client address is limited too, whatever the address it tries.
    anonymous(
        &app,
        Method::POST,
        "/v1/auth/register",
        &register_doc("other@example.com", "correct horse"),
    )
    .await
    .assert_error(429, "too_many_requests", None);
    app.shutdown().await;
}
