//! `HttpWebhookSender` against a real HTTP receiver that verifies signatures with
//! the `standardwebhooks` package from PyPI (an independent implementation): the
//! Standard Webhooks headers, signatures during a secret rotation, the receiver's
//! answers as told, no redirect followed, and SSRF refusals when private targets
//! are not allowed.

use std::time::Duration;

use chrono::Utc;
use emporium_adapters::testing::webhook_receiver::WebhookReceiver;
use emporium_adapters::webhooks::HttpWebhookSender;
use emporium_domain::orders::EventId;
use emporium_domain::webhooks::{
    MessageId, WebhookRequest, WebhookSecret, WebhookSender, WebhookUrl,
};
use uuid::Uuid;

const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn request(url: &str, secrets: &[&str]) -> WebhookRequest {
    WebhookRequest {
        url: WebhookUrl::new(url).unwrap(),
        message_id: MessageId::for_event(EventId(Uuid::now_v7())),
        timestamp: Utc::now(),
        body: r#"{"type":"order.created","timestamp":"2026-12-01T10:00:00Z","data":{"total":"12.50","name":"Caf\u00e9"}}"#.to_owned(),
        secrets: secrets
            .iter()
            .map(|secret| WebhookSecret::new(secret).unwrap())
            .collect(),
    }
}

#[tokio::test]
async fn deliveries_verify_with_an_independent_implementation() {
    let Some(receiver) = WebhookReceiver::start() else {
        return;
    };
    let sender = HttpWebhookSender::new(true).unwrap();
    receiver.trust(&[OLD]);
    let sent = request(&receiver.url("/hooks"), &[OLD]);
    let outcome = sender.send(&sent).await;
    assert_eq!(outcome.status_code, Some(200), "{outcome:?}");
    assert_eq!(outcome.error, None);
    // During a rotation both secrets sign: a receiver that knows either verifies.
    let rotating = request(&receiver.url("/hooks"), &[NEW, OLD]);
    sender.send(&rotating).await;
    receiver.trust(&[NEW]);
    sender.send(&rotating).await;
    // Signed with a secret the receiver does not know: refused by its check.
    receiver.trust(&[OLD]);
    sender.send(&request(&receiver.url("/hooks"), &[NEW])).await;

    let delivered = receiver.wait_for(4, Duration::from_secs(5)).await;
    assert_eq!(delivered.len(), 4);
    let verified: Vec<bool> = delivered.iter().map(|d| d.verified).collect();
    assert_eq!(verified, [true, true, true, false], "{delivered:?}");
    let first = &delivered[0];
    assert_eq!(first.headers["webhook-id"], sent.message_id.as_str());
    assert_eq!(
        first.headers["webhook-timestamp"],
        sent.timestamp.timestamp().to_string()
    );
    assert!(first.headers["webhook-signature"].starts_with("v1,"));
    assert_eq!(first.headers["content-type"], "application/json");
    assert_eq!(first.body, sent.body);
    assert_eq!(
        delivered[1].headers["webhook-signature"].split(' ').count(),
        2
    );
}

#[tokio::test]
async fn answers_are_reported_and_redirects_not_followed() {
    let Some(receiver) = WebhookReceiver::start() else {
        return;
    };
    let sender = HttpWebhookSender::new(true).unwrap();
    receiver.plan(&["503+7", "410", "200"]);
    let unavailable = sender.send(&request(&receiver.url("/h"), &[OLD])).await;
    assert_eq!(unavailable.status_code, Some(503));
    assert_eq!(unavailable.retry_after, Some(7));
    assert_eq!(unavailable.error.as_deref(), Some("answered 503"));
    let gone = sender.send(&request(&receiver.url("/h"), &[OLD])).await;
    assert_eq!(gone.status_code, Some(410));
    let redirected = sender
        .send(&request(&receiver.url("/redirect"), &[OLD]))
        .await;
    assert_eq!(redirected.status_code, Some(302));
    assert!(
        redirected
            .error
            .unwrap()
            .contains("redirects are not followed")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let paths: Vec<String> = receiver.delivered().into_iter().map(|d| d.path).collect();
    assert_eq!(
        paths,
        ["/h", "/h", "/redirect"],
        "the redirect was not followed"
    );
    // Nobody listening: an error, no status.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = sender
        .send(&request(&format!("http://{closed}/h"), &[OLD]))
        .await;
    assert_eq!(refused.status_code, None);
    assert!(refused.error.is_some());
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let Some(receiver) = WebhookReceiver::start() else {
        return;
    };
    let guarded = HttpWebhookSender::new(false).unwrap();
    let port = receiver.address.port();
    for target in [
        format!("http://127.0.0.1:{port}/h"),
        format!("http://localhost:{port}/h"),
        "http://10.0.0.1/h".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]/h".to_owned(),
        "http://[::ffff:127.0.0.1]/h".to_owned(),
        "http://192.168.1.10/h".to_owned(),
    ] {
        let url = WebhookUrl::new(&target).unwrap();
        assert!(
            guarded.check_target(&url).await.is_err(),
            "{target} was allowed"
        );
    }
    // Sending re-checks: a literal loopback address and a name resolving to it.
    for target in [
        format!("http://127.0.0.1:{port}/h"),
        format!("http://localhost:{port}/h"),
    ] {
        let outcome = guarded.send(&request(&target, &[OLD])).await;
        assert_eq!(outcome.status_code, None, "{target}: {outcome:?}");
        assert!(outcome.error.is_some());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        receiver.delivered().is_empty(),
        "a private target was called"
    );
    // A public literal address is fine to check (nothing is sent).
    let public = WebhookUrl::new("https://93.184.216.34/h").unwrap();
    assert!(guarded.check_target(&public).await.is_ok());
    // Allowed (tests): the same target is called.
    let open = HttpWebhookSender::new(true).unwrap();
    let url = WebhookUrl::new(&format!("http://127.0.0.1:{port}/h")).unwrap();
    assert!(open.check_target(&url).await.is_ok());
}
