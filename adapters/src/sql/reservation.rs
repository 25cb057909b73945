//! [`StockReservations`] on sea-orm: the reservation rows and the stock they hold
//! change together in one transaction.
//!
//! - `reserve` inserts the reservation and its lines (`ON CONFLICT DO NOTHING`: a
//!   retry finds the existing one) and raises `reserved` of each line with one
//!   conditional update `WHERE on_hand - reserved >= n`, in product-id order, all in
//!   one checked write ([`CheckedWriter`](super::CheckedWriter): one round trip on
//!   SQLite); unless every statement changed its rows (a retry, or a line that fell
//!   short) nothing is written, and the refusal is worked out afterwards.
//! - `apply` reads the reservation, then in one checked write moves the status with
//!   a conditional update (`WHERE status = 'reserved'` for commit and release,
//!   `'committed'` for restock), records the event that asked for it, and changes
//!   the stock; the write stands only if the update matched, so a hundred concurrent
//!   releases lower `reserved` once (the others read again and find it done).
//!
//! On SQLite every transaction here begins `IMMEDIATE` (it takes the write lock at
//! once, so two transactions never both read and then fail to upgrade); on
//! PostgreSQL the conditional updates lock the rows they change, and the lines are
//! taken in one order so two reservations cannot deadlock.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{
    ActionOutcome, InventoryItem, Quantity, Reservation, ReservationAction, ReservationError,
    ReservationLine, ReservationLines, ReservationStatus, StockReservations,
};
use emporium_domain::orders::{OrderId, ProcessedEvent};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, StatementBuilder};
use uuid::Uuid;

use super::entities::inventory::{Column as Stock, Entity as StockEntity};
use super::errors::DbResultExt;
use super::migration::{
    ProcessedEvents, StockReservationLines as Lines, StockReservations as Reservations,
};
use super::order::processed_insert;
use super::{CheckedWriter, WriteStep, Written, exists};
use crate::store_error::StoreError;

/// Stores reservations in `stock_reservations` and `stock_reservation_lines`, and the
/// stock they hold in `inventory` (SQLite or PostgreSQL); see the [module docs](self).
#[derive(Debug, Clone)]
pub struct SqlStockReservations {
    db: DatabaseConnection,
    writer: CheckedWriter,
}

impl SqlStockReservations {
    /// Reservations on `db` (migrated with [`super::migrate`]).
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            writer: CheckedWriter::new(&db),
            db,
        }
    }

    /// The stock change of `action` for one line of `quantity` units (the table's
    /// CHECK constraints guard the invariants).
    fn stock_change(action: ReservationAction, quantity: i64) -> Vec<(Stock, SimpleExpr)> {
        match action {
            ReservationAction::Commit => vec![
                (Stock::OnHand, Expr::col(Stock::OnHand).sub(quantity)),
                (Stock::Reserved, Expr::col(Stock::Reserved).sub(quantity)),
            ],
            ReservationAction::Release => {
                vec![(Stock::Reserved, Expr::col(Stock::Reserved).sub(quantity))]
            }
            ReservationAction::Restock => {
                vec![(Stock::OnHand, Expr::col(Stock::OnHand).add(quantity))]
            }
        }
    }
}

/// How often `reserve` tries when stock is released while a line falls short.
const RESERVE_TRIES: usize = 3;
/// How often `apply` reads and writes again when another caller moved the
/// reservation in between (the second read then finds it moved: done or refused).
const APPLY_TRIES: usize = 3;

