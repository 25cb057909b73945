//! Reading orders: one, a page, an audit trail. Owners see their own; admins all;
//! another customer's order answers "not found", never "forbidden".

use emporium_domain::orders::{Order, OrderEvent, OrderFilter, OrderId, Payment, Shipment};
use emporium_domain::{AccessDenied, Actor, Page, PageRequest, Role, UserId};

use super::OrderPorts;
use crate::failure::{Failure, UseCaseError};

/// An order, with its shipment and payments where they were loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// The order.
    pub order: Order,
    /// Its shipment, when loaded.
    pub shipment: Option<Shipment>,
    /// Its payments, oldest first, when loaded.
    pub payments: Option<Vec<Payment>>,
}

/// `order` with its shipment and payments loaded.
pub(crate) async fn with_related(ports: &OrderPorts, order: Order) -> anyhow::Result<OrderView> {
    let shipment = ports
        .shipments
        .for_order(order.id)
        .await
        .map_err(|error| anyhow::Error::new(error).context("loading the shipment"))?;
    let payments = ports
        .payments
        .for_order(order.id)
        .await
        .map_err(|error| anyhow::Error::new(error).context("loading the payments"))?;
    Ok(OrderView {
        order,
        shipment,
        payments: Some(payments),
    })
}

impl OrderView {
    /// The order alone (in lists, and as an action answers it).
    pub fn order_only(order: Order) -> Self {
        Self {
            order,
            shipment: None,
            payments: None,
        }
    }
}

/// Whose orders, payments and shipments `actor` may see: `None` for all of them (an
/// admin; the provider's and carrier's callback where `callback_sees_all`), the
/// user's own otherwise. Another customer's answer "not found", never "forbidden".
pub(crate) fn viewer(
    actor: &Actor,
    callback_sees_all: bool,
) -> Result<Option<UserId>, AccessDenied> {
    match actor {
        Actor::User {
            role: Role::Admin, ..
        } => Ok(None),
        Actor::Callback if callback_sees_all => Ok(None),
        Actor::User { id, .. } => Ok(Some(*id)),
        Actor::Service | Actor::Callback => Err(AccessDenied::Forbidden),
        Actor::Anonymous => Err(AccessDenied::Unauthenticated),
    }
}

/// The owner filter of a list `actor` asks for with `requested` as its owner
/// filter: any for an admin; the user's own for a customer (`Ok(None)` when they
/// asked for another user's: an empty page, never "forbidden").
pub(crate) fn list_scope(
    actor: &Actor,
    requested: Option<UserId>,
) -> Result<Option<Option<UserId>>, AccessDenied> {
    Ok(match viewer(actor, false)? {
        None => Some(requested),
        Some(me) if requested.is_none_or(|user| user == me) => Some(Some(me)),
        Some(_) => None,
    })
}

/// Whether `viewer` (see [`viewer`]) may see what `owner` owns.
pub(crate) fn sees(viewer: Option<UserId>, owner: UserId) -> bool {
    viewer.is_none_or(|user| user == owner)
}

/// The order `id` if `viewer` may see it.
pub(crate) async fn visible_order(
    ports: &OrderPorts,
    viewer: Option<UserId>,
    id: OrderId,
) -> Result<Option<Order>, anyhow::Error> {
    let order = ports
        .orders
        .get(id)
        .await
        .map_err(|error| anyhow::Error::new(error).context("loading the order"))?;
    Ok(order.filter(|order| sees(viewer, order.user_id)))
}

/// Reads one order (owner or admin), optionally with its shipment.
pub struct GetOrder {
    ports: OrderPorts,
}

/// Failures of [`GetOrder`].
#[derive(Debug, thiserror::Error)]
pub enum GetOrderError {
    /// Not signed in, or a service.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such order, or another customer's.
    #[error("There is no order {0}.")]
    NotFound(OrderId),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for GetOrderError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl GetOrder {
    /// The use case over its ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// The order `id`, with its shipment and payments.
    pub async fn execute(&self, actor: &Actor, id: OrderId) -> Result<OrderView, GetOrderError> {
        let order = visible_order(&self.ports, viewer(actor, false)?, id)
            .await?
            .ok_or(GetOrderError::NotFound(id))?;
        Ok(with_related(&self.ports, order).await?)
    }
}

/// Lists orders: a customer's own; an admin's all, filtered by status and buyer.
pub struct ListOrders {
    ports: OrderPorts,
}

/// Failures of [`ListOrders`].
#[derive(Debug, thiserror::Error)]
pub enum ListOrdersError {
    /// Not signed in, or a service.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for ListOrdersError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl ListOrders {
    /// The use case over its ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// A page of the orders `actor` may see that match `filter`, newest first. A
    /// customer's filter on another buyer matches nothing.
    pub async fn execute(
        &self,
        actor: &Actor,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<Order>, ListOrdersError> {
        let Some(user_id) = list_scope(actor, filter.user_id)? else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
                request: page,
            });
        };
        let filter = OrderFilter { user_id, ..filter };
        Ok(self
            .ports
            .orders
            .list(filter, page)
            .await
            .map_err(|error| anyhow::Error::new(error).context("listing orders"))?)
    }
}

/// Reads an order's audit trail (owner or admin).
pub struct ListOrderEvents {
    ports: OrderPorts,
}

/// Failures of [`ListOrderEvents`].
#[derive(Debug, thiserror::Error)]
pub enum ListOrderEventsError {
    /// Not signed in, or a service.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such order, or another customer's.
    #[error("There is no order {0}.")]
    NotFound(OrderId),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for ListOrderEventsError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl ListOrderEvents {
    /// The use case over its ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// The audit rows of order `id`, oldest first.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: OrderId,
    ) -> Result<Vec<OrderEvent>, ListOrderEventsError> {
        visible_order(&self.ports, viewer(actor, false)?, id)
            .await?
            .ok_or(ListOrderEventsError::NotFound(id))?;
        Ok(self
            .ports
            .orders
            .events(id)
            .await
            .map_err(|error| anyhow::Error::new(error).context("loading the audit trail"))?)
    }
}
