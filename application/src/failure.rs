//! The failure catalogue: what each use-case error means to whoever drove the use
//! case. Every use-case error enum implements [`UseCaseError`] next to its definition,
//! saying for each variant what kind of failure it is, its stable code and the input
//! field it concerns; its `Display` is the explanation for the caller. A driving
//! adapter then maps kinds once — the HTTP edge turns each kind into one status and
//! each failure into one JSON:API error — instead of once per error type.

use emporium_domain::{AccessDenied, Unavailable};

/// The kinds of failure a use case reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The caller did not identify themselves (HTTP 401).
    Unauthenticated,
    /// The caller may not do this (HTTP 403).
    Forbidden,
    /// The subject of the operation does not exist, or the caller may not know it
    /// does (HTTP 404).
    NotFound,
    /// The operation conflicts with the current state: a duplicate, a reserved
    /// stock, a forbidden transition (HTTP 409).
    Conflict,
    /// The input is well-formed but breaks a rule (HTTP 422).
    Invalid,
    /// The caller's credentials were refused (HTTP 401 with a challenge).
    Rejected,
    /// A dependency (database, cache, another service) cannot be reached now; the
    /// same request may succeed later (HTTP 503).
    Unavailable,
    /// Something failed that should not have: storage returned nonsense, a bug. The
    /// caller learns nothing more (HTTP 500); the cause is logged.
    Internal,
}

/// Which input field a failure concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A value given for the resource (an attribute, e.g. `sku`).
    Value(&'static str),
    /// A reference to another resource (a relationship, e.g. `category`).
    Reference(&'static str),
    /// A member of one item of a list attribute (`lines/2/quantity`).
    Item {
        /// The list attribute (`lines`).
        list: &'static str,
        /// The item's position, from 0.
        index: usize,
        /// The member of the item (`quantity`).
        member: &'static str,
    },
}

/// One failure as the catalogue describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Its kind.
    pub kind: FailureKind,
    /// A stable, machine-readable code (`duplicate_sku`, `insufficient_stock`, …).
    pub code: &'static str,
    /// The input field at fault, if one is.
    pub field: Option<Field>,
    /// The resource at fault when no input field names it (an order placed from the
    /// cart names the product short of stock): its name (`productId`) and id.
    pub subject: Option<(&'static str, uuid::Uuid)>,
}

impl Failure {
    /// A failure of `kind` with `code`.
    pub const fn new(kind: FailureKind, code: &'static str) -> Self {
        Self {
            kind,
            code,
            field: None,
            subject: None,
        }
    }

    /// `not_found`: the operation's subject does not exist.
    pub const fn not_found() -> Self {
        Self::new(FailureKind::NotFound, "not_found")
    }

    /// A conflict with the current state.
    pub const fn conflict(code: &'static str) -> Self {
        Self::new(FailureKind::Conflict, code)
    }

    /// A rule the input breaks.
    pub const fn invalid(code: &'static str) -> Self {
        Self::new(FailureKind::Invalid, code)
    }

    /// `service_unavailable`: a dependency cannot be reached now.
    pub const fn unavailable() -> Self {
        Self::new(FailureKind::Unavailable, "service_unavailable")
    }

    /// `internal_error`, unless the cause is an [`Unavailable`] dependency (then
    /// [`Failure::unavailable`]).
    pub fn internal(cause: &anyhow::Error) -> Self {
        if is_unavailable(cause) {
            Self::unavailable()
        } else {
            Self::new(FailureKind::Internal, "internal_error")
        }
    }

    /// The same failure, about the input value `name`.
    pub const fn on_value(mut self, name: &'static str) -> Self {
        self.field = Some(Field::Value(name));
        self
    }

    /// The same failure, about the reference `name`.
    pub const fn on_reference(mut self, name: &'static str) -> Self {
        self.field = Some(Field::Reference(name));
        self
    }

    /// The failure concerns `member` of item `index` of the list attribute `list`.
    pub const fn on_item(mut self, list: &'static str, index: usize, member: &'static str) -> Self {
        self.field = Some(Field::Item {
            list,
            index,
            member,
        });
        self
    }

    /// The failure concerns the resource `id`, named `name` in the answer's `meta`.
    pub const fn about(mut self, name: &'static str, id: uuid::Uuid) -> Self {
        self.subject = Some((name, id));
        self
    }
}

impl From<AccessDenied> for Failure {
    fn from(denied: AccessDenied) -> Self {
        match denied {
            AccessDenied::Unauthenticated => {
                Self::new(FailureKind::Unauthenticated, "unauthenticated")
            }
            AccessDenied::Forbidden => Self::new(FailureKind::Forbidden, "forbidden"),
        }
    }
}

/// A use-case error: its variants described by the catalogue.
pub trait UseCaseError: std::error::Error + Send + Sync + 'static {
    /// What this failure is.
    fn failure(&self) -> Failure;
}

impl UseCaseError for AccessDenied {
    fn failure(&self) -> Failure {
        (*self).into()
    }
}

/// Whether `error` was caused by a dependency that is [`Unavailable`].
pub fn is_unavailable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<Unavailable>())
}

/// The catalog could not be asked: an [`Unavailable`] error, so the edge answers 503.
pub(crate) fn catalog_unavailable(error: emporium_domain::catalog::CatalogError) -> anyhow::Error {
    let emporium_domain::catalog::CatalogError::Unavailable(cause) = error;
    anyhow::Error::new(Unavailable::new("product catalog", cause))
}
