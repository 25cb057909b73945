//! The ports of the purchase flow's storage and outside services.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::access::UserId;
use crate::pagination::{Page, PageRequest};

use super::cart::Cart;
use super::events::{DomainEvent, EventId};
use super::id::OrderId;
use super::idempotency::IdempotencyKey;
use super::money::{Currency, Money};
use super::order::{CancelReason, ChangedBy, Order, OrderEvent};
use super::payment::{Dispatch, Payment, PaymentId, Shipment, ShipmentId};
use super::status::{
    OrderStatus, OrderTransition, PaymentStatus, PaymentTransition, ShipmentStatus,
    ShipmentTransition,
};

/// Failures of [`CartStore`].
#[derive(Debug, thiserror::Error)]
pub enum CartStoreError {
    /// The stored cart changed since it was read (another request saved first).
    #[error("the cart changed since it was read")]
    Changed,
    /// The store cannot be reached now; the same call may succeed later.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Keeps one cart per user, surviving restarts.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CartStore: Send + Sync {
    /// The user's cart, if one was saved (and not expired, for stores with a TTL).
    /// Errors: `Unavailable`, `Unexpected`.
    async fn get(&self, owner: UserId) -> Result<Option<Cart>, CartStoreError>;

    /// Saves `cart` if the stored one is still at `cart.version()` (absent for 0),
    /// and returns it at its new version. Errors: `Changed`, `Unavailable`,
    /// `Unexpected`.
    async fn save(&self, cart: &Cart) -> Result<Cart, CartStoreError>;

    /// Removes the user's cart (nothing when there is none). Errors: `Unavailable`,
    /// `Unexpected`.
    async fn delete(&self, owner: UserId) -> Result<(), CartStoreError>;

    /// Checks that the store answers. Errors: `Unavailable`, `Unexpected`.
    async fn ping(&self) -> Result<(), CartStoreError>;
}

/// Why an [`OrderRepository`] call failed.
#[derive(Debug, thiserror::Error)]
pub enum OrderRepositoryError {
    /// No such order.
    #[error("order {0} not found")]
    NotFound(OrderId),
    /// The order's status is not the transition's starting point any more (another
    /// change won the race); `current` is the status now.
    #[error("order {order_id} is {current}")]
    Stale {
        /// The order.
        order_id: OrderId,
        /// Its status now.
        current: OrderStatus,
    },
    /// The order could move but its shipment could not: the shipment left the
    /// move's starting status (it was dispatched first); nothing was written.
    #[error("the shipment of order {order_id} is {current}")]
    ShipmentMoved {
        /// The order.
        order_id: OrderId,
        /// The shipment's status now.
        current: ShipmentStatus,
    },
    /// The consumer already applied this event (its processed-event record exists).
    #[error("event already processed")]
    AlreadyProcessed,
    /// The order attempt is gone: the recovery task abandoned it (and released its
    /// stock) while the request was still running.
    #[error("the order attempt {0} was abandoned")]
    AttemptGone(OrderId),
    /// The buyer already holds the most unpaid orders allowed.
    #[error("too many pending orders")]
    TooManyPending,
    /// The store cannot be reached now; the same call may succeed later.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The first step of placing an order: recorded before any stock is reserved, so a
/// crash between the reservation and the order leaves something to recover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAttempt {
    /// The order's id (and its reservation's key).
    pub order_id: OrderId,
    /// The buyer.
    pub user_id: UserId,
    /// When the attempt began.
    pub created_at: DateTime<Utc>,
}

/// An idempotency key in its scope: the user who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyScope {
    /// The sender.
    pub user_id: UserId,
    /// The key.
    pub key: IdempotencyKey,
}

/// A consumer's record that it applied an event, written in the same transaction as
/// its change so a redelivered event is applied once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedEvent {
    /// The consumer (its consumer-group name).
    pub consumer: String,
    /// The event.
    pub event_id: EventId,
}

