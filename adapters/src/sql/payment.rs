//! [`PaymentRepository`] on sea-orm, in the order store's database: a payment's move
//! and its events (outbox) and processed-event record commit together.

use anyhow::Context;
use async_trait::async_trait;
use emporium_domain::UserId;
use emporium_domain::orders::{
    Currency, Money, OrderId, Payment, PaymentChange, PaymentId, PaymentRepository,
    PaymentRepositoryError, PaymentStatus,
};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait, Order as SortOrder, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult};
use uuid::Uuid;

use super::begin_write;
use super::errors::{DbResultExt, Violation, store_error, violation};
use super::migration::Payments;
use super::order::{SqlOrderRepository, finish, insert_events, record_processed};

fn payment_select() -> SelectStatement {
    Query::select()
        .columns([
            Payments::Id,
            Payments::OrderId,
            Payments::UserId,
            Payments::Currency,
            Payments::Status,
            Payments::ProviderReference,
            Payments::CreatedAt,
            Payments::UpdatedAt,
        ])
        .expr_as(Expr::col(Payments::Amount).cast_as("TEXT"), "amount")
        .from(Payments::Table)
        .to_owned()
}

fn payment_of(row: &QueryResult) -> anyhow::Result<Payment> {
    let id: Uuid = row.try_get("", "id")?;
    let read = || -> anyhow::Result<Payment> {
        let amount: String = row.try_get("", "amount")?;
        let currency: String = row.try_get("", "currency")?;
        let status: String = row.try_get("", "status")?;
        Ok(Payment {
            id: PaymentId(id),
            order_id: OrderId(row.try_get("", "order_id")?),
            user_id: UserId(row.try_get("", "user_id")?),
            amount: Money::parse(&amount)?,
            currency: Currency::new(&currency)?,
            status: PaymentStatus::parse(&status)
                .with_context(|| format!("unknown status {status:?}"))?,
            provider_reference: row.try_get("", "provider_reference")?,
            created_at: row.try_get("", "created_at")?,
            updated_at: row.try_get("", "updated_at")?,
        })
    };
    read().with_context(|| format!("reading payment {id}"))
}

async fn fetch(
    conn: &impl ConnectionTrait,
    id: PaymentId,
) -> Result<Option<Payment>, PaymentRepositoryError> {
    let select = payment_select()
        .and_where(Expr::col(Payments::Id).eq(id.0))
        .to_owned();
    let row = conn
        .query_one(&select)
        .await
        .or_store_error(|| format!("loading payment {id}"))?;
    Ok(row.as_ref().map(payment_of).transpose()?)
}

async fn write_change(
    txn: &DatabaseTransaction,
    change: &PaymentChange,
) -> Result<(), PaymentRepositoryError> {
    let id = change.payment_id;
    let at = super::to_stored_time(change.at);
    if let Some(processed) = &change.processed
        && !record_processed(txn, processed, at).await?
    {
        return Err(PaymentRepositoryError::AlreadyProcessed);
    }
    let update = Query::update()
        .table(Payments::Table)
        .value(Payments::Status, change.transition.to().as_str())
        .value(Payments::UpdatedAt, at)
        .and_where(Expr::col(Payments::Id).eq(id.0))
        .and_where(Expr::col(Payments::Status).eq(change.transition.from().as_str()))
        .to_owned();
    let moved = txn
        .execute(&update)
        .await
        .or_store_error(|| format!("moving payment {id}"))?
        .rows_affected();
    if moved == 0 {
        return Err(match fetch(txn, id).await? {
            None => PaymentRepositoryError::NotFound(id),
            Some(current) => PaymentRepositoryError::Stale {
                payment_id: id,
                current: current.status,
            },
        });
    }
    insert_events(txn, &change.events).await?;
    Ok(())
}

#[async_trait]
impl PaymentRepository for SqlOrderRepository {
    async fn create(&self, payment: &Payment) -> Result<(), PaymentRepositoryError> {
        let insert = Query::insert()
            .into_table(Payments::Table)
            .columns([
                Payments::Id,
                Payments::OrderId,
                Payments::UserId,
                Payments::Amount,
                Payments::Currency,
                Payments::Status,
                Payments::ProviderReference,
                Payments::CreatedAt,
                Payments::UpdatedAt,
            ])
            .values_panic([
                payment.id.0.into(),
                payment.order_id.0.into(),
                payment.user_id.0.into(),
                Decimal::from(payment.amount).into(),
                payment.currency.as_str().into(),
                payment.status.as_str().into(),
                payment.provider_reference.clone().into(),
                super::to_stored_time(payment.created_at).into(),
                super::to_stored_time(payment.updated_at).into(),
            ])
            .to_owned();
        match self.connection().execute(&insert).await {
            Ok(_) => Ok(()),
            Err(err) => match violation(&err) {
                Some(Violation::Unique { .. }) => {
                    Err(PaymentRepositoryError::ActiveExists(payment.order_id))
                }
                _ => Err(store_error(err, format!("storing payment {}", payment.id)).into()),
            },
        }
    }

    async fn get(&self, id: PaymentId) -> Result<Option<Payment>, PaymentRepositoryError> {
        fetch(self.connection(), id).await
    }

    async fn for_order(&self, order_id: OrderId) -> Result<Vec<Payment>, PaymentRepositoryError> {
        let select = payment_select()
            .and_where(Expr::col(Payments::OrderId).eq(order_id.0))
            .order_by(Payments::CreatedAt, SortOrder::Asc)
            .order_by(Payments::Id, SortOrder::Asc)
            .to_owned();
        let rows = self
            .connection()
            .query_all(&select)
            .await
            .or_store_error(|| format!("loading the payments of order {order_id}"))?;
        Ok(rows
            .iter()
            .map(payment_of)
            .collect::<anyhow::Result<Vec<_>>>()?)
    }

    async fn change(&self, change: &PaymentChange) -> Result<Payment, PaymentRepositoryError> {
        let txn = begin_write(self.connection()).await?;
        let written = write_change(&txn, change).await;
        let id = change.payment_id;
        finish(txn, written, || {
            format!("committing the move of payment {id}")
        })
        .await?;
        fetch(self.connection(), id)
            .await?
            .ok_or(PaymentRepositoryError::NotFound(id))
    }
}
