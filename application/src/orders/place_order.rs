//! Placing an order: the saga of design §6.
//!
//! 1. Record the order attempt (its id, its buyer).
//! 2. Reserve every line, all or none, keyed by the order id.
//! 3. Write the order, its shipment, its audit row, `order.created` (outbox) and the
//!    idempotency key's completion in one transaction, which also removes the
//!    attempt.
//!
//! A definite refusal at step 3 (too many pending orders) releases the stock at once.
//! Anything uncertain (the database failed, maybe after committing) is left to
//! [`RecoverOrderAttempts`](super::RecoverOrderAttempts): an attempt that still exists
//! after its timeout had no order, and its stock is released then.

use emporium_domain::accounts::Email;
use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{ReservationAction, ReservationError, ReservationStatus};
use emporium_domain::orders::{
    CartStoreError, ChangedBy, EventType, IdempotencyBegin, IdempotencyKey, IdempotencyScope,
    Order, OrderAttempt, OrderEvent, OrderEventKind, OrderId, OrderLines, OrderRepositoryError,
    OrderStatus, PlacedOrder, PricedLine, RequestedLine, Shipment, ShipmentId, ShipmentStatus,
    ShippingAddress,
};
use emporium_domain::{AccessDenied, Actor, UserId};
use sha2::{Digest, Sha256};

use super::OrderPorts;
use super::events::order_event;
use super::queries::{OrderView, with_related};
use crate::failure::{Failure, UseCaseError, catalog_unavailable};

/// Where the lines of a new order come from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum LinesSource {
    /// Lines given in the request (1 to 50, each of 1 to 99 units).
    Explicit(Vec<RequestedLine>),
    /// The caller's cart (emptied on success).
    Cart,
}

/// What a customer asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrderInput {
    /// The lines.
    pub lines: LinesSource,
    /// Where to ship.
    pub shipping_address: ShippingAddress,
    /// The request's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<IdempotencyKey>,
    /// The buyer's email as their access token carries it; read from the account
    /// when absent (a token issued before tokens carried it).
    pub buyer_email: Option<Email>,
}

/// What placing answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// A new order.
    Created(OrderView),
    /// The order an earlier request with the same key and body created.
    Replayed(OrderView),
}

/// Places an order (see the [module docs](self)). Signed-in users, for themselves.
pub struct PlaceOrder {
    ports: OrderPorts,
}

