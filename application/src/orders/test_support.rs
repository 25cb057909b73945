//! Fixtures shared by the order use-case tests.

use std::sync::Arc;

use emporium_domain::accounts::{Email, MockUserRepository};
use emporium_domain::catalog::MockProductCatalog;
use emporium_domain::inventory::MockStockReservations;
use emporium_domain::orders::{
    AddressLine, City, CountryCode, Currency, LineQuantity, MockCartStore, MockEventBus,
    MockIdempotencyStore, MockOrderRepository, MockOutbox, MockPaymentRepository,
    MockShipmentRepository, Order, OrderId, OrderLines, OrderStatus, PostalCode, PricedLine,
    RecipientName, ShippingAddress,
};
use emporium_domain::{MockIdGenerator, UserId};
use uuid::Uuid;

use super::{OrderPorts, OrderSettings};
use crate::catalog::test_support::{clock, now, product};

/// Ports whose mocks expect nothing, with fresh ids and the fixed clock; tests
/// replace the ports they drive (`OrderPorts { orders, ..mock_ports() }`).
pub fn mock_ports() -> OrderPorts {
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id().returning(Uuid::now_v7);
    OrderPorts {
        orders: Arc::new(MockOrderRepository::new()),
        outbox: Arc::new(MockOutbox::new()),
        idempotency: Arc::new(MockIdempotencyStore::new()),
        payments: Arc::new(MockPaymentRepository::new()),
        shipments: Arc::new(MockShipmentRepository::new()),
        provider: None,
        reservations: Arc::new(MockStockReservations::new()),
        catalog: Arc::new(MockProductCatalog::new()),
        carts: Arc::new(MockCartStore::new()),
        users: Some(Arc::new(MockUserRepository::new())),
        bus: Arc::new(MockEventBus::new()),
        clock: clock(),
        ids: Arc::new(ids),
        settings: OrderSettings::default(),
    }
}

/// A shipping address in London.
pub fn address() -> ShippingAddress {
    ShippingAddress {
        name: RecipientName::new("Ada").unwrap(),
        line1: AddressLine::new("1 St").unwrap(),
        line2: None,
        city: City::new("London").unwrap(),
        postal_code: PostalCode::new("N1").unwrap(),
        country: CountryCode::new("GB").unwrap(),
    }
}

/// Order 7 of customer 2: one unit of product 1, in `status`.
pub fn order(status: OrderStatus) -> Order {
    let lines = OrderLines::new(vec![PricedLine {
        product_id: product(1).id,
        sku: product(1).sku,
        name: product(1).name,
        unit_price: product(1).price,
        quantity: LineQuantity::new(1).unwrap(),
    }])
    .unwrap();
    Order {
        id: OrderId(Uuid::from_u128(7)),
        user_id: UserId(Uuid::from_u128(2)),
        email: Email::parse("ada@example.com").unwrap(),
        total: lines.total(),
        lines,
        currency: Currency::EUR,
        shipping_address: address(),
        status,
        pay_by: now(),
        cancel_reason: None,
        created_at: now(),
        updated_at: now(),
    }
}
