//! The contract of the `NotificationRepository` port, written once (`suite`) and run
//! unchanged against every adapter on its real server: sea-orm on SQLite (a file in a
//! temporary directory) and on PostgreSQL (a fresh database named by
//! `EMPORIUM_TEST_POSTGRES_URL`; SKIP when unset, failure when
//! `EMPORIUM_REQUIRE_SERVICES=1`).

#[macro_use]
mod contract;

use std::sync::Arc;

use emporium_adapters::sql::SqlNotificationRepository;
use emporium_domain::notifications::NotificationRepository;

/// A notification store and what keeps its database alive.
pub struct Store {
    /// The repository under test.
    pub notifications: Arc<dyn NotificationRepository>,
    _guard: contract::Guard,
}

/// Notifications on SQLite.
pub async fn sqlite_notifications() -> Option<Store> {
    let (dir, db) = contract::sqlite_db().await;
    Some(Store {
        notifications: Arc::new(SqlNotificationRepository::new(db)),
        _guard: Some(dir),
    })
}

/// Notifications on PostgreSQL.
pub async fn postgres_notifications() -> Option<Store> {
    Some(Store {
        notifications: Arc::new(SqlNotificationRepository::new(
            contract::postgres_db().await?,
        )),
        _guard: None,
    })
}

/// The contract, as async functions over a [`Store`].
mod suite {
    use chrono::TimeDelta;
    use emporium_domain::accounts::Email;
    use emporium_domain::notifications::{
        DeliveryOutcome, MessageKey, Notification, NotificationFilter, NotificationId,
        NotificationStatus, OutgoingMail, RenderedMail,
    };
    use emporium_domain::orders::{EventId, EventType, OrderId};
    use emporium_domain::{PageRequest, UserId};
    use uuid::Uuid;

    use super::Store;
    use super::contract::{at, micros};

    /// A pending email to `user` about a new event, recorded at `offset_ms`.
    fn email(user: UserId, offset_ms: i64) -> Notification {
        let event = EventId(Uuid::now_v7());
        Notification::email(
            NotificationId(Uuid::now_v7()),
            user,
            OrderId(Uuid::from_u128(7)),
            event,
            EventType::OrderCreated,
            OutgoingMail {
                key: MessageKey::for_event(event, user),
                to: Email::parse("ada@example.com").unwrap(),
                content: RenderedMail {
                    subject: "Order 1234 is placed".to_owned(),
                    html: "<p>Caf\u{e9} &amp; cups</p>".to_owned(),
                    text: "Caf\u{e9} & cups".to_owned(),
                },
            },
            micros(at(offset_ms)),
        )
    }

    fn user() -> UserId {
        UserId(Uuid::now_v7())
    }

    /// A notification reads back as recorded; recording the same message again (a
    /// redelivered event, under a new id) returns the first record and adds none.
    pub async fn recording_is_idempotent_by_message_key(store: &Store) {
        let first = email(user(), 0);
        let stored = store.notifications.record(&first).await.unwrap();
        assert_eq!(stored, first);
        let again = Notification {
            id: NotificationId(Uuid::now_v7()),
            created_at: micros(at(5_000)),
            ..first.clone()
        };
        assert_eq!(store.notifications.record(&again).await.unwrap(), first);
        assert_eq!(store.notifications.get(again.id).await.unwrap(), None);
        assert_eq!(
            store.notifications.get(first.id).await.unwrap(),
            Some(first.clone())
        );
        let page = store
            .notifications
            .list(
                NotificationFilter {
                    user_id: Some(first.user_id),
                    status: None,
                },
                PageRequest::default(),
            )
            .await
            .unwrap();
        assert_eq!(page.total, 1);
    }

