//! Order use cases: placing an order (a saga over stock reservations), reading
//! orders and their audit trails, cancelling, and the background work that keeps the
//! flow exact after crashes: the outbox relay, the expiry of unpaid orders, the
//! recovery of abandoned attempts, and the pruning of old records.
//!
//! [`Orders`] builds them all over one set of ports ([`OrderPorts`]).

mod background;
mod cancel_order;
mod events;
mod payment_consumer;
mod payments;
mod place_order;
pub(crate) mod queries;
mod shipment_consumer;
mod shipping;
mod stock_consumer;
#[cfg(test)]
pub(crate) mod test_support;

use std::sync::Arc;

use chrono::TimeDelta;
use emporium_domain::accounts::UserRepository;
use emporium_domain::catalog::ProductCatalog;
use emporium_domain::inventory::StockReservations;
use emporium_domain::orders::{
    CartStore, Currency, EventBus, IdempotencyStore, OrderRepository, Outbox, PaymentProvider,
    PaymentRepository, ShipmentRepository,
};
use emporium_domain::{Clock, IdGenerator};

pub use background::{ExpireOrders, PruneRecords, RecoverOrderAttempts, RelayOutbox};
pub use cancel_order::{CancelOrder, CancelOrderError};
pub use payment_consumer::OrdersFollowPayments;
pub use payments::{PaymentError, Payments};
pub use place_order::{LinesSource, PlaceOrder, PlaceOrderError, PlaceOrderInput, Placed};
pub use queries::{
    GetOrder, GetOrderError, ListOrderEvents, ListOrderEventsError, ListOrders, ListOrdersError,
    OrderView,
};
pub use shipment_consumer::OrdersFollowShipments;
pub use shipping::{Shipping, ShippingError};
pub use stock_consumer::StockFollowsOrders;

/// The rules of the purchase flow a shop configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderSettings {
    /// The shop currency.
    pub currency: Currency,
    /// How long a pending order waits for payment before it is cancelled.
    pub payment_timeout: TimeDelta,
    /// The most unpaid orders one customer may hold at once.
    pub max_pending_orders: u32,
    /// How long a request holds an idempotency key before it counts as crashed.
    pub idempotency_hold: TimeDelta,
    /// How long a completed idempotency key is replayed.
    pub idempotency_retention: TimeDelta,
    /// How long sent outbox rows and processed-event records are kept.
    pub event_retention: TimeDelta,
    /// How old an order attempt must be before the recovery task abandons it.
    pub attempt_timeout: TimeDelta,
}

impl Default for OrderSettings {
    fn default() -> Self {
        Self {
            currency: Currency::EUR,
            payment_timeout: TimeDelta::minutes(30),
            max_pending_orders: 3,
            idempotency_hold: TimeDelta::seconds(30),
            idempotency_retention: TimeDelta::hours(24),
            event_retention: TimeDelta::days(7),
            attempt_timeout: TimeDelta::minutes(1),
        }
    }
}

/// The ports the order use cases drive.
#[derive(Clone)]
pub struct OrderPorts {
    /// Orders, audit rows, attempts (and the outbox, in the same store).
    pub orders: Arc<dyn OrderRepository>,
    /// The outbox of the order store.
    pub outbox: Arc<dyn Outbox>,
    /// Idempotency keys (in the order store).
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Payments (in the order store).
    pub payments: Arc<dyn PaymentRepository>,
    /// Shipments (in the order store).
    pub shipments: Arc<dyn ShipmentRepository>,
    /// The payment provider, when one is configured.
    pub provider: Option<Arc<dyn PaymentProvider>>,
    /// Stock reservations (inventory).
    pub reservations: Arc<dyn StockReservations>,
    /// The catalog: names, SKUs, prices, active flags.
    pub catalog: Arc<dyn ProductCatalog>,
    /// Carts (ordering from the cart empties it).
    pub carts: Arc<dyn CartStore>,
    /// Accounts, where they run in this process: the buyer's email is snapshotted on
    /// the order from the access token, or read here for a token that lacks it. A
    /// split orders service has none.
    pub users: Option<Arc<dyn UserRepository>>,
    /// Where events go.
    pub bus: Arc<dyn EventBus>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Ids of orders, shipments, audit rows and events.
    pub ids: Arc<dyn IdGenerator>,
    /// The shop's rules.
    pub settings: OrderSettings,
}

/// Every order use case, over one set of ports.
pub struct Orders {
    /// Places an order.
    pub place: PlaceOrder,
    /// Reads an order.
    pub get: GetOrder,
    /// Lists orders.
    pub list: ListOrders,
    /// Reads an order's audit trail.
    pub events: ListOrderEvents,
    /// Cancels an order.
    pub cancel: CancelOrder,
    /// Opens, reads and settles payments.
    pub payments: Payments,
    /// Reads, dispatches and delivers shipments.
    pub shipping: Shipping,
    /// Publishes committed events.
    pub relay: RelayOutbox,
    /// Cancels unpaid orders past their time.
    pub expire: ExpireOrders,
    /// Releases the stock of attempts a crash left behind.
    pub recover: RecoverOrderAttempts,
    /// Forgets old outbox rows, processed-event records and idempotency keys.
    pub prune: PruneRecords,
    /// What waits in the outbox (for metrics).
    pub outbox: Arc<dyn Outbox>,
}

impl Orders {
    /// The use cases over `ports`; also subscribes the consumers (stock, and the
    /// order following its payments and its shipment) to the bus.
    pub fn new(ports: OrderPorts) -> Self {
        ports.bus.subscribe(
            StockFollowsOrders::GROUP,
            Arc::new(StockFollowsOrders::new(
                ports.reservations.clone(),
                ports.clock.clone(),
            )),
        );
        ports.bus.subscribe(
            OrdersFollowPayments::GROUP,
            Arc::new(OrdersFollowPayments::new(ports.clone())),
        );
        ports.bus.subscribe(
            OrdersFollowShipments::GROUP,
            Arc::new(OrdersFollowShipments::new(ports.clone())),
        );
        Self {
            place: PlaceOrder::new(ports.clone()),
            get: GetOrder::new(ports.clone()),
            list: ListOrders::new(ports.clone()),
            events: ListOrderEvents::new(ports.clone()),
            cancel: CancelOrder::new(ports.clone()),
            payments: Payments::new(ports.clone()),
            shipping: Shipping::new(ports.clone()),
            relay: RelayOutbox::new(ports.clone()),
            expire: ExpireOrders::new(ports.clone()),
            recover: RecoverOrderAttempts::new(ports.clone()),
            outbox: ports.outbox.clone(),
            prune: PruneRecords::new(ports),
        }
    }
}