/// A placed order and everything written with it, in one transaction: the order, its
/// shipment (`pending_payment`), its first audit row, its events (to the outbox), the
/// completion of its idempotency key, and the removal of its attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    /// The order (`pending`).
    pub order: Order,
    /// Its shipment.
    pub shipment: Shipment,
    /// Its `created` audit row.
    pub audit: OrderEvent,
    /// Its events (`order.created`).
    pub events: Vec<DomainEvent>,
    /// The idempotency key the request carried, if any.
    pub idempotency: Option<IdempotencyScope>,
    /// The most unpaid orders the buyer may hold, this one included; checked in the
    /// same transaction.
    pub max_pending: u32,
}

/// One move of an order, written with its audit row, its shipment's move, its events
/// and (for a consumer) its processed-event record, in one transaction. The move is a
/// conditional update on the starting status: exactly one of racing moves wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChange {
    /// The order.
    pub order_id: OrderId,
    /// The move.
    pub transition: OrderTransition,
    /// Why, for a cancellation.
    pub cancel_reason: Option<CancelReason>,
    /// The shipment's move with it, if any: readied on payment, cancelled with the
    /// order, both conditional on the shipment's starting status too. A shipment's
    /// own moves (dispatch, delivery) are a [`ShipmentMove`].
    pub shipment: Option<ShipmentTransition>,
    /// The audit row.
    pub audit: OrderEvent,
    /// Events to publish (to the outbox).
    pub events: Vec<DomainEvent>,
    /// The consumer's record, when a consumer makes the change.
    pub processed: Option<ProcessedEvent>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only this buyer's orders.
    pub user_id: Option<UserId>,
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
}

/// Stores orders, their shipments, audit trails, order attempts and outbox rows; each
/// atomic write is one method and the adapter owns its transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait OrderRepository: Send + Sync {
    /// Records the first step of placing an order, unless the buyer already holds
    /// `max_pending` unpaid orders: then nothing is recorded and the answer is
    /// `TooManyPending` (checked again when the order is placed, since attempts race).
    /// Errors: `TooManyPending`, `Unavailable`, `Unexpected`.
    async fn record_attempt(
        &self,
        attempt: &OrderAttempt,
        max_pending: u32,
    ) -> Result<(), OrderRepositoryError>;

    /// Attempts begun before `before` whose order was never placed, oldest first.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn stale_attempts(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OrderAttempt>, OrderRepositoryError>;

    /// Removes an attempt; `true` when this call removed it (the caller then owns
    /// releasing its stock). Errors: `Unavailable`, `Unexpected`.
    async fn abandon_attempt(&self, order_id: OrderId) -> Result<bool, OrderRepositoryError>;

    /// Writes a placed order (see [`PlacedOrder`]). Errors: `AttemptGone`,
    /// `TooManyPending`, `Unavailable`, `Unexpected`.
    async fn place(&self, placed: &PlacedOrder) -> Result<(), OrderRepositoryError>;

    /// The order, if any. Errors: `Unavailable`, `Unexpected`.
    async fn get(&self, id: OrderId) -> Result<Option<Order>, OrderRepositoryError>;

    /// A page of orders matching `filter`, newest first. Errors: `Unavailable`,
    /// `Unexpected`.
    async fn list(
        &self,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<Order>, OrderRepositoryError>;

    /// The order's audit trail, oldest first. Errors: `Unavailable`, `Unexpected`.
    async fn events(&self, id: OrderId) -> Result<Vec<OrderEvent>, OrderRepositoryError>;

    /// Applies a move (see [`OrderChange`]) and returns the order after it. Errors:
    /// `NotFound`, `Stale`, `ShipmentMoved`, `AlreadyProcessed`, `Unavailable`,
    /// `Unexpected`.
    async fn change(&self, change: &OrderChange) -> Result<Order, OrderRepositoryError>;

    /// Pending orders whose `payBy` is before `now`, oldest first. Errors:
    /// `Unavailable`, `Unexpected`.
    async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OrderId>, OrderRepositoryError>;
}