/// Failures of [`PlaceOrder`].
#[derive(Debug, thiserror::Error)]
pub enum PlaceOrderError {
    /// Only signed-in users place orders.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// Ordering from an empty cart.
    #[error("The cart is empty; add products or send the lines to order.")]
    EmptyCart,
    /// A product does not exist, is not for sale, or has no stock record.
    #[error("Product {product_id} is not available.")]
    ProductUnavailable {
        /// The line's position when lines were sent.
        index: Option<usize>,
        /// The product.
        product_id: ProductId,
    },
    /// Prices changed since these products were put in the cart; the cart now has
    /// the current prices, so the same request again succeeds.
    #[error("Prices changed since these products were added to the cart: {}. The cart has the new prices; review it and order again.", list(.products))]
    PriceChanged {
        /// The products whose price changed.
        products: Vec<ProductId>,
    },
    /// Not enough stock for a line; nothing was reserved.
    #[error("Only {available} units of product {product_id} are available.")]
    InsufficientStock {
        /// The line's position when lines were sent.
        index: Option<usize>,
        /// The product.
        product_id: ProductId,
        /// Units available.
        available: i64,
    },
    /// The customer already holds the most unpaid orders allowed.
    #[error("You already have {max} unpaid orders; pay or cancel one first.")]
    TooManyPending {
        /// The cap.
        max: u32,
    },
    /// Another request with this `Idempotency-Key` is still running.
    #[error("A request with this Idempotency-Key is still being processed; retry later.")]
    KeyInUse,
    /// The `Idempotency-Key` was used with another request body.
    #[error("This Idempotency-Key was used with a different request body.")]
    KeyReused,
    /// Storage, the catalog or inventory failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

fn list(products: &[ProductId]) -> String {
    products
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl UseCaseError for PlaceOrderError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::EmptyCart => Failure::invalid("cart_empty"),
            Self::ProductUnavailable { index, product_id } => {
                let failure = Failure::invalid("product_unavailable");
                match index {
                    Some(index) => failure.on_item("lines", *index, "productId"),
                    None => failure.about("productId", product_id.0),
                }
            }
            Self::PriceChanged { .. } => Failure::conflict("price_changed"),
            Self::InsufficientStock {
                index, product_id, ..
            } => {
                let failure = Failure::invalid("insufficient_stock");
                match index {
                    Some(index) => failure.on_item("lines", *index, "quantity"),
                    None => failure.about("productId", product_id.0),
                }
            }
            Self::TooManyPending { .. } => Failure::conflict("too_many_pending_orders"),
            Self::KeyInUse => Failure::conflict("idempotency_key_in_use"),
            Self::KeyReused => Failure::invalid("idempotency_key_reused"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

/// `error` with context, keeping "unavailable" visible to the edge.
fn unexpected(error: impl std::error::Error + Send + Sync + 'static, what: &str) -> anyhow::Error {
    anyhow::Error::new(error).context(what.to_owned())
}

impl PlaceOrder {
    /// The use case over its ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// Places the order `input` describes for the caller.
    #[tracing::instrument(name = "place_order", skip_all)]
    pub async fn execute(
        &self,
        actor: &Actor,
        input: PlaceOrderInput,
    ) -> Result<Placed, PlaceOrderError> {
        let buyer = actor.ensure_user()?;
        let Some(key) = input.idempotency_key.clone() else {
            return self.place(buyer, &input, None).await.map(Placed::Created);
        };
        let scope = IdempotencyScope {
            user_id: buyer,
            key,
        };
        let now = self.ports.clock.now();
        let begun = self
            .ports
            .idempotency
            .begin(
                &scope,
                &fingerprint(&input),
                now,
                now + self.ports.settings.idempotency_hold,
            )
            .await
            .map_err(|error| unexpected(error, "taking the idempotency key"))?;
        match begun {
            IdempotencyBegin::Started => {}
            IdempotencyBegin::InFlight => return Err(PlaceOrderError::KeyInUse),
            IdempotencyBegin::Mismatch => return Err(PlaceOrderError::KeyReused),
            IdempotencyBegin::Completed(order_id) => {
                return self.replay(order_id).await.map(Placed::Replayed);
            }
        }
        match self.place(buyer, &input, Some(scope.clone())).await {
            Ok(view) => Ok(Placed::Created(view)),
            Err(error) => {
                // A refusal frees the key, so a corrected request may use it.
                if let Err(release) = self.ports.idempotency.release(&scope).await {
                    tracing::warn!(error = %release, "could not free an idempotency key; it frees itself when its hold ends");
                }
                Err(error)
            }
        }
    }

    async fn replay(&self, order_id: OrderId) -> Result<OrderView, PlaceOrderError> {
        let order = self
            .ports
            .orders
            .get(order_id)
            .await
            .map_err(|error| unexpected(error, "loading the replayed order"))?
            .ok_or_else(|| anyhow::anyhow!("the order {order_id} of a completed key is gone"))?;
        Ok(with_related(&self.ports, order).await?)
    }

    async fn place(
        &self,
        buyer: UserId,
        input: &PlaceOrderInput,
        idempotency: Option<IdempotencyScope>,
    ) -> Result<OrderView, PlaceOrderError> {
        let ports = &self.ports;
        let settings = ports.settings;
        let lines = match &input.lines {
            LinesSource::Explicit(requested) => self.price_explicit(requested).await?,
            LinesSource::Cart => self.price_cart(buyer).await?,
        };
        let lines = OrderLines::new(lines).map_err(|error| unexpected(error, "order lines"))?;
        let reservation = lines
            .reservation()
            .map_err(|error| unexpected(error, "reservation lines"))?;
        let email = match &input.buyer_email {
            Some(email) => email.clone(),
            None => {
                let users = ports.users.as_ref().ok_or_else(|| {
                    anyhow::anyhow!(
                        "the access token of buyer {buyer} names no email and no account store \
                         is at hand; the buyer must sign in again"
                    )
                })?;
                users
                    .get(buyer)
                    .await
                    .map_err(|error| unexpected(error, "reading the buyer's account"))?
                    .ok_or_else(|| anyhow::anyhow!("the buyer {buyer} has no account"))?
                    .email
            }
        };

        let now = ports.clock.now();
        let order_id = OrderId(ports.ids.new_id());
        // Refused at once when the buyer already holds the most unpaid orders allowed:
        // nothing is reserved for an order that cannot be placed.
        let attempt = OrderAttempt {
            order_id,
            user_id: buyer,
            created_at: now,
        };
        match ports
            .orders
            .record_attempt(&attempt, settings.max_pending_orders)
            .await
        {
            Ok(()) => {}
            Err(OrderRepositoryError::TooManyPending) => {
                return Err(PlaceOrderError::TooManyPending {
                    max: settings.max_pending_orders,
                });
            }
            Err(other) => return Err(unexpected(other, "recording the order attempt").into()),
        }

        match ports
            .reservations
            .reserve(order_id, &reservation, now)
            .await
        {
            Ok(reserved) if reserved.status == ReservationStatus::Reserved => {}
            // The recovery task gave this attempt up as abandoned (it ran longer
            // than the attempt timeout) and released its stock: nothing is held,
            // and the client may try again (503).
            Ok(ended) => {
                return Err(anyhow::Error::new(emporium_domain::Unavailable::new(
                    "the order attempt",
                    anyhow::anyhow!(
                        "the reservation of order {order_id} is already {}: the attempt took \
                         longer than the attempt timeout and was abandoned",
                        ended.status
                    ),
                ))
                .into());
            }
            Err(refusal) => {
                self.abandon(order_id).await;
                return Err(match refusal {
                    ReservationError::InsufficientStock {
                        product_id,
                        available,
                    } => PlaceOrderError::InsufficientStock {
                        index: line_index(input, product_id),
                        product_id,
                        available: available.value(),
                    },
                    ReservationError::UnknownProduct(product_id) => {
                        PlaceOrderError::ProductUnavailable {
                            index: line_index(input, product_id),
                            product_id,
                        }
                    }
                    other => unexpected(other, "reserving stock").into(),
                });
            }
        }

        let order = Order {
            id: order_id,
            user_id: buyer,
            email,
            total: lines.total(),
            lines,
            currency: settings.currency,
            shipping_address: input.shipping_address.clone(),
            status: OrderStatus::Pending,
            pay_by: now + settings.payment_timeout,
            cancel_reason: None,
            created_at: now,
            updated_at: now,
        };
        let shipment = Shipment {
            id: ShipmentId(ports.ids.new_id()),
            order_id,
            user_id: buyer,
            status: ShipmentStatus::PendingPayment,
            dispatch: None,
            dispatched_by: None,
            delivered_by: None,
            created_at: now,
            updated_at: now,
        };
        let placed = PlacedOrder {
            audit: OrderEvent {
                id: ports.ids.new_id(),
                order_id,
                kind: OrderEventKind::Created,
                from_status: None,
                to_status: OrderStatus::Pending,
                actor: ChangedBy::User(buyer),
                detail: None,
                occurred_at: now,
            },
            events: vec![order_event(
                ports.ids.as_ref(),
                EventType::OrderCreated,
                &order,
                None,
                now,
            )],
            order,
            shipment,
            idempotency,
            max_pending: settings.max_pending_orders,
        };
        match ports.orders.place(&placed).await {
            Ok(()) => {}
            Err(OrderRepositoryError::TooManyPending) => {
                self.abandon(order_id).await;
                return Err(PlaceOrderError::TooManyPending {
                    max: settings.max_pending_orders,
                });
            }
            // Uncertain (it may have committed): the recovery task decides later.
            Err(other) => return Err(unexpected(other, "writing the order").into()),
        }
        tracing::info!(order_id = %order_id, total = %placed.order.total, "order placed");
        if input.lines == LinesSource::Cart
            && let Err(error) = ports.carts.delete(buyer).await
        {
            tracing::warn!(error = %error, order_id = %order_id, "the order was placed but the cart could not be emptied");
        }
        Ok(OrderView {
            order: placed.order,
            shipment: Some(placed.shipment),
            payments: Some(Vec::new()),
        })
    }

    /// Claims the attempt and releases whatever it reserved (a failed reservation
    /// holds nothing; a released one stays released).
    async fn abandon(&self, order_id: OrderId) {
        let claimed = match self.ports.orders.abandon_attempt(order_id).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(error = %error, order_id = %order_id, "could not abandon an order attempt; the recovery task will");
                return;
            }
        };
        if !claimed {
            return;
        }
        let now = self.ports.clock.now();
        match self
            .ports
            .reservations
            .apply(order_id, ReservationAction::Release, None, now)
            .await
        {
            Ok(_) | Err(ReservationError::NotFound(_)) => {}
            Err(error) => {
                tracing::error!(error = %error, order_id = %order_id, "could not release the stock of an abandoned order attempt");
            }
        }
    }

    /// Explicit lines at the catalog's current prices.
    async fn price_explicit(
        &self,
        requested: &[RequestedLine],
    ) -> Result<Vec<PricedLine>, PlaceOrderError> {
        let mut lines = Vec::with_capacity(requested.len());
        for (index, line) in requested.iter().enumerate() {
            let product = self
                .ports
                .catalog
                .find_product(line.product_id)
                .await
                .map_err(catalog_unavailable)?
                .filter(|product| product.active)
                .ok_or(PlaceOrderError::ProductUnavailable {
                    index: Some(index),
                    product_id: line.product_id,
                })?;
            lines.push(PricedLine::snapshot(product, line.quantity));
        }
        Ok(lines)
    }

    /// The cart's lines, checked against the catalog: a line whose price changed is
    /// refreshed in the cart and the order refused, so the buyer sees the new price.
    async fn price_cart(&self, buyer: UserId) -> Result<Vec<PricedLine>, PlaceOrderError> {
        let cart = self
            .ports
            .carts
            .get(buyer)
            .await
            .map_err(|error| unexpected(error, "loading the cart"))?
            .filter(|cart| !cart.is_empty())
            .ok_or(PlaceOrderError::EmptyCart)?;
        let mut current = Vec::with_capacity(cart.lines().len());
        let mut changed = Vec::new();
        for line in cart.lines() {
            let product = self
                .ports
                .catalog
                .find_product(line.product_id)
                .await
                .map_err(catalog_unavailable)?
                .filter(|product| product.active)
                .ok_or(PlaceOrderError::ProductUnavailable {
                    index: None,
                    product_id: line.product_id,
                })?;
            if product.price != line.unit_price {
                changed.push(line.product_id);
            }
            current.push(PricedLine::snapshot(product, line.quantity));
        }
        if changed.is_empty() {
            return Ok(current);
        }
        let mut refreshed = cart;
        let now = self.ports.clock.now();
        for line in current
            .into_iter()
            .filter(|line| changed.contains(&line.product_id))
        {
            refreshed
                .refresh(line, now)
                .map_err(|error| unexpected(error, "refreshing the cart"))?;
        }
        match self.ports.carts.save(&refreshed).await {
            // Another change won: the buyer reviews the cart either way.
            Ok(_) | Err(CartStoreError::Changed) => {}
            Err(error) => return Err(unexpected(error, "saving the refreshed cart").into()),
        }
        Err(PlaceOrderError::PriceChanged { products: changed })
    }
}

/// The position of the first line of `product_id` among explicit lines.
fn line_index(input: &PlaceOrderInput, product_id: ProductId) -> Option<usize> {
    match &input.lines {
        LinesSource::Explicit(requested) => requested
            .iter()
            .position(|line| line.product_id == product_id),
        LinesSource::Cart => None,
    }
}

/// A SHA-256 of the request's canonical form (lines and address as the domain reads
/// them, so formatting and member order do not matter).
fn fingerprint(input: &PlaceOrderInput) -> String {
    let canonical =
        serde_json::to_vec(&(&input.lines, &input.shipping_address)).unwrap_or_default();
    Sha256::digest(&canonical)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use emporium_domain::Unavailable;
    use emporium_domain::catalog::MockProductCatalog;
    use emporium_domain::inventory::{
        MockStockReservations, Quantity, Reservation, ReservationStatus,
    };
    use emporium_domain::orders::{LineQuantity, MockOrderRepository};

    use super::*;
    use crate::catalog::test_support::{customer, now, product};
    use crate::orders::OrderPorts;
    use crate::orders::test_support::{address, mock_ports};

    fn input() -> PlaceOrderInput {
        PlaceOrderInput {
            lines: LinesSource::Explicit(vec![RequestedLine {
                product_id: product(1).id,
                quantity: LineQuantity::new(2).unwrap(),
            }]),
            shipping_address: address(),
            idempotency_key: None,
            buyer_email: Some(Email::parse("ada@example.com").unwrap()),
        }
    }

    /// The order store's calls, in order.
    type Calls = Arc<Mutex<Vec<&'static str>>>;

    /// Ports where the catalog knows product 1, the buyer has no pending order, and
    /// the order store records which of its methods ran.
    fn ports(
        reservations: MockStockReservations,
        record: impl Fn() -> Result<(), OrderRepositoryError> + Send + Sync + 'static,
        place: impl Fn() -> Result<(), OrderRepositoryError> + Send + Sync + 'static,
        calls: &Calls,
    ) -> OrderPorts {
        let mut catalog = MockProductCatalog::new();
        catalog
            .expect_find_product()
            .returning(|_| Ok(Some(product(1))));
        let mut orders = MockOrderRepository::new();
        let log = calls.clone();
        orders
            .expect_record_attempt()
            .withf(|_, max_pending| *max_pending == 3)
            .returning(move |_, _| {
                log.lock().unwrap().push("record_attempt");
                record()
            });
        let log = calls.clone();
        orders.expect_place().returning(move |_| {
            log.lock().unwrap().push("place");
            place()
        });
        let log = calls.clone();
        orders.expect_abandon_attempt().returning(move |_| {
            log.lock().unwrap().push("abandon_attempt");
            Ok(true)
        });
        OrderPorts {
            orders: Arc::new(orders),
            reservations: Arc::new(reservations),
            catalog: Arc::new(catalog),
            ..mock_ports()
        }
    }

    fn reserved(order_id: OrderId) -> Reservation {
        Reservation {
            order_id,
            lines: emporium_domain::inventory::ReservationLines::new([
                emporium_domain::inventory::ReservationLine {
                    product_id: product(1).id,
                    quantity: Quantity::new(2).unwrap(),
                },
            ])
            .unwrap(),
            status: ReservationStatus::Reserved,
            updated_at: now(),
        }
    }

    #[tokio::test]
    async fn an_order_is_recorded_reserved_then_placed_with_the_tokens_email() {
        let calls = Calls::default();
        let mut reservations = MockStockReservations::new();
        reservations
            .expect_reserve()
            .withf(|_, lines, _| lines.lines()[0].quantity.value() == 2)
            .returning(|id, _, _| Ok(reserved(id)));
        let uc = PlaceOrder::new(ports(reservations, || Ok(()), || Ok(()), &calls));
        let Placed::Created(view) = uc.execute(&customer(), input()).await.unwrap() else {
            panic!("not created");
        };
        assert_eq!(view.order.total.to_string(), "25.00");
        // The users port has no expectations: the email came from the token.
        assert_eq!(view.order.email.as_str(), "ada@example.com");
        assert_eq!(view.order.pay_by, now() + chrono::TimeDelta::minutes(30));
        assert_eq!(
            view.shipment.unwrap().status,
            ShipmentStatus::PendingPayment
        );
        assert_eq!(*calls.lock().unwrap(), ["record_attempt", "place"]);
    }

    #[tokio::test]
    async fn short_stock_abandons_the_attempt_and_names_the_line() {
        let calls = Calls::default();
        let mut reservations = MockStockReservations::new();
        reservations.expect_reserve().returning(|_, _, _| {
            Err(ReservationError::InsufficientStock {
                product_id: product(1).id,
                available: Quantity::new(1).unwrap(),
            })
        });
        // A failed reservation holds nothing; releasing it finds nothing.
        reservations
            .expect_apply()
            .returning(|id, _, _, _| Err(ReservationError::NotFound(id)));
        let uc = PlaceOrder::new(ports(reservations, || Ok(()), || Ok(()), &calls));
        let error = uc.execute(&customer(), input()).await.unwrap_err();
        assert!(matches!(
            error,
            PlaceOrderError::InsufficientStock {
                index: Some(0),
                available: 1,
                ..
            }
        ));
        assert_eq!(
            *calls.lock().unwrap(),
            ["record_attempt", "abandon_attempt"]
        );
    }

    #[tokio::test]
    async fn a_definite_refusal_releases_the_stock_at_once() {
        let calls = Calls::default();
        let mut reservations = MockStockReservations::new();
        reservations
            .expect_reserve()
            .returning(|id, _, _| Ok(reserved(id)));
        reservations
            .expect_apply()
            .withf(|_, action, processed, _| {
                *action == ReservationAction::Release && processed.is_none()
            })
            .times(1)
            .returning(|id, _, _, _| {
                Ok(Reservation {
                    status: ReservationStatus::Released,
                    ..reserved(id)
                })
            });
        let uc = PlaceOrder::new(ports(
            reservations,
            || Ok(()),
            || Err(OrderRepositoryError::TooManyPending),
            &calls,
        ));
        let error = uc.execute(&customer(), input()).await.unwrap_err();
        assert!(matches!(error, PlaceOrderError::TooManyPending { max: 3 }));
        assert_eq!(
            *calls.lock().unwrap(),
            ["record_attempt", "place", "abandon_attempt"]
        );
    }

    /// The attempt ran past the attempt timeout and the recovery task released its
    /// stock: the caller may retry (503), nothing is placed.
    #[tokio::test]
    async fn an_attempt_given_up_meanwhile_is_retryable() {
        let calls = Calls::default();
        let mut reservations = MockStockReservations::new();
        reservations.expect_reserve().returning(|id, _, _| {
            Ok(Reservation {
                status: ReservationStatus::Released,
                ..reserved(id)
            })
        });
        let uc = PlaceOrder::new(ports(reservations, || Ok(()), || Ok(()), &calls));
        let error = uc.execute(&customer(), input()).await.unwrap_err();
        assert_eq!(
            crate::failure::UseCaseError::failure(&error).kind,
            crate::failure::FailureKind::Unavailable,
            "{error:?}"
        );
        assert_eq!(*calls.lock().unwrap(), ["record_attempt"]);
    }

    /// The store failed, maybe after committing: releasing now could free the stock
    /// of a real order, so the attempt is left to the recovery task.
    #[tokio::test]
    async fn an_uncertain_failure_leaves_the_stock_to_the_recovery_task() {
        let calls = Calls::default();
        let mut reservations = MockStockReservations::new();
        reservations
            .expect_reserve()
            .returning(|id, _, _| Ok(reserved(id)));
        reservations.expect_apply().never();
        let uc = PlaceOrder::new(ports(
            reservations,
            || Ok(()),
            || {
                Err(OrderRepositoryError::Unavailable(Unavailable::new(
                    "database",
                    anyhow::anyhow!("connection reset"),
                )))
            },
            &calls,
        ));
        let error = uc.execute(&customer(), input()).await.unwrap_err();
        assert_eq!(error.failure(), Failure::unavailable());
        assert_eq!(*calls.lock().unwrap(), ["record_attempt", "place"]);
    }

    /// A buyer at the cap is refused before anything is reserved.
    #[tokio::test]
    async fn a_buyer_at_the_pending_cap_is_refused_before_reserving() {
        let calls = Calls::default();
        let mut reservations = MockStockReservations::new();
        reservations.expect_reserve().never();
        let uc = PlaceOrder::new(ports(
            reservations,
            || Err(OrderRepositoryError::TooManyPending),
            || Ok(()),
            &calls,
        ));
        let error = uc.execute(&customer(), input()).await.unwrap_err();
        assert!(matches!(error, PlaceOrderError::TooManyPending { max: 3 }));
        assert_eq!(*calls.lock().unwrap(), ["record_attempt"]);
    }
}
