//! [`OrderRepository`], [`Outbox`] and [`IdempotencyStore`] on sea-orm: orders, their
//! shipments, audit rows, attempts, outbox rows, processed-event records and
//! idempotency keys live in one database, so each atomic write is one transaction.
//!
//! Lines and addresses are stored as JSON text of the domain types and read back
//! through their validating constructors; totals are `NUMERIC(18,2)` on PostgreSQL and
//! exact decimal text on SQLite. Every write transaction begins `IMMEDIATE` on SQLite;
//! on PostgreSQL a placement first takes a transaction-scoped advisory lock on its
//! buyer, so the pending-order cap is exact however many requests race.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::orders::ProcessedEvent;
use emporium_domain::orders::{
    CancelReason, ChangedBy, Currency, DomainEvent, EventDeliveryError, IdempotencyBegin,
    IdempotencyScope, IdempotencyStore, IdempotencyStoreError, Money, Order, OrderAttempt,
    OrderChange, OrderEvent, OrderEventKind, OrderFilter, OrderId, OrderLines, OrderRepository,
    OrderRepositoryError, OrderStatus, Outbox as OutboxPort, OutboxBacklog, OutboxMessage,
    PlacedOrder, Shipment, ShippingAddress,
};
use emporium_domain::{Page, PageRequest, UserId};
use rust_decimal::Decimal;
use sea_orm::sea_query::{
    Expr, ExprTrait, InsertStatement, OnConflict, Order as SortOrder, Query, SelectStatement,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, QueryResult,
    StatementBuilder,
};
use uuid::Uuid;

use super::errors::DbResultExt;
use super::migration::{
    IdempotencyKeys, OrderAttempts, OrderEvents, Orders, Outbox, ProcessedEvents, Shipments,
};
use super::{CheckedWriter, WriteStep, Written, begin_write, exists, roll_back};
use crate::store_error::StoreError;

/// How often `place` tries when its write was refused for a reason gone a moment
/// later (one of the buyer's pending orders was paid or cancelled meanwhile).
const PLACE_TRIES: usize = 3;

/// Orders, shipments, audit trails, attempts, the outbox and idempotency keys on one
/// database (SQLite or PostgreSQL); see the [module docs](self).
#[derive(Debug, Clone)]
pub struct SqlOrderRepository {
    db: DatabaseConnection,
    writer: CheckedWriter,
}

impl SqlOrderRepository {
    /// The repository on `db` (migrated with [`super::migrate`]).
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            writer: CheckedWriter::new(&db),
            db,
        }
    }

    /// The database it keeps orders in.
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// The columns of an order as read (the total as exact text).
fn order_select() -> SelectStatement {
    Query::select()
        .columns([
            Orders::Id,
            Orders::UserId,
            Orders::Email,
            Orders::Lines,
            Orders::Currency,
            Orders::ShippingAddress,
            Orders::Status,
            Orders::PayBy,
            Orders::CancelReason,
            Orders::CreatedAt,
            Orders::UpdatedAt,
        ])
        .expr_as(Expr::col(Orders::Total).cast_as("TEXT"), "total")
        .from(Orders::Table)
        .to_owned()
}

fn order_of(row: &QueryResult) -> anyhow::Result<Order> {
    let id: Uuid = row.try_get("", "id")?;
    let read = || -> anyhow::Result<Order> {
        let email: String = row.try_get("", "email")?;
        let lines: String = row.try_get("", "lines")?;
        let total: String = row.try_get("", "total")?;
        let currency: String = row.try_get("", "currency")?;
        let address: String = row.try_get("", "shipping_address")?;
        let status: String = row.try_get("", "status")?;
        let cancel_reason: Option<String> = row.try_get("", "cancel_reason")?;
        Ok(Order {
            id: OrderId(id),
            user_id: UserId(row.try_get("", "user_id")?),
            email: emporium_domain::accounts::Email::parse(&email)?,
            lines: serde_json::from_str::<OrderLines>(&lines).context("lines")?,
            total: Money::parse(&total)?,
            currency: Currency::new(&currency)?,
            shipping_address: serde_json::from_str::<ShippingAddress>(&address)
                .context("shipping address")?,
            status: OrderStatus::parse(&status)
                .with_context(|| format!("unknown status {status:?}"))?,
            pay_by: row.try_get("", "pay_by")?,
            cancel_reason: cancel_reason.map(CancelReason::new).transpose()?,
            created_at: row.try_get("", "created_at")?,
            updated_at: row.try_get("", "updated_at")?,
        })
    };
    read().with_context(|| format!("reading order {id}"))
}

