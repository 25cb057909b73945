//! Starting and continuing sessions: a signed access token plus a refresh token whose
//! hash is stored, shared by log-in and refresh.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use emporium_domain::accounts::{
    AccessClaims, IssuedToken, RefreshClaims, RefreshTokenHash, RefreshTokenRecord,
    RefreshTokenRepository, TokenIssuer, User,
};
use emporium_domain::{Clock, IdGenerator};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// What a successful log-in or refresh hands the client.
#[derive(Debug, Clone)]
pub struct Session {
    /// The account.
    pub user: User,
    /// Short-lived bearer token.
    pub access: IssuedToken,
    /// Token to exchange for the next session (once).
    pub refresh: IssuedToken,
}

/// Issues token pairs and records refresh tokens (by hash only).
#[derive(Clone)]
pub struct SessionIssuer {
    tokens: Arc<dyn TokenIssuer>,
    refresh_tokens: Arc<dyn RefreshTokenRepository>,
    ids: Arc<dyn IdGenerator>,
    clock: Arc<dyn Clock>,
}

impl SessionIssuer {
    /// The issuer over its ports.
    pub fn new(
        tokens: Arc<dyn TokenIssuer>,
        refresh_tokens: Arc<dyn RefreshTokenRepository>,
        ids: Arc<dyn IdGenerator>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tokens,
            refresh_tokens,
            ids,
            clock,
        }
    }

    /// The current time.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The refresh-token store.
    pub(crate) fn refresh_tokens(&self) -> &dyn RefreshTokenRepository {
        self.refresh_tokens.as_ref()
    }

    /// A new session for `user` in refresh-token family `family_id` (a new family on
    /// log-in, the old one on refresh).
    pub(crate) async fn start(&self, user: User, family_id: Uuid) -> anyhow::Result<Session> {
        let now = self.clock.now();
        let access = self.tokens.issue_access(
            AccessClaims {
                user_id: user.id,
                role: user.role,
                email: Some(user.email.clone()),
            },
            now,
        )?;
        let token_id = self.ids.new_id();
        let refresh = self.tokens.issue_refresh(
            RefreshClaims {
                user_id: user.id,
                token_id,
            },
            now,
        )?;
        let lifetime = chrono::Duration::from_std(refresh.expires_in)?;
        let record = RefreshTokenRecord {
            id: token_id,
            family_id,
            user_id: user.id,
            token_hash: hash_refresh_token(&refresh.token),
            issued_at: now,
            expires_at: now + lifetime,
            used_at: None,
            revoked_at: None,
        };
        self.refresh_tokens.insert(&record).await?;
        Ok(Session {
            user,
            access,
            refresh,
        })
    }

    /// A new family id.
    pub(crate) fn new_family(&self) -> Uuid {
        self.ids.new_id()
    }

    /// The stored record of a presented refresh token, when the token is valid, known
    /// and its hash matches; `None` otherwise (whatever the reason).
    pub(crate) async fn record_of(
        &self,
        token: &str,
    ) -> anyhow::Result<Option<RefreshTokenRecord>> {
        let Ok(claims) = self.tokens.verify_refresh(token) else {
            return Ok(None);
        };
        let Some(record) = self.refresh_tokens.get(claims.token_id).await? else {
            return Ok(None);
        };
        let presented = hash_refresh_token(token);
        let matches: bool = presented
            .as_str()
            .as_bytes()
            .ct_eq(record.token_hash.as_str().as_bytes())
            .into();
        Ok((matches && record.user_id == claims.user_id).then_some(record))
    }
}

/// Hex SHA-256 of a refresh token: what is stored instead of the token.
pub fn hash_refresh_token(token: &str) -> RefreshTokenHash {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        use std::fmt::Write;
        let _ = write!(hex, "{byte:02x}");
    }
    RefreshTokenHash::new(hex)
}
