//! The contract of the order store's ports — `OrderRepository`, `PaymentRepository`,
//! `ShipmentRepository`, `IdempotencyStore` and `Outbox` — written once (`suite`) and run unchanged on every
//! adapter on its real server: sea-orm on SQLite (a file) and on PostgreSQL. A
//! missing server is a SKIP line, or a failure when `EMPORIUM_REQUIRE_SERVICES=1`.

#[macro_use]
mod contract;

/// The contract, as async functions over a [`contract::OrderStore`].
mod suite {
    use std::sync::Arc;

    use chrono::TimeDelta;
    use emporium_domain::PageRequest;
    use emporium_domain::UserId;
    use emporium_domain::accounts::Email;
    use emporium_domain::catalog::{Price, ProductId, ProductName, Sku};
    use emporium_domain::orders::{
        AddressLine, Carrier, ChangedBy, City, CountryCode, Currency, Dispatch, DomainEvent,
        EventData, EventId, EventType, IdempotencyBegin, IdempotencyKey, IdempotencyScope,
        LineQuantity, Order, OrderAttempt, OrderChange, OrderEvent, OrderEventKind, OrderFilter,
        OrderId, OrderLines, OrderRepositoryError, OrderStatus, OrderTransition, Payment,
        PaymentChange, PaymentId, PaymentRepositoryError, PaymentStatus, PaymentTransition,
        PlacedOrder, PostalCode, PricedLine, ProcessedEvent, RecipientName, Shipment, ShipmentId,
        ShipmentMove, ShipmentRepositoryError, ShipmentStatus, ShipmentTransition, ShippingAddress,
        TrackingNumber,
    };
    use uuid::Uuid;

    use super::contract::{OrderStore, at, micros};

    fn placed(user: UserId, max_pending: u32) -> PlacedOrder {
        let id = OrderId(Uuid::now_v7());
        let lines = OrderLines::new(vec![PricedLine {
            product_id: ProductId(Uuid::new_v4()),
            sku: Sku::new("CUP-1").unwrap(),
            name: ProductName::new("Cup «fine»").unwrap(),
            unit_price: Price::parse("12.50").unwrap(),
            quantity: LineQuantity::new(2).unwrap(),
        }])
        .unwrap();
        let order = Order {
            id,
            user_id: user,
            email: Email::parse("ada@example.com").unwrap(),
            total: lines.total(),
            lines,
            currency: Currency::EUR,
            shipping_address: ShippingAddress {
                name: RecipientName::new("Ada Lovelace").unwrap(),
                line1: AddressLine::new("1 Analytical St").unwrap(),
                line2: None,
                city: City::new("London").unwrap(),
                postal_code: PostalCode::new("N1 1AA").unwrap(),
                country: CountryCode::new("GB").unwrap(),
            },
            status: OrderStatus::Pending,
            pay_by: at(30 * 60 * 1000),
            cancel_reason: None,
            created_at: at(0),
            updated_at: at(0),
        };
        PlacedOrder {
            shipment: Shipment {
                id: ShipmentId(Uuid::now_v7()),
                order_id: id,
                user_id: user,
                status: ShipmentStatus::PendingPayment,
                dispatch: None,
                dispatched_by: None,
                delivered_by: None,
                created_at: at(0),
                updated_at: at(0),
            },
            audit: OrderEvent {
                id: Uuid::now_v7(),
                order_id: id,
                kind: OrderEventKind::Created,
                from_status: None,
                to_status: OrderStatus::Pending,
                actor: ChangedBy::User(user),
                detail: None,
                occurred_at: at(0),
            },
            events: vec![event(&order, EventType::OrderCreated)],
            order,
            idempotency: None,
            max_pending,
        }
    }

    fn event(order: &Order, kind: EventType) -> DomainEvent {
        DomainEvent {
            id: EventId(Uuid::now_v7()),
            event_type: kind,
            timestamp: at(1),
            data: EventData::about(order),
        }
    }

    /// How many pending orders `user` holds, as the store lists them.
    async fn pending(store: &OrderStore, user: UserId) -> u64 {
        let filter = OrderFilter {
            user_id: Some(user),
            status: Some(OrderStatus::Pending),
        };
        let page = PageRequest::new(1, 10).unwrap();
        store.orders.list(filter, page).await.unwrap().total
    }

