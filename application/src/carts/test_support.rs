//! Fixtures shared by the cart use-case tests.

pub use crate::catalog::test_support::{clock, customer};
use emporium_domain::catalog::Product;

pub fn product() -> Product {
    crate::catalog::test_support::product(1)
}
