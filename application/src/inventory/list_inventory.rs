use std::sync::Arc;

use emporium_domain::inventory::{InventoryItem, InventoryRepository};
use emporium_domain::{Page, PageRequest};

use crate::failure::{Failure, UseCaseError};

/// Lists stock records by product id, paged. Public.
pub struct ListInventory {
    inventory: Arc<dyn InventoryRepository>,
}

/// Failures of [`ListInventory`].
#[derive(Debug, thiserror::Error)]
pub enum ListInventoryError {
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for ListInventoryError {
    fn failure(&self) -> Failure {
        match self {
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl ListInventory {
    /// The use case over its port.
    pub fn new(inventory: Arc<dyn InventoryRepository>) -> Self {
        Self { inventory }
    }

    /// One page of stock records.
    pub async fn execute(
        &self,
        page: PageRequest,
    ) -> Result<Page<InventoryItem>, ListInventoryError> {
        Ok(self
            .inventory
            .list(page)
            .await
            .map_err(|e| anyhow::Error::new(e).context("listing stock records"))?)
    }
}
