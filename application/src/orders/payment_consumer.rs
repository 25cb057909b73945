//! The order follows its payment: the consumer group `orders` pays the order when
//! its payment succeeded, and refunds a payment whose order was cancelled (a success
//! that lost the race with a cancellation or an expiry, or a paid order an admin
//! cancelled). Idempotent by event id: every change carries its processed-event
//! record.

use async_trait::async_trait;
use emporium_domain::orders::{
    ChangedBy, DomainEvent, EventHandler, EventType, Order, OrderChange, OrderRepositoryError,
    OrderStatus, OrderTransition, Payment, PaymentChange, PaymentId, PaymentRepositoryError,
    PaymentStatus, PaymentTransition, ProcessedEvent, ShipmentTransition,
};

use super::OrderPorts;
use super::events::{audit, moved, order_event};
use super::payments::payment_event;

/// The consumer (see the [module docs](self)).
pub struct OrdersFollowPayments {
    ports: OrderPorts,
}

impl OrdersFollowPayments {
    /// The consumer group's name.
    pub const GROUP: &'static str = "orders";

    /// The consumer over the order ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    fn processed(event: &DomainEvent) -> ProcessedEvent {
        ProcessedEvent {
            consumer: Self::GROUP.to_owned(),
            event_id: event.id,
        }
    }

    async fn pay(&self, event: &DomainEvent, payment_id: PaymentId) -> anyhow::Result<()> {
        let ports = &self.ports;
        let Some(order) = ports.orders.get(event.data.order_id).await? else {
            anyhow::bail!("payment {payment_id} is for an unknown order");
        };
        match order.status {
            OrderStatus::Pending => {}
            OrderStatus::Cancelled => return self.refund(event, payment_id).await,
            // Paid already (this event again): nothing to do.
            _ => return Ok(()),
        }
        let now = ports.clock.now();
        let transition = OrderTransition::Pay;
        let after = moved(&order, transition, now);
        let ids = ports.ids.as_ref();
        let change = OrderChange {
            order_id: order.id,
            transition,
            cancel_reason: None,
            shipment: Some(ShipmentTransition::Ready),
            audit: audit(
                ids,
                &order,
                transition,
                ChangedBy::System,
                Some(format!("payment {payment_id} succeeded")),
                now,
            ),
            events: vec![
                order_event(
                    ids,
                    EventType::OrderStatusChanged,
                    &after,
                    Some(&order),
                    now,
                ),
                shipment_ready(ports, &after, now).await?,
            ],
            processed: Some(Self::processed(event)),
            at: now,
        };
        match ports.orders.change(&change).await {
            Ok(_) => {
                tracing::info!(order_id = %order.id, payment_id = %payment_id, "order paid");
                Ok(())
            }
            Err(OrderRepositoryError::AlreadyProcessed) => Ok(()),
            // Cancelled or expired meanwhile: the money goes back.
            Err(OrderRepositoryError::Stale {
                current: OrderStatus::Cancelled,
                ..
            }) => self.refund(event, payment_id).await,
            Err(OrderRepositoryError::Stale { .. }) => Ok(()),
            Err(error) => Err(anyhow::Error::new(error).context("paying the order")),
        }
    }

    /// Refunds payment `payment_id` (once: the provider gets the same idempotency key
    /// on every retry, and the refund is recorded with this event's id).
    async fn refund(&self, event: &DomainEvent, payment_id: PaymentId) -> anyhow::Result<()> {
        let ports = &self.ports;
        let Some(payment) = ports.payments.get(payment_id).await? else {
            anyhow::bail!("payment {payment_id} is unknown");
        };
        if payment.status != PaymentStatus::Succeeded {
            return Ok(());
        }
        let Some(order) = ports.orders.get(payment.order_id).await? else {
            anyhow::bail!("payment {payment_id} is for an unknown order");
        };
        self.refund_payment(event, &order, &payment).await
    }

    async fn refund_payment(
        &self,
        event: &DomainEvent,
        order: &Order,
        payment: &Payment,
    ) -> anyhow::Result<()> {
        let ports = &self.ports;
        let provider = ports
            .provider
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no payment provider to refund with"))?;
        provider
            .refund(
                &payment.provider_reference,
                payment.amount,
                &format!("refund-{}", payment.id),
            )
            .await?;
        let now = ports.clock.now();
        let change = PaymentChange {
            payment_id: payment.id,
            transition: PaymentTransition::Refund,
            events: vec![payment_event(
                ports,
                EventType::PaymentRefunded,
                order,
                payment,
                now,
            )],
            processed: Some(Self::processed(event)),
            at: now,
        };
        match ports.payments.change(&change).await {
            Ok(_) => {
                tracing::info!(order_id = %order.id, payment_id = %payment.id, "payment refunded");
                Ok(())
            }
            Err(
                PaymentRepositoryError::AlreadyProcessed | PaymentRepositoryError::Stale { .. },
            ) => Ok(()),
            Err(error) => Err(anyhow::Error::new(error).context("recording the refund")),
        }
    }

    /// A paid order was cancelled: refund what it paid.
    async fn refund_cancelled(&self, event: &DomainEvent) -> anyhow::Result<()> {
        let payments = self.ports.payments.for_order(event.data.order_id).await?;
        for payment in payments
            .into_iter()
            .filter(|payment| payment.status == PaymentStatus::Succeeded)
        {
            self.refund(event, payment.id).await?;
        }
        Ok(())
    }
}

