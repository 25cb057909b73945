//! The inventory repository and stock reservations on MongoDB (official `mongodb`
//! driver). Reservations: see [`MongoStockReservations`].
//!
//! One document per product in the `inventory` collection:
//!
//! ```json
//! {"product_id": "<uuid>", "on_hand": 20, "reserved": 4, "available": 16,
//!  "updated_at": "2026-01-01T08:30:00.456789Z"}
//! ```
//!
//! `available` (`on_hand - reserved`) is kept in the document so that every change is
//! one conditional `$inc` on a single document (`find_one_and_update`), guarded by the
//! filter; nothing is read, modified and written back, and no multi-document
//! transaction is needed. Whoever changes `on_hand` or `reserved` must `$inc`
//! `available` by the same amount in the same update.
//!
//! `updated_at` is RFC 3339 text in UTC with exactly six fractional digits: it keeps
//! the microseconds the SQL stores keep, and sorts in time order. It is not a BSON date
//! because the wire-compatible test server (`nx-27017` 0.8.1) stores a date given to
//! `$set` in an update as a string, and `$max` does not compare dates; plain strings
//! behave the same everywhere.

mod reservation;

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{
    InventoryItem, InventoryRepository, InventoryRepositoryError, Quantity, QuantityDelta,
};
use emporium_domain::{Page, PageRequest};

use crate::stock_adjustment::{adjust_stock, delete_stock};
use crate::store_error::StoreError;
use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use reservation::{COMPLETED_KEPT, MongoStockReservations};

/// How long the driver looks for a usable server (and waits to connect) before an
/// operation fails: short, so a down server fails fast.
const SERVER_TIMEOUT: Duration = Duration::from_secs(2);
/// The MongoDB error code of a duplicate key.
const DUPLICATE_KEY: i32 = 11000;
/// Server error codes that mean "not reachable now": host unreachable or not found,
/// network timeout, shutting down, not primary, stepped down, and the like.
const UNAVAILABLE_CODES: &[i32] = &[6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436];

/// Whether `err` means MongoDB cannot be reached now (no server selected, a network
/// error, a cleared pool, a server shutting down or overloaded).
fn is_unavailable(err: &mongodb::error::Error) -> bool {
    let kind = match err.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. } => true,
        ErrorKind::Command(command) => UNAVAILABLE_CODES.contains(&command.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => {
            UNAVAILABLE_CODES.contains(&concern.code)
        }
        _ => false,
    };
    kind || err.contains_label(mongodb::error::SYSTEM_OVERLOADED_ERROR)
}

/// `err` classified for the port (see [`StoreError`]).
fn store_error(
    err: mongodb::error::Error,
    context: impl std::fmt::Display + Send + Sync + 'static,
) -> StoreError {
    StoreError::classify(err, "MongoDB", is_unavailable, context)
}

/// A stock record as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StockDocument {
    product_id: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
    updated_at: String,
}

impl StockDocument {
    fn from_domain(item: &InventoryItem) -> Self {
        Self {
            product_id: item.product_id().to_string(),
            on_hand: item.on_hand().value(),
            reserved: item.reserved().value(),
            available: item.available().value(),
            updated_at: to_stored_time(item.updated_at()),
        }
    }

    fn into_domain(self) -> anyhow::Result<InventoryItem> {
        let id = self.product_id;
        let convert = || -> anyhow::Result<InventoryItem> {
            let product_id = Uuid::parse_str(&id).context("stored product_id is not a UUID")?;
            let on_hand = Quantity::new(self.on_hand).context("stored on_hand is out of range")?;
            let reserved =
                Quantity::new(self.reserved).context("stored reserved is out of range")?;
            let updated_at = DateTime::parse_from_rfc3339(&self.updated_at)
                .with_context(|| {
                    format!("stored updated_at {:?} is not RFC 3339", self.updated_at)
                })?
                .with_timezone(&Utc);
            let item = InventoryItem::new(ProductId(product_id), on_hand, reserved, updated_at)
                .context("stored stock record is inconsistent")?;
            anyhow::ensure!(
                item.available().value() == self.available,
                "stored available ({}) is not on_hand - reserved",
                self.available
            );
            Ok(item)
        };
        convert().with_context(|| format!("reading the stock record of product {id}"))
    }
}

