//! Settings recorded in the database at first start.

use anyhow::{Context, bail};
use emporium_domain::orders::Currency;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::migration::ShopSettings;

/// Records `currency` as the shop currency if none is recorded yet, and checks that
/// the recorded one is `currency`: every stored price and total is in it, so a
/// different one is refused (with both codes named) instead of silently
/// re-labelling them.
pub async fn record_currency(db: &DatabaseConnection, currency: Currency) -> anyhow::Result<()> {
    let insert = Query::insert()
        .into_table(ShopSettings::Table)
        .columns([ShopSettings::Name, ShopSettings::Value])
        .values_panic(["currency".into(), currency.as_str().into()])
        .on_conflict(
            OnConflict::column(ShopSettings::Name)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert)
        .await
        .context("recording the shop currency")?;
    let select = Query::select()
        .column(ShopSettings::Value)
        .from(ShopSettings::Table)
        .and_where(Expr::col(ShopSettings::Name).eq("currency"))
        .to_owned();
    let row = db
        .query_one(&select)
        .await
        .context("reading the recorded shop currency")?
        .context("the recorded shop currency vanished")?;
    let recorded: String = row
        .try_get("", "value")
        .context("reading the shop currency")?;
    if recorded != currency.as_str() {
        bail!(
            "this shop's prices are recorded in {recorded}, but EMPORIUM_CURRENCY is {currency}; \
             set EMPORIUM_CURRENCY={recorded} (changing the currency of an existing shop would \
             re-label every price and order total)"
        );
    }
    Ok(())
}
