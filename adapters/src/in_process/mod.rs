//! In-process adapters: the system clock, uuid v7 ids, the calls between catalog
//! and inventory answered by this process's own repositories, and the event bus of
//! the all-in-one server.

mod bus;
mod live;
mod mock_provider;

pub use bus::InProcessEventBus;
pub use live::{InProcessStreamTickets, LIVE_BUFFER, LiveHub, new_ticket};
pub use mock_provider::MockPaymentProvider;

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::catalog::{
    CatalogError, Product, ProductCatalog, ProductId, ProductRepository, ProductStock,
    ProductStockError, StockRemoval,
};
use emporium_domain::inventory::{InventoryRepository, InventoryRepositoryError};
use emporium_domain::{Clock, IdGenerator};
use uuid::Uuid;

/// The [`Clock`] of the operating system.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// The current time, truncated to whole microseconds: the precision every store
    /// keeps, so what a write answers is exactly what later reads return.
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        let micros = now.timestamp_micros();
        DateTime::from_timestamp_micros(micros).unwrap_or(now)
    }
}

/// An [`IdGenerator`] of uuid v7 ids: time-ordered, so ids made later in this process
/// sort after earlier ones (uuid's shared v7 context keeps them strictly increasing even
/// within one millisecond), which keeps database indexes append-mostly.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Generator;

impl IdGenerator for UuidV7Generator {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// The [`ProductCatalog`] of the all-in-one server: asks the product repository
/// directly. Any repository failure makes the catalog
/// [`Unavailable`](CatalogError::Unavailable).
#[derive(Clone)]
pub struct InProcessProductCatalog {
    products: Arc<dyn ProductRepository>,
}

impl InProcessProductCatalog {
    /// A catalog backed by `products`.
    pub fn new(products: Arc<dyn ProductRepository>) -> Self {
        Self { products }
    }
}

impl std::fmt::Debug for InProcessProductCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessProductCatalog")
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl ProductCatalog for InProcessProductCatalog {
    async fn find_product(&self, id: ProductId) -> Result<Option<Product>, CatalogError> {
        self.products
            .get(id)
            .await
            .with_context(|| format!("reading product {id} from the product repository"))
            .map_err(CatalogError::Unavailable)
    }
}

/// The [`ProductStock`] of the all-in-one server: asks the inventory repository
/// directly. Any repository failure makes inventory
/// [`Unavailable`](ProductStockError::Unavailable).
#[derive(Clone)]
pub struct InProcessProductStock {
    inventory: Arc<dyn InventoryRepository>,
}

impl InProcessProductStock {
    /// Stock removal backed by `inventory`.
    pub fn new(inventory: Arc<dyn InventoryRepository>) -> Self {
        Self { inventory }
    }
}

impl std::fmt::Debug for InProcessProductStock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessProductStock")
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl ProductStock for InProcessProductStock {
    async fn remove(&self, id: ProductId) -> Result<StockRemoval, ProductStockError> {
        match self.inventory.delete(id).await {
            Ok(()) => Ok(StockRemoval::Removed),
            Err(InventoryRepositoryError::NotFound(_)) => Ok(StockRemoval::NoRecord),
            Err(InventoryRepositoryError::Reserved { reserved }) => {
                Ok(StockRemoval::Reserved(reserved))
            }
            Err(error) => Err(ProductStockError::Unavailable(
                anyhow::Error::new(error)
                    .context(format!("deleting the stock record of product {id}")),
            )),
        }
    }
}