    async fn place(store: &OrderStore, placed: &PlacedOrder) {
        store
            .orders
            .record_attempt(
                &OrderAttempt {
                    order_id: placed.order.id,
                    user_id: placed.order.user_id,
                    created_at: at(0),
                },
                placed.max_pending,
            )
            .await
            .unwrap();
        store.orders.place(placed).await.unwrap();
    }

    fn pay(order: &Order, consumer_event: Option<EventId>) -> OrderChange {
        OrderChange {
            order_id: order.id,
            transition: OrderTransition::Pay,
            cancel_reason: None,
            shipment: Some(ShipmentTransition::Ready),
            audit: OrderEvent::transition(
                Uuid::now_v7(),
                order.id,
                OrderTransition::Pay,
                ChangedBy::System,
                None,
                at(5),
            ),
            events: vec![event(order, EventType::OrderStatusChanged)],
            processed: consumer_event.map(|event_id| ProcessedEvent {
                consumer: "orders".to_owned(),
                event_id,
            }),
            at: at(5),
        }
    }

    pub async fn a_placed_order_round_trips_with_its_shipment_and_audit(store: &OrderStore) {
        let user = UserId(Uuid::new_v4());
        let placed = placed(user, 3);
        place(store, &placed).await;
        let got = store.orders.get(placed.order.id).await.unwrap().unwrap();
        assert_eq!(got.lines, placed.order.lines);
        assert_eq!(got.total.to_string(), "25.00");
        assert_eq!(got.shipping_address, placed.order.shipping_address);
        assert_eq!(got.created_at, micros(placed.order.created_at));
        let shipment = store
            .shipments
            .for_order(placed.order.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(shipment.id, placed.shipment.id);
        let by_id = store.shipments.get(shipment.id).await.unwrap().unwrap();
        assert_eq!(by_id, micros_shipment(&placed.shipment));
        assert_eq!(
            store
                .shipments
                .get(ShipmentId(Uuid::new_v4()))
                .await
                .unwrap(),
            None
        );
        let audit = store.orders.events(placed.order.id).await.unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].actor, ChangedBy::User(user));
        let unsent = store.outbox.unsent(100).await.unwrap();
        assert_eq!(unsent.len(), 1);
        assert_eq!(unsent[0].event, placed.events[0]);
        assert_eq!(pending(store, user).await, 1);
        assert_eq!(
            store.orders.get(OrderId(Uuid::new_v4())).await.unwrap(),
            None
        );
    }

    pub async fn placing_needs_the_attempt_and_respects_the_pending_cap(store: &OrderStore) {
        let user = UserId(Uuid::new_v4());
        // No attempt (the recovery task took it): refused, nothing written.
        let orphan = placed(user, 3);
        assert!(matches!(
            store.orders.place(&orphan).await,
            Err(OrderRepositoryError::AttemptGone(id)) if id == orphan.order.id
        ));
        assert_eq!(store.orders.get(orphan.order.id).await.unwrap(), None);
        // The cap counts pending orders in the same transaction: an attempt recorded
        // below the cap is refused when the order is placed over it.
        place(store, &placed(user, 2)).await;
        let third = placed(user, 2);
        let attempt = |order: &PlacedOrder| OrderAttempt {
            order_id: order.order.id,
            user_id: user,
            created_at: at(0),
        };
        store
            .orders
            .record_attempt(&attempt(&third), 2)
            .await
            .unwrap();
        place(store, &placed(user, 2)).await;
        assert!(matches!(
            store.orders.place(&third).await,
            Err(OrderRepositoryError::TooManyPending)
        ));
        // The attempt is still there for whoever abandons it, once.
        assert!(store.orders.abandon_attempt(third.order.id).await.unwrap());
        assert!(!store.orders.abandon_attempt(third.order.id).await.unwrap());
        // At the cap, the attempt itself is refused and nothing is recorded.
        let fourth = placed(user, 2);
        assert!(matches!(
            store.orders.record_attempt(&attempt(&fourth), 2).await,
            Err(OrderRepositoryError::TooManyPending)
        ));
        assert!(!store.orders.abandon_attempt(fourth.order.id).await.unwrap());
        assert_eq!(pending(store, user).await, 2);
        // A higher cap lets it through.
        store
            .orders
            .record_attempt(&attempt(&fourth), 3)
            .await
            .unwrap();
        assert!(store.orders.abandon_attempt(fourth.order.id).await.unwrap());
    }

    pub async fn stale_attempts_are_the_old_ones(store: &OrderStore) {
        let user = UserId(Uuid::new_v4());
        let old = OrderAttempt {
            order_id: OrderId(Uuid::now_v7()),
            user_id: user,
            created_at: at(0),
        };
        let new = OrderAttempt {
            order_id: OrderId(Uuid::now_v7()),
            user_id: user,
            created_at: at(60_000),
        };
        for attempt in [&old, &new] {
            store.orders.record_attempt(attempt, 3).await.unwrap();
        }
        let stale = store.orders.stale_attempts(at(30_000), 10).await.unwrap();
        assert!(stale.iter().any(|a| a.order_id == old.order_id));
        assert!(!stale.iter().any(|a| a.order_id == new.order_id));
    }

    pub async fn a_change_has_one_winner_and_a_consumer_applies_an_event_once(store: &OrderStore) {
        let placed = placed(UserId(Uuid::new_v4()), 3);
        place(store, &placed).await;
        let order = &placed.order;
        let redelivered = EventId(Uuid::now_v7());
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let orders = Arc::clone(&store.orders);
                let change = pay(order, Some(redelivered));
                tokio::spawn(async move { orders.change(&change).await })
            })
            .collect();
        let mut won = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(paid) => {
                    assert_eq!(paid.status, OrderStatus::Paid);
                    won += 1;
                }
                Err(
                    OrderRepositoryError::AlreadyProcessed | OrderRepositoryError::Stale { .. },
                ) => {}
                Err(other) => panic!("unexpected: {other:?}"),
            }
        }
        assert_eq!(won, 1);
        let shipment = store.shipments.for_order(order.id).await.unwrap().unwrap();
        assert_eq!(shipment.status, ShipmentStatus::ReadyToShip);
        assert_eq!(store.orders.events(order.id).await.unwrap().len(), 2);
        // Another move from pending is stale now.
        assert!(matches!(
            store.orders.change(&pay(order, None)).await,
            Err(OrderRepositoryError::Stale {
                current: OrderStatus::Paid,
                ..
            })
        ));
        assert!(matches!(
            store
                .orders
                .change(&OrderChange {
                    order_id: OrderId(Uuid::new_v4()),
                    ..pay(order, None)
                })
                .await,
            Err(OrderRepositoryError::NotFound(_))
        ));
    }

    fn micros_shipment(shipment: &Shipment) -> Shipment {
        Shipment {
            created_at: micros(shipment.created_at),
            updated_at: micros(shipment.updated_at),
            ..shipment.clone()
        }
    }

    fn dispatch(shipment: ShipmentId, order: &Order, tracking: &str) -> ShipmentMove {
        ShipmentMove {
            shipment_id: shipment,
            transition: ShipmentTransition::Dispatch,
            dispatch: Some(Dispatch {
                carrier: Carrier::new("DHL").unwrap(),
                tracking_number: TrackingNumber::new(tracking).unwrap(),
            }),
            by: ChangedBy::User(UserId(Uuid::from_u128(99))),
            events: vec![event(order, EventType::ShipmentDispatched)],
            at: at(7),
        }
    }

    fn cancel_paid(order: &Order) -> OrderChange {
        OrderChange {
            transition: OrderTransition::CancelPaid,
            shipment: Some(ShipmentTransition::CancelReady),
            audit: OrderEvent::transition(
                Uuid::now_v7(),
                order.id,
                OrderTransition::CancelPaid,
                ChangedBy::System,
                None,
                at(8),
            ),
            ..pay(order, None)
        }
    }

    /// A shipment's own moves: 20 racing dispatches with distinct tracking numbers
    /// have one winner, whose carrier, tracking number, actor and single event are
    /// stored; a delivery follows; a move from the wrong status is `Stale`, an unknown
    /// shipment `NotFound`.
    pub async fn a_shipment_moves_once_with_who_moved_it(store: &OrderStore) {
        let placed = placed(UserId(Uuid::new_v4()), 3);
        place(store, &placed).await;
        let order = &placed.order;
        store.orders.change(&pay(order, None)).await.unwrap();
        let before = store.outbox.unsent(1000).await.unwrap().len();
        let id = placed.shipment.id;
        let tasks: Vec<_> = (0..20)
            .map(|n| {
                let shipments = Arc::clone(&store.shipments);
                let change = dispatch(id, order, &format!("JD{n:04}"));
                tokio::spawn(async move { shipments.change(&change).await })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(moved) => winners.push(moved),
                Err(ShipmentRepositoryError::Stale {
                    current: ShipmentStatus::Dispatched,
                    ..
                }) => {}
                Err(other) => panic!("unexpected: {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "{winners:?}");
        let stored = store.shipments.get(id).await.unwrap().unwrap();
        assert_eq!(stored, winners[0]);
        assert_eq!(stored.status, ShipmentStatus::Dispatched);
        assert_eq!(
            stored.dispatched_by,
            Some(ChangedBy::User(UserId(Uuid::from_u128(99))))
        );
        assert_eq!(stored.delivered_by, None);
        assert_eq!(stored.dispatch.as_ref().unwrap().carrier.as_str(), "DHL");
        assert_eq!(store.outbox.unsent(1000).await.unwrap().len(), before + 1);
        // The shipment moved alone: the order is still paid until its consumer runs.
        let still = store.orders.get(order.id).await.unwrap().unwrap();
        assert_eq!(still.status, OrderStatus::Paid);

        let deliver = ShipmentMove {
            transition: ShipmentTransition::Deliver,
            dispatch: None,
            by: ChangedBy::Provider,
            events: vec![event(order, EventType::ShipmentDelivered)],
            ..dispatch(id, order, "JD0000")
        };
        let delivered = store.shipments.change(&deliver).await.unwrap();
        assert_eq!(delivered.status, ShipmentStatus::Delivered);
        assert_eq!(delivered.delivered_by, Some(ChangedBy::Provider));
        assert_eq!(delivered.dispatch, stored.dispatch);
        assert!(matches!(
            store.shipments.change(&deliver).await,
            Err(ShipmentRepositoryError::Stale {
                current: ShipmentStatus::Delivered,
                ..
            })
        ));
        assert!(matches!(
            store
                .shipments
                .change(&dispatch(ShipmentId(Uuid::new_v4()), order, "JD1"))
                .await,
            Err(ShipmentRepositoryError::NotFound(_))
        ));
    }

    /// A dispatch racing the cancellation of the paid order: exactly one wins. When
    /// the dispatch wins, the cancellation is `ShipmentMoved` and writes nothing
    /// (the order stays paid, no audit row, no event); when the cancellation wins,
    /// the dispatch is `Stale` on a cancelled shipment.
    pub async fn a_dispatch_and_a_cancellation_have_one_winner(store: &OrderStore) {
        for round in 0..10 {
            let placed = placed(UserId(Uuid::new_v4()), 3);
            place(store, &placed).await;
            let order = &placed.order;
            store.orders.change(&pay(order, None)).await.unwrap();
            let audit_before = store.orders.events(order.id).await.unwrap().len();
            let shipments = Arc::clone(&store.shipments);
            let orders = Arc::clone(&store.orders);
            let dispatching = dispatch(placed.shipment.id, order, &format!("JD{round}"));
            let cancelling = cancel_paid(order);
            let (dispatched, cancelled) = tokio::join!(
                tokio::spawn(async move { shipments.change(&dispatching).await }),
                tokio::spawn(async move { orders.change(&cancelling).await }),
            );
            let shipment = store
                .shipments
                .get(placed.shipment.id)
                .await
                .unwrap()
                .unwrap();
            let order_now = store.orders.get(order.id).await.unwrap().unwrap();
            let audit = store.orders.events(order.id).await.unwrap().len();
            match (dispatched.unwrap(), cancelled.unwrap()) {
                (Ok(_), Err(OrderRepositoryError::ShipmentMoved { current, .. })) => {
                    assert_eq!(current, ShipmentStatus::Dispatched);
                    assert_eq!(shipment.status, ShipmentStatus::Dispatched);
                    assert_eq!(order_now.status, OrderStatus::Paid);
                    assert_eq!(audit, audit_before);
                }
                (Err(ShipmentRepositoryError::Stale { current, .. }), Ok(_)) => {
                    assert_eq!(current, ShipmentStatus::Cancelled);
                    assert_eq!(shipment.status, ShipmentStatus::Cancelled);
                    assert_eq!(order_now.status, OrderStatus::Cancelled);
                    assert_eq!(audit, audit_before + 1);
                }
                other => panic!("not exactly one winner: {other:?}"),
            }
        }
    }

    pub async fn lists_filter_by_buyer_and_status_newest_first(store: &OrderStore) {
        let (ada, bob) = (UserId(Uuid::new_v4()), UserId(Uuid::new_v4()));
        let first = placed(ada, 9);
        let mut second = placed(ada, 9);
        second.order.created_at = at(1_000);
        place(store, &first).await;
        place(store, &second).await;
        place(store, &placed(bob, 9)).await;
        store.orders.change(&pay(&first.order, None)).await.unwrap();
        let page = PageRequest::new(1, 10).unwrap();
        let adas = store
            .orders
            .list(
                OrderFilter {
                    user_id: Some(ada),
                    status: None,
                },
                page,
            )
            .await
            .unwrap();
        assert_eq!(adas.total, 2);
        assert_eq!(adas.items[0].id, second.order.id, "newest first");
        let paid = store
            .orders
            .list(
                OrderFilter {
                    user_id: Some(ada),
                    status: Some(OrderStatus::Paid),
                },
                page,
            )
            .await
            .unwrap();
        assert_eq!(paid.total, 1);
        let overdue = store.orders.overdue(at(31 * 60 * 1000), 10).await.unwrap();
        assert!(overdue.contains(&second.order.id));
        assert!(
            !overdue.contains(&first.order.id),
            "paid orders do not expire"
        );
    }

    pub async fn one_open_payment_per_order_and_conditional_moves(store: &OrderStore) {
        let placed = placed(UserId(Uuid::new_v4()), 3);
        place(store, &placed).await;
        let payment = |id: Uuid| Payment {
            id: PaymentId(id),
            order_id: placed.order.id,
            user_id: placed.order.user_id,
            amount: placed.order.total,
            currency: Currency::EUR,
            status: PaymentStatus::Pending,
            provider_reference: "mock_1".to_owned(),
            created_at: at(0),
            updated_at: at(0),
        };
        let first = payment(Uuid::now_v7());
        store.payments.create(&first).await.unwrap();
        assert!(matches!(
            store.payments.create(&payment(Uuid::now_v7())).await,
            Err(PaymentRepositoryError::ActiveExists(_))
        ));
        let fail = PaymentChange {
            payment_id: first.id,
            transition: PaymentTransition::Fail,
            events: vec![],
            processed: None,
            at: at(2),
        };
        assert_eq!(
            store.payments.change(&fail).await.unwrap().status,
            PaymentStatus::Failed
        );
        assert!(matches!(
            store.payments.change(&fail).await,
            Err(PaymentRepositoryError::Stale {
                current: PaymentStatus::Failed,
                ..
            })
        ));
        // A failed payment leaves room for another.
        store
            .payments
            .create(&payment(Uuid::now_v7()))
            .await
            .unwrap();
        assert_eq!(
            store
                .payments
                .for_order(placed.order.id)
                .await
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            store.payments.get(PaymentId(Uuid::new_v4())).await.unwrap(),
            None
        );
    }

    pub async fn idempotency_keys_start_hold_complete_and_mismatch(store: &OrderStore) {
        let user = UserId(Uuid::new_v4());
        let scope = IdempotencyScope {
            user_id: user,
            key: IdempotencyKey::new("checkout-1").unwrap(),
        };
        let hold = |offset: i64| at(offset) + TimeDelta::seconds(30);
        let begin = |fingerprint: &'static str, offset: i64| {
            let scope = scope.clone();
            let store = store.idempotency.clone();
            async move {
                store
                    .begin(&scope, fingerprint, at(offset), hold(offset))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(begin("a", 0).await, IdempotencyBegin::Started);
        assert_eq!(begin("a", 1).await, IdempotencyBegin::InFlight);
        assert_eq!(begin("b", 1).await, IdempotencyBegin::Mismatch);
        // A holder that crashed: its time passes, the next request takes over, once.
        assert_eq!(begin("a", 31_000).await, IdempotencyBegin::Started);
        assert_eq!(begin("a", 31_001).await, IdempotencyBegin::InFlight);
        // A refusal frees the key.
        store.idempotency.release(&scope).await.unwrap();
        assert_eq!(begin("a", 32_000).await, IdempotencyBegin::Started);
        // Completed with its order: replayed from then on.
        let mut order = placed(user, 3);
        order.idempotency = Some(scope.clone());
        place(store, &order).await;
        assert_eq!(
            begin("a", 33_000).await,
            IdempotencyBegin::Completed(order.order.id)
        );
        store.idempotency.release(&scope).await.unwrap();
        assert_eq!(
            begin("a", 34_000).await,
            IdempotencyBegin::Completed(order.order.id)
        );
        // Pruned after its retention.
        assert_eq!(
            store
                .idempotency
                .prune(at(0) + TimeDelta::hours(25))
                .await
                .unwrap(),
            1
        );
        assert_eq!(begin("a", 35_000).await, IdempotencyBegin::Started);
    }

    pub async fn the_outbox_hands_out_unsent_events_in_order(store: &OrderStore) {
        for _ in 0..3 {
            place(store, &placed(UserId(Uuid::new_v4()), 3)).await;
        }
        let unsent = store.outbox.unsent(2).await.unwrap();
        assert_eq!(unsent.len(), 2);
        assert!(unsent[0].position < unsent[1].position);
        store
            .outbox
            .mark_sent(&[unsent[0].position], at(10))
            .await
            .unwrap();
        let rest = store.outbox.unsent(10).await.unwrap();
        assert_eq!(rest.len(), 2);
        assert_eq!(rest[0].position, unsent[1].position);
        // Sent rows go after their retention; unsent ones stay.
        assert_eq!(
            store
                .outbox
                .prune(at(10) + TimeDelta::days(8))
                .await
                .unwrap(),
            1
        );
        assert_eq!(store.outbox.unsent(10).await.unwrap().len(), 2);
        // The backlog: what waits, and since when.
        let backlog = store.outbox.backlog().await.unwrap();
        assert_eq!(backlog.unsent, 2);
        assert!(backlog.oldest.is_some());
        let positions: Vec<i64> = rest.iter().map(|message| message.position).collect();
        store.outbox.mark_sent(&positions, at(11)).await.unwrap();
        let empty = store.outbox.backlog().await.unwrap();
        assert_eq!((empty.unsent, empty.oldest), (0, None));
    }
}

mod sqlite {
    contract_tests!(crate::contract::sqlite_orders =>
        a_placed_order_round_trips_with_its_shipment_and_audit,
        placing_needs_the_attempt_and_respects_the_pending_cap,
        stale_attempts_are_the_old_ones,
        a_change_has_one_winner_and_a_consumer_applies_an_event_once,
        a_shipment_moves_once_with_who_moved_it,
        a_dispatch_and_a_cancellation_have_one_winner,
        lists_filter_by_buyer_and_status_newest_first,
        one_open_payment_per_order_and_conditional_moves,
        idempotency_keys_start_hold_complete_and_mismatch,
        the_outbox_hands_out_unsent_events_in_order,
    );
}

mod postgres {
    contract_tests!(crate::contract::postgres_orders =>
        a_placed_order_round_trips_with_its_shipment_and_audit,
        placing_needs_the_attempt_and_respects_the_pending_cap,
        stale_attempts_are_the_old_ones,
        a_change_has_one_winner_and_a_consumer_applies_an_event_once,
        a_shipment_moves_once_with_who_moved_it,
        a_dispatch_and_a_cancellation_have_one_winner,
        lists_filter_by_buyer_and_status_newest_first,
        one_open_payment_per_order_and_conditional_moves,
        idempotency_keys_start_hold_complete_and_mismatch,
        the_outbox_hands_out_unsent_events_in_order,
    );
}
