//! `/v1/webhooks` and `/v1/webhook-deliveries` (admins): subscriptions (the secret
//! shown once, when created or rotated), their delivery logs, and redelivery.

use std::sync::Arc;

use emporium_application::webhooks::{NewWebhook, Webhooks};
use emporium_domain::orders::EventType;
use emporium_domain::webhooks::{
    AttemptRecord, Webhook, WebhookChange, WebhookDelivery, WebhookDeliveryId, WebhookDescription,
    WebhookEvents, WebhookId, WebhookUrl,
};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::{Object, OpenApi};
use serde::Serialize;
use uuid::Uuid;

use super::ApiTags;
use super::jsonapi::body::{Invalid, boolean, list, text};
use super::jsonapi::schema::{array, string_enum};
use super::jsonapi::{
    ApiError, ClientId, Created, FieldSet, Fields, JsonApi, JsonApiBody, Linkage, ListDocument,
    Member, NoContent, OptionalBody, QuerySpec, Relationship, Resource, SingleDocument, Timestamp,
    Write, path_id,
};
use super::middleware::auth::SignedIn;
use super::openapi::Queries;

/// The `webhooks` resource.
pub struct Webhooks_;

/// A webhook subscription.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "WebhookAttributes", rename_all = "camelCase")]
pub struct WebhookAttributes {
    /// Where deliveries are posted (`https://…`; `http://` is accepted too).
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// What it is for.
    pub description: String,
    /// Whether it receives deliveries.
    pub enabled: bool,
    /// The signing secret (`whsec_…`): shown only in the answer that creates or
    /// rotates it. Verify deliveries with any Standard Webhooks library.
    #[oai(read_only)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Until when the secret before the last rotation also signs.
    #[oai(nullable, read_only)]
    pub previous_secret_expires_at: Option<Timestamp>,
    /// Why it was disabled, when deliveries disabled it (410 Gone, or too many
    /// failures in a row).
    #[oai(nullable, read_only)]
    pub disabled_reason: Option<String>,
    /// Deliveries that failed in a row.
    #[oai(read_only)]
    pub consecutive_failures: u32,
    /// When it was created.
    #[oai(read_only)]
    pub created_at: Timestamp,
    /// When it last changed.
    #[oai(read_only)]
    pub updated_at: Timestamp,
}

/// A webhook, with its secret shown when `show_secret` (created, rotated).
pub struct Shown {
    /// The subscription.
    pub webhook: Webhook,
    /// Whether its secret is shown.
    pub show_secret: bool,
}

impl Resource for Webhooks_ {
    type Model = Shown;
    type Attributes = WebhookAttributes;
    type Included = ();
    const TYPE: &'static str = "webhooks";
    const NAME: &'static str = "Webhook";
    const PATH: Option<&'static str> = Some("/v1/webhooks");
    const ATTRIBUTES: &'static [&'static str] = &[
        "url",
        "events",
        "description",
        "enabled",
        "secret",
        "previousSecretExpiresAt",
        "disabledReason",
        "consecutiveFailures",
        "createdAt",
        "updatedAt",
    ];

    fn id(shown: &Shown) -> Uuid {
        shown.webhook.id.0
    }

    fn linkage(_: &Shown) -> Vec<Linkage> {
        Vec::new()
    }

    fn attributes(shown: Shown) -> WebhookAttributes {
        let webhook = shown.webhook;
        WebhookAttributes {
            url: webhook.url.as_str().to_owned(),
            events: webhook
                .events
                .types()
                .iter()
                .map(|event| event.as_str().to_owned())
                .collect(),
            description: webhook.description.as_str().to_owned(),
            enabled: webhook.enabled,
            secret: shown
                .show_secret
                .then(|| webhook.secret.expose().to_owned()),
            previous_secret_expires_at: webhook.previous_secret.map(|(_, until)| Timestamp(until)),
            disabled_reason: webhook.disabled_reason,
            consecutive_failures: webhook.consecutive_failures,
            created_at: webhook.created_at.into(),
            updated_at: webhook.updated_at.into(),
        }
    }
}

/// The `webhook-deliveries` resource.
pub struct WebhookDeliveries_;

/// One attempt at a delivery.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "WebhookAttempt", rename_all = "camelCase", read_only_all)]
pub struct AttemptAttributes {
    /// Its number (1 for the first; counting starts again at a manual redelivery).
    pub attempt: u32,
    /// When it ended.
    pub at: Timestamp,
    /// The receiver's status code, when it answered.
    #[oai(nullable)]
    pub status_code: Option<u16>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// What went wrong, when something did.
    #[oai(nullable)]
    pub error: Option<String>,
}

