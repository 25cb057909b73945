//! [`ShipmentRepository`] on sea-orm, in the order store's database: a shipment's own
//! move (dispatch, delivery), who made it, and its events (outbox) commit together.
//! The moves that go with an order's (readied on payment, cancelled with the order)
//! are part of [`OrderRepository::change`](emporium_domain::orders::OrderRepository).

use anyhow::Context;
use async_trait::async_trait;
use emporium_domain::UserId;
use emporium_domain::orders::{
    Carrier, Dispatch, OrderId, Shipment, ShipmentId, ShipmentMove, ShipmentRepository,
    ShipmentRepositoryError, ShipmentStatus, ShipmentTransition, TrackingNumber,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult};
use uuid::Uuid;

use super::begin_write;
use super::errors::DbResultExt;
use super::migration::Shipments;
use super::order::{SqlOrderRepository, finish, insert_events, parse_actor};
use crate::store_error::StoreError;

fn shipment_of(row: &QueryResult) -> anyhow::Result<Shipment> {
    let id: Uuid = row.try_get("", "id")?;
    let read = || -> anyhow::Result<Shipment> {
        let status: String = row.try_get("", "status")?;
        let carrier: Option<String> = row.try_get("", "carrier")?;
        let tracking: Option<String> = row.try_get("", "tracking_number")?;
        let dispatch = match (carrier, tracking) {
            (Some(carrier), Some(tracking)) => Some(Dispatch {
                carrier: Carrier::new(carrier)?,
                tracking_number: TrackingNumber::new(tracking)?,
            }),
            _ => None,
        };
        let actor = |column: &str| -> anyhow::Result<_> {
            let text: Option<String> = row.try_get("", column)?;
            text.as_deref().map(parse_actor).transpose()
        };
        Ok(Shipment {
            id: ShipmentId(id),
            order_id: OrderId(row.try_get("", "order_id")?),
            user_id: UserId(row.try_get("", "user_id")?),
            status: ShipmentStatus::parse(&status)
                .with_context(|| format!("unknown status {status:?}"))?,
            dispatch,
            dispatched_by: actor("dispatched_by")?,
            delivered_by: actor("delivered_by")?,
            created_at: row.try_get("", "created_at")?,
            updated_at: row.try_get("", "updated_at")?,
        })
    };
    read().with_context(|| format!("reading shipment {id}"))
}

async fn find(
    conn: &impl ConnectionTrait,
    condition: SimpleExpr,
    what: impl FnOnce() -> String,
) -> Result<Option<Shipment>, StoreError> {
    let select = Query::select()
        .columns([
            Shipments::Id,
            Shipments::OrderId,
            Shipments::UserId,
            Shipments::Status,
            Shipments::Carrier,
            Shipments::TrackingNumber,
            Shipments::DispatchedBy,
            Shipments::DeliveredBy,
            Shipments::CreatedAt,
            Shipments::UpdatedAt,
        ])
        .from(Shipments::Table)
        .and_where(condition)
        .to_owned();
    let row = conn.query_one(&select).await.or_store_error(what)?;
    Ok(row.as_ref().map(shipment_of).transpose()?)
}

async fn fetch(
    conn: &impl ConnectionTrait,
    id: ShipmentId,
) -> Result<Option<Shipment>, StoreError> {
    find(conn, Expr::col(Shipments::Id).eq(id.0), || {
        format!("loading shipment {id}")
    })
    .await
}

async fn write_move(
    txn: &DatabaseTransaction,
    change: &ShipmentMove,
) -> Result<(), ShipmentRepositoryError> {
    let id = change.shipment_id;
    let at = super::to_stored_time(change.at);
    let mut update = Query::update();
    update
        .table(Shipments::Table)
        .value(Shipments::Status, change.transition.to().as_str())
        .value(Shipments::UpdatedAt, at)
        .and_where(Expr::col(Shipments::Id).eq(id.0))
        .and_where(Expr::col(Shipments::Status).eq(change.transition.from().as_str()));
    if let Some(dispatch) = &change.dispatch {
        update
            .value(Shipments::Carrier, dispatch.carrier.as_str())
            .value(Shipments::TrackingNumber, dispatch.tracking_number.as_str());
    }
    match change.transition {
        ShipmentTransition::Dispatch => {
            update.value(Shipments::DispatchedBy, change.by.to_string());
        }
        ShipmentTransition::Deliver => {
            update.value(Shipments::DeliveredBy, change.by.to_string());
        }
        _ => {}
    }
    let moved = txn
        .execute(&update)
        .await
        .or_store_error(|| format!("moving shipment {id}"))?
        .rows_affected();
    if moved == 0 {
        return Err(match fetch(txn, id).await? {
            None => ShipmentRepositoryError::NotFound(id),
            Some(current) => ShipmentRepositoryError::Stale {
                shipment_id: id,
                current: current.status,
            },
        });
    }
    insert_events(txn, &change.events).await?;
    Ok(())
}

#[async_trait]
impl ShipmentRepository for SqlOrderRepository {
    async fn get(&self, id: ShipmentId) -> Result<Option<Shipment>, ShipmentRepositoryError> {
        Ok(fetch(self.connection(), id).await?)
    }

    async fn for_order(
        &self,
        order_id: OrderId,
    ) -> Result<Option<Shipment>, ShipmentRepositoryError> {
        Ok(find(
            self.connection(),
            Expr::col(Shipments::OrderId).eq(order_id.0),
            || format!("loading the shipment of order {order_id}"),
        )
        .await?)
    }

    async fn change(&self, change: &ShipmentMove) -> Result<Shipment, ShipmentRepositoryError> {
        let txn = begin_write(self.connection()).await?;
        let written = write_move(&txn, change).await;
        let id = change.shipment_id;
        finish(txn, written, || {
            format!("committing the move of shipment {id}")
        })
        .await?;
        fetch(self.connection(), id)
            .await?
            .ok_or(ShipmentRepositoryError::NotFound(id))
    }
}

/// The status of order `order_id`'s shipment inside `txn`, for an order move whose
/// shipment move found it elsewhere.
pub(crate) async fn shipment_status(
    txn: &DatabaseTransaction,
    order_id: OrderId,
) -> Result<Option<ShipmentStatus>, StoreError> {
    Ok(find(txn, Expr::col(Shipments::OrderId).eq(order_id.0), || {
        format!("loading the shipment of order {order_id}")
    })
    .await?
    .map(|shipment| shipment.status))
}
