//! The catalog's calls to inventory over HTTP: `DELETE /v1/inventory/{product_id}`
//! before a product is deleted.

use anyhow::Context;
use async_trait::async_trait;
use emporium_domain::catalog::{ProductId, ProductStock, ProductStockError, StockRemoval};
use emporium_domain::inventory::Quantity;
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use super::HttpClientConfig;
use super::client::{ServiceClient, check_identity, parse_document};

/// A [`ProductStock`] that asks the inventory service over HTTP.
///
/// `204` → [`StockRemoval::Removed`], `404` → [`StockRemoval::NoRecord`], `409` (units
/// reserved) → [`StockRemoval::Reserved`] with the quantity read back from
/// `GET /v1/inventory/{id}`; anything else (after retries where allowed, see [the
/// module](super)) → [`ProductStockError::Unavailable`]. `DELETE` is idempotent, so a
/// retried call whose first attempt did delete answers 404: still "gone".
pub struct HttpProductStock {
    client: ServiceClient,
}

impl HttpProductStock {
    /// Validates `config` and builds the (pooled) client.
    pub fn new(config: HttpClientConfig) -> anyhow::Result<Self> {
        let client = ServiceClient::new(&config).context("configuring the inventory client")?;
        Ok(Self { client })
    }
}

impl std::fmt::Debug for HttpProductStock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpProductStock").finish_non_exhaustive()
    }
}

impl HttpProductStock {
    async fn try_remove(&self, id: ProductId) -> anyhow::Result<StockRemoval> {
        let path = format!("/v1/inventory/{id}");
        let (status, _) = self
            .client
            .call(
                Method::DELETE,
                &path,
                &[
                    StatusCode::NO_CONTENT,
                    StatusCode::NOT_FOUND,
                    StatusCode::CONFLICT,
                ],
            )
            .await?;
        Ok(match status {
            StatusCode::NO_CONTENT => StockRemoval::Removed,
            StatusCode::NOT_FOUND => StockRemoval::NoRecord,
            _ => StockRemoval::Reserved(self.reserved(id, &path).await?),
        })
    }

    /// The reserved quantity of a record the service refused to delete.
    async fn reserved(&self, id: ProductId, path: &str) -> anyhow::Result<Quantity> {
        let body = self
            .client
            .get(path)
            .await?
            .context("the stock record refused for deletion is gone")?;
        let resource: InventoryResource = parse_document(&body)?;
        check_identity(&resource.kind, &resource.id, "inventory", id.0)?;
        Quantity::new(resource.attributes.reserved).context("attribute `reserved`")
    }
}

#[async_trait]
impl ProductStock for HttpProductStock {
    async fn remove(&self, id: ProductId) -> Result<StockRemoval, ProductStockError> {
        self.try_remove(id)
            .await
            .with_context(|| {
                format!("removing the stock record of product {id} in the inventory service")
            })
            .map_err(ProductStockError::Unavailable)
    }
}

/// An `inventory` resource object; only what the lookup needs.
#[derive(Debug, Deserialize)]
struct InventoryResource {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    attributes: InventoryAttributes,
}

#[derive(Debug, Deserialize)]
struct InventoryAttributes {
    reserved: i64,
}
