//! [`NotificationRepository`] on sea-orm: one row per message, unique by message
//! key; delivery attempts are claimed and finished with conditional updates, so two
//! workers never send the same notification at once.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::accounts::Email;
use emporium_domain::notifications::{
    Channel, DeliveryOutcome, MessageKey, Notification, NotificationFilter, NotificationId,
    NotificationRepository, NotificationRepositoryError, NotificationStatus, OutgoingMail,
    RenderedMail,
};
use emporium_domain::orders::{EventId, EventType, OrderId};
use emporium_domain::{Page, PageRequest, UserId};
use sea_orm::sea_query::{
    Expr, ExprTrait, OnConflict, Order as SortOrder, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use uuid::Uuid;

use super::errors::DbResultExt;
use super::migration::Notifications;
use super::{newest_first, to_stored_time};
use crate::store_error::StoreError;

/// The notification store (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct SqlNotificationRepository {
    db: DatabaseConnection,
}

impl SqlNotificationRepository {
    /// The store on `db` (migrated).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

const COLUMNS: [Notifications; 18] = [
    Notifications::Id,
    Notifications::UserId,
    Notifications::OrderId,
    Notifications::Channel,
    Notifications::EventId,
    Notifications::EventType,
    Notifications::MessageKey,
    Notifications::Recipient,
    Notifications::Subject,
    Notifications::BodyHtml,
    Notifications::BodyText,
    Notifications::Status,
    Notifications::Attempts,
    Notifications::LastError,
    Notifications::NextAttemptAt,
    Notifications::CreatedAt,
    Notifications::UpdatedAt,
    Notifications::SentAt,
];

fn select() -> SelectStatement {
    Query::select()
        .columns(COLUMNS)
        .from(Notifications::Table)
        .to_owned()
}

fn notification_of(row: &QueryResult) -> anyhow::Result<Notification> {
    let id: Uuid = row.try_get("", "id")?;
    let read = || -> anyhow::Result<Notification> {
        let text = |column: &str| -> anyhow::Result<String> { Ok(row.try_get("", column)?) };
        let channel = text("channel")?;
        let event_type = text("event_type")?;
        let status = text("status")?;
        let attempts: i32 = row.try_get("", "attempts")?;
        Ok(Notification {
            id: NotificationId(id),
            user_id: UserId(row.try_get("", "user_id")?),
            order_id: OrderId(row.try_get("", "order_id")?),
            channel: Channel::parse(&channel)
                .with_context(|| format!("unknown channel {channel:?}"))?,
            event_id: EventId(row.try_get("", "event_id")?),
            event_type: EventType::parse(&event_type)
                .with_context(|| format!("unknown event type {event_type:?}"))?,
            mail: OutgoingMail {
                key: MessageKey::parse(&text("message_key")?)?,
                to: Email::parse(&text("recipient")?)
                    .map_err(|error| anyhow::anyhow!("{}", error.0))?,
                content: RenderedMail {
                    subject: text("subject")?,
                    html: text("body_html")?,
                    text: text("body_text")?,
                },
            },
            status: NotificationStatus::parse(&status)
                .with_context(|| format!("unknown status {status:?}"))?,
            attempts: u32::try_from(attempts)?,
            last_error: row.try_get("", "last_error")?,
            next_attempt_at: row.try_get("", "next_attempt_at")?,
            created_at: row.try_get("", "created_at")?,
            updated_at: row.try_get("", "updated_at")?,
            sent_at: row.try_get("", "sent_at")?,
        })
    };
    read().with_context(|| format!("reading notification {id}"))
}

impl SqlNotificationRepository {
    async fn find(
        &self,
        condition: SimpleExpr,
        what: impl FnOnce() -> String,
    ) -> Result<Option<Notification>, StoreError> {
        let select = select().and_where(condition).to_owned();
        let row = self.db.query_one(&select).await.or_store_error(what)?;
        Ok(row.as_ref().map(notification_of).transpose()?)
    }

