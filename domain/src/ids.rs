//! The id-generation port.

use uuid::Uuid;

/// Makes fresh, unique identifiers for new entities.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new identifier, never returned before.
    fn new_id(&self) -> Uuid;
}
