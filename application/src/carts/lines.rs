//! Changing the lines of the caller's own cart.

use emporium_domain::catalog::ProductId;
use emporium_domain::orders::{Added, CartError, LineQuantity, PricedLine};
use emporium_domain::{AccessDenied, Actor};

use super::change::{ChangeFailure, change_cart};
use super::{CartPorts, CartView};
use crate::failure::{Failure, UseCaseError, catalog_unavailable};

/// Adds units of a product to the caller's cart, snapshotting its name, SKU and
/// price now. A product that does not exist or is not active is refused. Adding to a
/// line that exists sums the units (at most 99) and refreshes the snapshot.
pub struct AddToCart {
    ports: CartPorts,
}

/// Failures of [`AddToCart`].
#[derive(Debug, thiserror::Error)]
pub enum AddToCartError {
    /// Only signed-in users have carts.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such product, or it is not for sale.
    #[error("Product {0} is not available.")]
    ProductUnavailable(ProductId),
    /// The line would hold more than 99 units.
    #[error("A cart line holds at most 99 units; this would make {requested}.")]
    TooManyUnits {
        /// The units the line would hold.
        requested: i64,
    },
    /// The cart already holds 50 lines.
    #[error("A cart holds at most 50 lines.")]
    CartFull,
    /// Other requests kept changing the cart at the same moment; try again.
    #[error("The cart is being changed by other requests; try again.")]
    Busy,
    /// Storage or the catalog failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for AddToCartError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::ProductUnavailable(_) => {
                Failure::invalid("product_unavailable").on_reference("product")
            }
            Self::TooManyUnits { .. } => Failure::invalid("too_many_units").on_value("quantity"),
            Self::CartFull => Failure::conflict("cart_full"),
            Self::Busy => Failure::conflict("cart_busy"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl AddToCart {
    /// The use case over its ports.
    pub fn new(ports: CartPorts) -> Self {
        Self { ports }
    }

    /// Adds `quantity` units of `product_id`; whether a new line was made, and the
    /// cart after the change.
    #[tracing::instrument(name = "add_to_cart", skip_all, fields(product_id = %product_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        product_id: ProductId,
        quantity: LineQuantity,
    ) -> Result<(Added, CartView), AddToCartError> {
        let owner = actor.ensure_user()?;
        let product = self
            .ports
            .catalog
            .find_product(product_id)
            .await
            .map_err(catalog_unavailable)?
            .filter(|product| product.active)
            .ok_or(AddToCartError::ProductUnavailable(product_id))?;
        let line = PricedLine::snapshot(product, quantity);
        let now = self.ports.clock.now();
        change_cart(&self.ports, owner, |cart| cart.add(line.clone(), now))
            .await
            .map_err(|failure| match failure {
                ChangeFailure::Refused(CartError::TooManyUnits { requested }) => {
                    AddToCartError::TooManyUnits { requested }
                }
                ChangeFailure::Refused(CartError::TooManyLines) => AddToCartError::CartFull,
                ChangeFailure::Refused(other) => anyhow::Error::new(other).into(),
                ChangeFailure::Busy => AddToCartError::Busy,
                ChangeFailure::Store(error) => error.into(),
            })
    }
}

/// Sets the units of a line of the caller's cart (1 to 99). The snapshot is kept.
pub struct SetCartQuantity {
    ports: CartPorts,
}

