use std::sync::Arc;

use emporium_domain::Actor;
use emporium_domain::accounts::{TokenError, TokenIssuer};

/// Turns a bearer access token into the [`Actor`] it speaks for. Stateless: every
/// service checks tokens itself with the shared signing secret. Refresh tokens are
/// refused here.
pub struct Authenticate {
    tokens: Arc<dyn TokenIssuer>,
}

impl Authenticate {
    /// The use case over its port.
    pub fn new(tokens: Arc<dyn TokenIssuer>) -> Self {
        Self { tokens }
    }

    /// The user the access token was issued to.
    pub fn execute(&self, access_token: &str) -> Result<Actor, TokenError> {
        let claims = self.tokens.verify_access(access_token)?;
        Ok(Actor::User {
            id: claims.user_id,
            role: claims.role,
        })
    }
}
