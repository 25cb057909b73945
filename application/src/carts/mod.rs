//! Cart use cases: each customer's own cart, whose lines snapshot a product's name,
//! SKU and price when added. [`Carts`] builds them all over one set of ports.
//!
//! Every change reads the cart, changes it in the domain and saves it with a version
//! check; when another request saved first, it reads again and retries (at most
//! [`SAVE_ATTEMPTS`] times), so concurrent changes to one cart are never lost.

mod change;
mod get_cart;
mod lines;

use std::sync::Arc;

use emporium_domain::Clock;
use emporium_domain::catalog::ProductCatalog;
use emporium_domain::orders::{Cart, CartStore, Currency};

pub use change::SAVE_ATTEMPTS;
pub use get_cart::{GetCart, GetCartError};
pub use lines::{
    AddToCart, AddToCartError, ClearCart, ClearCartError, RemoveFromCart, RemoveFromCartError,
    SetCartQuantity, SetCartQuantityError,
};

/// A cart with the shop currency its prices are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartView {
    /// The cart (empty when the customer has none stored).
    pub cart: Cart,
    /// The shop currency.
    pub currency: Currency,
}

/// The ports the cart use cases drive.
#[derive(Clone)]
pub struct CartPorts {
    /// Cart storage.
    pub carts: Arc<dyn CartStore>,
    /// The catalog, asked for a product's name, SKU, price and active flag.
    pub catalog: Arc<dyn ProductCatalog>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The shop currency.
    pub currency: Currency,
}

/// Every cart use case, over one set of ports.
pub struct Carts {
    /// Reads the caller's cart.
    pub get: GetCart,
    /// Adds units of a product.
    pub add: AddToCart,
    /// Sets the units of a line.
    pub set_quantity: SetCartQuantity,
    /// Removes a line.
    pub remove: RemoveFromCart,
    /// Empties the cart.
    pub clear: ClearCart,
}

impl Carts {
    /// The use cases over `ports`.
    pub fn new(ports: CartPorts) -> Self {
        Self {
            get: GetCart::new(ports.clone()),
            add: AddToCart::new(ports.clone()),
            set_quantity: SetCartQuantity::new(ports.clone()),
            remove: RemoveFromCart::new(ports.clone()),
            clear: ClearCart::new(ports),
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support;