/// Failures of [`SetCartQuantity`].
#[derive(Debug, thiserror::Error)]
pub enum SetCartQuantityError {
    /// Only signed-in users have carts.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The product is not in the cart.
    #[error("Product {0} is not in the cart.")]
    NotInCart(ProductId),
    /// Other requests kept changing the cart at the same moment; try again.
    #[error("The cart is being changed by other requests; try again.")]
    Busy,
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for SetCartQuantityError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotInCart(_) => Failure::not_found(),
            Self::Busy => Failure::conflict("cart_busy"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl SetCartQuantity {
    /// The use case over its ports.
    pub fn new(ports: CartPorts) -> Self {
        Self { ports }
    }

    /// Sets the line of `product_id` to `quantity` units; the cart after.
    pub async fn execute(
        &self,
        actor: &Actor,
        product_id: ProductId,
        quantity: LineQuantity,
    ) -> Result<CartView, SetCartQuantityError> {
        let owner = actor.ensure_user()?;
        let now = self.ports.clock.now();
        change_cart(&self.ports, owner, |cart| {
            cart.set_quantity(product_id, quantity, now)
        })
        .await
        .map(|((), view)| view)
        .map_err(|failure| match failure {
            ChangeFailure::Refused(CartError::NoSuchLine(id)) => {
                SetCartQuantityError::NotInCart(id)
            }
            ChangeFailure::Busy => SetCartQuantityError::Busy,
            ChangeFailure::Refused(other) => anyhow::Error::new(other).into(),
            ChangeFailure::Store(error) => error.into(),
        })
    }
}

/// Removes a line from the caller's cart.
pub struct RemoveFromCart {
    ports: CartPorts,
}

/// Failures of [`RemoveFromCart`].
#[derive(Debug, thiserror::Error)]
pub enum RemoveFromCartError {
    /// Only signed-in users have carts.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The product is not in the cart.
    #[error("Product {0} is not in the cart.")]
    NotInCart(ProductId),
    /// Other requests kept changing the cart at the same moment; try again.
    #[error("The cart is being changed by other requests; try again.")]
    Busy,
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for RemoveFromCartError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotInCart(_) => Failure::not_found(),
            Self::Busy => Failure::conflict("cart_busy"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl RemoveFromCart {
    /// The use case over its ports.
    pub fn new(ports: CartPorts) -> Self {
        Self { ports }
    }

    /// Removes the line of `product_id`; the cart after.
    pub async fn execute(
        &self,
        actor: &Actor,
        product_id: ProductId,
    ) -> Result<CartView, RemoveFromCartError> {
        let owner = actor.ensure_user()?;
        let now = self.ports.clock.now();
        change_cart(&self.ports, owner, |cart| cart.remove(product_id, now))
            .await
            .map(|((), view)| view)
            .map_err(|failure| match failure {
                ChangeFailure::Refused(CartError::NoSuchLine(id)) => {
                    RemoveFromCartError::NotInCart(id)
                }
                ChangeFailure::Busy => RemoveFromCartError::Busy,
                ChangeFailure::Refused(other) => anyhow::Error::new(other).into(),
                ChangeFailure::Store(error) => error.into(),
            })
    }
}

/// Empties the caller's cart.
pub struct ClearCart {
    ports: CartPorts,
}

/// Failures of [`ClearCart`].
#[derive(Debug, thiserror::Error)]
pub enum ClearCartError {
    /// Only signed-in users have carts.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for ClearCartError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl ClearCart {
    /// The use case over its ports.
    pub fn new(ports: CartPorts) -> Self {
        Self { ports }
    }

    /// Removes every line (the stored cart goes).
    pub async fn execute(&self, actor: &Actor) -> Result<(), ClearCartError> {
        let owner = actor.ensure_user()?;
        self.ports
            .carts
            .delete(owner)
            .await
            .map_err(|error| anyhow::Error::new(error).context("clearing the cart"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use emporium_domain::catalog::{CatalogError, MockProductCatalog};
    use emporium_domain::orders::{Cart, CartStoreError, MockCartStore};

    use super::*;
    use crate::carts::test_support::*;

    fn ports(carts: MockCartStore, catalog: MockProductCatalog) -> CartPorts {
        CartPorts {
            carts: Arc::new(carts),
            catalog: Arc::new(catalog),
            clock: clock(),
            currency: Default::default(),
        }
    }

    fn catalog_with(active: bool) -> MockProductCatalog {
        let mut catalog = MockProductCatalog::new();
        catalog.expect_find_product().returning(move |_| {
            let mut product = product();
            product.active = active;
            Ok(Some(product))
        });
        catalog
    }

    #[tokio::test]
    async fn adding_snapshots_the_catalog_price_and_retries_a_stale_save() {
        let mut carts = MockCartStore::new();
        carts.expect_get().returning(|_| Ok(None));
        let mut attempts = 0;
        carts.expect_save().times(2).returning(move |cart| {
            attempts += 1;
            if attempts == 1 {
                Err(CartStoreError::Changed)
            } else {
                Ok(
                    Cart::from_parts(cart.owner(), cart.lines().to_vec(), cart.updated_at(), 1)
                        .unwrap(),
                )
            }
        });
        let uc = AddToCart::new(ports(carts, catalog_with(true)));
        let (added, view) = uc
            .execute(&customer(), product().id, LineQuantity::new(2).unwrap())
            .await
            .unwrap();
        assert_eq!(added, Added::NewLine);
        assert_eq!(view.cart.lines()[0].unit_price, product().price);
        assert_eq!(view.cart.lines()[0].sku, product().sku);
        assert_eq!(view.cart.version(), 1);
    }

    #[tokio::test]
    async fn inactive_and_unknown_products_are_refused() {
        let uc = AddToCart::new(ports(MockCartStore::new(), catalog_with(false)));
        let refused = uc
            .execute(&customer(), product().id, LineQuantity::new(1).unwrap())
            .await;
        assert!(matches!(
            refused,
            Err(AddToCartError::ProductUnavailable(_))
        ));

        let mut catalog = MockProductCatalog::new();
        catalog.expect_find_product().returning(|_| Ok(None));
        let uc = AddToCart::new(ports(MockCartStore::new(), catalog));
        let refused = uc
            .execute(&customer(), product().id, LineQuantity::new(1).unwrap())
            .await;
        assert!(matches!(
            refused,
            Err(AddToCartError::ProductUnavailable(_))
        ));
    }

    #[tokio::test]
    async fn a_catalog_that_cannot_be_asked_is_unavailable() {
        let mut catalog = MockProductCatalog::new();
        catalog
            .expect_find_product()
            .returning(|_| Err(CatalogError::Unavailable(anyhow::anyhow!("down"))));
        let uc = AddToCart::new(ports(MockCartStore::new(), catalog));
        let error = uc
            .execute(&customer(), product().id, LineQuantity::new(1).unwrap())
            .await
            .unwrap_err();
        assert_eq!(error.failure(), Failure::unavailable());
    }

    #[tokio::test]
    async fn anonymous_callers_have_no_cart() {
        let uc = AddToCart::new(ports(MockCartStore::new(), MockProductCatalog::new()));
        let refused = uc
            .execute(
                &Actor::Anonymous,
                product().id,
                LineQuantity::new(1).unwrap(),
            )
            .await;
        assert!(matches!(
            refused,
            Err(AddToCartError::Denied(AccessDenied::Unauthenticated))
        ));
    }

    #[tokio::test]
    async fn a_missing_line_is_not_found() {
        let mut carts = MockCartStore::new();
        carts.expect_get().returning(|_| Ok(None));
        let uc = SetCartQuantity::new(ports(carts, MockProductCatalog::new()));
        let missing = uc
            .execute(&customer(), product().id, LineQuantity::new(3).unwrap())
            .await;
        assert!(matches!(missing, Err(SetCartQuantityError::NotInCart(_))));
    }
}
