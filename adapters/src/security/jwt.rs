//! The token issuer on JSON Web Tokens (HS256).

use std::fmt;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use emporium_domain::access::{Role, UserId};
use emporium_domain::accounts::{
    AccessClaims, Email, IssuedToken, RefreshClaims, TokenError, TokenIssuer,
};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The shortest accepted signing secret, in bytes (256 bits, the HS256 key size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Clock skew tolerated when checking `exp`, in seconds. Zero: tokens are issued and
/// checked by Emporium's own services, whose clocks agree, and any leeway would only
/// lengthen the life of a stolen token.
pub const LEEWAY_SECONDS: u64 = 0;

/// Tokens longer than this are refused without being parsed. Ours are ~350 bytes.
const MAX_TOKEN_BYTES: usize = 4096;

/// Everything [`JwtTokenIssuer`] needs. `Debug` output never shows the secret.
#[derive(Clone)]
pub struct JwtSettings {
    /// The HMAC key, used as given (for a text secret, its UTF-8 bytes): at least
    /// [`MIN_SECRET_BYTES`] bytes. Configured by `EMPORIUM_JWT_SECRET`; see
    /// [`generate_secret`].
    pub secret: Vec<u8>,
    /// The `iss` claim written and required (default `"emporium"`).
    pub issuer: String,
    /// The `aud` claim written and required (default `"emporium"`).
    pub audience: String,
    /// Lifetime of access tokens (default 15 minutes), whole seconds, at least 1 s.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens (default 30 days), whole seconds, at least 1 s.
    pub refresh_ttl: Duration,
}

impl JwtSettings {
    /// The default `iss` and `aud`.
    pub const DEFAULT_ISSUER: &str = "emporium";
    /// The default lifetime of access tokens: 15 minutes.
    pub const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
    /// The default lifetime of refresh tokens: 30 days.
    pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

    /// Settings with this secret and the defaults for everything else. The secret is
    /// checked by [`JwtTokenIssuer::new`].
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            secret: secret.into(),
            issuer: Self::DEFAULT_ISSUER.to_owned(),
            audience: Self::DEFAULT_ISSUER.to_owned(),
            access_ttl: Self::DEFAULT_ACCESS_TTL,
            refresh_ttl: Self::DEFAULT_REFRESH_TTL,
        }
    }
}

impl fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSettings")
            .field("secret", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish()
    }
}

/// A new random signing secret: 32 bytes from the operating system's RNG, as
/// URL-safe base64 without padding (43 characters, whose UTF-8 bytes are the key).
/// The embedded default keeps one in its data directory when `EMPORIUM_JWT_SECRET`
/// is not set.
///
/// # Panics
/// If the operating system's RNG fails (no secret is better than a weak one).
pub fn generate_secret() -> String {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `typ` claim: which kind of token this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum TokenType {
    Access,
    Refresh,
}

/// The payload of both kinds of token. Every field but `role` is required when
/// reading, so a token missing any of them is refused.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user id.
    sub: Uuid,
    /// `customer` or `admin`; access tokens only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<Role>,
    /// The account's email; access tokens only (optional: older tokens lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    typ: TokenType,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    /// Refresh tokens: the token's record id. Access tokens: a fresh random id.
    jti: Uuid,
}

