//! Notification use cases: telling buyers of their orders' events (the bus consumer
//! [`NotifyBuyers`]), delivering with retries ([`DeliverNotifications`]), and the
//! records' reads and admin retry.
//!
//! Delivery is at least once and recognisable: a notification is recorded once per
//! (event, recipient, channel) before anything is sent, its message keeps a
//! `Message-ID` derived from the event id, and a resend after a crash is the same
//! message. [`Notifications`] builds them all over one set of ports.

mod consumer;
mod delivery;
mod queries;
mod stream;

use std::sync::Arc;

use chrono::TimeDelta;
use emporium_domain::notifications::{
    LivePush, MailTemplates, Mailer, NotificationRepository, StreamTickets,
};
use emporium_domain::orders::EventBus;
use emporium_domain::{Clock, IdGenerator};

pub use consumer::NotifyBuyers;
pub use delivery::DeliverNotifications;
pub use queries::{
    CountNotifications, GetNotification, ListNotifications, NotificationError, PruneNotifications,
    RetryNotification,
};
pub use stream::{IssueStreamTicket, RedeemStreamTicket, StreamTicket, StreamTicketError};

/// How notifications are delivered and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    /// Attempts before a notification is `failed` (the first included).
    pub max_attempts: u32,
    /// The wait before each retry (the last one repeats when there are fewer entries
    /// than retries).
    pub retry_delays: Vec<TimeDelta>,
    /// How long an attempt may run before another worker may start one (a worker that
    /// died mid-send is replaced then).
    pub attempt_lease: TimeDelta,
    /// How long sent and failed notifications are kept.
    pub retention: TimeDelta,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            retry_delays: vec![TimeDelta::seconds(30), TimeDelta::minutes(5)],
            // Above the SMTP timeout (10 s): a worker that died mid-send is replaced
            // within half a minute, resending the same message.
            attempt_lease: TimeDelta::seconds(30),
            retention: TimeDelta::days(30),
        }
    }
}

impl NotificationSettings {
    /// The wait before the retry that follows attempt number `attempts` (1-based).
    pub fn delay_after(&self, attempts: u32) -> TimeDelta {
        let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        self.retry_delays
            .get(index)
            .or(self.retry_delays.last())
            .copied()
            .unwrap_or(TimeDelta::seconds(30))
    }
}

/// The ports the notification use cases drive.
#[derive(Clone)]
pub struct NotificationPorts {
    /// The records.
    pub notifications: Arc<dyn NotificationRepository>,
    /// Sends email.
    pub mailer: Arc<dyn Mailer>,
    /// Renders email.
    pub templates: Arc<dyn MailTemplates>,
    /// Tells open browser tabs (on every replica).
    pub live: Arc<dyn LivePush>,
    /// One-time tickets for the live stream.
    pub tickets: Arc<dyn StreamTickets>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Ids of notifications.
    pub ids: Arc<dyn IdGenerator>,
    /// The rules.
    pub settings: NotificationSettings,
}

/// Every notification use case, over one set of ports.
pub struct Notifications {
    /// Lists notifications.
    pub list: ListNotifications,
    /// Reads one.
    pub get: GetNotification,
    /// Resends a failed one (admins).
    pub retry: RetryNotification,
    /// Delivers what is due.
    pub deliver: DeliverNotifications,
    /// Forgets old records.
    pub prune: PruneNotifications,
    /// Trades a signed-in user's access token for a stream ticket.
    pub issue_ticket: IssueStreamTicket,
    /// Redeems a stream ticket.
    pub redeem_ticket: RedeemStreamTicket,
    /// Counts notifications by status (metrics).
    pub counts: CountNotifications,
}

impl Notifications {
    /// The use cases over `ports`; subscribes [`NotifyBuyers`] to `bus`.
    pub fn new(ports: NotificationPorts, bus: &dyn EventBus) -> Self {
        let deliver = DeliverNotifications::new(ports.clone());
        bus.subscribe(
            NotifyBuyers::GROUP,
            Arc::new(NotifyBuyers::new(ports.clone(), deliver.clone())),
        );
        Self {
            list: ListNotifications::new(ports.clone()),
            get: GetNotification::new(ports.clone()),
            retry: RetryNotification::new(ports.clone(), deliver.clone()),
            deliver,
            issue_ticket: IssueStreamTicket::new(ports.clone()),
            redeem_ticket: RedeemStreamTicket::new(ports.clone()),
            counts: CountNotifications::new(ports.clone()),
            prune: PruneNotifications::new(ports),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_as_configured_and_the_last_delay_repeats() {
        let settings = NotificationSettings::default();
        assert_eq!(settings.delay_after(1), TimeDelta::seconds(30));
        assert_eq!(settings.delay_after(2), TimeDelta::minutes(5));
        assert_eq!(settings.delay_after(7), TimeDelta::minutes(5));
        let none = NotificationSettings {
            retry_delays: vec![],
            ..settings
        };
        assert_eq!(none.delay_after(1), TimeDelta::seconds(30));
    }
}
