//! Account emails through a real SMTP sink: the verification mail of a new account
//! and its confirmation, and password resets (no account enumeration, single-use
//! tokens that end every session).

use std::time::Duration;

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::TempDir;
use emporium_adapters::testing::smtp::{Received, SmtpSink};
use emporium_domain::Role;
use mail_parser::MessageParser;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, access_token_of, embedded_config, token_pair, with_admin};

async fn app_with_smtp(sink: &SmtpSink) -> (TestApp, TempDir) {
    let dir = TempDir::new();
    let config = Config {
        smtp_url: Some(sink.url()),
        ..with_admin(embedded_config(&dir))
    };
    (TestApp::spawn(config, ServiceSet::All).await, dir)
}

/// The token a mail carries (the indented line of its text part), and its subject.
fn token_of(mail: &Received) -> (String, String) {
    let message = MessageParser::default().parse(&mail.raw).unwrap();
    let text = message.body_text(0).unwrap().into_owned();
    let token = text
        .lines()
        .find(|line| line.starts_with("    ") && !line.trim().is_empty())
        .unwrap_or_else(|| panic!("no token in {text}"))
        .trim()
        .to_owned();
    (token, message.subject().unwrap().to_owned())
}

async fn me(app: &TestApp, token: &str) -> Value {
    let reply = app.bearer(Method::GET, "/v1/users/me", token, None).await;
    reply.expect_status(200);
    reply.body["data"]["attributes"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_account_verifies_its_address_with_the_mailed_token() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let (app, _dir) = app_with_smtp(&sink).await;
    let email = format!("ada-{}@example.com", Uuid::now_v7().simple());
    app.register(&email, "a customer password")
        .await
        .expect_status(201);
    let token = access_token_of(&app.log_in(&email, "a customer password").await);
    // Unverified accounts sign in and shop; they see the flag.
    assert_eq!(me(&app, &token).await["emailVerified"], false);
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipients, [email.as_str()]);
    let (verification, subject) = token_of(&mails[0]);
    assert_eq!(subject, "Confirm your email address");

    let confirm = |token: &str| json!({"data": {"type": "email-verifications", "attributes": {"token": token}}});
    app.anonymous(
        Method::POST,
        "/v1/auth/email-verifications/confirm",
        Some(&confirm("not-a-token")),
    )
    .await
    .assert_error(422, "invalid_account_token", Some("/data/attributes/token"));
    app.anonymous(
        Method::POST,
        "/v1/auth/email-verifications/confirm",
        Some(&confirm(&verification)),
    )
    .await
    .expect_status(204);
    assert_eq!(me(&app, &token).await["emailVerified"], true);
    // Once only.
    app.anonymous(
        Method::POST,
        "/v1/auth/email-verifications/confirm",
        Some(&confirm(&verification)),
    )
    .await
    .assert_error(422, "invalid_account_token", Some("/data/attributes/token"));
    // Verified: asking again mails nothing.
    app.bearer(Method::POST, "/v1/auth/email-verifications", &token, None)
        .await
        .expect_status(202);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 1);
    // The administrator created by the operator counts as verified.
    let admin = app.signed_in(Role::Admin).await;
    assert_eq!(me(&app, &admin).await["emailVerified"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_is_single_use_and_ends_every_session() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let (app, _dir) = app_with_smtp(&sink).await;
    let email = format!("ada-{}@example.com", Uuid::now_v7().simple());
    app.register(&email, "the old password")
        .await
        .expect_status(201);
    let (_, refresh) = token_pair(&app.log_in(&email, "the old password").await);
    sink.wait_for(1, Duration::from_secs(10)).await; // the verification mail

    let ask =
        |email: &str| json!({"data": {"type": "password-resets", "attributes": {"email": email}}});
    // Known, unknown and malformed addresses are answered alike.
    for address in [email.as_str(), "nobody@example.com", "not an address"] {
        let reply = app
            .anonymous(
                Method::POST,
                "/v1/auth/password-resets",
                Some(&ask(address)),
            )
            .await;
        reply.expect_status(202);
        assert_eq!(reply.body, json!({"meta": {"status": "accepted"}}));
    }
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sink.received().len(),
        2,
        "one reset mail, for the known address only"
    );
    assert_eq!(mails[1].recipients, [email.as_str()]);
    let (reset, subject) = token_of(&mails[1]);
    assert_eq!(subject, "Reset your password");

    let confirm = |token: &str, password: &str| {
        json!({"data": {"type": "password-resets",
            "attributes": {"token": token, "password": password}}})
    };
    app.anonymous(
        Method::POST,
        "/v1/auth/password-resets/confirm",
        Some(&confirm(&reset, "short")),
    )
    .await
    .assert_error(422, "invalid_value", Some("/data/attributes/password"));
    app.anonymous(
        Method::POST,
        "/v1/auth/password-resets/confirm",
        Some(&confirm(&reset, "the new password")),
    )
    .await
    .expect_status(204);
    // The new password works, the old one does not, and every session ended.
    app.log_in(&email, "the new password")
        .await
        .expect_status(200);
    app.log_in(&email, "the old password")
        .await
        .expect_status(401);
    app.refresh(&refresh).await.expect_status(401);
    // The token worked once.
    app.anonymous(
        Method::POST,
        "/v1/auth/password-resets/confirm",
        Some(&confirm(&reset, "another new password")),
    )
    .await
    .assert_error(422, "invalid_account_token", Some("/data/attributes/token"));
}