/// A [`TokenIssuer`] of HS256-signed JWTs.
///
/// Claims: `sub` (user id), `role` (`customer`/`admin`) and `email` (access tokens
/// only; `email` may be absent in older tokens), `typ`
/// (`access`/`refresh`), `iss`, `aud`, `iat`, `exp` (seconds since the epoch, from
/// the `now` given to `issue_*`) and `jti` (refresh: the token id; access: a random
/// uuid). Verification accepts only `alg: HS256` with a valid signature, requires
/// `exp`, `iss`, `aud` and `sub` with our issuer and audience, `typ` of the kind
/// asked for, and checks `exp` against the system clock with [`LEEWAY_SECONDS`] of
/// leeway. A token fails with [`TokenError::Expired`] only if it is otherwise valid;
/// every other failure is [`TokenError::Invalid`].
pub struct JwtTokenIssuer {
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    validation: Validation,
    /// The same checks without `exp`, to tell an expired token from a bad one.
    validation_ignoring_expiry: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl JwtTokenIssuer {
    /// An issuer with these settings.
    ///
    /// # Errors
    /// A secret shorter than [`MIN_SECRET_BYTES`] (the message names
    /// `EMPORIUM_JWT_SECRET`), an empty issuer or audience, or a lifetime under one
    /// second or too long to represent.
    pub fn new(settings: JwtSettings) -> anyhow::Result<Self> {
        if settings.secret.len() < MIN_SECRET_BYTES {
            bail!(
                "EMPORIUM_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long (it is {}); \
                 generate one with at least 256 random bits",
                settings.secret.len()
            );
        }
        ensure!(
            !settings.issuer.is_empty(),
            "the JWT issuer must not be empty"
        );
        ensure!(
            !settings.audience.is_empty(),
            "the JWT audience must not be empty"
        );
        let access_ttl = whole_seconds(settings.access_ttl, "access token lifetime")?;
        let refresh_ttl = whole_seconds(settings.refresh_ttl, "refresh token lifetime")?;

        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_aud = true;
        let mut validation_ignoring_expiry = validation.clone();
        validation_ignoring_expiry.validate_exp = false;

        Ok(Self {
            encoding_key: EncodingKey::from_secret(&settings.secret),
            decoding_key: DecodingKey::from_secret(&settings.secret),
            validation,
            validation_ignoring_expiry,
            issuer: settings.issuer,
            audience: settings.audience,
            access_ttl,
            refresh_ttl,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn issue(
        &self,
        user_id: UserId,
        role: Option<Role>,
        email: Option<String>,
        typ: TokenType,
        jti: Uuid,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> anyhow::Result<IssuedToken> {
        let iat = now.timestamp();
        let ttl_seconds = i64::try_from(ttl.as_secs()).context("token lifetime too long")?;
        let exp = iat
            .checked_add(ttl_seconds)
            .context("token expiry out of range")?;
        let claims = Claims {
            sub: user_id.0,
            role,
            email,
            typ,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat,
            exp,
            jti,
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding_key)
                .context("signing a JWT failed")?;
        Ok(IssuedToken {
            token,
            expires_in: ttl,
        })
    }

    fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid);
        }
        match jsonwebtoken::decode::<Claims>(token, &self.decoding_key, &self.validation) {
            Ok(data) if data.claims.typ == expected => Ok(data.claims),
            Ok(_) => Err(TokenError::Invalid),
            Err(error) if matches!(error.kind(), ErrorKind::ExpiredSignature) => {
                // Report expiry only for a token that passes every other check.
                match jsonwebtoken::decode::<Claims>(
                    token,
                    &self.decoding_key,
                    &self.validation_ignoring_expiry,
                ) {
                    Ok(data) if data.claims.typ == expected => Err(TokenError::Expired),
                    _ => Err(TokenError::Invalid),
                }
            }
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

/// `ttl` as whole seconds, at least one.
fn whole_seconds(ttl: Duration, what: &str) -> anyhow::Result<Duration> {
    let seconds = ttl.as_secs();
    ensure!(seconds >= 1, "the {what} must be at least one second");
    ensure!(
        i64::try_from(seconds).is_ok_and(|s| s < i64::MAX / 2),
        "the {what} is too long"
    );
    Ok(Duration::from_secs(seconds))
}

impl fmt::Debug for JwtTokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtTokenIssuer")
            .field("algorithm", &Algorithm::HS256)
            .field("secret", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("leeway_seconds", &LEEWAY_SECONDS)
            .finish()
    }
}

impl TokenIssuer for JwtTokenIssuer {
    fn issue_access(
        &self,
        claims: AccessClaims,
        now: DateTime<Utc>,
    ) -> anyhow::Result<IssuedToken> {
        self.issue(
            claims.user_id,
            Some(claims.role),
            claims.email.map(String::from),
            TokenType::Access,
            Uuid::new_v4(),
            self.access_ttl,
            now,
        )
    }

    fn issue_refresh(
        &self,
        claims: RefreshClaims,
        now: DateTime<Utc>,
    ) -> anyhow::Result<IssuedToken> {
        self.issue(
            claims.user_id,
            None,
            None,
            TokenType::Refresh,
            claims.token_id,
            self.refresh_ttl,
            now,
        )
    }

    fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let claims = self.verify(token, TokenType::Access)?;
        let email = claims
            .email
            .map(|email| Email::parse(&email).map_err(|_| TokenError::Invalid))
            .transpose()?;
        Ok(AccessClaims {
            user_id: UserId(claims.sub),
            role: claims.role.ok_or(TokenError::Invalid)?,
            email,
        })
    }

    fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, TokenError> {
        let claims = self.verify(token, TokenType::Refresh)?;
        Ok(RefreshClaims {
            user_id: UserId(claims.sub),
            token_id: claims.jti,
        })
    }
}
