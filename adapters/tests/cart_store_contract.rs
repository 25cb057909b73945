//! The contract of the `CartStore` port, written once (`suite`) and run unchanged on
//! every adapter on its real server: sea-orm on SQLite and PostgreSQL, and Redis. A
//! missing server is a SKIP line, or a failure when `EMPORIUM_REQUIRE_SERVICES=1`.

#[macro_use]
mod contract;

/// The contract, as async functions over a [`contract::CartStoreUnderTest`].
mod suite {
    use std::sync::Arc;

    use emporium_domain::UserId;
    use emporium_domain::catalog::{Price, ProductId, ProductName, Sku};
    use emporium_domain::orders::{Cart, CartStoreError, LineQuantity, PricedLine};
    use uuid::Uuid;

    use super::contract::{CartStoreUnderTest, at, micros};

    fn line(price: &str, quantity: i64) -> PricedLine {
        let id = Uuid::new_v4();
        PricedLine {
            product_id: ProductId(id),
            sku: Sku::new(format!("SKU-{}", &id.simple().to_string()[..8])).unwrap(),
            name: ProductName::new("Espresso cup «fine» ☕").unwrap(),
            unit_price: Price::parse(price).unwrap(),
            quantity: LineQuantity::new(quantity).unwrap(),
        }
    }

    fn owner() -> UserId {
        UserId(Uuid::new_v4())
    }

    pub async fn a_saved_cart_round_trips(store: &CartStoreUnderTest) {
        let owner = owner();
        assert_eq!(store.carts.get(owner).await.unwrap(), None);
        let mut cart = Cart::empty(owner, at(0));
        cart.add(line("12.50", 2), at(1)).unwrap();
        cart.add(line("1234567890.10", 99), at(2)).unwrap();
        let saved = store.carts.save(&cart).await.unwrap();
        assert_eq!(saved.version(), 1);
        assert_eq!(saved.lines(), cart.lines());
        assert_eq!(saved.updated_at(), micros(at(2)));
        let got = store.carts.get(owner).await.unwrap().unwrap();
        assert_eq!(got, saved);
        assert_eq!(got.total(), cart.total());
        assert_eq!(got.lines()[1].unit_price.to_string(), "1234567890.10");
        // Other users have no cart.
        assert_eq!(store.carts.get(self::owner()).await.unwrap(), None);
    }

    pub async fn a_stale_save_is_refused(store: &CartStoreUnderTest) {
        let owner = owner();
        let mut first = store.carts.save(&Cart::empty(owner, at(0))).await.unwrap();
        let mut second = first.clone();
        first.add(line("1.00", 1), at(1)).unwrap();
        let first = store.carts.save(&first).await.unwrap();
        assert_eq!(first.version(), 2);
        second.add(line("2.00", 1), at(2)).unwrap();
        assert!(matches!(
            store.carts.save(&second).await,
            Err(CartStoreError::Changed)
        ));
        // A brand-new cart for an owner who has one is stale too.
        assert!(matches!(
            store.carts.save(&Cart::empty(owner, at(3))).await,
            Err(CartStoreError::Changed)
        ));
        assert_eq!(store.carts.get(owner).await.unwrap().unwrap(), first);
    }

    pub async fn delete_removes_the_cart(store: &CartStoreUnderTest) {
        let owner = owner();
        let mut cart = Cart::empty(owner, at(0));
        cart.add(line("3.00", 1), at(1)).unwrap();
        store.carts.save(&cart).await.unwrap();
        store.carts.delete(owner).await.unwrap();
        assert_eq!(store.carts.get(owner).await.unwrap(), None);
        store.carts.delete(owner).await.unwrap();
        // A cart read before the delete cannot be saved over it.
        assert!(matches!(
            store.carts.save(&store_version(&cart, owner, 1)).await,
            Err(CartStoreError::Changed)
        ));
        assert_eq!(store.carts.save(&cart).await.unwrap().version(), 1);
    }

    fn store_version(cart: &Cart, owner: UserId, version: u64) -> Cart {
        Cart::from_parts(owner, cart.lines().to_vec(), cart.updated_at(), version).unwrap()
    }

    /// Twenty requests add a line each to one cart at once, each reading and retrying
    /// on `Changed`: no line is lost.
    pub async fn concurrent_changes_are_never_lost(store: &CartStoreUnderTest) {
        let owner = owner();
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let carts = Arc::clone(&store.carts);
                tokio::spawn(async move {
                    let new = line("1.00", 1);
                    for _ in 0..200 {
                        let mut cart = carts
                            .get(owner)
                            .await
                            .unwrap()
                            .unwrap_or_else(|| Cart::empty(owner, at(0)));
                        cart.add(new.clone(), at(i)).unwrap();
                        match carts.save(&cart).await {
                            Ok(_) => return,
                            Err(CartStoreError::Changed) => tokio::task::yield_now().await,
                            Err(other) => panic!("unexpected error: {other:?}"),
                        }
                    }
                    panic!("gave up after 200 attempts");
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let cart = store.carts.get(owner).await.unwrap().unwrap();
        assert_eq!(cart.lines().len(), 20);
        assert_eq!(cart.version(), 20);
        assert_eq!(cart.total().to_string(), "20.00");
    }

    pub async fn ping_answers(store: &CartStoreUnderTest) {
        store.carts.ping().await.unwrap();
    }
}

mod sqlite {
    contract_tests!(crate::contract::sqlite_carts =>
        a_saved_cart_round_trips,
        a_stale_save_is_refused,
        delete_removes_the_cart,
        concurrent_changes_are_never_lost,
        ping_answers,
    );
}

mod postgres {
    contract_tests!(crate::contract::postgres_carts =>
        a_saved_cart_round_trips,
        a_stale_save_is_refused,
        delete_removes_the_cart,
        concurrent_changes_are_never_lost,
        ping_answers,
    );
}

mod redis {
    contract_tests!(crate::contract::redis_carts =>
        a_saved_cart_round_trips,
        a_stale_save_is_refused,
        delete_removes_the_cart,
        concurrent_changes_are_never_lost,
        ping_answers,
    );
}
