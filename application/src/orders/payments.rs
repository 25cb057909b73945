//! Payments: opening one for an order, reading it, and the provider's answer
//! (succeeded or failed). The order follows the payment through events
//! ([`OrdersFollowPayments`](super::OrdersFollowPayments)).

use emporium_domain::orders::{
    EventType, Order, OrderStatus, Payment, PaymentChange, PaymentId, PaymentRepositoryError,
    PaymentStatus, PaymentTransition,
};
use emporium_domain::{AccessDenied, Actor};

use super::OrderPorts;
use super::events::order_event;
use super::queries::{sees, viewer, visible_order};
use crate::failure::{Failure, UseCaseError};

/// Failures of the payment use cases.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// Not allowed for this caller.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such payment or order, or another customer's.
    #[error("Not found.")]
    NotFound,
    /// The order is not pending, so it takes no payment.
    #[error("A {0} order takes no payment.")]
    OrderNotPayable(OrderStatus),
    /// The order already has a pending or succeeded payment.
    #[error("This order already has a pending or succeeded payment.")]
    AlreadyOpen,
    /// The payment's status forbids the outcome (it succeeded, failed or was
    /// refunded already).
    #[error("A {0} payment cannot change that way.")]
    InvalidTransition(PaymentStatus),
    /// Storage or the provider failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for PaymentError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound => Failure::not_found(),
            Self::OrderNotPayable(_) => Failure::conflict("invalid_transition"),
            Self::AlreadyOpen => Failure::conflict("payment_exists"),
            Self::InvalidTransition(_) => Failure::conflict("invalid_transition"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

/// Opens and reads payments; settles them as the mock provider's callback.
pub struct Payments {
    ports: OrderPorts,
}

impl Payments {
    /// The use cases over their ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// The provider in use (`mock`), if one is configured.
    pub fn provider(&self) -> Option<&'static str> {
        self.ports.provider.as_ref().map(|provider| provider.name())
    }

    /// Opens a payment of the order's total with the provider. The owner or an admin;
    /// only a pending order, and only one pending or succeeded payment at a time.
    #[tracing::instrument(name = "create_payment", skip_all, fields(order_id = %order_id))]
    pub async fn create(
        &self,
        actor: &Actor,
        order_id: emporium_domain::orders::OrderId,
    ) -> Result<Payment, PaymentError> {
        let order = visible_order(&self.ports, viewer(actor, false)?, order_id)
            .await?
            .ok_or(PaymentError::NotFound)?;
        if order.status != OrderStatus::Pending {
            return Err(PaymentError::OrderNotPayable(order.status));
        }
        let provider = self.ports.provider.as_ref().ok_or_else(|| {
            PaymentError::Unexpected(anyhow::anyhow!("no payment provider is configured"))
        })?;
        let reference = provider
            .open(order.id, order.total, order.currency)
            .await
            .map_err(|error| {
                PaymentError::Unexpected(anyhow::Error::new(error).context("opening the payment"))
            })?;
        let now = self.ports.clock.now();
        let payment = Payment {
            id: PaymentId(self.ports.ids.new_id()),
            order_id: order.id,
            user_id: order.user_id,
            amount: order.total,
            currency: order.currency,
            status: PaymentStatus::Pending,
            provider_reference: reference,
            created_at: now,
            updated_at: now,
        };
        match self.ports.payments.create(&payment).await {
            Ok(()) => Ok(payment),
            Err(PaymentRepositoryError::ActiveExists(_)) => Err(PaymentError::AlreadyOpen),
            Err(error) => Err(PaymentError::Unexpected(
                anyhow::Error::new(error).context("storing the payment"),
            )),
        }
    }

    /// The payment `id` (the owner, an admin, or the provider's callback).
    pub async fn get(&self, actor: &Actor, id: PaymentId) -> Result<Payment, PaymentError> {
        let payment = self
            .ports
            .payments
            .get(id)
            .await
            .map_err(|error| PaymentError::Unexpected(error.into()))?
            .ok_or(PaymentError::NotFound)?;
        if sees(viewer(actor, true)?, payment.user_id) {
            Ok(payment)
        } else {
            Err(PaymentError::NotFound)
        }
    }

    /// The provider's answer for payment `id`: `succeeded` (`true`) or `failed`.
    /// Repeating the same answer changes nothing; the opposite answer is refused.
    /// Emits `payment.succeeded` / `payment.failed`; the order follows.
    #[tracing::instrument(name = "settle_payment", skip_all, fields(payment_id = %id, succeeded))]
    pub async fn settle(
        &self,
        actor: &Actor,
        id: PaymentId,
        succeeded: bool,
    ) -> Result<Payment, PaymentError> {
        let payment = self.get(actor, id).await?;
        let transition = if succeeded {
            PaymentTransition::Succeed
        } else {
            PaymentTransition::Fail
        };
        if payment.status == transition.to() {
            return Ok(payment);
        }
        if payment.status != transition.from() {
            return Err(PaymentError::InvalidTransition(payment.status));
        }
        let order = self
            .ports
            .orders
            .get(payment.order_id)
            .await
            .map_err(|error| PaymentError::Unexpected(error.into()))?
            .ok_or(PaymentError::NotFound)?;
        let now = self.ports.clock.now();
        let kind = if succeeded {
            EventType::PaymentSucceeded
        } else {
            EventType::PaymentFailed
        };
        let change = PaymentChange {
            payment_id: id,
            transition,
            events: vec![payment_event(&self.ports, kind, &order, &payment, now)],
            processed: None,
            at: now,
        };
        match self.ports.payments.change(&change).await {
            Ok(settled) => Ok(settled),
            // Lost a race: the same answer is done, the other one is refused.
            Err(PaymentRepositoryError::Stale { current, .. }) if current == transition.to() => {
                self.get(actor, id).await
            }
            Err(PaymentRepositoryError::Stale { current, .. }) => {
                Err(PaymentError::InvalidTransition(current))
            }
            Err(error) => Err(PaymentError::Unexpected(
                anyhow::Error::new(error).context("settling the payment"),
            )),
        }
    }
}

/// A `payment.*` event about `payment` of `order`.
pub(crate) fn payment_event(
    ports: &OrderPorts,
    kind: EventType,
    order: &Order,
    payment: &Payment,
    at: chrono::DateTime<chrono::Utc>,
) -> emporium_domain::orders::DomainEvent {
    let mut event = order_event(ports.ids.as_ref(), kind, order, None, at);
    event.data.payment_id = Some(payment.id);
    event
}
