//! Idempotency keys: a client's promise that two requests with the same key are the
//! same request.

use serde::{Deserialize, Serialize};

use crate::catalog::{ValueError, string_value};

string_value!(
    /// The value of an `Idempotency-Key` header: 1 to 255 visible ASCII characters
    /// (`!` to `~`). Its scope is the user who sent it.
    IdempotencyKey,
    |value| {
        if (1..=255).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(value)
        } else {
            Err(ValueError(
                "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            ))
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii() {
        assert!(IdempotencyKey::new("order-2026-11-30-a1").is_ok());
        assert!(IdempotencyKey::new("x".repeat(255)).is_ok());
        for bad in [
            String::new(),
            "x".repeat(256),
            "a b".into(),
            "é".into(),
            "a\tb".into(),
        ] {
            assert!(IdempotencyKey::new(bad.clone()).is_err(), "{bad:?}");
        }
    }
}
