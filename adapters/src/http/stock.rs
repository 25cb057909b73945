//! The stock lookup over HTTP: `GET /v1/inventory/{product_id}`.

use anyhow::Context;
use async_trait::async_trait;
use emporium_domain::catalog::{ProductId, StockLookup, StockLookupError};
use emporium_domain::inventory::Quantity;
use serde::Deserialize;

use super::HttpClientConfig;
use super::client::{ServiceClient, check_identity, parse_document};

/// A [`StockLookup`] that asks the inventory service over HTTP.
///
/// `200` → `data.attributes.reserved`, `404` → `None` (no stock record), anything else
/// (after retries where allowed, see [the module](super)) or a body that is not a valid
/// `inventory` resource → [`StockLookupError::Unavailable`].
pub struct HttpStockLookup {
    client: ServiceClient,
}

impl HttpStockLookup {
    /// Validates `config` and builds the (pooled) client.
    pub fn new(config: HttpClientConfig) -> anyhow::Result<Self> {
        let client = ServiceClient::new(&config).context("configuring the inventory client")?;
        Ok(Self { client })
    }
}

impl std::fmt::Debug for HttpStockLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStockLookup").finish_non_exhaustive()
    }
}

impl HttpStockLookup {
    async fn lookup(&self, id: ProductId) -> anyhow::Result<Option<Quantity>> {
        let Some(body) = self.client.get(&format!("/v1/inventory/{id}")).await? else {
            return Ok(None);
        };
        let resource: InventoryResource = parse_document(&body)?;
        check_identity(&resource.kind, &resource.id, "inventory", id.0)?;
        let reserved =
            Quantity::new(resource.attributes.reserved).context("attribute `reserved`")?;
        Ok(Some(reserved))
    }
}

#[async_trait]
impl StockLookup for HttpStockLookup {
    async fn reserved_quantity(&self, id: ProductId) -> Result<Option<Quantity>, StockLookupError> {
        self.lookup(id)
            .await
            .with_context(|| {
                format!("looking up the stock of product {id} in the inventory service")
            })
            .map_err(StockLookupError::Unavailable)
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
