//! The parts of `InventoryRepository::adjust` and `delete` every store shares: run
//! the store's one conditional atomic statement, and when it matches nothing, read the
//! record once to tell `NotFound` from the refusal (`InsufficientStock`, `Overflow`,
//! `Reserved`) by the domain's own rules.
//!
//! If that read shows the change would now succeed, a concurrent change made room
//! between the statement and the read; the statement is tried again, at most
//! [`ADJUST_ATTEMPTS`] times in all.

use chrono::{DateTime, Utc};
use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{
    InventoryItem, InventoryRepositoryError, Quantity, QuantityDelta, StockError,
};

/// How often a conditional update is tried when concurrent changes keep moving stock.
pub(crate) const ADJUST_ATTEMPTS: usize = 3;

/// Adjusts stock with `try_update` (the store's conditional atomic update: `Some` when
/// it applied) and `read` (the current record), as described in the module docs.
pub(crate) async fn adjust_stock<Update, UpdateFuture, Read, ReadFuture>(
    product_id: ProductId,
    delta: QuantityDelta,
    at: DateTime<Utc>,
    mut try_update: Update,
    mut read: Read,
) -> Result<InventoryItem, InventoryRepositoryError>
where
    Update: FnMut() -> UpdateFuture,
    UpdateFuture: Future<Output = Result<Option<InventoryItem>, InventoryRepositoryError>>,
    Read: FnMut() -> ReadFuture,
    ReadFuture: Future<Output = Result<Option<InventoryItem>, InventoryRepositoryError>>,
{
    for _ in 0..ADJUST_ATTEMPTS {
        if let Some(item) = try_update().await? {
            return Ok(item);
        }
        let Some(current) = read().await? else {
            return Err(InventoryRepositoryError::NotFound(product_id));
        };
        match current.adjusted(delta, at) {
            Err(StockError::Overflow) => return Err(InventoryRepositoryError::Overflow),
            Err(_) => {
                return Err(InventoryRepositoryError::InsufficientStock {
                    available: current.available(),
                });
            }
            // A concurrent change made room between the update and the read.
            Ok(_) => continue,
        }
    }
    Err(
        anyhow::anyhow!("stock of product {product_id} kept changing; adjustment not applied")
            .into(),
    )
}

/// Deletes a record with `try_delete` (the store's conditional delete, refused while
/// units are reserved: `true` when a record went) and `read`, as described in the
/// module docs.
pub(crate) async fn delete_stock<Delete, DeleteFuture, Read, ReadFuture>(
    product_id: ProductId,
    mut try_delete: Delete,
    mut read: Read,
) -> Result<(), InventoryRepositoryError>
where
    Delete: FnMut() -> DeleteFuture,
    DeleteFuture: Future<Output = Result<bool, InventoryRepositoryError>>,
    Read: FnMut() -> ReadFuture,
    ReadFuture: Future<Output = Result<Option<InventoryItem>, InventoryRepositoryError>>,
{
    for _ in 0..ADJUST_ATTEMPTS {
        if try_delete().await? {
            return Ok(());
        }
        let Some(current) = read().await? else {
            return Err(InventoryRepositoryError::NotFound(product_id));
        };
        if current.reserved() > Quantity::ZERO {
            return Err(InventoryRepositoryError::Reserved {
                reserved: current.reserved(),
            });
        }
        // The reservation was released between the delete and the read.
    }
    Err(
        anyhow::anyhow!("reservations of product {product_id} kept changing; record not deleted")
            .into(),
    )
}
