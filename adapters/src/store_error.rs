//! A storage failure as every repository port sees it: the store could not be
//! reached (`Unavailable`, the same request may succeed later) or something else went
//! wrong (`Unexpected`, with context). Each store's adapter classifies its driver's
//! errors once (`sql::errors`, `mongo`), and `?` turns a [`StoreError`] into the
//! port's error type.

use std::fmt::Display;

use emporium_domain::Unavailable;
use emporium_domain::accounts::{
    AccountChangesError, AccountTokenRepositoryError, RefreshTokenRepositoryError,
    UserRepositoryError,
};
use emporium_domain::catalog::{CategoryRepositoryError, ProductRepositoryError};
use emporium_domain::inventory::{InventoryRepositoryError, ReservationError};
use emporium_domain::notifications::NotificationRepositoryError;
use emporium_domain::orders::{
    CartStoreError, EventDeliveryError, IdempotencyStoreError, OrderRepositoryError,
    PaymentRepositoryError, ShipmentRepositoryError,
};
use emporium_domain::webhooks::WebhookRepositoryError;

/// A classified storage failure.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The store cannot be reached now.
    #[error("the store cannot be reached")]
    Unavailable(#[source] Unavailable),
    /// Any other failure, with context.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl StoreError {
    /// `cause`, classified by `unavailable`, with `context` on an unexpected failure.
    pub(crate) fn classify<E>(
        cause: E,
        what: &'static str,
        unavailable: impl FnOnce(&E) -> bool,
        context: impl Display + Send + Sync + 'static,
    ) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        if unavailable(&cause) {
            Self::Unavailable(Unavailable::new(
                what,
                anyhow::Error::new(cause).context(context),
            ))
        } else {
            Self::Unexpected(anyhow::Error::new(cause).context(context))
        }
    }
}

impl From<anyhow::Error> for StoreError {
    /// Keeps an [`Unavailable`] found at the root of `error` classified.
    fn from(error: anyhow::Error) -> Self {
        match error.downcast::<Unavailable>() {
            Ok(unavailable) => Self::Unavailable(unavailable),
            Err(error) => Self::Unexpected(error),
        }
    }
}

macro_rules! into_port_error {
    ($($port_error:ty),* $(,)?) => {$(
        impl From<StoreError> for $port_error {
            fn from(error: StoreError) -> Self {
                match error {
                    StoreError::Unavailable(unavailable) => Self::Unavailable(unavailable),
                    StoreError::Unexpected(error) => Self::Unexpected(error),
                }
            }
        }
    )*};
}

into_port_error!(
    ProductRepositoryError,
    CategoryRepositoryError,
    InventoryRepositoryError,
    UserRepositoryError,
    RefreshTokenRepositoryError,
    ReservationError,
    CartStoreError,
    OrderRepositoryError,
    PaymentRepositoryError,
    ShipmentRepositoryError,
    IdempotencyStoreError,
    EventDeliveryError,
    AccountChangesError,
    NotificationRepositoryError,
    WebhookRepositoryError,
    AccountTokenRepositoryError,
);
