//! [`StockReservations`] on MongoDB, with no multi-document transaction.
//!
//! Two collections:
//! - `stock_reservations`, one document per order (unique `order_id`):
//!   `{"order_id": "<uuid>", "status": "reserved", "lines": ["<product uuid>:3", …],
//!   "processed": ["stock:<event uuid>", …], "updated_at": "…"}`. Lines are
//!   `product:quantity` strings, not sub-documents: the wire-compatible test server
//!   stores a sub-document pushed into an array as text, and plain strings behave the
//!   same everywhere. `processed` holds the consumers' processed-event records
//!   (`consumer:event`) of the events that moved the reservation, pushed by the same
//!   update that moves its status: at most one per move.
//! - `inventory`, whose stock documents gain three lists of order ids: `held` (orders
//!   holding units of this product now), `done` (orders whose hold was committed or
//!   released) and `restocked` (committed orders whose units came back).
//!
//! Every stock change is one `update_one` on one stock document whose filter is the
//! guard and whose update also records the order in those lists, so a retry finds
//! the guard closed and changes nothing:
//!
//! | step    | filter                                                    | update |
//! |---------|-----------------------------------------------------------|--------|
//! | hold    | `available >= n`, order not in `held`, not in `done`       | `reserved += n`, `available -= n`, push to `held` |
//! | commit  | order in `held`                                           | `on_hand -= n`, `reserved -= n`, pull from `held`, push to `done` |
//! | release | order in `held`                                           | `reserved -= n`, `available += n`, pull from `held`, push to `done` |
//! | restock | order not in `restocked`                                  | `on_hand += n`, `available += n`, push to `restocked` |
//!
//! The status of the reservation document moves first, with one conditional
//! `find_one_and_update` (`status: reserved → committed`, …), so racing actions have
//! exactly one winner. A crash between that move and the stock updates leaves the
//! lines to do: a repeated action whose status already moved runs the (guarded)
//! stock updates again, so a retry finishes the work and never doubles it.
//!
//! `done` and `restocked` keep the last [`COMPLETED_KEPT`] order ids of each product
//! (`$push` with `$slice`), so a document never nears MongoDB's 16 MB limit; a
//! retry of a hold or a restock arriving after that many later orders of the same
//! product is not recognised by the stock document, only by the reservation's status.
//! Guards use `$nin`, which the test server applies to arrays as MongoDB does.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{
    ActionOutcome, Quantity, Reservation, ReservationAction, ReservationError, ReservationLine,
    ReservationLines, ReservationStatus, StockReservations,
};
use emporium_domain::orders::{OrderId, ProcessedEvent};
use mongodb::bson::{Document, doc};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    MongoInventoryRepository, StockDocument, is_duplicate_key, store_error, to_stored_time,
};
use crate::store_error::StoreError;

/// How many completed (and restocked) order ids each stock document keeps.
pub const COMPLETED_KEPT: i32 = 1000;

/// How many times a reservation starts over when overlapping calls undo it.
const RESERVE_ROUNDS: usize = 5;

/// A reservation as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReservationDocument {
    order_id: String,
    status: String,
    lines: Vec<String>,
    #[serde(default)]
    processed: Vec<String>,
    updated_at: String,
}

impl ReservationDocument {
    fn new(order_id: OrderId, lines: &ReservationLines, at: DateTime<Utc>) -> Self {
        Self {
            order_id: order_id.to_string(),
            status: ReservationStatus::Reserved.as_str().to_owned(),
            lines: lines
                .lines()
                .iter()
                .map(|line| format!("{}:{}", line.product_id, line.quantity))
                .collect(),
            processed: Vec::new(),
            updated_at: to_stored_time(at),
        }
    }

