//! An application that embeds Emporium's crates instead of running its servers.
//!
//! It uses the notification use cases of `emporium-application` over adapters of
//! `emporium-adapters` (SQLite storage, the minijinja mail templates, the in-process
//! event bus and live hub) and supplies one adapter of its own: [`StdoutMailer`], a
//! [`Mailer`] that prints each mail instead of sending it. `main.rs` tells a buyer of
//! a placed order end to end; the unit test below drives the same use case with the
//! `mocks` feature of `emporium-domain`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Utc;
use emporium_domain::UserId;
use emporium_domain::accounts::Email;
use emporium_domain::catalog::{Price, ProductId, ProductName, Sku};
use emporium_domain::notifications::{Mailer, MailerError, OutgoingMail};
use emporium_domain::orders::{
    Currency, DomainEvent, EventData, EventId, EventType, LineQuantity, OrderId, OrderStatus,
    PricedLine,
};
use uuid::Uuid;

/// Our own [`Mailer`]: writes each mail's headers and text part to `out`.
pub struct StdoutMailer {
    out: Mutex<Box<dyn Write + Send>>,
}

impl StdoutMailer {
    /// A mailer printing to standard output.
    pub fn stdout() -> Self {
        Self::to(Box::new(std::io::stdout()))
    }

    /// A mailer printing to `out`.
    pub fn to(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }
}

#[async_trait]
impl Mailer for StdoutMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailerError> {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        writeln!(
            out,
            "To: {}\nMessage-ID: <{}@example.app>\nSubject: {}\n\n{}\n",
            mail.to.as_str(),
            mail.key.as_str(),
            mail.content.subject,
            mail.content.text
        )
        .map_err(|error| MailerError::Unexpected(error.into()))
    }
}

/// An `order.created` event for `buyer`: two espresso cups.
pub fn order_placed(buyer: UserId) -> DomainEvent {
    let line = PricedLine {
        product_id: ProductId(Uuid::now_v7()),
        sku: Sku::new("CUP-090").expect("a SKU"),
        name: ProductName::new("Espresso cup").expect("a name"),
        unit_price: Price::parse("12.50").expect("a price"),
        quantity: LineQuantity::new(2).expect("a quantity"),
    };
    DomainEvent {
        id: EventId(Uuid::now_v7()),
        event_type: EventType::OrderCreated,
        timestamp: Utc::now(),
        data: EventData {
            order_id: OrderId(Uuid::now_v7()),
            user_id: buyer,
            email: Email::parse("ada@example.com").expect("an address"),
            status: OrderStatus::Pending,
            total: line.line_total(),
            lines: vec![line],
            currency: Currency::EUR,
            previous_status: None,
            cancel_reason: None,
            payment_id: None,
            shipment_id: None,
            carrier: None,
            tracking_number: None,
        },
    }
}

/// A writer into a shared buffer (for tests).
#[derive(Clone, Default)]
pub struct SharedBuffer(pub Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use emporium_adapters::in_process::{SystemClock, UuidV7Generator};
    use emporium_adapters::mail::MinijinjaMailTemplates;
    use emporium_application::notifications::{
        DeliverNotifications, NotificationPorts, NotificationSettings, NotifyBuyers,
    };
    use emporium_domain::notifications::{
        MockLivePush, MockNotificationRepository, MockStreamTickets,
    };
    use emporium_domain::orders::EventHandler;

    use super::*;

    /// The use case, with our mailer and mocked storage: a placed order is recorded
    /// once and mailed once, through our adapter.
    #[tokio::test]
    async fn a_placed_order_is_mailed_through_our_mailer() {
        let mut store = MockNotificationRepository::new();
        store
            .expect_record()
            .times(1)
            .returning(|notification| Ok(notification.clone()));
        store.expect_claim().times(1).returning(|_, _, lease| {
            let mut claimed = emporium_domain::notifications::Notification::email(
                emporium_domain::notifications::NotificationId(Uuid::now_v7()),
                UserId(Uuid::nil()),
                OrderId(Uuid::nil()),
                EventId(Uuid::nil()),
                EventType::OrderCreated,
                OutgoingMail {
                    key: emporium_domain::notifications::MessageKey::parse("k").unwrap(),
                    to: Email::parse("ada@example.com").unwrap(),
                    content: emporium_domain::notifications::RenderedMail {
                        subject: "Order 1 is placed".to_owned(),
                        html: String::new(),
                        text: "Thank you".to_owned(),
                    },
                },
                lease,
            );
            claimed.attempts = 1;
            Ok(Some(claimed))
        });
        store.expect_finish().times(1).returning(|_, _, _| Ok(()));
        let mut live = MockLivePush::new();
        live.expect_publish().times(1).returning(|_| Ok(()));
        let printed = SharedBuffer::default();
        let ports = NotificationPorts {
            notifications: Arc::new(store),
            mailer: Arc::new(StdoutMailer::to(Box::new(printed.clone()))),
            templates: Arc::new(MinijinjaMailTemplates::new().unwrap()),
            live: Arc::new(live),
            tickets: Arc::new(MockStreamTickets::new()),
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidV7Generator),
            settings: NotificationSettings::default(),
        };
        let consumer = NotifyBuyers::new(ports.clone(), DeliverNotifications::new(ports));
        consumer
            .handle(&order_placed(UserId(Uuid::now_v7())))
            .await
            .unwrap();
        let printed = String::from_utf8(printed.0.lock().unwrap().clone()).unwrap();
        assert!(printed.contains("To: ada@example.com"), "{printed}");
        assert!(printed.contains("Subject: Order 1 is placed"), "{printed}");
    }
}