    /// Of many workers claiming one due notification at once exactly one wins; the
    /// attempt is counted and the notification is not due again before the lease
    /// ends.
    pub async fn one_claim_wins(store: &Store) {
        let notification = email(user(), 0);
        store.notifications.record(&notification).await.unwrap();
        let now = at(1_000);
        let lease = micros(at(61_000));
        let claims = futures_join(store, notification.id, now, lease).await;
        let won: Vec<_> = claims.into_iter().flatten().collect();
        assert_eq!(won.len(), 1, "{won:?}");
        assert_eq!(won[0].attempts, 1);
        assert_eq!(won[0].next_attempt_at, Some(lease));
        assert!(
            store
                .notifications
                .due(at(30_000), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .notifications
                .claim(notification.id, at(30_000), at(90_000))
                .await
                .unwrap(),
            None
        );
        // After the lease a worker that died is replaced.
        assert_eq!(
            store.notifications.due(at(61_000), 10).await.unwrap(),
            [notification.id]
        );
        let again = store
            .notifications
            .claim(notification.id, at(61_000), at(121_000))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.attempts, 2);
    }

    async fn futures_join(
        store: &Store,
        id: NotificationId,
        now: chrono::DateTime<chrono::Utc>,
        lease: chrono::DateTime<chrono::Utc>,
    ) -> Vec<Option<Notification>> {
        let claims = (0..8).map(|_| {
            let notifications = store.notifications.clone();
            tokio::spawn(async move { notifications.claim(id, now, lease).await.unwrap() })
        });
        let mut results = Vec::new();
        for claim in claims.collect::<Vec<_>>() {
            results.push(claim.await.unwrap());
        }
        results
    }

    /// An attempt ends sent, pending again with its error and next time, or failed;
    /// an outcome for an attempt that is no longer the latest changes nothing.
    pub async fn attempts_end_sent_retried_or_failed(store: &Store) {
        let sent = email(user(), 0);
        store.notifications.record(&sent).await.unwrap();
        store
            .notifications
            .claim(sent.id, at(0), at(60_000))
            .await
            .unwrap()
            .unwrap();
        let done = micros(at(500));
        store
            .notifications
            .finish(sent.id, 1, &DeliveryOutcome::Sent { at: done })
            .await
            .unwrap();
        let read = store.notifications.get(sent.id).await.unwrap().unwrap();
        assert_eq!(read.status, NotificationStatus::Sent);
        assert_eq!(read.sent_at, Some(done));
        assert_eq!(read.next_attempt_at, None);
        assert_eq!(read.attempts, 1);

        let retried = email(user(), 0);
        store.notifications.record(&retried).await.unwrap();
        store
            .notifications
            .claim(retried.id, at(0), at(60_000))
            .await
            .unwrap()
            .unwrap();
        let retry_at = micros(at(30_000));
        let failed = |retry_at| DeliveryOutcome::Failed {
            error: "421 try later".to_owned(),
            retry_at,
            at: micros(at(500)),
        };
        // A stale outcome (attempt 2 was never claimed) is ignored.
        store
            .notifications
            .finish(retried.id, 2, &failed(None))
            .await
            .unwrap();
        store
            .notifications
            .finish(retried.id, 1, &failed(Some(retry_at)))
            .await
            .unwrap();
        let read = store.notifications.get(retried.id).await.unwrap().unwrap();
        assert_eq!(read.status, NotificationStatus::Pending);
        assert_eq!(read.last_error.as_deref(), Some("421 try later"));
        assert_eq!(read.next_attempt_at, Some(retry_at));
        assert!(
            store
                .notifications
                .due(at(29_000), 10)
                .await
                .unwrap()
                .is_empty()
        );
        store
            .notifications
            .claim(retried.id, at(30_000), at(90_000))
            .await
            .unwrap()
            .unwrap();
        store
            .notifications
            .finish(retried.id, 2, &failed(None))
            .await
            .unwrap();
        let read = store.notifications.get(retried.id).await.unwrap().unwrap();
        assert_eq!(read.status, NotificationStatus::Failed);
        assert_eq!(read.next_attempt_at, None);
        assert_eq!(read.attempts, 2);
    }