fn audit_of(row: &QueryResult) -> anyhow::Result<OrderEvent> {
    let id: Uuid = row.try_get("", "id")?;
    let read = || -> anyhow::Result<OrderEvent> {
        let kind: String = row.try_get("", "kind")?;
        let from: Option<String> = row.try_get("", "from_status")?;
        let to: String = row.try_get("", "to_status")?;
        let actor: String = row.try_get("", "actor")?;
        let status = |text: &str| {
            OrderStatus::parse(text).with_context(|| format!("unknown status {text:?}"))
        };
        Ok(OrderEvent {
            id,
            order_id: OrderId(row.try_get("", "order_id")?),
            kind: [
                OrderEventKind::Created,
                OrderEventKind::StatusChanged,
                OrderEventKind::Payment,
            ]
            .into_iter()
            .find(|candidate| candidate.as_str() == kind)
            .with_context(|| format!("unknown kind {kind:?}"))?,
            from_status: from.as_deref().map(status).transpose()?,
            to_status: status(&to)?,
            actor: parse_actor(&actor)?,
            detail: row.try_get("", "detail")?,
            occurred_at: row.try_get("", "occurred_at")?,
        })
    };
    read().with_context(|| format!("reading audit row {id}"))
}

pub(crate) fn parse_actor(text: &str) -> anyhow::Result<ChangedBy> {
    Ok(match text {
        "system" => ChangedBy::System,
        "service" => ChangedBy::Service,
        "provider" => ChangedBy::Provider,
        other => {
            let id = other
                .strip_prefix("user:")
                .with_context(|| format!("unknown actor {other:?}"))?;
            ChangedBy::User(UserId(Uuid::parse_str(id)?))
        }
    })
}

/// The insert of a placed order.
fn order_insert(order: &Order) -> anyhow::Result<InsertStatement> {
    let lines = serde_json::to_string(&order.lines).context("encoding order lines")?;
    let address = serde_json::to_string(&order.shipping_address).context("encoding the address")?;
    Ok(Query::insert()
        .into_table(Orders::Table)
        .columns([
            Orders::Id,
            Orders::UserId,
            Orders::Email,
            Orders::Lines,
            Orders::Total,
            Orders::Currency,
            Orders::ShippingAddress,
            Orders::Status,
            Orders::PayBy,
            Orders::CancelReason,
            Orders::CreatedAt,
            Orders::UpdatedAt,
        ])
        .values_panic([
            order.id.0.into(),
            order.user_id.0.into(),
            order.email.as_str().into(),
            lines.into(),
            Decimal::from(order.total).into(),
            order.currency.as_str().into(),
            address.into(),
            order.status.as_str().into(),
            super::to_stored_time(order.pay_by).into(),
            order
                .cancel_reason
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .into(),
            super::to_stored_time(order.created_at).into(),
            super::to_stored_time(order.updated_at).into(),
        ])
        .to_owned())
}

/// The insert of a new order's shipment.
fn shipment_insert(shipment: &Shipment) -> InsertStatement {
    Query::insert()
        .into_table(Shipments::Table)
        .columns([
            Shipments::Id,
            Shipments::OrderId,
            Shipments::UserId,
            Shipments::Status,
            Shipments::CreatedAt,
            Shipments::UpdatedAt,
        ])
        .values_panic([
            shipment.id.0.into(),
            shipment.order_id.0.into(),
            shipment.user_id.0.into(),
            shipment.status.as_str().into(),
            super::to_stored_time(shipment.created_at).into(),
            super::to_stored_time(shipment.updated_at).into(),
        ])
        .to_owned()
}

