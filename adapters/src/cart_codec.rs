//! How a cart's lines are stored by every cart store: one JSON array of the domain's
//! `PricedLine`s (camelCase, prices as exact decimal text), read back through the
//! domain's validating constructors.

use anyhow::Context;
use chrono::{DateTime, Utc};
use emporium_domain::UserId;
use emporium_domain::orders::{Cart, PricedLine};

/// The lines of `cart` as stored.
pub(crate) fn encode_lines(cart: &Cart) -> anyhow::Result<String> {
    serde_json::to_string(cart.lines()).context("encoding the cart's lines")
}

/// The cart of `owner` from its stored parts.
pub(crate) fn decode(
    owner: UserId,
    lines: &str,
    updated_at: DateTime<Utc>,
    version: i64,
) -> anyhow::Result<Cart> {
    let lines: Vec<PricedLine> =
        serde_json::from_str(lines).context("stored cart lines are not valid")?;
    let version = u64::try_from(version).context("stored cart version is negative")?;
    Cart::from_parts(owner, lines, updated_at, version)
        .context("stored cart breaks an invariant")
        .with_context(|| format!("reading the cart of user {owner}"))
}

/// `cart` as a store returns it after saving: its lines (as they are, nothing to
/// read back), the time the store keeps and the new `version`.
pub(crate) fn saved(cart: &Cart, updated_at: DateTime<Utc>, version: u64) -> anyhow::Result<Cart> {
    Cart::from_parts(cart.owner(), cart.lines().to_vec(), updated_at, version)
        .context("the saved cart breaks an invariant")
}