/// One event delivered to one subscription.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(
    rename = "WebhookDeliveryAttributes",
    rename_all = "camelCase",
    read_only_all
)]
pub struct DeliveryAttributes {
    /// The event's type.
    pub event_type: String,
    /// The event's id.
    pub event_id: Uuid,
    /// The `webhook-id` header of every attempt (the receiver's idempotency key).
    pub message_id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts since it was recorded or last redelivered.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    #[oai(nullable)]
    pub next_attempt_at: Option<Timestamp>,
    /// The latest attempts (up to 25), oldest first.
    pub log: Vec<AttemptAttributes>,
    /// When it was recorded.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When a receiver first answered 2xx.
    #[oai(nullable)]
    pub delivered_at: Option<Timestamp>,
}

impl Resource for WebhookDeliveries_ {
    type Model = WebhookDelivery;
    type Attributes = DeliveryAttributes;
    type Included = ();
    const TYPE: &'static str = "webhook-deliveries";
    const NAME: &'static str = "WebhookDelivery";
    const PATH: Option<&'static str> = Some("/v1/webhook-deliveries");
    const ATTRIBUTES: &'static [&'static str] = &[
        "eventType",
        "eventId",
        "messageId",
        "status",
        "attempts",
        "nextAttemptAt",
        "log",
        "createdAt",
        "updatedAt",
        "deliveredAt",
    ];
    const RELATIONSHIPS: &'static [Relationship] = &[Relationship::to_one("webhook", "webhooks")];

    fn id(delivery: &WebhookDelivery) -> Uuid {
        delivery.id.0
    }

    fn linkage(delivery: &WebhookDelivery) -> Vec<Linkage> {
        vec![Linkage::One(Some(delivery.webhook_id.0))]
    }

    fn attributes(delivery: WebhookDelivery) -> DeliveryAttributes {
        DeliveryAttributes {
            event_type: delivery.event_type.as_str().to_owned(),
            event_id: delivery.event_id.0,
            message_id: delivery.message_id.as_str().to_owned(),
            status: delivery.status.as_str().to_owned(),
            attempts: delivery.attempts,
            next_attempt_at: delivery.next_attempt_at.map(Timestamp),
            log: delivery
                .log
                .into_iter()
                .map(|record: AttemptRecord| AttemptAttributes {
                    attempt: record.attempt,
                    at: Timestamp(record.at),
                    status_code: record.status_code,
                    duration_ms: record.duration_ms,
                    error: record.error,
                })
                .collect(),
            created_at: delivery.created_at.into(),
            updated_at: delivery.updated_at.into(),
            delivered_at: delivery.delivered_at.map(Timestamp),
        }
    }
}

/// The event types a subscription may name.
fn events_schema() -> MetaSchemaRef {
    let types: Vec<&'static str> = EventType::ALL.iter().map(|event| event.as_str()).collect();
    array(string_enum(types.leak()))
}

/// `POST /v1/webhooks`.
pub struct CreateWebhook;

impl Write for CreateWebhook {
    type Resource = Webhooks_;
    const NAME: &'static str = "WebhookCreate";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[
        Member::required("url"),
        Member::required("events").with_schema(events_schema),
        Member::optional("description"),
    ];
}

/// `PATCH /v1/webhooks/{id}`.
pub struct UpdateWebhook;

impl Write for UpdateWebhook {
    type Resource = Webhooks_;
    const NAME: &'static str = "WebhookUpdate";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[
        Member::optional("url"),
        Member::optional("events").with_schema(events_schema),
        Member::optional("description"),
        Member::optional("enabled"),
    ];
}

/// `POST /v1/webhooks/{id}/rotate-secret`: no attributes (the body is optional).
pub struct RotateSecret;

impl Write for RotateSecret {
    type Resource = Webhooks_;
    const NAME: &'static str = "WebhookRotateSecret";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[];
}

/// `POST /v1/webhook-deliveries/{id}/redeliver`: no attributes (the body is optional).
pub struct RedeliverDelivery;

impl Write for RedeliverDelivery {
    type Resource = WebhookDeliveries_;
    const NAME: &'static str = "WebhookDeliveryRedeliver";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[];
}

