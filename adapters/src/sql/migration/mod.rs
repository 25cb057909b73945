//! Schema migrations, as code ([sea-orm-migration]).
//!
//! Applied by [`super::migrate`]; each migration runs once per database and is
//! recorded in `seaql_migrations`.

mod m20260101_000001_catalog_and_inventory;
mod m20260102_000001_accounts;
mod m20261130_000001_stock_reservations;
mod m20261130_000002_carts;
mod m20261130_000003_shop_settings;
mod m20261130_000004_orders;
mod m20261130_000005_payments;
mod m20261130_000006_shipment_actors;
mod m20261201_000001_write_checks;
mod m20261201_000002_outbox_notify;
mod m20261201_000003_notifications;
mod m20261201_000004_webhooks;
mod m20261201_000005_account_emails;

pub(crate) use m20260101_000001_catalog_and_inventory::names;
pub(crate) use m20260102_000001_accounts::names as account_names;
pub(crate) use m20261130_000001_stock_reservations::{StockReservationLines, StockReservations};
pub(crate) use m20261130_000002_carts::Carts;
pub(crate) use m20261130_000003_shop_settings::ShopSettings;
pub(crate) use m20261130_000004_orders::{
    IdempotencyKeys, OrderAttempts, OrderEvents, Orders, Outbox, ProcessedEvents, Shipments,
};
pub(crate) use m20261130_000005_payments::Payments;
pub(crate) use m20261201_000003_notifications::Notifications;
pub(crate) use m20261201_000004_webhooks::{WebhookDeliveries, Webhooks};
pub(crate) use m20261201_000005_account_emails::AccountTokens;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration of the storage adapters, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_catalog_and_inventory::Migration),
            Box::new(m20260102_000001_accounts::Migration),
            Box::new(m20261130_000001_stock_reservations::Migration),
            Box::new(m20261130_000002_carts::Migration),
            Box::new(m20261130_000003_shop_settings::Migration),
            Box::new(m20261130_000004_orders::Migration),
            Box::new(m20261130_000005_payments::Migration),
            Box::new(m20261130_000006_shipment_actors::Migration),
            Box::new(m20261201_000001_write_checks::Migration),
            Box::new(m20261201_000002_outbox_notify::Migration),
            Box::new(m20261201_000003_notifications::Migration),
            Box::new(m20261201_000004_webhooks::Migration),
            Box::new(m20261201_000005_account_emails::Migration),
        ]
    }
}
