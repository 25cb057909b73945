//! The argon2id password hasher: round trip, salting, parameters, malformed hashes,
//! and that hashing never blocks the async runtime.
#![cfg(feature = "argon2")]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use emporium_adapters::security::Argon2PasswordHasher;
use emporium_domain::accounts::{Password, PasswordHash, PasswordHasher, PasswordHasherError};

fn password(value: &str) -> Password {
    Password::new(value).expect("valid password")
}

#[tokio::test]
async fn hashes_with_owasp_argon2id_and_verifies() {
    let hasher = Argon2PasswordHasher::new();
    let secret = password("correct horse battery staple");

    let first = hasher.hash(&secret).await.unwrap();
    assert!(
        first
            .as_str()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "unexpected PHC string {}",
        first.as_str()
    );
    assert!(!first.as_str().contains("correct horse"));
    assert!(hasher.verify(&secret, &first).await.unwrap());
    assert!(
        !hasher
            .verify(&password("correct horse battery stapler"), &first)
            .await
            .unwrap()
    );
    assert!(
        !hasher
            .verify(&password("wrong password"), &first)
            .await
            .unwrap()
    );

    // A fresh salt every time: same password, different hashes, both verify.
    let second = hasher.hash(&secret).await.unwrap();
    assert_ne!(first, second);
    let salt = |hash: &PasswordHash| hash.as_str().split('$').nth(4).unwrap().to_owned();
    assert_ne!(salt(&first), salt(&second));
    assert!(salt(&first).len() >= 22, "salt of at least 16 bytes");
    assert!(hasher.verify(&secret, &second).await.unwrap());
}

#[tokio::test]
async fn custom_parameters_are_used_and_checked() {
    let fast = Argon2PasswordHasher::with_params(64, 1, 1).unwrap();
    let secret = password("correct horse battery staple");
    let hash = fast.hash(&secret).await.unwrap();
    assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
    // Verification follows the parameters stored in the hash, whatever the hasher's.
    assert!(
        Argon2PasswordHasher::new()
            .verify(&secret, &hash)
            .await
            .unwrap()
    );

    assert!(Argon2PasswordHasher::with_params(64, 0, 1).is_err());
    assert!(Argon2PasswordHasher::with_params(4, 1, 1).is_err());
}

#[tokio::test]
async fn malformed_hashes_are_refused_not_mismatched() {
    let hasher = Argon2PasswordHasher::new();
    let secret = password("correct horse battery staple");
    for malformed in [
        "",
        "not a hash",
        "correct horse battery staple",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        // Salt but no output.
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA",
        // Not base64.
        "$argon2id$v=19$m=19456,t=2,p=1$!!!!!!!!!!!!!!!!$!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        // Unknown scheme.
        "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        // Unknown version, invalid parameters.
        "$argon2id$v=99$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$rZkaQzHoS5pHxzkhhqwcvrVHlEzaY1xPUYpxNLoa7/Q",
        "$argon2id$v=19$m=1,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$rZkaQzHoS5pHxzkhhqwcvrVHlEzaY1xPUYpxNLoa7/Q",
        "$argon2id$v=19$m=19456,t=0,p=1$c29tZXNhbHRzb21lc2FsdA$rZkaQzHoS5pHxzkhhqwcvrVHlEzaY1xPUYpxNLoa7/Q",
        "$argon2id$v=19$m=abc,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$rZkaQzHoS5pHxzkhhqwcvrVHlEzaY1xPUYpxNLoa7/Q",
    ] {
        let result = hasher.verify(&secret, &PasswordHash::new(malformed)).await;
        assert!(
            matches!(result, Err(PasswordHasherError::MalformedHash)),
            "{malformed:?} gave {result:?}"
        );
    }
}

/// Times every poll of the wrapped future: a hash computed inside `poll` (on the
/// runtime's thread) would make one poll last as long as the whole hash.
struct TimedPolls<F> {
    inner: Pin<Box<F>>,
    longest_poll: Duration,
}

impl<F: Future> Future for TimedPolls<F> {
    type Output = (F::Output, Duration);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let started = Instant::now();
        let poll = self.inner.as_mut().poll(cx);
        self.longest_poll = self.longest_poll.max(started.elapsed());
        poll.map(|output| (output, self.longest_poll))
    }
}

/// On a current-thread runtime, concurrent verifications complete, and none of them
/// ever occupies the runtime's only thread for more than a sliver of its hashing time.
#[tokio::test(flavor = "current_thread")]
async fn hashing_runs_off_the_async_runtime() {
    let hasher = Arc::new(Argon2PasswordHasher::new());
    let secret = password("correct horse battery staple");
    let hash = hasher.hash(&secret).await.unwrap();

    let verifications: Vec<_> = (0..4)
        .map(|_| {
            let (hasher, secret, hash) = (Arc::clone(&hasher), secret.clone(), hash.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let timed = TimedPolls {
                    inner: Box::pin(async move { hasher.verify(&secret, &hash).await }),
                    longest_poll: Duration::ZERO,
                };
                let (result, longest_poll) = timed.await;
                (result, longest_poll, started.elapsed())
            })
        })
        .collect();
    for verification in verifications {
        let (result, longest_poll, elapsed) =
            tokio::time::timeout(Duration::from_secs(60), verification)
                .await
                .expect("verification finishes")
                .unwrap();
        assert!(result.unwrap());
        assert!(
            longest_poll * 4 < elapsed,
            "a poll took {longest_poll:?} of a {elapsed:?} verification: hashing ran on the runtime"
        );
    }
}