/// The `shipment.ready` event of a just-paid order.
async fn shipment_ready(
    ports: &OrderPorts,
    order: &Order,
    at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<DomainEvent> {
    let mut event = order_event(
        ports.ids.as_ref(),
        EventType::ShipmentReady,
        order,
        None,
        at,
    );
    event.data.shipment_id = ports.shipments.for_order(order.id).await?.map(|s| s.id);
    Ok(event)
}

#[async_trait]
impl EventHandler for OrdersFollowPayments {
    async fn handle(&self, event: &DomainEvent) -> Result<(), anyhow::Error> {
        match (event.event_type, event.data.payment_id) {
            (EventType::PaymentSucceeded, Some(payment_id)) => self.pay(event, payment_id).await,
            (EventType::OrderCancelled, _)
                if event.data.previous_status == Some(OrderStatus::Paid) =>
            {
                self.refund_cancelled(event).await
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use emporium_domain::UserId;
    use emporium_domain::orders::{
        Currency, EventData, EventId, MockOrderRepository, MockPaymentProvider,
        MockPaymentRepository, MockShipmentRepository, OrderId,
    };
    use uuid::Uuid;

    use super::*;
    use crate::catalog::test_support::now;
    use crate::orders::OrderPorts;
    use crate::orders::test_support::{mock_ports, order};

    fn payment(status: PaymentStatus) -> Payment {
        Payment {
            id: PaymentId(Uuid::from_u128(9)),
            order_id: OrderId(Uuid::from_u128(7)),
            user_id: UserId(Uuid::from_u128(2)),
            amount: order(OrderStatus::Pending).total,
            currency: Currency::EUR,
            status,
            provider_reference: "mock_9".to_owned(),
            created_at: now(),
            updated_at: now(),
        }
    }

    fn succeeded_event() -> DomainEvent {
        let order = order(OrderStatus::Pending);
        DomainEvent {
            id: EventId(Uuid::from_u128(42)),
            event_type: EventType::PaymentSucceeded,
            timestamp: now(),
            data: EventData {
                payment_id: Some(PaymentId(Uuid::from_u128(9))),
                ..EventData::about(&order)
            },
        }
    }

    fn ports(
        orders: MockOrderRepository,
        payments: MockPaymentRepository,
        provider: MockPaymentProvider,
    ) -> OrderPorts {
        OrderPorts {
            orders: Arc::new(orders),
            payments: Arc::new(payments),
            provider: Some(Arc::new(provider)),
            ..mock_ports()
        }
    }

    /// A success that lost the race with a cancellation is refunded, once per
    /// payment (the provider's idempotency key), and recorded with the event's id.
    #[tokio::test]
    async fn a_late_success_for_a_cancelled_order_is_refunded() {
        let mut orders = MockOrderRepository::new();
        orders
            .expect_get()
            .returning(|_| Ok(Some(order(OrderStatus::Cancelled))));
        orders.expect_change().never();
        let mut payments = MockPaymentRepository::new();
        payments
            .expect_get()
            .returning(|_| Ok(Some(payment(PaymentStatus::Succeeded))));
        payments
            .expect_change()
            .withf(|change| {
                change.transition == PaymentTransition::Refund
                    && change.events[0].event_type == EventType::PaymentRefunded
                    && change.processed.as_ref().map(|p| p.event_id)
                        == Some(EventId(Uuid::from_u128(42)))
            })
            .times(1)
            .returning(|_| Ok(payment(PaymentStatus::Refunded)));
        let mut provider = MockPaymentProvider::new();
        provider
            .expect_refund()
            .withf(|reference, _, key| {
                reference == "mock_9" && key == "refund-00000000-0000-0000-0000-000000000009"
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let consumer = OrdersFollowPayments::new(ports(orders, payments, provider));
        consumer.handle(&succeeded_event()).await.unwrap();
    }

    /// A success pays a pending order and readies its shipment, recording the event.
    #[tokio::test]
    async fn a_success_pays_a_pending_order_once() {
        let mut orders = MockOrderRepository::new();
        orders
            .expect_get()
            .returning(|_| Ok(Some(order(OrderStatus::Pending))));
        let mut shipments = MockShipmentRepository::new();
        shipments.expect_for_order().returning(|_| Ok(None));
        orders
            .expect_change()
            .withf(|change| {
                change.transition == OrderTransition::Pay
                    && change.shipment == Some(ShipmentTransition::Ready)
                    && change.processed.is_some()
            })
            .times(1)
            .returning(|_| Err(OrderRepositoryError::AlreadyProcessed));
        let consumer = OrdersFollowPayments::new(OrderPorts {
            shipments: Arc::new(shipments),
            ..ports(
                orders,
                MockPaymentRepository::new(),
                MockPaymentProvider::new(),
            )
        });
        // Already processed (a redelivery): fine, nothing else happens.
        consumer.handle(&succeeded_event()).await.unwrap();
    }
}