fn event_type(value: &serde_json::Value) -> Result<EventType, Invalid> {
    match value {
        serde_json::Value::String(name) => EventType::parse(name).ok_or_else(|| {
            Invalid::Value(format!(
                "{name:?} is not an event type ({}).",
                EventType::ALL
                    .iter()
                    .map(|event| event.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }),
        _ => Err(Invalid::Type("a string")),
    }
}

fn events(value: &serde_json::Value) -> Result<WebhookEvents, Invalid> {
    let types = list(event_type)(value)?;
    WebhookEvents::new(types).map_err(|error| Invalid::Value(error.0))
}

impl JsonApiBody<CreateWebhook> {
    /// The subscription to create.
    pub fn new_webhook(&self) -> Result<NewWebhook, ApiError> {
        let mut document = self.read(None)?;
        let url = document.attribute("url", &text(|url: String| WebhookUrl::new(&url)));
        let events = document.attribute("events", &events);
        let description = document.attribute(
            "description",
            &text(|description: String| WebhookDescription::new(&description)),
        );
        document.finish(|| {
            Some(NewWebhook {
                url: url?,
                events: events?,
                description: description.unwrap_or_default(),
            })
        })
    }
}

impl JsonApiBody<UpdateWebhook> {
    /// The change to subscription `id` (the id of the URL), made `at`.
    pub fn change(
        &self,
        id: WebhookId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<WebhookChange, ApiError> {
        let mut document = self.read(Some(id.0))?;
        let change = WebhookChange {
            url: document.attribute("url", &text(|url: String| WebhookUrl::new(&url))),
            events: document.attribute("events", &events),
            description: document.attribute(
                "description",
                &text(|description: String| WebhookDescription::new(&description)),
            ),
            enabled: document.attribute("enabled", &boolean),
            at,
        };
        document.finish(|| Some(change))
    }
}

const LIST: QuerySpec = QuerySpec {
    paginated: true,
    fieldsets: &[FieldSet::of::<Webhooks_>()],
    ..QuerySpec::NONE
};

const ONE: QuerySpec = QuerySpec {
    fieldsets: &[FieldSet::of::<Webhooks_>()],
    ..QuerySpec::NONE
};

const DELIVERIES: QuerySpec = QuerySpec {
    paginated: true,
    fieldsets: &[FieldSet::of::<WebhookDeliveries_>()],
    ..QuerySpec::NONE
};

const DELIVERY: QuerySpec = QuerySpec {
    fieldsets: &[FieldSet::of::<WebhookDeliveries_>()],
    ..QuerySpec::NONE
};

/// The webhook routes.
pub struct WebhooksApi {
    webhooks: Arc<Webhooks>,
}

impl WebhooksApi {
    /// Routes over the webhook use cases.
    pub fn new(webhooks: Arc<Webhooks>) -> Self {
        Self { webhooks }
    }
}

impl Queries for WebhooksApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] = &[
        ("listWebhooks", &LIST),
        ("getWebhook", &ONE),
        ("listWebhookDeliveries", &DELIVERIES),
        ("getWebhookDelivery", &DELIVERY),
    ];
}

fn webhook_id(raw: &str) -> Result<WebhookId, ApiError> {
    path_id(raw, "webhook").map(WebhookId)
}

fn delivery_id(raw: &str) -> Result<WebhookDeliveryId, ApiError> {
    path_id(raw, "webhook delivery").map(WebhookDeliveryId)
}

fn hidden(webhook: Webhook) -> Shown {
    Shown {
        webhook,
        show_secret: false,
    }
}

fn revealed(webhook: Webhook) -> Shown {
    Shown {
        webhook,
        show_secret: true,
    }
}

#[OpenApi(tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Create a webhook subscription
    ///
    /// Admins. The answer shows the signing secret (`whsec_…`) this once. The URL's
    /// host must resolve to public addresses (unless private targets are allowed):
    /// otherwise 422 `webhook_target_refused`.
    #[oai(path = "/v1/webhooks", method = "post", operation_id = "createWebhook")]
    async fn create(
        &self,
        user: SignedIn,
        body: JsonApiBody<CreateWebhook>,
    ) -> Result<Created<SingleDocument<Webhooks_>>, ApiError> {
        let input = body.new_webhook()?;
        let webhook = self.webhooks.create.execute(&user.0, input).await?;
        Created::new(Webhooks_::object(revealed(webhook), Fields::ALL))
    }

    /// List webhook subscriptions
    ///
    /// Admins. Newest first, paged; secrets are not shown.
    #[oai(path = "/v1/webhooks", method = "get", operation_id = "listWebhooks")]
    async fn list(
        &self,
        request: &Request,
        user: SignedIn,
    ) -> Result<JsonApi<ListDocument<Webhooks_>>, ApiError> {
        let query = LIST.parse(request.uri().query())?;
        let page = self.webhooks.list.execute(&user.0, query.page).await?;
        JsonApi::list(page.map(hidden), Vec::<()>::new(), &query)
    }

    /// Read a webhook subscription
    ///
    /// Admins. The secret is not shown.
    #[oai(path = "/v1/webhooks/:id", method = "get", operation_id = "getWebhook")]
    async fn get(
        &self,
        request: &Request,
        user: SignedIn,
        /// The webhook id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<Webhooks_>>, ApiError> {
        let id = webhook_id(&id)?;
        let query = ONE.parse(request.uri().query())?;
        let webhook = self.webhooks.get.execute(&user.0, id).await?;
        JsonApi::single(Webhooks_::object(
            hidden(webhook),
            query.fields_of::<Webhooks_>(),
        ))
    }

    /// Change a webhook subscription
    ///
    /// Admins: its URL, events, description, or `enabled` (enabling it again
    /// forgets its failures).
    #[oai(
        path = "/v1/webhooks/:id",
        method = "patch",
        operation_id = "updateWebhook"
    )]
    async fn update(
        &self,
        user: SignedIn,
        /// The webhook id (UUID).
        id: Path<String>,
        body: JsonApiBody<UpdateWebhook>,
    ) -> Result<JsonApi<SingleDocument<Webhooks_>>, ApiError> {
        let id = webhook_id(&id)?;
        let change = body.change(id, chrono::Utc::now())?;
        let webhook = self.webhooks.update.execute(&user.0, id, change).await?;
        JsonApi::single(Webhooks_::object(hidden(webhook), Fields::ALL))
    }

    /// Delete a webhook subscription
    ///
    /// Admins. Its deliveries go with it.
    #[oai(
        path = "/v1/webhooks/:id",
        method = "delete",
        operation_id = "deleteWebhook"
    )]
    async fn delete(
        &self,
        user: SignedIn,
        /// The webhook id (UUID).
        id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = webhook_id(&id)?;
        self.webhooks.delete.execute(&user.0, id).await?;
        Ok(NoContent)
    }

    /// Rotate a webhook's secret
    ///
    /// Admins. The answer shows the new secret this once; for 24 hours deliveries
    /// carry a signature by each secret, so the receiver can switch without losing
    /// any. The body is optional.
    #[oai(
        path = "/v1/webhooks/:id/rotate-secret",
        method = "post",
        operation_id = "rotateWebhookSecret"
    )]
    async fn rotate_secret(
        &self,
        user: SignedIn,
        /// The webhook id (UUID).
        id: Path<String>,
        body: OptionalBody<RotateSecret>,
    ) -> Result<JsonApi<SingleDocument<Webhooks_>>, ApiError> {
        let id = webhook_id(&id)?;
        body.check(id.0)?;
        let webhook = self.webhooks.rotate_secret.execute(&user.0, id).await?;
        JsonApi::single(Webhooks_::object(revealed(webhook), Fields::ALL))
    }

    /// List a webhook's deliveries
    ///
    /// Admins. Newest first, paged, each with its latest attempts.
    #[oai(
        path = "/v1/webhooks/:id/deliveries",
        method = "get",
        operation_id = "listWebhookDeliveries"
    )]
    async fn deliveries(
        &self,
        request: &Request,
        user: SignedIn,
        /// The webhook id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<ListDocument<WebhookDeliveries_>>, ApiError> {
        let id = webhook_id(&id)?;
        let query = DELIVERIES.parse(request.uri().query())?;
        let page = self
            .webhooks
            .deliveries
            .execute(&user.0, id, query.page)
            .await?;
        JsonApi::list(page, Vec::<()>::new(), &query)
    }

    /// Read a webhook delivery
    ///
    /// Admins.
    #[oai(
        path = "/v1/webhook-deliveries/:id",
        method = "get",
        operation_id = "getWebhookDelivery"
    )]
    async fn delivery(
        &self,
        request: &Request,
        user: SignedIn,
        /// The delivery id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<WebhookDeliveries_>>, ApiError> {
        let id = delivery_id(&id)?;
        let query = DELIVERY.parse(request.uri().query())?;
        let delivery = self.webhooks.delivery.execute(&user.0, id).await?;
        JsonApi::single(WebhookDeliveries_::object(
            delivery,
            query.fields_of::<WebhookDeliveries_>(),
        ))
    }

    /// Redeliver a webhook delivery
    ///
    /// Admins. A succeeded or failed delivery is sent again now with the same
    /// `webhook-id` (receivers drop repeats), its attempts counted afresh; the
    /// answer shows how that attempt went. A pending one is answered as it is. The
    /// body is optional.
    #[oai(
        path = "/v1/webhook-deliveries/:id/redeliver",
        method = "post",
        operation_id = "redeliverWebhookDelivery"
    )]
    async fn redeliver(
        &self,
        user: SignedIn,
        /// The delivery id (UUID).
        id: Path<String>,
        body: OptionalBody<RedeliverDelivery>,
    ) -> Result<JsonApi<SingleDocument<WebhookDeliveries_>>, ApiError> {
        let id = delivery_id(&id)?;
        body.check(id.0)?;
        let delivery = self.webhooks.redeliver.execute(&user.0, id).await?;
        JsonApi::single(WebhookDeliveries_::object(delivery, Fields::ALL))
    }
}