    async fn fetch(&self, id: NotificationId) -> Result<Option<Notification>, StoreError> {
        self.find(Expr::col(Notifications::Id).eq(id.0), || {
            format!("loading notification {id}")
        })
        .await
    }
}

fn attempts_value(attempts: u32) -> i32 {
    i32::try_from(attempts).unwrap_or(i32::MAX)
}

#[async_trait]
impl NotificationRepository for SqlNotificationRepository {
    async fn record(
        &self,
        notification: &Notification,
    ) -> Result<Notification, NotificationRepositoryError> {
        let n = notification;
        let insert = Query::insert()
            .into_table(Notifications::Table)
            .columns(COLUMNS)
            .values_panic([
                n.id.0.into(),
                n.user_id.0.into(),
                n.order_id.0.into(),
                n.channel.as_str().into(),
                n.event_id.0.into(),
                n.event_type.as_str().into(),
                n.mail.key.as_str().into(),
                n.mail.to.as_str().into(),
                n.mail.content.subject.clone().into(),
                n.mail.content.html.clone().into(),
                n.mail.content.text.clone().into(),
                n.status.as_str().into(),
                attempts_value(n.attempts).into(),
                n.last_error.clone().into(),
                n.next_attempt_at.map(to_stored_time).into(),
                to_stored_time(n.created_at).into(),
                to_stored_time(n.updated_at).into(),
                n.sent_at.map(to_stored_time).into(),
            ])
            .on_conflict(
                OnConflict::column(Notifications::MessageKey)
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        self.db
            .execute(&insert)
            .await
            .or_store_error(|| format!("storing notification {}", n.id))?;
        let key = n.mail.key.as_str();
        Ok(self
            .find(Expr::col(Notifications::MessageKey).eq(key), || {
                format!("loading the notification of message {key}")
            })
            .await?
            .with_context(|| format!("the notification of message {key} vanished"))?)
    }

    async fn get(
        &self,
        id: NotificationId,
    ) -> Result<Option<Notification>, NotificationRepositoryError> {
        Ok(self.fetch(id).await?)
    }

    async fn list(
        &self,
        filter: NotificationFilter,
        page: PageRequest,
    ) -> Result<Page<Notification>, NotificationRepositoryError> {
        let mut count = Query::select();
        count.from(Notifications::Table);
        let mut list = select();
        for query in [&mut count, &mut list] {
            if let Some(user) = filter.user_id {
                query.and_where(Expr::col(Notifications::UserId).eq(user.0));
            }
            if let Some(status) = filter.status {
                query.and_where(Expr::col(Notifications::Status).eq(status.as_str()));
            }
        }
        Ok(newest_first(
            &self.db,
            count,
            list,
            (Notifications::CreatedAt, Notifications::Id),
            page,
            "notifications",
            notification_of,
        )
        .await?)
    }

    async fn due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<NotificationId>, NotificationRepositoryError> {
        let due = Query::select()
            .column(Notifications::Id)
            .from(Notifications::Table)
            .and_where(Expr::col(Notifications::Status).eq("pending"))
            .and_where(Expr::col(Notifications::NextAttemptAt).lte(to_stored_time(now)))
            .order_by(Notifications::NextAttemptAt, SortOrder::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let rows = self
            .db
            .query_all(&due)
            .await
            .or_store_error(|| "listing due notifications")?;
        Ok(rows
            .iter()
            .map(|row| Ok(NotificationId(row.try_get("", "id")?)))
            .collect::<anyhow::Result<Vec<_>>>()?)
    }

    async fn claim(
        &self,
        id: NotificationId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<Notification>, NotificationRepositoryError> {
        let now = to_stored_time(now);
        let claim = Query::update()
            .table(Notifications::Table)
            .value(
                Notifications::Attempts,
                Expr::col(Notifications::Attempts).add(1),
            )
            .value(Notifications::NextAttemptAt, to_stored_time(lease_until))
            .value(Notifications::UpdatedAt, now)
            .and_where(Expr::col(Notifications::Id).eq(id.0))
            .and_where(Expr::col(Notifications::Status).eq("pending"))
            .and_where(Expr::col(Notifications::NextAttemptAt).lte(now))
            .to_owned();
        let claimed = self
            .db
            .execute(&claim)
            .await
            .or_store_error(|| format!("claiming notification {id}"))?
            .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        Ok(self.fetch(id).await?)
    }

    async fn finish(
        &self,
        id: NotificationId,
        attempts: u32,
        outcome: &DeliveryOutcome,
    ) -> Result<(), NotificationRepositoryError> {
        let mut update = Query::update();
        update
            .table(Notifications::Table)
            .and_where(Expr::col(Notifications::Id).eq(id.0))
            .and_where(Expr::col(Notifications::Status).eq("pending"))
            .and_where(Expr::col(Notifications::Attempts).eq(attempts_value(attempts)));
        match outcome {
            DeliveryOutcome::Sent { at } => {
                let at = to_stored_time(*at);
                update
                    .value(Notifications::Status, "sent")
                    .value(Notifications::SentAt, at)
                    .value(Notifications::UpdatedAt, at)
                    .value(Notifications::NextAttemptAt, Option::<DateTime<Utc>>::None)
                    .value(Notifications::LastError, Option::<String>::None);
            }
            DeliveryOutcome::Failed {
                error,
                retry_at,
                at,
            } => {
                let status = match retry_at {
                    Some(_) => NotificationStatus::Pending,
                    None => NotificationStatus::Failed,
                };
                update
                    .value(Notifications::Status, status.as_str())
                    .value(Notifications::LastError, error.clone())
                    .value(Notifications::NextAttemptAt, retry_at.map(to_stored_time))
                    .value(Notifications::UpdatedAt, to_stored_time(*at));
            }
        }
        self.db
            .execute(&update)
            .await
            .or_store_error(|| format!("recording an attempt at notification {id}"))?;
        Ok(())
    }

    async fn reopen(
        &self,
        id: NotificationId,
        now: DateTime<Utc>,
    ) -> Result<Option<Notification>, NotificationRepositoryError> {
        let now = to_stored_time(now);
        let reopen = Query::update()
            .table(Notifications::Table)
            .value(Notifications::Status, "pending")
            .value(Notifications::Attempts, 0)
            .value(Notifications::NextAttemptAt, now)
            .value(Notifications::UpdatedAt, now)
            .and_where(Expr::col(Notifications::Id).eq(id.0))
            .and_where(Expr::col(Notifications::Status).eq("failed"))
            .to_owned();
        let reopened = self
            .db
            .execute(&reopen)
            .await
            .or_store_error(|| format!("reopening notification {id}"))?
            .rows_affected();
        if reopened == 0 {
            return Ok(None);
        }
        Ok(self.fetch(id).await?)
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, NotificationRepositoryError> {
        let prune = Query::delete()
            .from_table(Notifications::Table)
            .and_where(Expr::col(Notifications::Status).is_in(["sent", "failed"]))
            .and_where(Expr::col(Notifications::UpdatedAt).lt(to_stored_time(before)))
            .to_owned();
        Ok(self
            .db
            .execute(&prune)
            .await
            .or_store_error(|| "pruning notifications")?
            .rows_affected())
    }
}
