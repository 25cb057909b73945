//! Request ids: the client's `X-Request-ID` when it is a sane token, else a fresh
//! UUID-shaped id made without a system call (a per-process random seed and a
//! counter, mixed; unique within the process, unpredictable across processes).

use std::fmt::Write;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use poem::http::HeaderValue;

/// The longest request id taken from a client.
pub const MAX_LEN: usize = 128;

/// The client's request id when it is a sane token: 1 to 128 characters of letters,
/// digits and `-_.:+/=@`.
pub fn sane(value: &HeaderValue) -> Option<&str> {
    let value = value.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= MAX_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=@".contains(&b));
    sane.then_some(value)
}

static SEED: LazyLock<(u64, u64)> = LazyLock::new(|| {
    let random = uuid::Uuid::new_v4().as_u128();
    ((random >> 64) as u64, random as u64)
});
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// SplitMix64's finaliser: a bijection, so distinct counters give distinct ids.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A fresh id in UUID v4 form.
pub fn generate() -> String {
    let (high_seed, low_seed) = *SEED;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let high = mix(n ^ high_seed);
    let low = mix(n.wrapping_add(low_seed)) ^ high.rotate_left(17);
    let bits = (u128::from(high) << 64) | u128::from(low);
    let id = uuid::Builder::from_random_bytes(bits.to_be_bytes()).into_uuid();
    let mut text = String::with_capacity(36);
    let _ = write!(text, "{}", id.hyphenated());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_must_be_sane_tokens() {
        let ok = HeaderValue::from_static("abc-123_x.y:z");
        assert_eq!(sane(&ok), Some("abc-123_x.y:z"));
        assert_eq!(sane(&HeaderValue::from_static("has space")), None);
        assert_eq!(sane(&HeaderValue::from_static("")), None);
        assert_eq!(sane(&HeaderValue::from_static("a\"b")), None);
        let long = "a".repeat(MAX_LEN + 1);
        assert_eq!(sane(&HeaderValue::from_str(&long).unwrap()), None);
        let max = "a".repeat(MAX_LEN);
        assert!(sane(&HeaderValue::from_str(&max).unwrap()).is_some());
    }

    #[test]
    fn generated_ids_are_distinct_uuids() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| generate()).collect();
        assert_eq!(ids.len(), 10_000);
        let id = ids.iter().next().unwrap();
        let parsed = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }
}