/// The reservation of `order_id` as stored, read inside `txn`.
async fn load(
    txn: &impl ConnectionTrait,
    order_id: OrderId,
) -> Result<Option<Reservation>, StoreError> {
    let context = || format!("loading the stock reservation of order {order_id}");
    let head = Query::select()
        .columns([Reservations::Status, Reservations::UpdatedAt])
        .from(Reservations::Table)
        .and_where(Expr::col(Reservations::OrderId).eq(order_id.0))
        .to_owned();
    let Some(row) = txn.query_one(&head).await.or_store_error(context)? else {
        return Ok(None);
    };
    let status: String = row.try_get("", "status").or_store_error(context)?;
    let updated_at: DateTime<Utc> = row.try_get("", "updated_at").or_store_error(context)?;
    let status = ReservationStatus::parse(&status)
        .with_context(|| format!("stored reservation status {status:?} is unknown"))
        .with_context(context)?;

    let lines = Query::select()
        .columns([Lines::ProductId, Lines::Quantity])
        .from(Lines::Table)
        .and_where(Expr::col(Lines::OrderId).eq(order_id.0))
        .to_owned();
    let rows = txn.query_all(&lines).await.or_store_error(context)?;
    let lines = rows
        .into_iter()
        .map(|row| -> anyhow::Result<ReservationLine> {
            let product_id: Uuid = row.try_get("", "product_id")?;
            let quantity: i64 = row.try_get("", "quantity")?;
            Ok(ReservationLine {
                product_id: ProductId(product_id),
                quantity: Quantity::new(quantity)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .with_context(context)?;
    let lines = ReservationLines::new(lines)
        .context("stored reservation lines are inconsistent")
        .with_context(context)?;
    Ok(Some(Reservation {
        order_id,
        lines,
        status,
        updated_at,
    }))
}

/// Why the conditional reservation of `product_id` matched nothing: no record, or
/// not enough available.
async fn shortfall(txn: &impl ConnectionTrait, product_id: ProductId) -> ReservationError {
    let record = StockEntity::find_by_id(product_id.0)
        .one(txn)
        .await
        .or_store_error(|| format!("loading the stock record of product {product_id}"));
    match record {
        Err(error) => error.into(),
        Ok(None) => ReservationError::UnknownProduct(product_id),
        Ok(Some(row)) => match InventoryItem::new(
            product_id,
            Quantity::new(row.on_hand).unwrap_or(Quantity::ZERO),
            Quantity::new(row.reserved).unwrap_or(Quantity::ZERO),
            row.updated_at,
        ) {
            Ok(item) => ReservationError::InsufficientStock {
                product_id,
                available: item.available(),
            },
            Err(error) => anyhow::Error::new(error)
                .context(format!(
                    "stock record of product {product_id} is inconsistent"
                ))
                .into(),
        },
    }
}

impl SqlStockReservations {
    /// One try of [`StockReservations::reserve`]; `None` when a line fell short in
    /// the batch but has enough stock now (released meanwhile): try again.
    async fn try_reserve(
        &self,
        order_id: OrderId,
        lines: &ReservationLines,
        at: DateTime<Utc>,
    ) -> Result<Option<Reservation>, ReservationError> {
        let at = super::to_stored_time(at);
        let backend = self.db.get_database_backend();
        let build = |statement: &dyn StatementBuilder| statement.build(&backend);
        // One checked write (one round trip on SQLite): the reservation and its lines
        // (`ON CONFLICT DO NOTHING`: a retry finds them there), then one conditional
        // update per line. Each statement must change one row per line; anything
        // less refuses the whole write.
        let mut lines_insert = Query::insert();
        lines_insert
            .into_table(Lines::Table)
            .columns([Lines::OrderId, Lines::ProductId, Lines::Quantity])
            .on_conflict(
                OnConflict::columns([Lines::OrderId, Lines::ProductId])
                    .do_nothing()
                    .to_owned(),
            );
        for line in lines.lines() {
            lines_insert.values_panic([
                order_id.0.into(),
                line.product_id.0.into(),
                line.quantity.value().into(),
            ]);
        }
        let mut steps = vec![
            WriteStep::Changes(
                build(
                    &Query::insert()
                        .into_table(Reservations::Table)
                        .columns([
                            Reservations::OrderId,
                            Reservations::Status,
                            Reservations::CreatedAt,
                            Reservations::UpdatedAt,
                        ])
                        .values_panic([
                            order_id.0.into(),
                            ReservationStatus::Reserved.as_str().into(),
                            at.into(),
                            at.into(),
                        ])
                        .on_conflict(
                            OnConflict::column(Reservations::OrderId)
                                .do_nothing()
                                .to_owned(),
                        )
                        .to_owned(),
                ),
                1,
            ),
            WriteStep::Changes(build(&lines_insert), lines.lines().len() as u64),
        ];
        for line in lines.lines() {
            let quantity = line.quantity.value();
            steps.push(WriteStep::Changes(
                build(
                    &Query::update()
                        .table(StockEntity)
                        .value(Stock::Reserved, Expr::col(Stock::Reserved).add(quantity))
                        .value(Stock::UpdatedAt, at)
                        .and_where(Expr::col(Stock::ProductId).eq(line.product_id.0))
                        .and_where(
                            Expr::col(Stock::OnHand)
                                .sub(Expr::col(Stock::Reserved))
                                .gte(quantity),
                        )
                        .to_owned(),
                ),
                1,
            ));
        }
        let written = self
            .writer
            .write(steps)
            .await
            .or_store_error(|| format!("reserving the stock of order {order_id}"))?;
        if written == Written::Committed {
            return Ok(Some(Reservation {
                order_id,
                lines: lines.clone(),
                status: ReservationStatus::Reserved,
                updated_at: at,
            }));
        }
        // Nothing was written. A retry (or a concurrent twin) answers what is there;
        // otherwise a line fell short.
        if let Some(existing) = load(&self.db, order_id).await? {
            return if existing.lines == *lines {
                Ok(Some(existing))
            } else {
                Err(ReservationError::LinesDiffer(order_id))
            };
        }
        for line in lines.lines() {
            let refusal = shortfall(&self.db, line.product_id).await;
            match &refusal {
                ReservationError::InsufficientStock { available, .. }
                    if available.value() >= line.quantity.value() => {}
                _ => return Err(refusal),
            }
        }
        // Every line has enough now: stock was released since the batch ran.
        Ok(None)
    }
}

#[async_trait]
impl StockReservations for SqlStockReservations {
    async fn reserve(
        &self,
        order_id: OrderId,
        lines: &ReservationLines,
        at: DateTime<Utc>,
    ) -> Result<Reservation, ReservationError> {
        for _ in 0..RESERVE_TRIES {
            if let Some(reservation) = self.try_reserve(order_id, lines, at).await? {
                return Ok(reservation);
            }
        }
        Err(anyhow::anyhow!(
            "the stock of order {order_id} kept changing while it was reserved; nothing was reserved"
        )
        .into())
    }

    async fn apply(
        &self,
        order_id: OrderId,
        action: ReservationAction,
        processed: Option<ProcessedEvent>,
        at: DateTime<Utc>,
    ) -> Result<Reservation, ReservationError> {
        let at = super::to_stored_time(at);
        let backend = self.db.get_database_backend();
        let build = |statement: &dyn StatementBuilder| statement.build(&backend);
        for _ in 0..APPLY_TRIES {
            // A reservation's lines never change: read them, then move the status
            // and the stock in one checked write that holds only if the status is
            // still the action's starting point.
            let Some(reservation) = load(&self.db, order_id).await? else {
                return Err(ReservationError::NotFound(order_id));
            };
            match action.outcome(reservation.status) {
                ActionOutcome::Apply(_) => {}
                ActionOutcome::AlreadyDone => return Ok(reservation),
                ActionOutcome::Refused => {
                    return Err(ReservationError::InvalidTransition {
                        action,
                        status: reservation.status,
                    });
                }
            }
            let mut steps = vec![WriteStep::Changes(
                build(
                    &Query::update()
                        .table(Reservations::Table)
                        .value(Reservations::Status, action.to_status().as_str())
                        .value(Reservations::UpdatedAt, at)
                        .and_where(Expr::col(Reservations::OrderId).eq(order_id.0))
                        .and_where(
                            Expr::col(Reservations::Status).eq(action.from_status().as_str()),
                        )
                        .to_owned(),
                ),
                1,
            )];
            if let Some(processed) = &processed {
                steps.push(WriteStep::Run(build(&processed_insert(processed, at))));
            }
            for line in reservation.lines.lines() {
                let mut change = Query::update();
                change.table(StockEntity);
                for (column, value) in Self::stock_change(action, line.quantity.value()) {
                    change.value(column, value);
                }
                change
                    .value(Stock::UpdatedAt, at)
                    .and_where(Expr::col(Stock::ProductId).eq(line.product_id.0));
                // Not checked: only a record with nothing reserved can be deleted, so
                // only a restock can meet a missing one, and its units have nowhere
                // to go back (refusing would leave the event failing for ever).
                steps.push(WriteStep::Run(build(&change)));
            }
            let written = self.writer.write(steps).await.or_store_error(|| {
                format!("{action} of the stock reservation of order {order_id}")
            })?;
            if written == Written::Committed {
                return Ok(Reservation {
                    status: action.to_status(),
                    updated_at: at,
                    ..reservation
                });
            }
            // Another caller moved it between the read and the write: look again.
        }
        Err(anyhow::anyhow!(
            "the stock reservation of order {order_id} kept moving during its {action}"
        )
        .into())
    }

    async fn get(&self, order_id: OrderId) -> Result<Option<Reservation>, ReservationError> {
        Ok(load(&self.db, order_id).await?)
    }

    async fn processed(&self, event: &ProcessedEvent) -> Result<bool, ReservationError> {
        let query = Query::select()
            .expr(Expr::val(1))
            .from(ProcessedEvents::Table)
            .and_where(Expr::col(ProcessedEvents::Consumer).eq(event.consumer.as_str()))
            .and_where(Expr::col(ProcessedEvents::EventId).eq(event.event_id.0))
            .to_owned();
        Ok(exists(&self.db, &query, || {
            format!("looking up processed event {}", event.event_id)
        })
        .await?)
    }
}
