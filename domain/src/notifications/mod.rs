//! Notifications: what the buyer is told about their orders, and how it gets there.
//!
//! - [`Notification`]: one message to one user through one [`Channel`] (email), with
//!   its delivery state (`pending`, `sent`, `failed`), attempts and last error. One
//!   record per (event, recipient, channel): a redelivered event finds the record it
//!   made before.
//! - [`OutgoingMail`]: a rendered email. Its [`MessageKey`] becomes the `Message-ID`,
//!   and derives from the event id, so a resend after a crash is the same message.
//! - [`who_is_told`]: design §6's table of who hears of which event.
//! - Ports: [`Mailer`] (SMTP, the local mailbox), [`MailTemplates`] (rendering),
//!   [`NotificationRepository`] (records and their delivery state), [`LivePush`]
//!   and [`StreamTickets`] (live push over WebSocket).

mod live;
mod mail;
mod notification;
mod ports;
pub mod who_is_told;

pub use live::{LiveError, LiveEvent, LivePush, StreamTickets};
#[cfg(feature = "mocks")]
pub use live::{MockLivePush, MockStreamTickets};
pub use mail::{
    AccountMail, MailContent, MailTemplates, Mailer, MailerError, MessageKey, OrderMail,
    OutgoingMail, RenderedMail,
};
#[cfg(feature = "mocks")]
pub use mail::{MockMailTemplates, MockMailer};
pub use notification::{
    Channel, DeliveryOutcome, Notification, NotificationId, NotificationStatus,
};
#[cfg(feature = "mocks")]
pub use ports::MockNotificationRepository;
pub use ports::{NotificationFilter, NotificationRepository, NotificationRepositoryError};