    fn into_domain(self) -> anyhow::Result<Reservation> {
        let id = self.order_id.clone();
        let convert = || -> anyhow::Result<Reservation> {
            let order_id = OrderId(Uuid::parse_str(&self.order_id).context("order_id")?);
            let status = ReservationStatus::parse(&self.status)
                .with_context(|| format!("unknown status {:?}", self.status))?;
            let lines = self
                .lines
                .iter()
                .map(|line| -> anyhow::Result<ReservationLine> {
                    let (product, quantity) = line
                        .split_once(':')
                        .with_context(|| format!("line {line:?} is not product:quantity"))?;
                    Ok(ReservationLine {
                        product_id: ProductId(Uuid::parse_str(product)?),
                        quantity: Quantity::new(quantity.parse()?)?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let updated_at = DateTime::parse_from_rfc3339(&self.updated_at)
                .context("updated_at is not RFC 3339")?
                .with_timezone(&Utc);
            Ok(Reservation {
                order_id,
                lines: ReservationLines::new(lines)?,
                status,
                updated_at,
            })
        };
        convert().with_context(|| format!("reading the stock reservation of order {id}"))
    }
}

/// Holds stock for orders in MongoDB (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct MongoStockReservations {
    reservations: Collection<ReservationDocument>,
    stock: Collection<StockDocument>,
}

impl MongoStockReservations {
    /// The collection holding one document per order's reservation.
    pub const COLLECTION: &'static str = "stock_reservations";

    /// Uses `database` of an existing client (the one holding the inventory) and
    /// makes sure the unique index on `order_id` exists.
    pub async fn with_database(database: Database) -> anyhow::Result<Self> {
        let reservations = database.collection::<ReservationDocument>(Self::COLLECTION);
        let index = IndexModel::builder()
            .keys(doc! {"order_id": 1})
            .options(
                IndexOptions::builder()
                    .unique(true)
                    .name("order_id_unique".to_owned())
                    .build(),
            )
            .build();
        reservations.create_index(index).await.with_context(|| {
            format!(
                "creating the unique index on {}.{}.order_id",
                database.name(),
                Self::COLLECTION
            )
        })?;
        Ok(Self {
            reservations,
            stock: database.collection(MongoInventoryRepository::COLLECTION),
        })
    }

    async fn find(&self, order_id: OrderId) -> Result<Option<Reservation>, StoreError> {
        let found = self
            .reservations
            .find_one(doc! {"order_id": order_id.to_string()})
            .await
            .map_err(|err| {
                store_error(
                    err,
                    format!("loading the stock reservation of order {order_id}"),
                )
            })?;
        Ok(found.map(ReservationDocument::into_domain).transpose()?)
    }

    /// One guarded update of one stock document; whether it matched.
    async fn update_stock(
        &self,
        filter: Document,
        update: Document,
        what: impl FnOnce() -> String,
    ) -> Result<bool, StoreError> {
        let result = self
            .stock
            .update_one(filter, update)
            .await
            .map_err(|err| store_error(err, what()))?;
        Ok(result.matched_count > 0)
    }

    /// Holds `line` for `order` (now or by an earlier try); the refusal when it
    /// cannot be held.
    async fn hold(
        &self,
        order: &str,
        line: &ReservationLine,
        at: &str,
    ) -> Result<Result<(), ReservationError>, StoreError> {
        let product = line.product_id.to_string();
        let n = line.quantity.value();
        let held = self
            .update_stock(
                doc! {
                    "product_id": &product,
                    "available": {"$gte": n},
                    "held": {"$nin": [order]},
                    "done": {"$nin": [order]},
                },
                doc! {
                    "$inc": {"reserved": n, "available": -n},
                    "$push": {"held": order},
                    "$set": {"updated_at": at},
                },
                || format!("reserving product {product} for order {order}"),
            )
            .await?;
        if held {
            return Ok(Ok(()));
        }
        let current = self
            .stock
            .find_one(doc! {"product_id": &product})
            .await
            .map_err(|err| store_error(err, format!("loading the stock record of {product}")))?;
        let Some(current) = current else {
            return Ok(Err(ReservationError::UnknownProduct(line.product_id)));
        };
        let already = self
            .stock
            .count_documents(doc! {"product_id": &product, "held": order})
            .await
            .map_err(|err| store_error(err, format!("reading the holds of {product}")))?;
        if already > 0 {
            return Ok(Ok(()));
        }
        Ok(Err(ReservationError::InsufficientStock {
            product_id: line.product_id,
            available: Quantity::new(current.available).unwrap_or(Quantity::ZERO),
        }))
    }

    /// The guarded stock update of `action` for one line of `order`.
    async fn apply_line(
        &self,
        order: &str,
        action: ReservationAction,
        line: &ReservationLine,
        at: &str,
    ) -> Result<bool, StoreError> {
        let product = line.product_id.to_string();
        let n = line.quantity.value();
        let completed = doc! {"$each": [order], "$slice": -COMPLETED_KEPT};
        let (filter, update) = match action {
            ReservationAction::Commit => (
                doc! {"product_id": &product, "held": order},
                doc! {
                    "$inc": {"on_hand": -n, "reserved": -n},
                    "$pull": {"held": order},
                    "$push": {"done": completed},
                    "$set": {"updated_at": at},
                },
            ),
            ReservationAction::Release => (
                doc! {"product_id": &product, "held": order},
                doc! {
                    "$inc": {"reserved": -n, "available": n},
                    "$pull": {"held": order},
                    "$push": {"done": completed},
                    "$set": {"updated_at": at},
                },
            ),
            ReservationAction::Restock => (
                doc! {"product_id": &product, "restocked": {"$nin": [order]}},
                doc! {
                    "$inc": {"on_hand": n, "available": n},
                    "$push": {"restocked": completed},
                    "$set": {"updated_at": at},
                },
            ),
        };
        self.update_stock(filter, update, || {
            format!("{action} of product {product} for order {order}")
        })
        .await
    }

    /// One round of [`StockReservations::reserve`]: `None` when an overlapping call
    /// for the same order forgot the reservation meanwhile (go again).
    async fn reserve_once(
        &self,
        order_id: OrderId,
        lines: &ReservationLines,
        at: DateTime<Utc>,
    ) -> Result<Option<Reservation>, ReservationError> {
        let document = ReservationDocument::new(order_id, lines, at);
        let order = document.order_id.clone();
        let stored_at = document.updated_at.clone();
        match self.reservations.insert_one(&document).await {
            Ok(_) => {}
            Err(err) if is_duplicate_key(&err) => {
                let Some(existing) = self.find(order_id).await? else {
                    return Ok(None);
                };
                if existing.lines != *lines {
                    return Err(ReservationError::LinesDiffer(order_id));
                }
                if existing.status != ReservationStatus::Reserved {
                    return Ok(Some(existing));
                }
                // Reserved: a retry finishes holding whatever a crash left undone.
            }
            Err(err) => {
                return Err(store_error(
                    err,
                    format!("recording the stock reservation of order {order_id}"),
                )
                .into());
            }
        }
        for line in lines.lines() {
            if let Err(refusal) = self.hold(&order, line, &stored_at).await? {
                self.undo(&order, lines).await?;
                return Err(refusal);
            }
        }
        Ok(self.find(order_id).await?)
    }

    /// Undoes the holds of a reservation that could not be completed, and forgets it,
    /// so the same order may try again later.
    async fn undo(&self, order: &str, lines: &ReservationLines) -> Result<(), StoreError> {
        for line in lines.lines() {
            let product = line.product_id.to_string();
            let n = line.quantity.value();
            self.update_stock(
                doc! {"product_id": &product, "held": order},
                doc! {"$inc": {"reserved": -n, "available": n}, "$pull": {"held": order}},
                || format!("undoing the hold of product {product} for order {order}"),
            )
            .await?;
        }
        self.reservations
            .delete_one(doc! {"order_id": order, "status": ReservationStatus::Reserved.as_str()})
            .await
            .map_err(|err| store_error(err, format!("forgetting the reservation of {order}")))?;
        Ok(())
    }
}

#[async_trait]
impl StockReservations for MongoStockReservations {
    async fn reserve(
        &self,
        order_id: OrderId,
        lines: &ReservationLines,
        at: DateTime<Utc>,
    ) -> Result<Reservation, ReservationError> {
        // Two calls for one order may overlap (a client retrying after a timeout,
        // through another replica): one refused for stock undoes the holds of both
        // and forgets the reservation, and the other finds it gone. That one then
        // starts over, and ends as the stock allows now.
        for _ in 0..RESERVE_ROUNDS {
            if let Some(reservation) = self.reserve_once(order_id, lines, at).await? {
                return Ok(reservation);
            }
        }
        Err(anyhow::anyhow!(
            "the reservation of order {order_id} kept being undone by overlapping calls"
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
        let order = order_id.to_string();
        let stored_at = to_stored_time(at);
        let mut update =
            doc! {"$set": {"status": action.to_status().as_str(), "updated_at": &stored_at}};
        if let Some(processed) = processed {
            update.insert("$push", doc! {"processed": processed_record(&processed)});
        }
        let moved = self
            .reservations
            .find_one_and_update(
                doc! {"order_id": &order, "status": action.from_status().as_str()},
                update,
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(|err| {
                store_error(
                    err,
                    format!("moving the stock reservation of order {order}"),
                )
            })?;
        let reservation = match moved {
            Some(document) => document.into_domain()?,
            None => {
                let Some(current) = self.find(order_id).await? else {
                    return Err(ReservationError::NotFound(order_id));
                };
                match action.outcome(current.status) {
                    // Finish what a crash may have left: the updates are guarded.
                    ActionOutcome::AlreadyDone => current,
                    ActionOutcome::Refused | ActionOutcome::Apply(_) => {
                        return Err(ReservationError::InvalidTransition {
                            action,
                            status: current.status,
                        });
                    }
                }
            }
        };
        for line in reservation.lines.lines() {
            self.apply_line(&order, action, line, &stored_at).await?;
        }
        Ok(reservation)
    }

    async fn get(&self, order_id: OrderId) -> Result<Option<Reservation>, ReservationError> {
        Ok(self.find(order_id).await?)
    }

    async fn processed(&self, event: &ProcessedEvent) -> Result<bool, ReservationError> {
        let found = self
            .reservations
            .find_one(doc! {"processed": processed_record(event)})
            .await
            .map_err(|err| {
                store_error(
                    err,
                    format!("looking up processed event {}", event.event_id),
                )
            })?;
        Ok(found.is_some())
    }
}

/// A processed-event record as `processed` stores it: `consumer:event`.
fn processed_record(event: &ProcessedEvent) -> String {
    format!("{}:{}", event.consumer, event.event_id)
}
