//! The live stream over a real WebSocket client (tokio-tungstenite): tickets, each
//! user's own notifications (admins: all), refusals before the upgrade, the cap on
//! streams per user, and the fan-out between replicas through Redis.

use std::time::Duration;

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::TempDir;
use emporium_domain::Role;
use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{TestApp, embedded_config, postgres_redis_config, with_admin};
use crate::orders::{order_document, place, stocked_product};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// A ticket for `token`'s user, from `app`.
async fn ticket(app: &TestApp, token: &str) -> String {
    let reply = app
        .bearer(
            Method::POST,
            "/v1/notifications/stream-tickets",
            token,
            None,
        )
        .await;
    reply.expect_status(200);
    assert_eq!(reply.body["data"]["type"], "stream-tickets");
    reply.body["data"]["attributes"]["ticket"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn stream_url(app: &TestApp, ticket: &str) -> String {
    format!(
        "{}/v1/notifications/stream?ticket={ticket}",
        app.base.replacen("http://", "ws://", 1)
    )
}

/// Opens a stream on `app` for `token`'s user.
async fn open(app: &TestApp, token: &str) -> Socket {
    let ticket = ticket(app, token).await;
    let (socket, response) = tokio_tungstenite::connect_async(stream_url(app, &ticket))
        .await
        .expect("the stream opens");
    assert_eq!(response.status(), 101);
    socket
}

/// The next notification on `socket` within `wait`, if any.
async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        match message.expect("a WebSocket message") {
            Message::Text(text) => return Some(serde_json::from_str(&text).unwrap()),
            Message::Close(frame) => panic!("the stream closed: {frame:?}"),
            _ => {}
        }
    }
}

/// The refusal of a stream opened with `url`: (status, JSON:API body).
async fn refusal(url: &str) -> (u16, Value) {
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_ref()
                .map(|body| serde_json::from_slice(body).unwrap())
                .unwrap_or(Value::Null);
            (status, body)
        }
        other => panic!(
            "expected a refusal, got {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
}

