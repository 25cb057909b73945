//! Accounts: users, their credentials, and the sessions (refresh-token families)
//! they sign in with.

mod account_token;
mod ports;
mod session;
mod user;
mod values;

#[cfg(feature = "mocks")]
pub use account_token::MockAccountTokenRepository;
pub use account_token::{
    AccountToken, AccountTokenPurpose, AccountTokenRepository, AccountTokenRepositoryError,
};
pub use ports::{
    AccessClaims, AccountChanges, AccountChangesError, AccountStanding, IssuedToken,
    PasswordHasher, PasswordHasherError, RefreshClaims, RefreshTokenRepository,
    RefreshTokenRepositoryError, TokenError, TokenIssuer, UserRepository, UserRepositoryError,
};
#[cfg(feature = "mocks")]
pub use ports::{
    MockAccountChanges, MockPasswordHasher, MockRefreshTokenRepository, MockTokenIssuer,
    MockUserRepository,
};
pub use session::{RefreshTokenHash, RefreshTokenRecord};
pub use user::{NewUser, User, UserChanges};
pub use values::{DisplayName, Email, Password, PasswordHash};
