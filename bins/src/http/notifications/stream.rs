//! The live stream, `GET /v1/notifications/stream?ticket=…` (WebSocket), and its
//! tickets, `POST /v1/notifications/stream-tickets`.
//!
//! A browser trades its bearer token for a one-time ticket (30 s), then opens the
//! socket with it; a missing, used or expired ticket, or a token no longer valid,
//! is refused with a JSON:API error before the upgrade. Each message is a JSON:API
//! document holding one `notifications` resource: the user's own (admins: all).
//! The server pings every 20 s and drops a peer that does not answer; a client that
//! falls behind is dropped rather than slowing the others; a user holds at most
//! [`MAX_STREAMS_PER_USER`] streams; the token behind the ticket is checked again at
//! every ping, so a deactivated account or a changed role (or the token's expiry)
//! closes the stream with code 4001: fetch a new ticket and reconnect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use emporium_adapters::in_process::LiveHub;
use emporium_application::accounts::{Authenticate, AuthenticateError};
use emporium_application::notifications::{NotificationError, Notifications};
use emporium_domain::notifications::LiveEvent;
use emporium_domain::{Actor, Role, UserId};
use futures::{SinkExt, StreamExt};
use poem::http::{Method, StatusCode};
use poem::web::websocket::{CloseCode, Message, WebSocket, WebSocketStream};
use poem::{Endpoint, FromRequest, IntoResponse, Request, Response};
use tokio::sync::broadcast::error::RecvError;

use super::Notifications_;
use crate::http::jsonapi::{ApiError, ErrorObject, Fields, JsonApi, Resource, SingleDocument};

/// Open streams one user may hold at once.
pub const MAX_STREAMS_PER_USER: usize = 5;
/// How often the server pings (and checks the token again).
const PING_INTERVAL: Duration = Duration::from_secs(20);
/// How long a message may take to reach a client before it counts as too slow.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Close code: the token behind the ticket is no longer valid; sign in again.
const CLOSE_SIGN_IN_AGAIN: u16 = 4001;

/// Open streams per user.
#[derive(Debug, Default)]
struct Slots(Mutex<HashMap<UserId, usize>>);

/// One open stream's slot, given back when dropped.
struct Slot {
    slots: Arc<Slots>,
    user: UserId,
}

impl Slots {
    fn take(self: &Arc<Self>, user: UserId) -> Option<Slot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(user).or_default();
        if *count >= MAX_STREAMS_PER_USER {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: self.clone(),
            user,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// The WebSocket endpoint (see the [module docs](self)).
#[derive(Clone)]
pub struct LiveStream {
    notifications: Arc<Notifications>,
    authenticate: Arc<Authenticate>,
    hub: LiveHub,
    slots: Arc<Slots>,
}

impl LiveStream {
    /// The endpoint over the notification use cases and this process's hub.
    pub fn new(
        notifications: Arc<Notifications>,
        authenticate: Arc<Authenticate>,
        hub: LiveHub,
    ) -> Self {
        Self {
            notifications,
            authenticate,
            hub,
            slots: Arc::default(),
        }
    }

    async fn open(&self, request: Request) -> Result<Response, ApiError> {
        if request.method() != Method::GET {
            return Err(ApiError::from(ErrorObject::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
                "The stream is opened with GET (a WebSocket upgrade).",
            )));
        }
        let ticket = request
            .uri()
            .query()
            .and_then(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .find(|(name, _)| name == "ticket")
                    .map(|(_, value)| value.into_owned())
            })
            .ok_or_else(|| {
                ApiError::from(
                    ErrorObject::new(
                        StatusCode::UNAUTHORIZED,
                        "invalid_ticket",
                        "Invalid stream ticket",
                        "Open the stream with ?ticket= from POST /v1/notifications/stream-tickets.",
                    )
                    .at_parameter("ticket"),
                )
            })?;
        let token = self
            .notifications
            .redeem_ticket
            .execute(&ticket)
            .await
            .map_err(|error| ApiError::internal("redeeming a stream ticket", &error))?
            .ok_or_else(|| {
                ApiError::from(
                    ErrorObject::new(
                        StatusCode::UNAUTHORIZED,
                        "invalid_ticket",
                        "Invalid stream ticket",
                        "The ticket is unknown, used or expired; get a new one.",
                    )
                    .at_parameter("ticket"),
                )
            })?;
        let actor = self.authenticate.execute(&token).await?;
        let Actor::User { id, .. } = actor else {
            return Err(ApiError::forbidden());
        };
        let slot = self.slots.take(id).ok_or_else(|| {
            ApiError::from(ErrorObject::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                "Too many streams",
                format!("A user may hold {MAX_STREAMS_PER_USER} streams at once; close one first."),
            ))
        })?;
        let upgrade = WebSocket::from_request_without_body(&request)
            .await
            .map_err(|_| {
                ApiError::from(ErrorObject::new(
                    StatusCode::BAD_REQUEST,
                    "websocket_expected",
                    "WebSocket upgrade expected",
                    "Open the stream with a WebSocket upgrade request.",
                ))
            })?;
        let session = Session {
            stream: self.clone(),
            actor,
            token,
            _slot: slot,
        };
        Ok(upgrade
            .on_upgrade(move |socket| session.run(socket))
            .into_response())
    }
}