/// `t` as stored: RFC 3339 in UTC, truncated to the microsecond.
fn to_stored_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Stores stock records in a MongoDB collection (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct MongoInventoryRepository {
    database: Database,
    collection: Collection<StockDocument>,
}

impl MongoInventoryRepository {
    /// The collection holding the stock records.
    pub const COLLECTION: &'static str = "inventory";

    /// Connects to the server at `url` (a `mongodb://` connection string), uses the
    /// database `database` and makes sure the unique index on `product_id` exists.
    /// Fails within a few seconds when no server answers.
    pub async fn connect(url: &str, database: &str) -> anyhow::Result<Self> {
        let mut options = ClientOptions::parse(url)
            .await
            .context("parsing the MongoDB connection string")?;
        options.server_selection_timeout = Some(SERVER_TIMEOUT);
        options.connect_timeout = Some(SERVER_TIMEOUT);
        if options.app_name.is_none() {
            options.app_name = Some("emporium".to_owned());
        }
        let client = Client::with_options(options).context("configuring the MongoDB client")?;
        Self::with_database(client.database(database)).await
    }

    /// Uses `database` of an existing client (sharing its connection pool) and makes
    /// sure the unique index on `product_id` exists.
    pub async fn with_database(database: Database) -> anyhow::Result<Self> {
        let collection = database.collection::<StockDocument>(Self::COLLECTION);
        let index = IndexModel::builder()
            .keys(doc! {"product_id": 1})
            .options(
                IndexOptions::builder()
                    .unique(true)
                    .name("product_id_unique".to_owned())
                    .build(),
            )
            .build();
        collection.create_index(index).await.with_context(|| {
            format!(
                "creating the unique index on {}.{}.product_id",
                database.name(),
                Self::COLLECTION
            )
        })?;
        Ok(Self {
            database,
            collection,
        })
    }

    /// The database holding the stock records (to share its client with
    /// [`MongoStockReservations::with_database`]).
    pub fn database(&self) -> Database {
        self.database.clone()
    }

    /// The name of the collection holding the stock records.
    pub fn collection_name() -> &'static str {
        Self::COLLECTION
    }

    /// The conditional `$inc`; `None` when no document matched the guard.
    async fn try_adjust(
        &self,
        product_id: ProductId,
        delta: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<InventoryItem>, StoreError> {
        let filter = if delta < 0 {
            doc! {"product_id": product_id.to_string(), "available": {"$gte": -delta}}
        } else {
            doc! {"product_id": product_id.to_string(), "on_hand": {"$lte": Quantity::MAX - delta}}
        };
        let update = doc! {
            "$inc": {"on_hand": delta, "available": delta},
            "$set": {"updated_at": to_stored_time(at)},
        };
        let updated = self
            .collection
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(|err| store_error(err, "running the conditional stock update"))?;
        Ok(updated.map(StockDocument::into_domain).transpose()?)
    }

    /// Deletes the record if nothing of it is reserved; whether a document went.
    async fn try_delete(&self, product_id: ProductId) -> Result<bool, StoreError> {
        let result = self
            .collection
            .delete_one(doc! {"product_id": product_id.to_string(), "reserved": 0})
            .await
            .map_err(|err| {
                store_error(
                    err,
                    format!("deleting the stock record of product {product_id}"),
                )
            })?;
        Ok(result.deleted_count > 0)
    }
}

/// Whether `err` is a duplicate-key error (code 11000). The message differs between
/// servers, so only the code is compared.
fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        ErrorKind::Command(e) => e.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(e) => e
            .write_errors
            .iter()
            .flatten()
            .any(|e| e.code == DUPLICATE_KEY),
        _ => false,
    }
}

#[async_trait]
impl InventoryRepository for MongoInventoryRepository {
    async fn create(&self, item: &InventoryItem) -> Result<(), InventoryRepositoryError> {
        match self
            .collection
            .insert_one(StockDocument::from_domain(item))
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if is_duplicate_key(&err) => {
                Err(InventoryRepositoryError::AlreadyExists(item.product_id()))
            }
            Err(err) => Err(store_error(
                err,
                format!("creating the stock record of product {}", item.product_id()),
            )
            .into()),
        }
    }

    async fn get(
        &self,
        product_id: ProductId,
    ) -> Result<Option<InventoryItem>, InventoryRepositoryError> {
        let found = self
            .collection
            .find_one(doc! {"product_id": product_id.to_string()})
            .await
            .map_err(|err| {
                store_error(
                    err,
                    format!("loading the stock record of product {product_id}"),
                )
            })?;
        Ok(found.map(StockDocument::into_domain).transpose()?)
    }

    async fn list(
        &self,
        page: PageRequest,
    ) -> Result<Page<InventoryItem>, InventoryRepositoryError> {
        let total = self
            .collection
            .count_documents(doc! {})
            .await
            .map_err(|err| store_error(err, "counting stock records"))?;
        let documents: Vec<StockDocument> = self
            .collection
            .find(doc! {})
            .sort(doc! {"product_id": 1})
            .skip(page.offset())
            .limit(i64::from(page.size()))
            .await
            .map_err(|err| store_error(err, "listing stock records"))?
            .try_collect()
            .await
            .map_err(|err| store_error(err, "reading the listed stock records"))?;
        let items = documents
            .into_iter()
            .map(StockDocument::into_domain)
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn adjust(
        &self,
        product_id: ProductId,
        delta: QuantityDelta,
        at: DateTime<Utc>,
    ) -> Result<InventoryItem, InventoryRepositoryError> {
        adjust_stock(
            product_id,
            delta,
            at,
            move || async move { Ok(self.try_adjust(product_id, delta.value(), at).await?) },
            move || self.get(product_id),
        )
        .await
    }

    async fn delete(&self, product_id: ProductId) -> Result<(), InventoryRepositoryError> {
        delete_stock(
            product_id,
            move || async move { Ok(self.try_delete(product_id).await?) },
            move || self.get(product_id),
        )
        .await
    }

    async fn ping(&self) -> Result<(), InventoryRepositoryError> {
        self.database
            .run_command(doc! {"ping": 1})
            .await
            .map_err(|err| store_error(err, "pinging MongoDB"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone, Utc};

    use super::to_stored_time;

    #[test]
    fn stored_times_have_fixed_width_microseconds() {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 8, 30, 0).unwrap();
        assert_eq!(to_stored_time(t), "2026-01-01T08:30:00.000000Z");
        let t = t + TimeDelta::nanoseconds(456_789_999);
        assert_eq!(to_stored_time(t), "2026-01-01T08:30:00.456789Z");
    }
}
