//! Fixtures shared by the catalog use-case tests.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use emporium_domain::catalog::{
    Description, NewProduct, Price, Product, ProductId, ProductName, Sku,
};
use emporium_domain::{Actor, MockClock, MockIdGenerator, Role, UserId};
use uuid::Uuid;

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

pub fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    Arc::new(clock)
}

pub fn ids(id: Uuid) -> Arc<MockIdGenerator> {
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id().return_const(id);
    Arc::new(ids)
}

pub fn admin() -> Actor {
    Actor::User {
        id: UserId(Uuid::from_u128(1)),
        role: Role::Admin,
    }
}

pub fn customer() -> Actor {
    Actor::User {
        id: UserId(Uuid::from_u128(2)),
        role: Role::Customer,
    }
}

pub fn new_product() -> NewProduct {
    NewProduct {
        name: ProductName::new("Espresso cup").unwrap(),
        description: Description::new("90 ml, porcelain").unwrap(),
        price: Price::parse("12.50").unwrap(),
        sku: Sku::new("CUP-090").unwrap(),
        images: vec![],
        active: true,
        category_id: None,
    }
}

pub fn product(id: u128) -> Product {
    new_product().into_product(ProductId(Uuid::from_u128(id)), now())
}

pub fn category(id: u128, name: &str) -> emporium_domain::catalog::Category {
    let name = emporium_domain::catalog::CategoryName::new(name).unwrap();
    emporium_domain::catalog::Category {
        id: emporium_domain::catalog::CategoryId(Uuid::from_u128(id)),
        slug: emporium_domain::catalog::Slug::from_name(&name).unwrap(),
        name,
        created_at: now(),
    }
}
