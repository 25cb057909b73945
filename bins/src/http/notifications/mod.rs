//! `/v1/notifications`: the caller's notifications (admins: everyone's, filtered by
//! status and recipient), one notification, an admin's retry of a failed one, and
//! the live stream's tickets (the stream itself: [`stream`]).

pub mod stream;

use std::sync::Arc;

use emporium_application::notifications::{Notifications, StreamTicket};
use emporium_domain::notifications::{
    Notification, NotificationFilter, NotificationId, NotificationStatus,
};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::{Object, OpenApi};
use serde::Serialize;
use uuid::Uuid;

use super::ApiTags;
use super::jsonapi::resource::uuid_schema;
use super::jsonapi::schema::string_enum;
use super::jsonapi::{
    ApiError, ClientId, FieldSet, Filter, JsonApi, Linkage, ListDocument, OptionalBody, QuerySpec,
    Relationship, Resource, SingleDocument, Timestamp, Write, path_id,
};
use super::middleware::auth::{SignedIn, bearer_token};
use super::openapi::Queries;

/// The `notifications` resource.
pub struct Notifications_;

/// A notification: one message to one user about one event of their order.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(
    rename = "NotificationAttributes",
    rename_all = "camelCase",
    read_only_all
)]
pub struct NotificationAttributes {
    /// How it travels: `email`.
    pub channel: String,
    /// The event it tells of (`order.created`, `order.status_changed`, …).
    pub event_type: String,
    /// That event's id: the `Message-ID` of the mail derives from it.
    pub event_id: Uuid,
    /// The address it goes to.
    pub recipient: String,
    /// The mail's subject.
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed (admins only).
    #[oai(nullable)]
    pub last_error: Option<String>,
    /// When the next attempt is due (pending only).
    #[oai(nullable)]
    pub next_attempt_at: Option<Timestamp>,
    /// When it was sent.
    #[oai(nullable)]
    pub sent_at: Option<Timestamp>,
    /// When it was recorded.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Resource for Notifications_ {
    type Model = Notification;
    type Attributes = NotificationAttributes;
    type Included = ();
    const TYPE: &'static str = "notifications";
    const NAME: &'static str = "Notification";
    const PATH: Option<&'static str> = Some("/v1/notifications");
    const ATTRIBUTES: &'static [&'static str] = &[
        "channel",
        "eventType",
        "eventId",
        "recipient",
        "subject",
        "status",
        "attempts",
        "lastError",
        "nextAttemptAt",
        "sentAt",
        "createdAt",
        "updatedAt",
    ];
    const RELATIONSHIPS: &'static [Relationship] = &[
        Relationship::to_one("user", "users"),
        Relationship::to_one("order", "orders"),
    ];

    fn id(notification: &Notification) -> Uuid {
        notification.id.0
    }

    fn linkage(notification: &Notification) -> Vec<Linkage> {
        vec![
            Linkage::One(Some(notification.user_id.0)),
            Linkage::One(Some(notification.order_id.0)),
        ]
    }

    fn attributes(notification: Notification) -> NotificationAttributes {
        NotificationAttributes {
            channel: notification.channel.as_str().to_owned(),
            event_type: notification.event_type.as_str().to_owned(),
            event_id: notification.event_id.0,
            recipient: notification.mail.to.as_str().to_owned(),
            subject: notification.mail.content.subject,
            status: notification.status.as_str().to_owned(),
            attempts: notification.attempts,
            last_error: notification.last_error,
            next_attempt_at: notification.next_attempt_at.map(Timestamp),
            sent_at: notification.sent_at.map(Timestamp),
            created_at: notification.created_at.into(),
            updated_at: notification.updated_at.into(),
        }
    }
}

/// The `stream-tickets` resource: a one-time ticket for the live stream.
pub struct StreamTickets_;

/// A ticket.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(
    rename = "StreamTicketAttributes",
    rename_all = "camelCase",
    read_only_all
)]
pub struct StreamTicketAttributes {
    /// The ticket: valid once, until `expiresAt`.
    pub ticket: String,
    /// When it stops being valid (30 s).
    pub expires_at: Timestamp,
    /// The stream's path with the ticket (open it as a WebSocket).
    pub url: String,
}

impl Resource for StreamTickets_ {
    type Model = StreamTicket;
    type Attributes = StreamTicketAttributes;
    type Included = ();
    const TYPE: &'static str = "stream-tickets";
    const NAME: &'static str = "StreamTicket";
    const PATH: Option<&'static str> = None;
    const ATTRIBUTES: &'static [&'static str] = &["ticket", "expiresAt", "url"];

    fn id(_: &StreamTicket) -> Uuid {
        // Tickets are no stored resources: the id only tells documents apart.
        Uuid::new_v4()
    }

    fn linkage(_: &StreamTicket) -> Vec<Linkage> {
        Vec::new()
    }

    fn attributes(ticket: StreamTicket) -> StreamTicketAttributes {
        StreamTicketAttributes {
            url: format!("/v1/notifications/stream?ticket={}", ticket.ticket),
            ticket: ticket.ticket,
            expires_at: Timestamp(ticket.expires_at),
        }
    }
}