/// The insert of an audit row.
fn audit_insert(audit: &OrderEvent) -> InsertStatement {
    Query::insert()
        .into_table(OrderEvents::Table)
        .columns([
            OrderEvents::Id,
            OrderEvents::OrderId,
            OrderEvents::Kind,
            OrderEvents::FromStatus,
            OrderEvents::ToStatus,
            OrderEvents::Actor,
            OrderEvents::Detail,
            OrderEvents::OccurredAt,
        ])
        .values_panic([
            audit.id.into(),
            audit.order_id.0.into(),
            audit.kind.as_str().into(),
            audit.from_status.map(OrderStatus::as_str).into(),
            audit.to_status.as_str().into(),
            audit.actor.to_string().into(),
            audit.detail.clone().into(),
            super::to_stored_time(audit.occurred_at).into(),
        ])
        .to_owned()
}

async fn insert_audit(txn: &DatabaseTransaction, audit: &OrderEvent) -> Result<(), StoreError> {
    txn.execute(&audit_insert(audit))
        .await
        .or_store_error(|| format!("recording an audit row of order {}", audit.order_id))?;
    Ok(())
}

/// One insert of `events` into the outbox (none for no events); their positions
/// follow the order given.
fn events_insert(events: &[DomainEvent]) -> anyhow::Result<Option<InsertStatement>> {
    if events.is_empty() {
        return Ok(None);
    }
    let mut insert = Query::insert();
    insert.into_table(Outbox::Table).columns([
        Outbox::EventId,
        Outbox::EventType,
        Outbox::Payload,
        Outbox::CreatedAt,
    ]);
    for event in events {
        let payload = serde_json::to_string(event).context("encoding an event")?;
        insert.values_panic([
            event.id.0.into(),
            event.event_type.as_str().into(),
            payload.into(),
            super::to_stored_time(event.timestamp).into(),
        ]);
    }
    Ok(Some(insert))
}

/// Writes `events` to the outbox inside `txn`.
pub(crate) async fn insert_events(
    txn: &DatabaseTransaction,
    events: &[DomainEvent],
) -> Result<(), StoreError> {
    if let Some(insert) = events_insert(events)? {
        txn.execute(&insert)
            .await
            .or_store_error(|| "writing events to the outbox")?;
    }
    Ok(())
}

/// The insert of a consumer's processed-event record; it changes nothing when the
/// consumer had already applied the event.
pub(crate) fn processed_insert(processed: &ProcessedEvent, at: DateTime<Utc>) -> InsertStatement {
    Query::insert()
        .into_table(ProcessedEvents::Table)
        .columns([
            ProcessedEvents::Consumer,
            ProcessedEvents::EventId,
            ProcessedEvents::ProcessedAt,
        ])
        .values_panic([
            processed.consumer.clone().into(),
            processed.event_id.0.into(),
            at.into(),
        ])
        .on_conflict(
            OnConflict::columns([ProcessedEvents::Consumer, ProcessedEvents::EventId])
                .do_nothing()
                .to_owned(),
        )
        .to_owned()
}

/// Records that a consumer applied an event; `false` when it had already.
pub(crate) async fn record_processed(
    txn: &DatabaseTransaction,
    processed: &ProcessedEvent,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let inserted = txn
        .execute(&processed_insert(processed, at))
        .await
        .or_store_error(|| format!("recording event {} as processed", processed.event_id))?;
    Ok(inserted.rows_affected() == 1)
}

impl SqlOrderRepository {
    async fn current_status(
        &self,
        txn: &DatabaseTransaction,
        id: OrderId,
    ) -> Result<Option<OrderStatus>, StoreError> {
        let select = Query::select()
            .column(Orders::Status)
            .from(Orders::Table)
            .and_where(Expr::col(Orders::Id).eq(id.0))
            .to_owned();
        let row = txn
            .query_one(&select)
            .await
            .or_store_error(|| format!("reading the status of order {id}"))?;
        let Some(row) = row else { return Ok(None) };
        let status: String = row
            .try_get("", "status")
            .or_store_error(|| format!("reading the status of order {id}"))?;
        Ok(Some(OrderStatus::parse(&status).with_context(|| {
            format!("order {id} has an unknown status {status:?}")
        })?))
    }