/// Why a [`ShipmentRepository`] call failed.
#[derive(Debug, thiserror::Error)]
pub enum ShipmentRepositoryError {
    /// No such shipment.
    #[error("shipment {0} not found")]
    NotFound(ShipmentId),
    /// The shipment's status is not the move's starting point any more (another
    /// change won the race); `current` is the status now.
    #[error("shipment {shipment_id} is {current}")]
    Stale {
        /// The shipment.
        shipment_id: ShipmentId,
        /// Its status now.
        current: ShipmentStatus,
    },
    /// The store cannot be reached now; the same call may succeed later.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A shipment's own move (dispatch, delivery) with its events (to the outbox), in one
/// transaction; a conditional update on the starting status, so exactly one of racing
/// moves wins. The order follows through the events (`shipment.dispatched` → shipped,
/// `shipment.delivered` → delivered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentMove {
    /// The shipment.
    pub shipment_id: ShipmentId,
    /// The move: [`ShipmentTransition::Dispatch`] or [`ShipmentTransition::Deliver`].
    pub transition: ShipmentTransition,
    /// Carrier and tracking number, for a dispatch.
    pub dispatch: Option<Dispatch>,
    /// Who made the move (recorded as `dispatched_by` or `delivered_by`).
    pub by: ChangedBy,
    /// Events to publish.
    pub events: Vec<DomainEvent>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Stores shipments (in the order store: a shipment is created, readied and
/// cancelled with its order through [`OrderRepository`], and moves on its own here).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ShipmentRepository: Send + Sync {
    /// The shipment `id`, if any. Errors: `Unavailable`, `Unexpected`.
    async fn get(&self, id: ShipmentId) -> Result<Option<Shipment>, ShipmentRepositoryError>;
    /// The order's shipment, if any. Errors: `Unavailable`, `Unexpected`.
    async fn for_order(
        &self,
        order_id: OrderId,
    ) -> Result<Option<Shipment>, ShipmentRepositoryError>;
    /// Applies a move (see [`ShipmentMove`]) and returns the shipment after it.
    /// Errors: `NotFound`, `Stale`, `Unavailable`, `Unexpected`.
    async fn change(&self, change: &ShipmentMove) -> Result<Shipment, ShipmentRepositoryError>;
}

/// What [`IdempotencyStore::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// The key is new (or its holder crashed): the caller holds it now.
    Started,
    /// Another request with the key is still running.
    InFlight,
    /// A request with the key and the same body created this order: replay it.
    Completed(OrderId),
    /// The key was used with another body.
    Mismatch,
}

/// Why an [`IdempotencyStore`] call failed.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyStoreError {
    /// The store cannot be reached now.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Remembers idempotency keys: who holds one now, and which order a completed one
/// created. Completion is written with the order ([`PlacedOrder::idempotency`]).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Takes `scope` for a request whose body has `fingerprint` (a SHA-256 of its
    /// canonical JSON), holding it until `held_until`; a holder whose time passed is
    /// presumed crashed and replaced. Errors: `Unavailable`, `Unexpected`.
    async fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &str,
        now: DateTime<Utc>,
        held_until: DateTime<Utc>,
    ) -> Result<IdempotencyBegin, IdempotencyStoreError>;

    /// Frees a key whose request was refused (a completed key stays). Errors:
    /// `Unavailable`, `Unexpected`.
    async fn release(&self, scope: &IdempotencyScope) -> Result<(), IdempotencyStoreError>;

    /// Forgets completed keys older than `before`; how many. Errors: `Unavailable`,
    /// `Unexpected`.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, IdempotencyStoreError>;
}

/// An event waiting in the outbox, with its position (commit order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Position in the outbox: publish in this order.
    pub position: i64,
    /// The event.
    pub event: DomainEvent,
}

/// Why an [`Outbox`] or [`EventBus`] call failed.
#[derive(Debug, thiserror::Error)]
pub enum EventDeliveryError {
    /// A store or broker cannot be reached now.
    #[error("cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// It failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The events state changes committed, read by the relay that publishes them.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Unsent events in commit order, at most `limit`. Errors: `Unavailable`,
    /// `Unexpected`.
    async fn unsent(&self, limit: u32) -> Result<Vec<OutboxMessage>, EventDeliveryError>;
    /// Marks events sent. Errors: `Unavailable`, `Unexpected`.
    async fn mark_sent(
        &self,
        positions: &[i64],
        at: DateTime<Utc>,
    ) -> Result<(), EventDeliveryError>;
    /// Forgets sent events and processed-event records older than `before`; how many
    /// rows went. Errors: `Unavailable`, `Unexpected`.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, EventDeliveryError>;
    /// How many events wait to be published, and when the oldest was committed.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn backlog(&self) -> Result<OutboxBacklog, EventDeliveryError>;
}