impl Endpoint for LiveStream {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        Ok(match self.open(request).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        })
    }
}

/// One open stream.
struct Session {
    stream: LiveStream,
    actor: Actor,
    token: String,
    _slot: Slot,
}

impl Session {
    /// Whether this stream's viewer hears of `event`.
    fn hears(&self, event: &LiveEvent) -> bool {
        match self.actor {
            Actor::User {
                role: Role::Admin, ..
            } => true,
            Actor::User { id, .. } => id == event.user_id,
            _ => false,
        }
    }

    async fn message(&self, event: LiveEvent) -> Option<String> {
        let notification = match self
            .stream
            .notifications
            .get
            .execute(&self.actor, event.notification_id)
            .await
        {
            Ok(notification) => notification,
            Err(NotificationError::NotFound(_)) => return None,
            Err(error) => {
                tracing::warn!(error = %error, "a live notification could not be loaded");
                return None;
            }
        };
        let body = JsonApi::<SingleDocument<Notifications_>>::render(Notifications_::object(
            notification,
            Fields::ALL,
        ))
        .ok()?;
        String::from_utf8(body).ok()
    }

    async fn run(self, socket: WebSocketStream) {
        let (mut sink, mut incoming) = socket.split();
        let mut events = self.stream.hub.subscribe();
        let mut ping = tokio::time::interval(PING_INTERVAL);
        ping.tick().await;
        let mut awaiting_pong = false;
        let close = loop {
            tokio::select! {
                received = events.recv() => match received {
                    Ok(event) if self.hears(&event) => {
                        let Some(text) = self.message(event).await else { continue };
                        match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(text))).await {
                            Ok(Ok(())) => {}
                            Ok(Err(_)) => break None,
                            Err(_) => break Some((CloseCode::Again, "too slow: messages were waiting")),
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => {
                        break Some((CloseCode::Again, "too slow: messages were dropped"));
                    }
                    Err(RecvError::Closed) => break Some((CloseCode::Away, "the server is stopping")),
                },
                message = incoming.next() => match message {
                    Some(Ok(Message::Pong(_))) => awaiting_pong = false,
                    Some(Ok(Message::Ping(data))) => {
                        let sent = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Pong(data))).await;
                        if !matches!(sent, Ok(Ok(()))) {
                            break None;
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                    Some(Ok(_)) => {}
                },
                _ = ping.tick() => {
                    if awaiting_pong {
                        break Some((CloseCode::Away, "no answer to ping"));
                    }
                    match self.stream.authenticate.execute(&self.token).await {
                        Ok(_) => {}
                        // The account store failed: that says nothing of the account.
                        Err(AuthenticateError::Unexpected(error)) => tracing::warn!(
                            error = format!("{error:#}"),
                            "a live stream's token could not be checked; kept open"
                        ),
                        Err(_) => {
                            break Some((CloseCode::from(CLOSE_SIGN_IN_AGAIN), "sign in again"));
                        }
                    }
                    let sent = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Ping(Vec::new()))).await;
                    if !matches!(sent, Ok(Ok(()))) {
                        break None;
                    }
                    awaiting_pong = true;
                }
            }
        };
        if let Some((code, reason)) = close {
            let _ = tokio::time::timeout(
                SEND_TIMEOUT,
                sink.send(Message::Close(Some((code, reason.to_owned())))),
            )
            .await;
        }
    }
}
