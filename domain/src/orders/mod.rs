//! The purchase flow: carts, orders, payments, shipments and the events between them.
//!
//! - [`Cart`]: a customer's lines, each with the product's name, SKU and price as
//!   they were when added.
//! - [`Order`]: lines priced when placed, a total in the shop [`Currency`], a
//!   [`ShippingAddress`], and a status that moves only along the legal
//!   [`OrderTransition`]s; every change leaves an [`OrderEvent`] (audit row).
//! - [`Payment`] and [`Shipment`], with state machines of their own.
//! - [`DomainEvent`]: what other contexts are told, in design §6's envelope.

mod address;
mod cart;
mod events;
mod id;
mod idempotency;
mod line;
mod money;
mod order;
mod payment;
mod ports;
mod status;

pub use address::{AddressLine, City, CountryCode, PostalCode, RecipientName, ShippingAddress};
pub use cart::{Added, Cart, CartError};
pub use events::{DomainEvent, EventData, EventId, EventType};
pub use id::OrderId;
pub use idempotency::IdempotencyKey;
pub use line::{LineQuantity, MAX_LINES, PricedLine, RequestedLine};
pub use money::{Currency, Money};
pub use order::{CancelReason, ChangedBy, Order, OrderEvent, OrderEventKind, OrderLines};
pub use payment::{Carrier, Dispatch, Payment, PaymentId, Shipment, ShipmentId, TrackingNumber};
pub use ports::{
    CartStore, CartStoreError, EventBus, EventDeliveryError, EventHandler, IdempotencyBegin,
    IdempotencyScope, IdempotencyStore, IdempotencyStoreError, OrderAttempt, OrderChange,
    OrderFilter, OrderRepository, OrderRepositoryError, Outbox, OutboxBacklog, OutboxMessage,
    PaymentChange, PaymentProvider, PaymentProviderError, PaymentRepository,
    PaymentRepositoryError, PlacedOrder, ProcessedEvent, ShipmentMove, ShipmentRepository,
    ShipmentRepositoryError,
};
#[cfg(feature = "mocks")]
pub use ports::{
    MockCartStore, MockEventBus, MockEventHandler, MockIdempotencyStore, MockOrderRepository,
    MockOutbox, MockPaymentProvider, MockPaymentRepository, MockShipmentRepository,
};
pub use status::{
    OrderStatus, OrderTransition, PaymentStatus, PaymentTransition, ShipmentStatus,
    ShipmentTransition,
};