/// `POST /v1/notifications/{id}/retry`: no attributes (the body is optional).
pub struct RetryNotification;

impl Write for RetryNotification {
    type Resource = Notifications_;
    const NAME: &'static str = "NotificationRetry";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [super::jsonapi::Member] = &[];
}

/// Schema of the `status` filter.
fn status_schema() -> MetaSchemaRef {
    string_enum(&["pending", "sent", "failed"])
}

const LIST: QuerySpec = QuerySpec {
    paginated: true,
    filters: &[
        Filter {
            name: "status",
            description: "Only notifications in this status.",
            schema: status_schema,
        },
        Filter {
            name: "user",
            description: "Only this recipient's (admins; a customer sees only their own).",
            schema: uuid_schema,
        },
    ],
    fieldsets: &[FieldSet::of::<Notifications_>()],
    ..QuerySpec::NONE
};

const ONE: QuerySpec = QuerySpec {
    fieldsets: &[FieldSet::of::<Notifications_>()],
    ..QuerySpec::NONE
};

/// The notification routes.
pub struct NotificationsApi {
    notifications: Arc<Notifications>,
}

impl NotificationsApi {
    /// Routes over the notification use cases.
    pub fn new(notifications: Arc<Notifications>) -> Self {
        Self { notifications }
    }
}

impl Queries for NotificationsApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] =
        &[("listNotifications", &LIST), ("getNotification", &ONE)];
}

fn notification_id(raw: &str) -> Result<NotificationId, ApiError> {
    path_id(raw, "notification").map(NotificationId)
}

#[OpenApi(tag = "ApiTags::Notifications")]
impl NotificationsApi {
    /// List notifications
    ///
    /// The caller's own; an admin's all, filtered by `status` and `user`. Newest
    /// first, paged.
    #[oai(
        path = "/v1/notifications",
        method = "get",
        operation_id = "listNotifications"
    )]
    async fn list(
        &self,
        request: &Request,
        user: SignedIn,
    ) -> Result<JsonApi<ListDocument<Notifications_>>, ApiError> {
        let query = LIST.parse(request.uri().query())?;
        let status = query.parsed_filter(
            "status",
            "a notification status (pending, sent, failed)",
            NotificationStatus::parse,
        )?;
        let recipient = query.user_filter()?;
        let filter = NotificationFilter {
            user_id: recipient,
            status,
        };
        let page = self
            .notifications
            .list
            .execute(&user.0, filter, query.page)
            .await?;
        JsonApi::list(page, Vec::<()>::new(), &query)
    }

    /// Read a notification
    ///
    /// Its recipient or an admin; another user's notification is 404.
    #[oai(
        path = "/v1/notifications/:id",
        method = "get",
        operation_id = "getNotification"
    )]
    async fn get(
        &self,
        request: &Request,
        user: SignedIn,
        /// The notification id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<Notifications_>>, ApiError> {
        let id = notification_id(&id)?;
        let query = ONE.parse(request.uri().query())?;
        let notification = self.notifications.get.execute(&user.0, id).await?;
        JsonApi::single(Notifications_::object(
            notification,
            query.fields_of::<Notifications_>(),
        ))
    }

    /// Get a live stream ticket
    ///
    /// A signed-in user trades the bearer token of this request for a one-time
    /// ticket (valid 30 s), then opens the WebSocket `GET
    /// /v1/notifications/stream?ticket=…`. Each message on it is a JSON:API
    /// document holding one `notifications` resource: the user's own (admins: all).
    #[oai(
        path = "/v1/notifications/stream-tickets",
        method = "post",
        operation_id = "createStreamTicket"
    )]
    async fn stream_ticket(
        &self,
        request: &Request,
        user: SignedIn,
    ) -> Result<JsonApi<SingleDocument<StreamTickets_>>, ApiError> {
        let token = request
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .and_then(|value| bearer_token(value.as_bytes()))
            .ok_or_else(ApiError::forbidden)?;
        let ticket = self
            .notifications
            .issue_ticket
            .execute(&user.0, token)
            .await?;
        JsonApi::single(StreamTickets_::object(ticket, super::jsonapi::Fields::ALL))
    }

    /// Retry a failed notification
    ///
    /// Admins. The notification becomes pending with its attempts reset and is sent
    /// at once (the same message: same `Message-ID`); the answer shows how that
    /// attempt went. A pending notification is answered as it is; a sent one is 409
    /// `invalid_transition`. The body is optional.
    #[oai(
        path = "/v1/notifications/:id/retry",
        method = "post",
        operation_id = "retryNotification"
    )]
    async fn retry(
        &self,
        user: SignedIn,
        /// The notification id (UUID).
        id: Path<String>,
        body: OptionalBody<RetryNotification>,
    ) -> Result<JsonApi<SingleDocument<Notifications_>>, ApiError> {
        let id = notification_id(&id)?;
        body.check(id.0)?;
        let notification = self.notifications.retry.execute(&user.0, id).await?;
        JsonApi::single(Notifications_::object(
            notification,
            super::jsonapi::Fields::ALL,
        ))
    }
}
