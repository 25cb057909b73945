//! The password hasher on argon2id.

use std::sync::Arc;

use anyhow::{Context, anyhow};
use argon2::password_hash::{self, PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use emporium_domain::accounts::{Password, PasswordHash, PasswordHasher, PasswordHasherError};
use tokio::sync::Semaphore;

// `Argon2PasswordHasher::new` relies on argon2's defaults being OWASP's minimum for
// argon2id; fail the build if a future argon2 changes them.
const _: () = assert!(
    Params::DEFAULT_M_COST == 19_456 && Params::DEFAULT_T_COST == 2 && Params::DEFAULT_P_COST == 1
);

/// A [`PasswordHasher`] on argon2id (version 19, `$argon2id$v=19$m=…,t=…,p=…$salt$hash`),
/// with a 16-byte salt from the operating system's RNG for every hash.
///
/// Hashing and verifying are CPU- and memory-heavy (19 MiB and tens of milliseconds
/// each at the default parameters), so both run on tokio's blocking pool
/// ([`tokio::task::spawn_blocking`]), never on the async runtime; at most one hash per
/// CPU runs at a time (callers beyond that wait asynchronously), which bounds the
/// memory a burst of logins can take. Verification uses the parameters stored in the
/// hash, so hashes made with older parameters keep verifying.
#[derive(Debug, Clone)]
pub struct Argon2PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
}

impl Argon2PasswordHasher {
    /// OWASP's minimum for argon2id: m = 19456 KiB (19 MiB), t = 2, p = 1.
    pub fn new() -> Self {
        Self::from_params(Params::DEFAULT)
    }

    /// Other parameters: memory `m_cost` in KiB, `t_cost` passes, `p_cost` lanes. Meant
    /// for faster tests or for raising the cost; production uses [`Self::new`].
    ///
    /// # Errors
    /// Parameters argon2 refuses (for example `m_cost < 8 * p_cost` or `t_cost == 0`).
    pub fn with_params(m_cost: u32, t_cost: u32, p_cost: u32) -> anyhow::Result<Self> {
        let params = Params::new(m_cost, t_cost, p_cost, None)
            .map_err(|error| anyhow!("invalid argon2 parameters: {error}"))?;
        Ok(Self::from_params(params))
    }

    fn from_params(params: Params) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            params,
            permits: Arc::new(Semaphore::new(cpus)),
        }
    }

    /// Runs `work` on the blocking pool once a hashing slot is free.
    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordHasherError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .context("password hashing slots closed")?;
        tokio::task::spawn_blocking(move || {
            // Held until the work is done, even if the caller stops waiting.
            let _permit = permit;
            work()
        })
        .await
        .map_err(|error| {
            PasswordHasherError::Unexpected(anyhow!("password hashing task failed: {error}"))
        })
    }
}

impl Default for Argon2PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl PasswordHasher for Argon2PasswordHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PasswordHasherError> {
        let password = password.clone();
        let params = self.params.clone();
        self.run_blocking(move || {
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password.expose_secret().as_bytes())
                .map(|hash| PasswordHash::new(hash.to_string()))
                .map_err(|error| {
                    PasswordHasherError::Unexpected(anyhow!("argon2 hashing failed: {error}"))
                })
        })
        .await?
    }

    async fn verify(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<bool, PasswordHasherError> {
        let password = password.clone();
        let hash = hash.clone();
        self.run_blocking(move || verify_blocking(&password, &hash))
            .await?
    }
}

/// Parses the PHC string and checks `password` against it (constant-time comparison
/// of the outputs, inside `password_hash`).
fn verify_blocking(password: &Password, hash: &PasswordHash) -> Result<bool, PasswordHasherError> {
    let parsed =
        argon2::PasswordHash::new(hash.as_str()).map_err(|_| PasswordHasherError::MalformedHash)?;
    // Without salt or output there is nothing to compare: the stored value is broken,
    // not the password wrong.
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(PasswordHasherError::MalformedHash);
    }
    match Argon2::default().verify_password(password.expose_secret().as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(password_hash::Error::PasswordInvalid) => Ok(false),
        // Unknown scheme (not argon2), bad version, parameters, salt or encoding.
        Err(
            password_hash::Error::Algorithm
            | password_hash::Error::Version
            | password_hash::Error::ParamInvalid { .. }
            | password_hash::Error::ParamsInvalid
            | password_hash::Error::SaltInvalid
            | password_hash::Error::EncodingInvalid
            | password_hash::Error::OutputSize,
        ) => Err(PasswordHasherError::MalformedHash),
        Err(error) => Err(PasswordHasherError::Unexpected(anyhow!(
            "argon2 verification failed: {error}"
        ))),
    }
}