    /// Only a failed notification reopens: pending again, due now, attempts reset.
    pub async fn only_a_failed_notification_reopens(store: &Store) {
        let notification = email(user(), 0);
        store.notifications.record(&notification).await.unwrap();
        assert_eq!(
            store
                .notifications
                .reopen(notification.id, at(1_000))
                .await
                .unwrap(),
            None
        );
        store
            .notifications
            .claim(notification.id, at(0), at(60_000))
            .await
            .unwrap()
            .unwrap();
        store
            .notifications
            .finish(
                notification.id,
                1,
                &DeliveryOutcome::Failed {
                    error: "refused".to_owned(),
                    retry_at: None,
                    at: at(100),
                },
            )
            .await
            .unwrap();
        let reopened = store
            .notifications
            .reopen(notification.id, at(2_000))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reopened.status, NotificationStatus::Pending);
        assert_eq!(reopened.attempts, 0);
        assert_eq!(reopened.next_attempt_at, Some(micros(at(2_000))));
        assert_eq!(
            store.notifications.due(at(2_000), 10).await.unwrap(),
            [notification.id]
        );
    }

    /// Lists are newest first, filtered by recipient and status, paged with a total;
    /// `due` lists pending notifications oldest due first.
    pub async fn lists_filter_and_page(store: &Store) {
        let ada = user();
        let mut recorded = Vec::new();
        for offset in 0..3 {
            let notification = email(ada, offset * 1_000);
            store.notifications.record(&notification).await.unwrap();
            recorded.push(notification);
        }
        store.notifications.record(&email(user(), 0)).await.unwrap();
        let mine = NotificationFilter {
            user_id: Some(ada),
            status: None,
        };
        let page = store
            .notifications
            .list(mine, PageRequest::new(1, 2).unwrap())
            .await
            .unwrap();
        assert_eq!(page.total, 3);
        let ids: Vec<_> = page.items.iter().map(|n| n.id).collect();
        assert_eq!(ids, [recorded[2].id, recorded[1].id]);
        let sent = store
            .notifications
            .list(
                NotificationFilter {
                    status: Some(NotificationStatus::Sent),
                    ..mine
                },
                PageRequest::default(),
            )
            .await
            .unwrap();
        assert_eq!(sent.total, 0);
        let due = store.notifications.due(at(10_000), 2).await.unwrap();
        assert_eq!(due.len(), 2);
    }

    /// Pruning forgets sent and failed notifications changed before the cut-off and
    /// keeps pending ones, whatever their age.
    pub async fn pruning_keeps_what_is_still_to_send(store: &Store) {
        let old_sent = email(user(), 0);
        let old_pending = email(user(), 0);
        for notification in [&old_sent, &old_pending] {
            store.notifications.record(notification).await.unwrap();
        }
        store
            .notifications
            .claim(old_sent.id, at(0), at(60_000))
            .await
            .unwrap()
            .unwrap();
        store
            .notifications
            .finish(old_sent.id, 1, &DeliveryOutcome::Sent { at: at(100) })
            .await
            .unwrap();
        let pruned = store
            .notifications
            .prune(at(0) + TimeDelta::days(40))
            .await
            .unwrap();
        assert!(pruned >= 1);
        assert_eq!(store.notifications.get(old_sent.id).await.unwrap(), None);
        assert!(
            store
                .notifications
                .get(old_pending.id)
                .await
                .unwrap()
                .is_some()
        );
    }
}

mod sqlite {
    contract_tests!(crate::sqlite_notifications =>
        recording_is_idempotent_by_message_key,
        one_claim_wins,
        attempts_end_sent_retried_or_failed,
        only_a_failed_notification_reopens,
        lists_filter_and_page,
        pruning_keeps_what_is_still_to_send,
    );
}

mod postgres {
    contract_tests!(crate::postgres_notifications =>
        recording_is_idempotent_by_message_key,
        one_claim_wins,
        attempts_end_sent_retried_or_failed,
        only_a_failed_notification_reopens,
        lists_filter_and_page,
        pruning_keeps_what_is_still_to_send,
    );
}