    /// The steps of [`OrderRepository::place`] as one checked write: the attempt's
    /// removal, which must find the attempt; the inserts; the idempotency key's
    /// completion, which must find the key; and the pending-order cap, counted after
    /// the insert so this order is among them.
    fn placing_steps(
        placed: &PlacedOrder,
        backend: DbBackend,
    ) -> Result<Vec<WriteStep>, StoreError> {
        let order = &placed.order;
        let build = |statement: &dyn StatementBuilder| statement.build(&backend);
        let mut steps = Vec::with_capacity(8);
        if backend == DbBackend::Postgres {
            // One placement per buyer at a time, so the pending count below is exact.
            // (On SQLite the write lock is held for the whole transaction.)
            steps.push(WriteStep::Run(sea_orm::Statement::from_string(
                backend,
                format!(
                    "SELECT pg_advisory_xact_lock(hashtextextended('{}', 0))",
                    order.user_id
                ),
            )));
        }
        steps.push(WriteStep::Changes(
            build(
                &Query::delete()
                    .from_table(OrderAttempts::Table)
                    .and_where(Expr::col(OrderAttempts::OrderId).eq(order.id.0))
                    .to_owned(),
            ),
            1,
        ));
        steps.push(WriteStep::Run(build(&order_insert(order)?)));
        steps.push(WriteStep::Run(build(&shipment_insert(&placed.shipment))));
        steps.push(WriteStep::Run(build(&audit_insert(&placed.audit))));
        if let Some(insert) = events_insert(&placed.events)? {
            steps.push(WriteStep::Run(build(&insert)));
        }
        if let Some(scope) = &placed.idempotency {
            steps.push(WriteStep::Changes(
                build(
                    &Query::update()
                        .table(IdempotencyKeys::Table)
                        .value(IdempotencyKeys::OrderId, order.id.0)
                        .value(
                            IdempotencyKeys::CompletedAt,
                            super::to_stored_time(order.created_at),
                        )
                        .and_where(Expr::col(IdempotencyKeys::UserId).eq(scope.user_id.0))
                        .and_where(Expr::col(IdempotencyKeys::Key).eq(scope.key.as_str()))
                        .to_owned(),
                ),
                1,
            ));
        }
        steps.push(WriteStep::RefuseIf(Box::new(pending_over(
            order.user_id,
            i64::from(placed.max_pending),
        ))));
        Ok(steps)
    }

    /// Why a placement was refused, worked out after the fact: the recovery task
    /// abandoned the attempt (and released its stock), or the buyer holds the most
    /// pending orders allowed. `None` when neither holds now (an order of the buyer's
    /// left pending meanwhile): try again.
    async fn placement_refusal(
        &self,
        placed: &PlacedOrder,
    ) -> Result<Option<OrderRepositoryError>, StoreError> {
        let order = &placed.order;
        let attempt = Query::select()
            .expr(Expr::val(1))
            .from(OrderAttempts::Table)
            .and_where(Expr::col(OrderAttempts::OrderId).eq(order.id.0))
            .to_owned();
        if !exists(&self.db, &attempt, || {
            format!("looking for the attempt of order {}", order.id)
        })
        .await?
        {
            return Ok(Some(OrderRepositoryError::AttemptGone(order.id)));
        }
        let at_cap = pending_over(order.user_id, i64::from(placed.max_pending) - 1);
        if exists(&self.db, &at_cap, || {
            format!("counting the pending orders of user {}", order.user_id)
        })
        .await?
        {
            return Ok(Some(OrderRepositoryError::TooManyPending));
        }
        if let Some(scope) = &placed.idempotency {
            let key = Query::select()
                .expr(Expr::val(1))
                .from(IdempotencyKeys::Table)
                .and_where(Expr::col(IdempotencyKeys::UserId).eq(scope.user_id.0))
                .and_where(Expr::col(IdempotencyKeys::Key).eq(scope.key.as_str()))
                .to_owned();
            if !exists(&self.db, &key, || {
                format!("looking for the idempotency key of order {}", order.id)
            })
            .await?
            {
                // Pruning removes only completed keys: this one was not.
                return Err(anyhow::anyhow!(
                    "the idempotency key of order {} is gone before the order was written",
                    order.id
                )
                .into());
            }
        }
        Ok(None)
    }

