use std::sync::Arc;

use emporium_domain::Actor;
use emporium_domain::accounts::{AccountChanges, Email, TokenError, TokenIssuer, UserRepository};

use crate::failure::{Failure, FailureKind, UseCaseError};

/// Turns a bearer access token into the [`Actor`] it speaks for.
///
/// The signature, expiry and type are checked with the shared signing secret, so every
/// service can check tokens itself. Where the account store is at hand (the
/// all-in-one server, `serve users`), the actor is then taken from the account **as
/// stored now**: a deactivated or deleted account's tokens stop working at once, and
/// a demoted admin's token carries the customer role at once — whatever the token
/// still says. Services without the store check the token against the account
/// changes the users service published ([`AccountChanges`], within seconds of the
/// change): a token whose role is no longer the account's, or of a deactivated
/// account, is refused, and its owner signs in again.
pub struct Authenticate {
    tokens: Arc<dyn TokenIssuer>,
    users: Option<Arc<dyn UserRepository>>,
    changes: Option<Arc<dyn AccountChanges>>,
}

/// Failures of [`Authenticate`].
#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    /// The token is not a valid access token, or has expired.
    #[error("The access token is not valid ({0}).")]
    Token(#[from] TokenError),
    /// The token's account no longer exists or is deactivated.
    #[error("The account of this access token is deactivated or no longer exists.")]
    AccountGone,
    /// The account's role changed after the token was issued.
    #[error("The role of this account changed; sign in again.")]
    RoleChanged,
    /// The account store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for AuthenticateError {
    fn failure(&self) -> Failure {
        match self {
            Self::Token(_) | Self::AccountGone | Self::RoleChanged => {
                Failure::new(FailureKind::Rejected, "invalid_token")
            }
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl Authenticate {
    /// Checks tokens only: the actor is what the token says (split services).
    pub fn new(tokens: Arc<dyn TokenIssuer>) -> Self {
        Self {
            tokens,
            users: None,
            changes: None,
        }
    }

    /// Also checks tokens against the account changes the users service published
    /// (services without the account store).
    pub fn with_account_changes(mut self, changes: Arc<dyn AccountChanges>) -> Self {
        self.changes = Some(changes);
        self
    }

    /// Also checks the account as stored now (where the account store is at hand).
    pub fn with_users(mut self, users: Arc<dyn UserRepository>) -> Self {
        self.users = Some(users);
        self
    }

    /// The user the access token speaks for.
    pub async fn execute(&self, access_token: &str) -> Result<Actor, AuthenticateError> {
        self.identify(access_token).await.map(|(actor, _)| actor)
    }

    /// The user the access token speaks for, and their email (as stored now where
    /// the account store is at hand, else as the token says; `None` for a token
    /// issued before tokens carried it).
    pub async fn identify(
        &self,
        access_token: &str,
    ) -> Result<(Actor, Option<Email>), AuthenticateError> {
        let claims = self.tokens.verify_access(access_token)?;
        let Some(users) = &self.users else {
            if let Some(changes) = &self.changes
                && let Some(standing) = changes
                    .standing(claims.user_id)
                    .await
                    .map_err(|e| anyhow::Error::new(e).context("reading the account's changes"))?
            {
                if !standing.active {
                    return Err(AuthenticateError::AccountGone);
                }
                if standing.role != claims.role {
                    return Err(AuthenticateError::RoleChanged);
                }
            }
            let actor = Actor::User {
                id: claims.user_id,
                role: claims.role,
            };
            return Ok((actor, claims.email));
        };
        let user = users
            .get(claims.user_id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the token's account"))?
            .filter(|user| user.active)
            .ok_or(AuthenticateError::AccountGone)?;
        let actor = Actor::User {
            id: user.id,
            role: user.role,
        };
        Ok((actor, Some(user.email)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::*;
    use emporium_domain::accounts::{AccessClaims, MockTokenIssuer, MockUserRepository};
    use emporium_domain::{Role, UserId};
    use uuid::Uuid;

    fn tokens(role: Role) -> Arc<MockTokenIssuer> {
        let mut tokens = MockTokenIssuer::new();
        tokens.expect_verify_access().returning(move |_| {
            Ok(AccessClaims {
                user_id: UserId(Uuid::from_u128(7)),
                role,
                email: None,
            })
        });
        Arc::new(tokens)
    }

    #[tokio::test]
    async fn without_the_store_the_token_decides() {
        let actor = Authenticate::new(tokens(Role::Admin))
            .execute("t")
            .await
            .unwrap();
        assert!(matches!(
            actor,
            Actor::User {
                role: Role::Admin,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn with_the_store_the_stored_account_decides() {
        for (stored, expected) in [
            (Some(user(7, Role::Customer, true)), Some(Role::Customer)),
            (Some(user(7, Role::Admin, false)), None),
            (None, None),
        ] {
            let mut users = MockUserRepository::new();
            users.expect_get().returning(move |_| Ok(stored.clone()));
            let result = Authenticate::new(tokens(Role::Admin))
                .with_users(Arc::new(users))
                .execute("t")
                .await;
            match expected {
                Some(role) => assert!(
                    matches!(result, Ok(Actor::User { role: r, .. }) if r == role),
                    "{result:?}"
                ),
                None => assert!(matches!(result, Err(AuthenticateError::AccountGone))),
            }
        }
    }

    #[tokio::test]
    async fn without_the_store_published_changes_decide() {
        use emporium_domain::accounts::{AccountStanding, MockAccountChanges};
        let standing = |role, active| Some(AccountStanding { role, active });
        for (published, expected) in [
            (None, Ok(Role::Admin)),
            (standing(Role::Admin, true), Ok(Role::Admin)),
            (standing(Role::Customer, true), Err("role changed")),
            (standing(Role::Admin, false), Err("gone")),
        ] {
            let mut changes = MockAccountChanges::new();
            changes.expect_standing().returning(move |_| Ok(published));
            let result = Authenticate::new(tokens(Role::Admin))
                .with_account_changes(Arc::new(changes))
                .execute("t")
                .await;
            match expected {
                Ok(role) => assert!(
                    matches!(result, Ok(Actor::User { role: r, .. }) if r == role),
                    "{result:?}"
                ),
                Err("role changed") => {
                    assert!(matches!(result, Err(AuthenticateError::RoleChanged)))
                }
                Err(_) => assert!(matches!(result, Err(AuthenticateError::AccountGone))),
            }
        }
    }

    #[tokio::test]
    async fn bad_tokens_are_refused_before_the_store_is_asked() {
        let mut tokens = MockTokenIssuer::new();
        tokens
            .expect_verify_access()
            .returning(|_| Err(TokenError::Expired));
        let result = Authenticate::new(Arc::new(tokens))
            .with_users(Arc::new(MockUserRepository::new()))
            .execute("t")
            .await;
        assert!(matches!(
            result,
            Err(AuthenticateError::Token(TokenError::Expired))
        ));
    }
}
