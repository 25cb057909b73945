//! Tells a buyer of a placed order, end to end, with Emporium's crates embedded:
//! SQLite storage (a file in a temporary directory), the in-process event bus, and
//! this app's own mailer (`StdoutMailer`). Prints the mail and the stored record.

use std::sync::Arc;

use emporium_adapters::in_process::{
    InProcessEventBus, InProcessStreamTickets, LiveHub, SystemClock, UuidV7Generator,
};
use emporium_adapters::mail::MinijinjaMailTemplates;
use emporium_adapters::sql::{self, SqlNotificationRepository};
use emporium_application::notifications::{NotificationPorts, NotificationSettings, Notifications};
use emporium_domain::notifications::NotificationFilter;
use emporium_domain::orders::EventBus;
use emporium_domain::{Actor, PageRequest, Role, UserId};
use emporium_embedding_example::{StdoutMailer, order_placed};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("emporium-example-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let db = sql::connect(&format!("sqlite://{}", dir.join("app.db").display())).await?;
    sql::migrate(&db).await?;

    let bus = InProcessEventBus::new();
    let hub = LiveHub::new();
    let notifications = Notifications::new(
        NotificationPorts {
            notifications: Arc::new(SqlNotificationRepository::new(db)),
            mailer: Arc::new(StdoutMailer::stdout()),
            templates: Arc::new(MinijinjaMailTemplates::new()?),
            live: Arc::new(hub),
            tickets: Arc::new(InProcessStreamTickets::default()),
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidV7Generator),
            settings: NotificationSettings::default(),
        },
        &bus,
    );

    // The order service of this app placed an order: tell its buyer. Twice, as a
    // bus may deliver: the second delivery is recognised and sends nothing.
    let buyer = UserId(uuid::Uuid::now_v7());
    let event = order_placed(buyer);
    bus.publish(&event).await?;
    bus.publish(&event).await?;

    let page = notifications
        .list
        .execute(
            &Actor::User {
                id: buyer,
                role: Role::Customer,
            },
            NotificationFilter::default(),
            PageRequest::default(),
        )
        .await?;
    for notification in &page.items {
        println!(
            "recorded: {} {} {} ({} attempt)",
            notification.channel.as_str(),
            notification.event_type,
            notification.status,
            notification.attempts
        );
    }
    println!("notifications: {}", page.total);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
