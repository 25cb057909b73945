//! Who is asking: the actor on whose behalf a use case runs, and the rules of what
//! each actor may do. Use cases enforce these rules; the HTTP edge only says who
//! the caller is.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Identifies a user account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What a user account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Shops: sees the catalog, manages their own cart and orders.
    Customer,
    /// Runs the shop: manages the catalog, inventory and users.
    Admin,
}

impl Role {
    /// The role's name as the API and the logs spell it: `customer` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }

    /// The role named `text` (`customer`, `admin`), if any.
    pub fn parse(text: &str) -> Option<Self> {
        [Role::Customer, Role::Admin]
            .into_iter()
            .find(|role| role.as_str() == text)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// On whose behalf an operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// Nobody identified themselves.
    Anonymous,
    /// Another Emporium service, identified by the shared service API key.
    Service,
    /// The payment provider's or the carrier's callback, identified by the callback
    /// key (never by the service API key): it may only report payment outcomes and
    /// deliveries.
    Callback,
    /// A signed-in user.
    User {
        /// The account.
        id: UserId,
        /// Its role.
        role: Role,
    },
}

/// Why an actor may not perform an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    /// The caller did not identify themselves; they should sign in.
    #[error("authentication required")]
    Unauthenticated,
    /// The caller is known but their role does not allow the operation.
    #[error("not allowed for this account")]
    Forbidden,
}

impl Actor {
    /// Catalog and inventory writes: admins and services.
    pub fn ensure_can_manage_catalog(&self) -> Result<(), AccessDenied> {
        match self {
            Actor::Service
            | Actor::User {
                role: Role::Admin, ..
            } => Ok(()),
            Actor::User { .. } | Actor::Callback => Err(AccessDenied::Forbidden),
            Actor::Anonymous => Err(AccessDenied::Unauthenticated),
        }
    }

    /// Service-to-service operations (an order's stock reservation): the service
    /// API key only, never a user, however privileged.
    pub fn ensure_service(&self) -> Result<(), AccessDenied> {
        match self {
            Actor::Service => Ok(()),
            Actor::User { .. } | Actor::Callback => Err(AccessDenied::Forbidden),
            Actor::Anonymous => Err(AccessDenied::Unauthenticated),
        }
    }

    /// User administration: admins only (services do not manage accounts).
    pub fn ensure_admin(&self) -> Result<UserId, AccessDenied> {
        match self {
            Actor::User {
                id,
                role: Role::Admin,
            } => Ok(*id),
            Actor::User { .. } | Actor::Service | Actor::Callback => Err(AccessDenied::Forbidden),
            Actor::Anonymous => Err(AccessDenied::Unauthenticated),
        }
    }

    /// Operations on one's own account: any signed-in user.
    pub fn ensure_user(&self) -> Result<UserId, AccessDenied> {
        match self {
            Actor::User { id, .. } => Ok(*id),
            Actor::Service | Actor::Callback => Err(AccessDenied::Forbidden),
            Actor::Anonymous => Err(AccessDenied::Unauthenticated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_spelled_as_the_api_spells_them() {
        assert_eq!(Role::Admin.to_string(), "admin");
        assert_eq!(Role::Customer.to_string(), "customer");
        assert_eq!(
            serde_json::to_value(Role::Admin).unwrap(),
            Role::Admin.as_str()
        );
    }

    #[test]
    fn catalog_management_is_for_admins_and_services() {
        let user = |role| Actor::User {
            id: UserId(Uuid::nil()),
            role,
        };
        assert_eq!(Actor::Service.ensure_can_manage_catalog(), Ok(()));
        assert_eq!(user(Role::Admin).ensure_can_manage_catalog(), Ok(()));
        assert_eq!(
            user(Role::Customer).ensure_can_manage_catalog(),
            Err(AccessDenied::Forbidden)
        );
        assert_eq!(
            Actor::Anonymous.ensure_can_manage_catalog(),
            Err(AccessDenied::Unauthenticated)
        );
    }

    #[test]
    fn user_administration_is_for_admins_only() {
        let admin = Actor::User {
            id: UserId(Uuid::nil()),
            role: Role::Admin,
        };
        assert_eq!(admin.ensure_admin(), Ok(UserId(Uuid::nil())));
        assert_eq!(Actor::Service.ensure_admin(), Err(AccessDenied::Forbidden));
        assert_eq!(
            Actor::Anonymous.ensure_user(),
            Err(AccessDenied::Unauthenticated)
        );
        assert_eq!(Actor::Service.ensure_user(), Err(AccessDenied::Forbidden));
    }
}