/// What waits in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxBacklog {
    /// Events not published yet.
    pub unsent: u64,
    /// When the oldest of them was committed.
    pub oldest: Option<DateTime<Utc>>,
}

/// Handles the events a consumer group receives. Handlers are idempotent by event id.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// Applies `event`. An error leaves it for redelivery. Errors: any.
    async fn handle(&self, event: &DomainEvent) -> Result<(), anyhow::Error>;
}

/// Carries events from the outbox relay to consumer groups. Delivery is at least
/// once: every group sees every event; handlers are idempotent.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes `event`; `Ok` once the bus holds it durably (or, in process, once
    /// every group handled it). Errors: `Unavailable`, `Unexpected`.
    async fn publish(&self, event: &DomainEvent) -> Result<(), EventDeliveryError>;
    /// Adds the consumer group `group` whose events `handler` applies.
    fn subscribe(&self, group: &str, handler: std::sync::Arc<dyn EventHandler>);
}

/// Why a [`PaymentRepository`] call failed.
#[derive(Debug, thiserror::Error)]
pub enum PaymentRepositoryError {
    /// No such payment.
    #[error("payment {0} not found")]
    NotFound(PaymentId),
    /// The order already has a pending or succeeded payment.
    #[error("order {0} already has an open payment")]
    ActiveExists(OrderId),
    /// The payment's status is not the transition's starting point any more.
    #[error("payment {payment_id} is {current}")]
    Stale {
        /// The payment.
        payment_id: PaymentId,
        /// Its status now.
        current: PaymentStatus,
    },
    /// The consumer already applied this event.
    #[error("event already processed")]
    AlreadyProcessed,
    /// The store cannot be reached now.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// One move of a payment with its events (to the outbox) and, for a consumer, its
/// processed-event record, in one transaction; a conditional update on the starting
/// status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentChange {
    /// The payment.
    pub payment_id: PaymentId,
    /// The move.
    pub transition: PaymentTransition,
    /// Events to publish.
    pub events: Vec<DomainEvent>,
    /// The consumer's record, when a consumer makes the change.
    pub processed: Option<ProcessedEvent>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Stores payments (in the order store: a payment and the order's events commit
/// together).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentRepository: Send + Sync {
    /// Stores a new pending payment; at most one pending or succeeded payment exists
    /// per order. Errors: `ActiveExists`, `Unavailable`, `Unexpected`.
    async fn create(&self, payment: &Payment) -> Result<(), PaymentRepositoryError>;
    /// The payment, if any. Errors: `Unavailable`, `Unexpected`.
    async fn get(&self, id: PaymentId) -> Result<Option<Payment>, PaymentRepositoryError>;
    /// The order's payments, oldest first. Errors: `Unavailable`, `Unexpected`.
    async fn for_order(&self, order_id: OrderId) -> Result<Vec<Payment>, PaymentRepositoryError>;
    /// Applies a move (see [`PaymentChange`]). Errors: `NotFound`, `Stale`,
    /// `AlreadyProcessed`, `Unavailable`, `Unexpected`.
    async fn change(&self, change: &PaymentChange) -> Result<Payment, PaymentRepositoryError>;
}

/// Why the payment provider failed.
#[derive(Debug, thiserror::Error)]
pub enum PaymentProviderError {
    /// The provider cannot be reached now.
    #[error("the payment provider cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The provider refused or failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A payment provider: where money is taken and given back. The mock provider is
/// the first adapter; a real one is only another adapter.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// The provider's name (`mock`).
    fn name(&self) -> &'static str;
    /// Opens a payment of `amount` for `order_id`; the provider's reference for it.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn open(
        &self,
        order_id: OrderId,
        amount: Money,
        currency: Currency,
    ) -> Result<String, PaymentProviderError>;
    /// Gives the money of payment `reference` back. `idempotency_key` is the same for
    /// every retry of one refund, so the provider refunds once. Errors:
    /// `Unavailable`, `Unexpected`.
    async fn refund(
        &self,
        reference: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<(), PaymentProviderError>;
}