async fn embedded() -> (TestApp, TempDir) {
    let dir = TempDir::new();
    let config = Config {
        max_pending_orders: 100,
        ..with_admin(embedded_config(&dir))
    };
    (TestApp::spawn(config, ServiceSet::All).await, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_carries_its_users_notifications_and_no_one_elses() {
    let (app, _dir) = embedded().await;
    let ada = app.signed_in(Role::Customer).await;
    let bob = app.signed_in(Role::Customer).await;
    let admin = app.signed_in(Role::Admin).await;
    let mut ada_stream = open(&app, &ada).await;
    let mut bob_stream = open(&app, &bob).await;
    let mut admin_stream = open(&app, &admin).await;

    let product = stocked_product(&app, "Cup", "3.00", 10).await;
    let placed = place(&app, &ada, &order_document(Some(&[(&product, 1)])), None).await;
    placed.expect_status(201);
    let order = placed.body["data"]["id"].as_str().unwrap().to_owned();

    let pushed = next(&mut ada_stream, Duration::from_secs(10))
        .await
        .expect("Ada hears of her order");
    let data = &pushed["data"];
    assert_eq!(data["type"], "notifications");
    assert_eq!(data["attributes"]["eventType"], "order.created");
    assert_eq!(data["attributes"]["channel"], "email");
    assert_eq!(data["relationships"]["order"]["data"]["id"], order.as_str());
    assert_eq!(
        data["links"]["self"],
        format!("/v1/notifications/{}", data["id"].as_str().unwrap())
    );
    let watched = next(&mut admin_stream, Duration::from_secs(5))
        .await
        .expect("an admin hears of everyone's");
    assert_eq!(watched["data"]["id"], data["id"]);
    assert_eq!(
        next(&mut bob_stream, Duration::from_millis(800)).await,
        None
    );

    // A payment's success is pushed (a push-only record), never mailed.
    let payment = app
        .bearer(
            Method::POST,
            "/v1/payments",
            &ada,
            Some(&serde_json::json!({"data": {"type": "payments",
                "relationships": {"order": {"data": {"type": "orders", "id": order}}}}})),
        )
        .await;
    payment.expect_status(201);
    app.bearer(
        Method::POST,
        &format!("/v1/payments/{}/succeed", payment.id()),
        &ada,
        None,
    )
    .await
    .expect_status(200);
    let mut heard = Vec::new();
    while let Some(message) = next(&mut ada_stream, Duration::from_secs(3)).await {
        heard.push((
            message["data"]["attributes"]["eventType"]
                .as_str()
                .unwrap()
                .to_owned(),
            message["data"]["attributes"]["channel"]
                .as_str()
                .unwrap()
                .to_owned(),
        ));
        if heard.len() == 2 {
            break;
        }
    }
    heard.sort();
    assert_eq!(
        heard,
        [
            ("order.status_changed".to_owned(), "email".to_owned()),
            ("payment.succeeded".to_owned(), "push".to_owned()),
        ]
    );
    assert_eq!(
        next(&mut bob_stream, Duration::from_millis(300)).await,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_are_single_use_and_refusals_come_before_the_upgrade() {
    let (app, _dir) = embedded().await;
    let ada = app.signed_in(Role::Customer).await;
    let used = ticket(&app, &ada).await;
    let (_socket, _) = tokio_tungstenite::connect_async(stream_url(&app, &used))
        .await
        .expect("the first use opens the stream");
    for url in [
        stream_url(&app, &used),
        stream_url(
            &app,
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
        stream_url(&app, "%3Cscript%3E"),
        format!(
            "{}/v1/notifications/stream",
            app.base.replacen("http://", "ws://", 1)
        ),
    ] {
        let (status, body) = refusal(&url).await;
        assert_eq!(status, 401, "{url}: {body}");
        assert_eq!(body["errors"][0]["code"], "invalid_ticket", "{body}");
        assert_eq!(body["errors"][0]["source"]["parameter"], "ticket");
    }
    // The scheme is case-insensitive here as on every route.
    let lower = crate::helpers::send(
        app.request(Method::POST, "/v1/notifications/stream-tickets")
            .header("Authorization", format!("bearer {ada}")),
    )
    .await;
    lower.expect_status(200);
    // Without a bearer token there is no ticket.
    app.anonymous(Method::POST, "/v1/notifications/stream-tickets", None)
        .await
        .expect_status(401);
    // A plain GET (no upgrade) with a good ticket is told what to do.
    let plain = app
        .anonymous(
            Method::GET,
            &format!(
                "/v1/notifications/stream?ticket={}",
                ticket(&app, &ada).await
            ),
            None,
        )
        .await;
    plain.assert_error(400, "websocket_expected", None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_holds_a_bounded_number_of_streams() {
    let (app, _dir) = embedded().await;
    let ada = app.signed_in(Role::Customer).await;
    let mut open_streams = Vec::new();
    for _ in 0..5 {
        open_streams.push(open(&app, &ada).await);
    }
    let (status, body) = refusal(&stream_url(&app, &ticket(&app, &ada).await)).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["errors"][0]["code"], "too_many_streams");
    // Closing one frees its place.
    let mut closed = open_streams.pop().unwrap();
    closed.close(None).await.unwrap();
    drop(closed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    open(&app, &ada).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_replicas_a_message_reaches_the_socket_wherever_it_is() {
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let config = Config {
        max_pending_orders: 100,
        ..with_admin(config)
    };
    let one = TestApp::spawn(config.clone(), ServiceSet::All).await;
    let two = TestApp::spawn(config, ServiceSet::All).await;
    let ada = one.signed_in(Role::Customer).await;
    // A ticket from one replica opens a stream on the other.
    let ticket = ticket(&one, &ada).await;
    let (mut on_two, _) = tokio_tungstenite::connect_async(stream_url(&two, &ticket))
        .await
        .expect("the ticket is good on every replica");
    let product = stocked_product(&one, "Cup", "3.00", 10).await;
    for _ in 0..3 {
        place(&one, &ada, &order_document(Some(&[(&product, 1)])), None)
            .await
            .expect_status(201);
    }
    // Whichever replica's consumer took each event, the socket on the other hears
    // of all three.
    let mut heard = Vec::new();
    while heard.len() < 3 {
        let message = next(&mut on_two, Duration::from_secs(15))
            .await
            .unwrap_or_else(|| panic!("only {} of 3 pushes arrived", heard.len()));
        heard.push(message["data"]["id"].as_str().unwrap().to_owned());
    }
    heard.sort();
    heard.dedup();
    assert_eq!(heard.len(), 3);
}