    /// The write of [`OrderRepository::change`], inside `txn`.
    async fn write_change(
        &self,
        txn: &DatabaseTransaction,
        change: &OrderChange,
    ) -> Result<(), OrderRepositoryError> {
        let id = change.order_id;
        let at = super::to_stored_time(change.at);
        let context = || format!("changing order {id}");
        if let Some(processed) = &change.processed
            && !record_processed(txn, processed, at).await?
        {
            return Err(OrderRepositoryError::AlreadyProcessed);
        }
        let mut update = Query::update();
        update
            .table(Orders::Table)
            .value(Orders::Status, change.transition.to().as_str())
            .value(Orders::UpdatedAt, at)
            .and_where(Expr::col(Orders::Id).eq(id.0))
            .and_where(Expr::col(Orders::Status).eq(change.transition.from().as_str()));
        if let Some(reason) = &change.cancel_reason {
            update.value(Orders::CancelReason, reason.as_str());
        }
        if txn
            .execute(&update)
            .await
            .or_store_error(context)?
            .rows_affected()
            == 0
        {
            return Err(match self.current_status(txn, id).await? {
                None => OrderRepositoryError::NotFound(id),
                Some(current) => OrderRepositoryError::Stale {
                    order_id: id,
                    current,
                },
            });
        }
        if let Some(shipment) = change.shipment {
            let update = Query::update()
                .table(Shipments::Table)
                .value(Shipments::Status, shipment.to().as_str())
                .value(Shipments::UpdatedAt, at)
                .and_where(Expr::col(Shipments::OrderId).eq(id.0))
                .and_where(Expr::col(Shipments::Status).eq(shipment.from().as_str()))
                .to_owned();
            if txn
                .execute(&update)
                .await
                .or_store_error(context)?
                .rows_affected()
                == 0
            {
                return Err(match super::shipment::shipment_status(txn, id).await? {
                    Some(current) => OrderRepositoryError::ShipmentMoved {
                        order_id: id,
                        current,
                    },
                    None => anyhow::anyhow!("order {id} has no shipment").into(),
                });
            }
        }
        insert_audit(txn, &change.audit).await?;
        insert_events(txn, &change.events).await?;
        Ok(())
    }

    async fn fetch_order(
        &self,
        conn: &impl ConnectionTrait,
        id: OrderId,
    ) -> Result<Option<Order>, StoreError> {
        let select = order_select()
            .and_where(Expr::col(Orders::Id).eq(id.0))
            .to_owned();
        let row = conn
            .query_one(&select)
            .await
            .or_store_error(|| format!("loading order {id}"))?;
        Ok(row.as_ref().map(order_of).transpose()?)
    }
}

/// A query that returns a row when `user` holds more than `limit` pending orders.
/// HAVING without GROUP BY counts them as one group; COUNT(*), not COUNT(id): the
/// (user_id, status) index answers it alone, without reading each order's row.
fn pending_over(user: UserId, limit: i64) -> SelectStatement {
    Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(Orders::Table)
        .and_where(Expr::col(Orders::UserId).eq(user.0))
        .and_where(Expr::col(Orders::Status).eq(OrderStatus::Pending.as_str()))
        .and_having(Expr::cust("COUNT(*)").gt(limit))
        .to_owned()
}

/// Commits `txn` when `written` succeeded, else rolls it back; the write's error wins.
pub(crate) async fn finish<E: From<StoreError>>(
    txn: DatabaseTransaction,
    written: Result<(), E>,
    what: impl FnOnce() -> String,
) -> Result<(), E> {
    match written {
        Ok(()) => Ok(txn.commit().await.or_store_error(what)?),
        Err(error) => {
            roll_back(txn).await;
            Err(error)
        }
    }
}

#[async_trait]
impl OrderRepository for SqlOrderRepository {
    async fn record_attempt(
        &self,
        attempt: &OrderAttempt,
        max_pending: u32,
    ) -> Result<(), OrderRepositoryError> {
        let backend = self.db.get_database_backend();
        let insert = Query::insert()
            .into_table(OrderAttempts::Table)
            .columns([
                OrderAttempts::OrderId,
                OrderAttempts::UserId,
                OrderAttempts::CreatedAt,
            ])
            .values_panic([
                attempt.order_id.0.into(),
                attempt.user_id.0.into(),
                super::to_stored_time(attempt.created_at).into(),
            ])
            .to_owned();
        let steps = vec![
            WriteStep::RefuseIf(Box::new(pending_over(
                attempt.user_id,
                i64::from(max_pending) - 1,
            ))),
            WriteStep::Run(backend.build(&insert)),
        ];
        let written =
            self.writer.write(steps).await.or_store_error(|| {
                format!("recording the attempt of order {}", attempt.order_id)
            })?;
        match written {
            Written::Committed => Ok(()),
            Written::Refused => Err(OrderRepositoryError::TooManyPending),
        }
    }

