//! [`WebhookRepository`] on sea-orm: subscriptions, and deliveries unique by
//! (subscription, event). Attempts are claimed with a conditional update; an
//! attempt's record, its delivery's new state and its subscription's failure count
//! (and disabling) commit in one transaction.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::orders::{EventId, EventType};
use emporium_domain::webhooks::{
    AttemptOutcome, AttemptRecord, DeliveryStatus, MessageId, Webhook, WebhookChange,
    WebhookDelivery, WebhookDeliveryId, WebhookDescription, WebhookEvents, WebhookId,
    WebhookRepository, WebhookRepositoryError, WebhookSecret, WebhookUrl,
};
use emporium_domain::{Page, PageRequest};
use sea_orm::sea_query::{
    Expr, ExprTrait, OnConflict, Order as SortOrder, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use uuid::Uuid;

use super::errors::DbResultExt;
use super::migration::{WebhookDeliveries, Webhooks};
use super::order::finish;
use super::{begin_write, newest_first, to_stored_time};
use crate::store_error::StoreError;

/// The webhook store (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct SqlWebhookRepository {
    db: DatabaseConnection,
}

impl SqlWebhookRepository {
    /// The store on `db` (migrated).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

const WEBHOOK_COLUMNS: [Webhooks; 12] = [
    Webhooks::Id,
    Webhooks::Url,
    Webhooks::Events,
    Webhooks::Description,
    Webhooks::Secret,
    Webhooks::PreviousSecret,
    Webhooks::PreviousSecretUntil,
    Webhooks::Enabled,
    Webhooks::DisabledReason,
    Webhooks::ConsecutiveFailures,
    Webhooks::CreatedAt,
    Webhooks::UpdatedAt,
];

const DELIVERY_COLUMNS: [WebhookDeliveries; 13] = [
    WebhookDeliveries::Id,
    WebhookDeliveries::WebhookId,
    WebhookDeliveries::EventId,
    WebhookDeliveries::EventType,
    WebhookDeliveries::MessageId,
    WebhookDeliveries::Payload,
    WebhookDeliveries::Status,
    WebhookDeliveries::Attempts,
    WebhookDeliveries::NextAttemptAt,
    WebhookDeliveries::Log,
    WebhookDeliveries::CreatedAt,
    WebhookDeliveries::UpdatedAt,
    WebhookDeliveries::DeliveredAt,
];

fn webhook_select() -> SelectStatement {
    Query::select()
        .columns(WEBHOOK_COLUMNS)
        .from(Webhooks::Table)
        .to_owned()
}

fn delivery_select() -> SelectStatement {
    Query::select()
        .columns(DELIVERY_COLUMNS)
        .from(WebhookDeliveries::Table)
        .to_owned()
}

fn events_text(events: &WebhookEvents) -> String {
    events
        .types()
        .iter()
        .map(|event| event.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn count(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn webhook_of(row: &QueryResult) -> anyhow::Result<Webhook> {
    let id: Uuid = row.try_get("", "id")?;
    let read = || -> anyhow::Result<Webhook> {
        let text = |column: &str| -> anyhow::Result<String> { Ok(row.try_get("", column)?) };
        let invalid = |error: emporium_domain::catalog::ValueError| anyhow::anyhow!("{}", error.0);
        let events = text("events")?
            .split(',')
            .map(|event| EventType::parse(event).with_context(|| format!("event type {event:?}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let previous: Option<String> = row.try_get("", "previous_secret")?;
        let until: Option<DateTime<Utc>> = row.try_get("", "previous_secret_until")?;
        let failures: i32 = row.try_get("", "consecutive_failures")?;
        Ok(Webhook {
            id: WebhookId(id),
            url: WebhookUrl::new(&text("url")?).map_err(invalid)?,
            events: WebhookEvents::new(events).map_err(invalid)?,
            description: WebhookDescription::new(&text("description")?).map_err(invalid)?,
            secret: WebhookSecret::new(&text("secret")?).map_err(invalid)?,
            previous_secret: match (previous, until) {
                (Some(secret), Some(until)) => {
                    Some((WebhookSecret::new(&secret).map_err(invalid)?, until))
                }
                _ => None,
            },
            enabled: row.try_get("", "enabled")?,
            disabled_reason: row.try_get("", "disabled_reason")?,
            consecutive_failures: u32::try_from(failures)?,
            created_at: row.try_get("", "created_at")?,
            updated_at: row.try_get("", "updated_at")?,
        })
    };
    read().with_context(|| format!("reading webhook {id}"))
}

fn delivery_of(row: &QueryResult) -> anyhow::Result<WebhookDelivery> {
    let id: Uuid = row.try_get("", "id")?;
    let read = || -> anyhow::Result<WebhookDelivery> {
        let text = |column: &str| -> anyhow::Result<String> { Ok(row.try_get("", column)?) };
        let event_type = text("event_type")?;
        let status = text("status")?;
        let attempts: i32 = row.try_get("", "attempts")?;
        Ok(WebhookDelivery {
            id: WebhookDeliveryId(id),
            webhook_id: WebhookId(row.try_get("", "webhook_id")?),
            event_id: EventId(row.try_get("", "event_id")?),
            event_type: EventType::parse(&event_type)
                .with_context(|| format!("event type {event_type:?}"))?,
            message_id: MessageId::from_stored(text("message_id")?),
            payload: text("payload")?,
            status: DeliveryStatus::parse(&status).with_context(|| format!("status {status:?}"))?,
            attempts: u32::try_from(attempts)?,
            next_attempt_at: row.try_get("", "next_attempt_at")?,
            log: serde_json::from_str(&text("log")?).context("the attempt log")?,
            created_at: row.try_get("", "created_at")?,
            updated_at: row.try_get("", "updated_at")?,
            delivered_at: row.try_get("", "delivered_at")?,
        })
    };
    read().with_context(|| format!("reading webhook delivery {id}"))
}

async fn find_webhook(
    conn: &impl ConnectionTrait,
    id: WebhookId,
) -> Result<Option<Webhook>, StoreError> {
    let select = webhook_select()
        .and_where(Expr::col(Webhooks::Id).eq(id.0))
        .to_owned();
    let row = conn
        .query_one(&select)
        .await
        .or_store_error(|| format!("loading webhook {id}"))?;
    Ok(row.as_ref().map(webhook_of).transpose()?)
}

async fn find_delivery(
    conn: &impl ConnectionTrait,
    condition: SimpleExpr,
    what: impl FnOnce() -> String,
) -> Result<Option<WebhookDelivery>, StoreError> {
    let select = delivery_select().and_where(condition).to_owned();
    let row = conn.query_one(&select).await.or_store_error(what)?;
    Ok(row.as_ref().map(delivery_of).transpose()?)
}

async fn delivery_by_id(
    conn: &impl ConnectionTrait,
    id: WebhookDeliveryId,
) -> Result<Option<WebhookDelivery>, StoreError> {
    find_delivery(conn, Expr::col(WebhookDeliveries::Id).eq(id.0), || {
        format!("loading webhook delivery {id}")
    })
    .await
}

/// Records an attempt (see [`WebhookRepository::finish_delivery`]) in `txn`.
async fn write_attempt(
    txn: &sea_orm::DatabaseTransaction,
    id: WebhookDeliveryId,
    attempts: u32,
    record: &AttemptRecord,
    outcome: &AttemptOutcome,
    max_failures: u32,
) -> Result<Option<String>, StoreError> {
    let current = find_delivery(
        txn,
        Expr::col(WebhookDeliveries::Id)
            .eq(id.0)
            .and(Expr::col(WebhookDeliveries::Status).eq("pending"))
            .and(Expr::col(WebhookDeliveries::Attempts).eq(count(attempts))),
        || format!("loading webhook delivery {id}"),
    )
    .await?;
    let Some(current) = current else {
        return Ok(None);
    };
    let mut log = current.log;
    log.push(record.clone());
    let excess = log.len().saturating_sub(WebhookDelivery::LOG_LENGTH);
    log.drain(..excess);
    let at = to_stored_time(record.at);
    let mut update = Query::update();
    update
        .table(WebhookDeliveries::Table)
        .value(
            WebhookDeliveries::Log,
            serde_json::to_string(&log).context("the attempt log")?,
        )
        .value(WebhookDeliveries::UpdatedAt, at)
        // The guards again, in the write itself: on PostgreSQL (read committed)
        // another worker may have claimed the delivery since it was read.
        .and_where(Expr::col(WebhookDeliveries::Id).eq(id.0))
        .and_where(Expr::col(WebhookDeliveries::Status).eq("pending"))
        .and_where(Expr::col(WebhookDeliveries::Attempts).eq(count(attempts)));
    match outcome {
        AttemptOutcome::Succeeded => {
            update
                .value(WebhookDeliveries::Status, "succeeded")
                .value(
                    WebhookDeliveries::NextAttemptAt,
                    Option::<DateTime<Utc>>::None,
                )
                .value(
                    WebhookDeliveries::DeliveredAt,
                    Expr::col(WebhookDeliveries::DeliveredAt).if_null(at),
                );
        }
        AttemptOutcome::Retry { at: retry } => {
            update.value(WebhookDeliveries::NextAttemptAt, to_stored_time(*retry));
        }
        AttemptOutcome::Failed { .. } => {
            update.value(WebhookDeliveries::Status, "failed").value(
                WebhookDeliveries::NextAttemptAt,
                Option::<DateTime<Utc>>::None,
            );
        }
    }
    let recorded = txn
        .execute(&update)
        .await
        .or_store_error(|| format!("recording an attempt at delivery {id}"))?
        .rows_affected();
    if recorded == 0 {
        return Ok(None);
    }
    let webhook = current.webhook_id;
    match outcome {
        AttemptOutcome::Retry { .. } => Ok(None),
        AttemptOutcome::Succeeded => {
            let reset = Query::update()
                .table(Webhooks::Table)
                .value(Webhooks::ConsecutiveFailures, 0)
                .and_where(Expr::col(Webhooks::Id).eq(webhook.0))
                .to_owned();
            txn.execute(&reset)
                .await
                .or_store_error(|| format!("resetting the failures of webhook {webhook}"))?;
            Ok(None)
        }
        AttemptOutcome::Failed { disable } => {
            let counted = Query::update()
                .table(Webhooks::Table)
                .value(
                    Webhooks::ConsecutiveFailures,
                    Expr::col(Webhooks::ConsecutiveFailures).add(1),
                )
                .and_where(Expr::col(Webhooks::Id).eq(webhook.0))
                .to_owned();
            txn.execute(&counted)
                .await
                .or_store_error(|| format!("counting a failure of webhook {webhook}"))?;
            let Some(subscription) = find_webhook(txn, webhook).await? else {
                return Ok(None);
            };
            let reason = disable.clone().or_else(|| {
                (subscription.consecutive_failures >= max_failures).then(|| {
                    format!(
                        "{} deliveries in a row failed",
                        subscription.consecutive_failures
                    )
                })
            });
            match reason {
                Some(reason) if subscription.enabled => {
                    let disabled = Query::update()
                        .table(Webhooks::Table)
                        .value(Webhooks::Enabled, false)
                        .value(Webhooks::DisabledReason, reason.clone())
                        .value(Webhooks::UpdatedAt, at)
                        .and_where(Expr::col(Webhooks::Id).eq(webhook.0))
                        .to_owned();
                    txn.execute(&disabled)
                        .await
                        .or_store_error(|| format!("disabling webhook {webhook}"))?;
                    Ok(Some(reason))
                }
                _ => Ok(None),
            }
        }
    }
}

#[async_trait]
impl WebhookRepository for SqlWebhookRepository {
    async fn create(&self, webhook: &Webhook) -> Result<(), WebhookRepositoryError> {
        let (previous, until) = match &webhook.previous_secret {
            Some((secret, until)) => (
                Some(secret.expose().to_owned()),
                Some(to_stored_time(*until)),
            ),
            None => (None, None),
        };
        let insert = Query::insert()
            .into_table(Webhooks::Table)
            .columns(WEBHOOK_COLUMNS)
            .values_panic([
                webhook.id.0.into(),
                webhook.url.as_str().into(),
                events_text(&webhook.events).into(),
                webhook.description.as_str().into(),
                webhook.secret.expose().into(),
                previous.into(),
                until.into(),
                webhook.enabled.into(),
                webhook.disabled_reason.clone().into(),
                count(webhook.consecutive_failures).into(),
                to_stored_time(webhook.created_at).into(),
                to_stored_time(webhook.updated_at).into(),
            ])
            .to_owned();
        self.db
            .execute(&insert)
            .await
            .or_store_error(|| format!("storing webhook {}", webhook.id))?;
        Ok(())
    }

    async fn get(&self, id: WebhookId) -> Result<Option<Webhook>, WebhookRepositoryError> {
        Ok(find_webhook(&self.db, id).await?)
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Webhook>, WebhookRepositoryError> {
        let mut count = Query::select();
        count.from(Webhooks::Table);
        Ok(newest_first(
            &self.db,
            count,
            webhook_select(),
            (Webhooks::CreatedAt, Webhooks::Id),
            page,
            "webhooks",
            webhook_of,
        )
        .await?)
    }

    async fn update(
        &self,
        id: WebhookId,
        change: &WebhookChange,
    ) -> Result<Option<Webhook>, WebhookRepositoryError> {
        let mut update = Query::update();
        update
            .table(Webhooks::Table)
            .value(Webhooks::UpdatedAt, to_stored_time(change.at))
            .and_where(Expr::col(Webhooks::Id).eq(id.0));
        if let Some(url) = &change.url {
            update.value(Webhooks::Url, url.as_str());
        }
        if let Some(events) = &change.events {
            update.value(Webhooks::Events, events_text(events));
        }
        if let Some(description) = &change.description {
            update.value(Webhooks::Description, description.as_str());
        }
        if let Some(enabled) = change.enabled {
            update.value(Webhooks::Enabled, enabled);
            if enabled {
                update
                    .value(Webhooks::ConsecutiveFailures, 0)
                    .value(Webhooks::DisabledReason, Option::<String>::None);
            }
        }
        let changed = self
            .db
            .execute(&update)
            .await
            .or_store_error(|| format!("changing webhook {id}"))?
            .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        Ok(find_webhook(&self.db, id).await?)
    }

    async fn delete(&self, id: WebhookId) -> Result<bool, WebhookRepositoryError> {
        // Deliveries first: SQLite enforces the cascade only with foreign keys on.
        let txn = begin_write(&self.db).await?;
        let deleted = async {
            txn.execute(
                &Query::delete()
                    .from_table(WebhookDeliveries::Table)
                    .and_where(Expr::col(WebhookDeliveries::WebhookId).eq(id.0))
                    .to_owned(),
            )
            .await
            .or_store_error(|| format!("deleting the deliveries of webhook {id}"))?;
            Ok::<_, StoreError>(
                txn.execute(
                    &Query::delete()
                        .from_table(Webhooks::Table)
                        .and_where(Expr::col(Webhooks::Id).eq(id.0))
                        .to_owned(),
                )
                .await
                .or_store_error(|| format!("deleting webhook {id}"))?
                .rows_affected(),
            )
        }
        .await;
        let mut removed = 0;
        let written = deleted.map(|rows| removed = rows);
        finish(txn, written, || {
            format!("committing the deletion of webhook {id}")
        })
        .await?;
        Ok(removed > 0)
    }

    async fn rotate_secret(
        &self,
        id: WebhookId,
        secret: &WebhookSecret,
        previous_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Webhook>, WebhookRepositoryError> {
        let rotate = Query::update()
            .table(Webhooks::Table)
            .value(Webhooks::PreviousSecret, Expr::col(Webhooks::Secret))
            .value(
                Webhooks::PreviousSecretUntil,
                to_stored_time(previous_until),
            )
            .value(Webhooks::Secret, secret.expose())
            .value(Webhooks::UpdatedAt, to_stored_time(now))
            .and_where(Expr::col(Webhooks::Id).eq(id.0))
            .to_owned();
        let rotated = self
            .db
            .execute(&rotate)
            .await
            .or_store_error(|| format!("rotating the secret of webhook {id}"))?
            .rows_affected();
        if rotated == 0 {
            return Ok(None);
        }
        Ok(find_webhook(&self.db, id).await?)
    }

    async fn subscribed(
        &self,
        event_type: EventType,
    ) -> Result<Vec<Webhook>, WebhookRepositoryError> {
        let select = webhook_select()
            .and_where(Expr::col(Webhooks::Enabled).eq(true))
            .to_owned();
        let rows = self
            .db
            .query_all(&select)
            .await
            .or_store_error(|| "listing enabled webhooks")?;
        Ok(rows
            .iter()
            .map(webhook_of)
            .collect::<anyhow::Result<Vec<_>>>()?
            .into_iter()
            .filter(|webhook| webhook.events.includes(event_type))
            .collect())
    }

    async fn record_delivery(
        &self,
        delivery: &WebhookDelivery,
    ) -> Result<WebhookDelivery, WebhookRepositoryError> {
        let d = delivery;
        let insert = Query::insert()
            .into_table(WebhookDeliveries::Table)
            .columns(DELIVERY_COLUMNS)
            .values_panic([
                d.id.0.into(),
                d.webhook_id.0.into(),
                d.event_id.0.into(),
                d.event_type.as_str().into(),
                d.message_id.as_str().into(),
                d.payload.clone().into(),
                d.status.as_str().into(),
                count(d.attempts).into(),
                d.next_attempt_at.map(to_stored_time).into(),
                serde_json::to_string(&d.log)
                    .context("the attempt log")?
                    .into(),
                to_stored_time(d.created_at).into(),
                to_stored_time(d.updated_at).into(),
                d.delivered_at.map(to_stored_time).into(),
            ])
            .on_conflict(
                OnConflict::columns([WebhookDeliveries::WebhookId, WebhookDeliveries::EventId])
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        self.db
            .execute(&insert)
            .await
            .or_store_error(|| format!("storing webhook delivery {}", d.id))?;
        Ok(find_delivery(
            &self.db,
            Expr::col(WebhookDeliveries::WebhookId)
                .eq(d.webhook_id.0)
                .and(Expr::col(WebhookDeliveries::EventId).eq(d.event_id.0)),
            || {
                format!(
                    "loading the delivery of event {} to {}",
                    d.event_id, d.webhook_id
                )
            },
        )
        .await?
        .context("a recorded delivery vanished")?)
    }

    async fn delivery(
        &self,
        id: WebhookDeliveryId,
    ) -> Result<Option<WebhookDelivery>, WebhookRepositoryError> {
        Ok(delivery_by_id(&self.db, id).await?)
    }

    async fn deliveries(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> Result<Page<WebhookDelivery>, WebhookRepositoryError> {
        let mine = || Expr::col(WebhookDeliveries::WebhookId).eq(webhook.0);
        let mut count = Query::select();
        count.from(WebhookDeliveries::Table).and_where(mine());
        Ok(newest_first(
            &self.db,
            count,
            delivery_select().and_where(mine()).to_owned(),
            (WebhookDeliveries::CreatedAt, WebhookDeliveries::Id),
            page,
            "webhook deliveries",
            delivery_of,
        )
        .await?)
    }

    async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WebhookDeliveryId>, WebhookRepositoryError> {
        let enabled = Query::select()
            .column(Webhooks::Id)
            .from(Webhooks::Table)
            .and_where(Expr::col(Webhooks::Enabled).eq(true))
            .to_owned();
        let due = Query::select()
            .column(WebhookDeliveries::Id)
            .from(WebhookDeliveries::Table)
            .and_where(Expr::col(WebhookDeliveries::Status).eq("pending"))
            .and_where(Expr::col(WebhookDeliveries::NextAttemptAt).lte(to_stored_time(now)))
            .and_where(Expr::col(WebhookDeliveries::WebhookId).in_subquery(enabled))
            .order_by(WebhookDeliveries::NextAttemptAt, SortOrder::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let rows = self
            .db
            .query_all(&due)
            .await
            .or_store_error(|| "listing due deliveries")?;
        Ok(rows
            .iter()
            .map(|row| Ok(WebhookDeliveryId(row.try_get("", "id")?)))
            .collect::<anyhow::Result<Vec<_>>>()?)
    }

    async fn claim_delivery(
        &self,
        id: WebhookDeliveryId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<(WebhookDelivery, Webhook)>, WebhookRepositoryError> {
        let now = to_stored_time(now);
        let enabled = Query::select()
            .column(Webhooks::Id)
            .from(Webhooks::Table)
            .and_where(Expr::col(Webhooks::Enabled).eq(true))
            .to_owned();
        let claim = Query::update()
            .table(WebhookDeliveries::Table)
            .value(
                WebhookDeliveries::Attempts,
                Expr::col(WebhookDeliveries::Attempts).add(1),
            )
            .value(
                WebhookDeliveries::NextAttemptAt,
                to_stored_time(lease_until),
            )
            .value(WebhookDeliveries::UpdatedAt, now)
            .and_where(Expr::col(WebhookDeliveries::Id).eq(id.0))
            .and_where(Expr::col(WebhookDeliveries::Status).eq("pending"))
            .and_where(Expr::col(WebhookDeliveries::NextAttemptAt).lte(now))
            .and_where(Expr::col(WebhookDeliveries::WebhookId).in_subquery(enabled))
            .to_owned();
        let claimed = self
            .db
            .execute(&claim)
            .await
            .or_store_error(|| format!("claiming webhook delivery {id}"))?
            .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let Some(delivery) = delivery_by_id(&self.db, id).await? else {
            return Ok(None);
        };
        Ok(find_webhook(&self.db, delivery.webhook_id)
            .await?
            .map(|webhook| (delivery, webhook)))
    }

    async fn finish_delivery(
        &self,
        id: WebhookDeliveryId,
        attempts: u32,
        record: &AttemptRecord,
        outcome: &AttemptOutcome,
        max_consecutive_failures: u32,
    ) -> Result<Option<String>, WebhookRepositoryError> {
        let txn = begin_write(&self.db).await?;
        let written = write_attempt(
            &txn,
            id,
            attempts,
            record,
            outcome,
            max_consecutive_failures,
        )
        .await;
        let mut disabled = None;
        let written = written.map(|reason| disabled = reason);
        finish(txn, written, || {
            format!("committing an attempt at delivery {id}")
        })
        .await?;
        Ok(disabled)
    }

    async fn redeliver(
        &self,
        id: WebhookDeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookDelivery>, WebhookRepositoryError> {
        let now = to_stored_time(now);
        let reopen = Query::update()
            .table(WebhookDeliveries::Table)
            .value(WebhookDeliveries::Status, "pending")
            .value(WebhookDeliveries::Attempts, 0)
            .value(WebhookDeliveries::NextAttemptAt, now)
            .value(WebhookDeliveries::UpdatedAt, now)
            .and_where(Expr::col(WebhookDeliveries::Id).eq(id.0))
            .and_where(Expr::col(WebhookDeliveries::Status).is_in(["succeeded", "failed"]))
            .to_owned();
        let reopened = self
            .db
            .execute(&reopen)
            .await
            .or_store_error(|| format!("reopening webhook delivery {id}"))?
            .rows_affected();
        if reopened == 0 {
            return Ok(None);
        }
        Ok(delivery_by_id(&self.db, id).await?)
    }

    async fn delivery_counts(&self) -> Result<Vec<(DeliveryStatus, u64)>, WebhookRepositoryError> {
        let select = Query::select()
            .column(WebhookDeliveries::Status)
            .expr_as(Expr::col(WebhookDeliveries::Id).count(), "total")
            .from(WebhookDeliveries::Table)
            .group_by_col(WebhookDeliveries::Status)
            .to_owned();
        let rows = self
            .db
            .query_all(&select)
            .await
            .or_store_error(|| "counting webhook deliveries")?;
        Ok(rows
            .iter()
            .map(|row| -> anyhow::Result<(DeliveryStatus, u64)> {
                let status: String = row.try_get("", "status")?;
                let total: i64 = row.try_get("", "total")?;
                Ok((
                    DeliveryStatus::parse(&status).with_context(|| format!("status {status:?}"))?,
                    u64::try_from(total).unwrap_or(0),
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()?)
    }

    async fn prune_deliveries(&self, before: DateTime<Utc>) -> Result<u64, WebhookRepositoryError> {
        let prune = Query::delete()
            .from_table(WebhookDeliveries::Table)
            .and_where(Expr::col(WebhookDeliveries::Status).is_in(["succeeded", "failed"]))
            .and_where(Expr::col(WebhookDeliveries::UpdatedAt).lt(to_stored_time(before)))
            .to_owned();
        Ok(self
            .db
            .execute(&prune)
            .await
            .or_store_error(|| "pruning webhook deliveries")?
            .rows_affected())
    }
}
