//! Security adapters: password hashing and token issuing.
//!
//! | type | feature | implements |
//! |---|---|---|
//! | [`Argon2PasswordHasher`] | `argon2` | [`PasswordHasher`](emporium_domain::accounts::PasswordHasher): argon2id v19, OWASP parameters, off the async runtime |
//! | [`JwtTokenIssuer`] | `jwt` | [`TokenIssuer`](emporium_domain::accounts::TokenIssuer): HS256 JWTs with `typ`, `iss`, `aud`, `exp` checked |

#[cfg(feature = "jwt")]
mod jwt;
#[cfg(feature = "argon2")]
mod password;

#[cfg(feature = "jwt")]
pub use jwt::{JwtSettings, JwtTokenIssuer, LEEWAY_SECONDS, MIN_SECRET_BYTES, generate_secret};
#[cfg(feature = "argon2")]
pub use password::Argon2PasswordHasher;