    async fn stale_attempts(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OrderAttempt>, OrderRepositoryError> {
        let select = Query::select()
            .columns([
                OrderAttempts::OrderId,
                OrderAttempts::UserId,
                OrderAttempts::CreatedAt,
            ])
            .from(OrderAttempts::Table)
            .and_where(Expr::col(OrderAttempts::CreatedAt).lt(super::to_stored_time(before)))
            .order_by(OrderAttempts::CreatedAt, SortOrder::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let rows = self
            .db
            .query_all(&select)
            .await
            .or_store_error(|| "listing stale order attempts")?;
        let attempts = rows
            .iter()
            .map(|row| -> anyhow::Result<OrderAttempt> {
                Ok(OrderAttempt {
                    order_id: OrderId(row.try_get("", "order_id")?),
                    user_id: UserId(row.try_get("", "user_id")?),
                    created_at: row.try_get("", "created_at")?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .context("reading order attempts")?;
        Ok(attempts)
    }

    async fn abandon_attempt(&self, order_id: OrderId) -> Result<bool, OrderRepositoryError> {
        let delete = Query::delete()
            .from_table(OrderAttempts::Table)
            .and_where(Expr::col(OrderAttempts::OrderId).eq(order_id.0))
            .to_owned();
        let removed = self
            .db
            .execute(&delete)
            .await
            .or_store_error(|| format!("abandoning the attempt of order {order_id}"))?
            .rows_affected();
        Ok(removed > 0)
    }

    async fn place(&self, placed: &PlacedOrder) -> Result<(), OrderRepositoryError> {
        let backend = self.db.get_database_backend();
        for _ in 0..PLACE_TRIES {
            let steps = Self::placing_steps(placed, backend)?;
            let written = self
                .writer
                .write(steps)
                .await
                .or_store_error(|| format!("placing order {}", placed.order.id))?;
            if written == Written::Committed {
                return Ok(());
            }
            if let Some(refusal) = self.placement_refusal(placed).await? {
                return Err(refusal);
            }
        }
        Err(anyhow::anyhow!(
            "the placement of order {} was refused {PLACE_TRIES} times though its attempt and the pending cap held each time after",
            placed.order.id
        )
        .into())
    }

    async fn get(&self, id: OrderId) -> Result<Option<Order>, OrderRepositoryError> {
        Ok(self.fetch_order(&self.db, id).await?)
    }

    async fn list(
        &self,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<Order>, OrderRepositoryError> {
        let mut count = Query::select();
        count.from(Orders::Table);
        let mut select = order_select();
        for query in [&mut count, &mut select] {
            if let Some(user) = filter.user_id {
                query.and_where(Expr::col(Orders::UserId).eq(user.0));
            }
            if let Some(status) = filter.status {
                query.and_where(Expr::col(Orders::Status).eq(status.as_str()));
            }
        }
        Ok(super::newest_first(
            &self.db,
            count,
            select,
            (Orders::CreatedAt, Orders::Id),
            page,
            "orders",
            order_of,
        )
        .await?)
    }

    async fn events(&self, id: OrderId) -> Result<Vec<OrderEvent>, OrderRepositoryError> {
        let select = Query::select()
            .columns([
                OrderEvents::Id,
                OrderEvents::OrderId,
                OrderEvents::Kind,
                OrderEvents::FromStatus,
                OrderEvents::ToStatus,
                OrderEvents::Actor,
                OrderEvents::Detail,
                OrderEvents::OccurredAt,
            ])
            .from(OrderEvents::Table)
            .and_where(Expr::col(OrderEvents::OrderId).eq(id.0))
            .order_by(OrderEvents::OccurredAt, SortOrder::Asc)
            .order_by(OrderEvents::Id, SortOrder::Asc)
            .to_owned();
        let rows = self
            .db
            .query_all(&select)
            .await
            .or_store_error(|| format!("loading the audit trail of order {id}"))?;
        Ok(rows
            .iter()
            .map(audit_of)
            .collect::<anyhow::Result<Vec<_>>>()?)
    }

    async fn change(&self, change: &OrderChange) -> Result<Order, OrderRepositoryError> {
        let txn = begin_write(&self.db).await?;
        let written = self.write_change(&txn, change).await;
        let id = change.order_id;
        finish(txn, written, || {
            format!("committing the change of order {id}")
        })
        .await?;
        self.fetch_order(&self.db, id)
            .await?
            .ok_or(OrderRepositoryError::NotFound(id))
    }

    async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OrderId>, OrderRepositoryError> {
        let select = Query::select()
            .column(Orders::Id)
            .from(Orders::Table)
            .and_where(Expr::col(Orders::Status).eq(OrderStatus::Pending.as_str()))
            .and_where(Expr::col(Orders::PayBy).lt(super::to_stored_time(now)))
            .order_by(Orders::PayBy, SortOrder::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let rows = self
            .db
            .query_all(&select)
            .await
            .or_store_error(|| "listing overdue orders")?;
        Ok(rows
            .iter()
            .map(|row| row.try_get::<Uuid>("", "id").map(OrderId))
            .collect::<Result<Vec<_>, _>>()
            .or_store_error(|| "reading overdue order ids")?)
    }
}

#[async_trait]
impl OutboxPort for SqlOrderRepository {
    async fn unsent(&self, limit: u32) -> Result<Vec<OutboxMessage>, EventDeliveryError> {
        let select = Query::select()
            .columns([Outbox::Position, Outbox::Payload])
            .from(Outbox::Table)
            .and_where(Expr::col(Outbox::SentAt).is_null())
            .order_by(Outbox::Position, SortOrder::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let rows = self
            .db
            .query_all(&select)
            .await
            .or_store_error(|| "reading the outbox")?;
        let messages = rows
            .iter()
            .map(|row| -> anyhow::Result<OutboxMessage> {
                let payload: String = row.try_get("", "payload")?;
                Ok(OutboxMessage {
                    position: row.try_get("", "position")?,
                    event: serde_json::from_str(&payload).context("an outbox payload")?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(StoreError::from)?;
        Ok(messages)
    }

    async fn backlog(&self) -> Result<OutboxBacklog, EventDeliveryError> {
        let select = Query::select()
            .expr_as(Expr::col(Outbox::Position).count(), "unsent")
            .expr_as(Expr::col(Outbox::CreatedAt).min(), "oldest")
            .from(Outbox::Table)
            .and_where(Expr::col(Outbox::SentAt).is_null())
            .to_owned();
        let row = self
            .db
            .query_one(&select)
            .await
            .or_store_error(|| "measuring the outbox")?
            .context("COUNT returned no row")
            .map_err(StoreError::from)?;
        let unsent: i64 = row
            .try_get("", "unsent")
            .or_store_error(|| "reading the outbox count")?;
        let oldest: Option<DateTime<Utc>> = row
            .try_get("", "oldest")
            .or_store_error(|| "reading the oldest outbox row")?;
        Ok(OutboxBacklog {
            unsent: u64::try_from(unsent).unwrap_or(0),
            oldest,
        })
    }

    async fn mark_sent(
        &self,
        positions: &[i64],
        at: DateTime<Utc>,
    ) -> Result<(), EventDeliveryError> {
        if positions.is_empty() {
            return Ok(());
        }
        let update = Query::update()
            .table(Outbox::Table)
            .value(Outbox::SentAt, super::to_stored_time(at))
            .and_where(Expr::col(Outbox::Position).is_in(positions.iter().copied()))
            .to_owned();
        // Through the writer, like the order writes it follows: on SQLite a pooled
        // write here would hold the lock the next order's write then sleeps on.
        let backend = self.db.get_database_backend();
        self.writer
            .write(vec![WriteStep::Run(backend.build(&update))])
            .await
            .or_store_error(|| "marking outbox rows sent")?;
        Ok(())
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, EventDeliveryError> {
        let before = super::to_stored_time(before);
        let sent = Query::delete()
            .from_table(Outbox::Table)
            .and_where(Expr::col(Outbox::SentAt).lt(before))
            .to_owned();
        let processed = Query::delete()
            .from_table(ProcessedEvents::Table)
            .and_where(Expr::col(ProcessedEvents::ProcessedAt).lt(before))
            .to_owned();
        let mut removed = 0;
        for statement in [sent, processed] {
            removed += self
                .db
                .execute(&statement)
                .await
                .or_store_error(|| "pruning the outbox")?
                .rows_affected();
        }
        Ok(removed)
    }
}

#[async_trait]
impl IdempotencyStore for SqlOrderRepository {
    async fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &str,
        now: DateTime<Utc>,
        held_until: DateTime<Utc>,
    ) -> Result<IdempotencyBegin, IdempotencyStoreError> {
        let context = || format!("taking idempotency key {:?}", scope.key.as_str());
        let insert = Query::insert()
            .into_table(IdempotencyKeys::Table)
            .columns([
                IdempotencyKeys::UserId,
                IdempotencyKeys::Key,
                IdempotencyKeys::Fingerprint,
                IdempotencyKeys::HeldUntil,
                IdempotencyKeys::CreatedAt,
            ])
            .values_panic([
                scope.user_id.0.into(),
                scope.key.as_str().into(),
                fingerprint.into(),
                super::to_stored_time(held_until).into(),
                super::to_stored_time(now).into(),
            ])
            .on_conflict(
                OnConflict::columns([IdempotencyKeys::UserId, IdempotencyKeys::Key])
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        if self
            .db
            .execute(&insert)
            .await
            .or_store_error(context)?
            .rows_affected()
            == 1
        {
            return Ok(IdempotencyBegin::Started);
        }
        let select = Query::select()
            .columns([
                IdempotencyKeys::Fingerprint,
                IdempotencyKeys::OrderId,
                IdempotencyKeys::HeldUntil,
            ])
            .from(IdempotencyKeys::Table)
            .and_where(Expr::col(IdempotencyKeys::UserId).eq(scope.user_id.0))
            .and_where(Expr::col(IdempotencyKeys::Key).eq(scope.key.as_str()))
            .to_owned();
        let Some(row) = self.db.query_one(&select).await.or_store_error(context)? else {
            // Released between the insert and the read: the caller may try again.
            return Ok(IdempotencyBegin::InFlight);
        };
        let stored: String = row.try_get("", "fingerprint").or_store_error(context)?;
        let order: Option<Uuid> = row.try_get("", "order_id").or_store_error(context)?;
        let held: DateTime<Utc> = row.try_get("", "held_until").or_store_error(context)?;
        if stored != fingerprint {
            return Ok(IdempotencyBegin::Mismatch);
        }
        if let Some(order) = order {
            return Ok(IdempotencyBegin::Completed(OrderId(order)));
        }
        if held > now {
            return Ok(IdempotencyBegin::InFlight);
        }
        // The holder's time passed: presumed crashed. Take over, once.
        let take = Query::update()
            .table(IdempotencyKeys::Table)
            .value(
                IdempotencyKeys::HeldUntil,
                super::to_stored_time(held_until),
            )
            .and_where(Expr::col(IdempotencyKeys::UserId).eq(scope.user_id.0))
            .and_where(Expr::col(IdempotencyKeys::Key).eq(scope.key.as_str()))
            .and_where(Expr::col(IdempotencyKeys::OrderId).is_null())
            .and_where(Expr::col(IdempotencyKeys::HeldUntil).eq(held))
            .to_owned();
        let taken = self.db.execute(&take).await.or_store_error(context)?;
        Ok(if taken.rows_affected() == 1 {
            IdempotencyBegin::Started
        } else {
            IdempotencyBegin::InFlight
        })
    }

    async fn release(&self, scope: &IdempotencyScope) -> Result<(), IdempotencyStoreError> {
        let delete = Query::delete()
            .from_table(IdempotencyKeys::Table)
            .and_where(Expr::col(IdempotencyKeys::UserId).eq(scope.user_id.0))
            .and_where(Expr::col(IdempotencyKeys::Key).eq(scope.key.as_str()))
            .and_where(Expr::col(IdempotencyKeys::OrderId).is_null())
            .to_owned();
        self.db
            .execute(&delete)
            .await
            .or_store_error(|| format!("releasing idempotency key {:?}", scope.key.as_str()))?;
        Ok(())
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, IdempotencyStoreError> {
        let delete = Query::delete()
            .from_table(IdempotencyKeys::Table)
            .and_where(Expr::col(IdempotencyKeys::CompletedAt).lt(super::to_stored_time(before)))
            .to_owned();
        Ok(self
            .db
            .execute(&delete)
            .await
            .or_store_error(|| "pruning idempotency keys")?
            .rows_affected())
    }
}
