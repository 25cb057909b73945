//! The contract of the `ProductRepository` port, written once (`suite`) and run
//! unchanged against every adapter on its real server: sea-orm on SQLite (a file in a
//! temporary directory) and on PostgreSQL (a fresh database named by
//! `EMPORIUM_TEST_POSTGRES_URL`; SKIP when unset, failure when
//! `EMPORIUM_REQUIRE_SERVICES=1`).

#[macro_use]
mod contract;

/// The contract, as async functions over a [`contract::CatalogStore`].
mod suite {
    use chrono::TimeDelta;
    use emporium_domain::catalog::{
        Category, CategoryId, CategoryName, Description, ImageUrl, Price, Product, ProductChanges,
        ProductId, ProductListQuery, ProductName, ProductRepositoryError, ProductSort,
        ProductSortField, SearchText, Sku, Slug,
    };
    use emporium_domain::{PageRequest, SortDirection};
    use uuid::Uuid;

    use super::contract::{CatalogStore, at, micros};

    fn product(sku: &str, name: &str, price: &str, offset_ms: i64) -> Product {
        Product {
            id: ProductId(Uuid::new_v4()),
            name: ProductName::new(name).unwrap(),
            description: Description::new(format!("About {name}")).unwrap(),
            price: Price::parse(price).unwrap(),
            sku: Sku::new(sku).unwrap(),
            images: vec![],
            active: true,
            category_id: None,
            created_at: at(offset_ms),
            updated_at: at(offset_ms),
        }
    }

    async fn category(store: &CatalogStore, name: &str) -> CategoryId {
        let name = CategoryName::new(name).unwrap();
        let category = Category {
            id: CategoryId(Uuid::new_v4()),
            slug: Slug::from_name(&name).unwrap(),
            name,
            created_at: at(0),
        };
        store.categories.insert(&category).await.unwrap();
        category.id
    }

    /// `p` as the store gives it back: times at microsecond precision.
    fn stored(p: &Product) -> Product {
        Product {
            created_at: micros(p.created_at),
            updated_at: micros(p.updated_at),
            ..p.clone()
        }
    }

    async fn insert_all(store: &CatalogStore, products: &[Product]) {
        for p in products {
            store.products.insert(p).await.unwrap();
        }
    }

    fn query(number: u32, size: u32) -> ProductListQuery {
        ProductListQuery {
            page: PageRequest::new(number, size).unwrap(),
            ..Default::default()
        }
    }

    fn sort(field: ProductSortField, direction: SortDirection) -> ProductSort {
        ProductSort { field, direction }
    }

    async fn skus(store: &CatalogStore, query: &ProductListQuery) -> (Vec<String>, u64) {
        let page = store.products.list(query).await.unwrap();
        assert_eq!(page.request, query.page);
        let skus = page
            .items
            .iter()
            .map(|p| p.sku.as_str().to_owned())
            .collect();
        (skus, page.total)
    }

    pub async fn insert_then_get_round_trips_every_field(store: &CatalogStore) {
        let category_id = category(store, "Cups").await;
        let mut full = product("CUP-090", "Espresso cup ☕", "12.50", 0);
        full.description =
            Description::new("90 ml, porcelain.\nDishwasher-safe — «ça va».").unwrap();
        full.images = vec![
            ImageUrl::new("https://img.example/cup-b.jpg").unwrap(),
            ImageUrl::new("https://img.example/cup-a.jpg?size=2").unwrap(),
        ];
        full.active = false;
        full.category_id = Some(category_id);
        full.updated_at = at(1_500);

        let mut bare = product("BARE.1", "Bare", "0.01", 10);
        bare.description = Description::default();
        let max = product("MAX_1", "Priciest", "9999999999.99", 20);
        let odd = product("ODD-1", "Odd cents", "1234567.89", 30);

        insert_all(
            store,
            &[full.clone(), bare.clone(), max.clone(), odd.clone()],
        )
        .await;
        for p in [&full, &bare, &max, &odd] {
            let got = store
                .products
                .get(p.id)
                .await
                .unwrap()
                .expect("stored product");
            assert_eq!(got, stored(p));
            assert_eq!(got.price.to_string(), p.price.to_string(), "exact price");
        }
        assert_eq!(
            store.products.get(ProductId(Uuid::new_v4())).await.unwrap(),
            None
        );
    }

    pub async fn duplicate_sku_is_refused(store: &CatalogStore) {
        let first = product("CUP-1", "First", "1.00", 0);
        store.products.insert(&first).await.unwrap();

        let clash = product("CUP-1", "Clash", "2.00", 1);
        match store.products.insert(&clash).await {
            Err(ProductRepositoryError::DuplicateSku(sku)) => assert_eq!(sku.as_str(), "CUP-1"),
            other => panic!("expected DuplicateSku, got {other:?}"),
        }
        assert_eq!(store.products.get(clash.id).await.unwrap(), None);

        // SKUs compare exactly as given.
        let other_case = product("cup-1", "Lower case", "2.00", 2);
        store.products.insert(&other_case).await.unwrap();

        // Taking another product's SKU on update is refused too.
        let mut second = product("CUP-2", "Second", "3.00", 3);
        store.products.insert(&second).await.unwrap();
        second.sku = Sku::new("CUP-1").unwrap();
        match store.products.update(&second).await {
            Err(ProductRepositoryError::DuplicateSku(sku)) => assert_eq!(sku.as_str(), "CUP-1"),
            other => panic!("expected DuplicateSku, got {other:?}"),
        }
        let kept = store.products.get(second.id).await.unwrap().unwrap();
        assert_eq!(kept.sku.as_str(), "CUP-2");
    }

    pub async fn unknown_category_is_refused(store: &CatalogStore) {
        let missing = CategoryId(Uuid::new_v4());
        let mut p = product("CUP-1", "Cup", "1.00", 0);
        p.category_id = Some(missing);
        match store.products.insert(&p).await {
            Err(ProductRepositoryError::UnknownCategory(id)) => assert_eq!(id, missing),
            other => panic!("expected UnknownCategory, got {other:?}"),
        }
        assert_eq!(store.products.get(p.id).await.unwrap(), None);

        p.category_id = None;
        store.products.insert(&p).await.unwrap();
        p.category_id = Some(missing);
        match store.products.update(&p).await {
            Err(ProductRepositoryError::UnknownCategory(id)) => assert_eq!(id, missing),
            other => panic!("expected UnknownCategory, got {other:?}"),
        }
        let existing = category(store, "Mugs").await;
        p.category_id = Some(existing);
        store.products.update(&p).await.unwrap();
        assert_eq!(
            store.products.get(p.id).await.unwrap().unwrap().category_id,
            Some(existing)
        );
    }

    pub async fn update_replaces_the_stored_product(store: &CatalogStore) {
        let cups = category(store, "Cups").await;
        let mut p = product("CUP-1", "Cup", "12.50", 0);
        p.category_id = Some(cups);
        p.images = vec![ImageUrl::new("https://img.example/1.jpg").unwrap()];
        store.products.insert(&p).await.unwrap();

        p.apply(
            ProductChanges {
                name: Some(ProductName::new("Big cup").unwrap()),
                description: Some(Description::new("Now 300 ml").unwrap()),
                price: Some(Price::parse("19.9").unwrap()),
                sku: Some(Sku::new("CUP-300").unwrap()),
                images: Some(vec![
                    ImageUrl::new("https://img.example/3.jpg").unwrap(),
                    ImageUrl::new("https://img.example/2.jpg").unwrap(),
                ]),
                active: Some(false),
                category_id: Some(None),
            },
            at(60_000),
        );
        store.products.update(&p).await.unwrap();
        let got = store.products.get(p.id).await.unwrap().unwrap();
        assert_eq!(got, stored(&p));
        assert_eq!(got.price.to_string(), "19.90");

        let ghost = product("GHOST", "Ghost", "1.00", 0);
        match store.products.update(&ghost).await {
            Err(ProductRepositoryError::NotFound(id)) => assert_eq!(id, ghost.id),
            other => panic!("expected NotFound, got {other:?}"),
        }
        assert_eq!(store.products.get(ghost.id).await.unwrap(), None);
    }

    pub async fn delete_removes_once(store: &CatalogStore) {
        let keep = product("KEEP", "Keep", "1.00", 0);
        let gone = product("GONE", "Gone", "1.00", 1);
        insert_all(store, &[keep.clone(), gone.clone()]).await;

        assert!(store.products.delete(gone.id).await.unwrap());
        assert_eq!(store.products.get(gone.id).await.unwrap(), None);
        assert!(!store.products.delete(gone.id).await.unwrap());
        assert!(
            !store
                .products
                .delete(ProductId(Uuid::new_v4()))
                .await
                .unwrap()
        );
        assert!(store.products.get(keep.id).await.unwrap().is_some());
        // The SKU is free again.
        store
            .products
            .insert(&product("GONE", "Back", "1.00", 2))
            .await
            .unwrap();
    }

    pub async fn list_pages_oldest_first_with_total(store: &CatalogStore) {
        let empty = store.products.list(&query(1, 20)).await.unwrap();
        assert!(empty.items.is_empty());
        assert_eq!(empty.total, 0);

        // Inserted out of creation order.
        for i in [4, 0, 6, 2, 5, 1, 3] {
            store
                .products
                .insert(&product(
                    &format!("P-{i}"),
                    &format!("P {i}"),
                    "1.00",
                    i * 1_000,
                ))
                .await
                .unwrap();
        }
        assert_eq!(
            skus(store, &query(1, 3)).await,
            (vec!["P-0".into(), "P-1".into(), "P-2".into()], 7)
        );
        assert_eq!(
            skus(store, &query(2, 3)).await,
            (vec!["P-3".into(), "P-4".into(), "P-5".into()], 7)
        );
        assert_eq!(skus(store, &query(3, 3)).await, (vec!["P-6".into()], 7));
        assert_eq!(skus(store, &query(4, 3)).await, (vec![], 7));
        let all = store.products.list(&query(1, 100)).await.unwrap();
        assert_eq!(all.items.len(), 7);
        assert_eq!(all.last_page(), 1);
    }

    pub async fn list_sorts_by_each_field_with_ties_broken_by_id(store: &CatalogStore) {
        // Prices whose text order differs from their numeric order.
        let mut products = vec![
            product("C", "Bowl", "100.00", 3_000),
            product("A", "Cup", "9.99", 1_000),
            product("D", "Ashtray", "2.50", 4_000),
            product("B", "Dish", "10.00", 2_000),
        ];
        products[0].updated_at = at(9_000);
        products[1].updated_at = at(8_000);
        products[2].updated_at = at(7_000);
        products[3].updated_at = at(6_000);
        insert_all(store, &products).await;

        let by = |field, direction| ProductListQuery {
            sort: vec![sort(field, direction)],
            ..query(1, 20)
        };
        use ProductSortField::*;
        use SortDirection::*;
        let cases = [
            (by(Price, Ascending), ["D", "A", "B", "C"]),
            (by(Price, Descending), ["C", "B", "A", "D"]),
            (by(Name, Ascending), ["D", "C", "A", "B"]),
            (by(Name, Descending), ["B", "A", "C", "D"]),
            (by(Sku, Ascending), ["A", "B", "C", "D"]),
            (by(Sku, Descending), ["D", "C", "B", "A"]),
            (by(CreatedAt, Ascending), ["A", "B", "C", "D"]),
            (by(CreatedAt, Descending), ["D", "C", "B", "A"]),
            (by(UpdatedAt, Ascending), ["B", "D", "A", "C"]),
            (by(UpdatedAt, Descending), ["C", "A", "D", "B"]),
        ];
        for (q, expected) in cases {
            let (got, total) = skus(store, &q).await;
            assert_eq!(got, expected, "sorted by {:?}", q.sort);
            assert_eq!(total, 4);
        }

        // Equal keys: the next key decides, and ties on every key go by id.
        let mut twins: Vec<Product> = (0..6)
            .map(|i| {
                product(
                    &format!("T-{i}"),
                    "Twin",
                    if i % 2 == 0 { "5.00" } else { "7.00" },
                    50_000,
                )
            })
            .collect();
        insert_all(store, &twins).await;
        let q = ProductListQuery {
            sort: vec![sort(Name, Descending), sort(Price, Descending)],
            ..query(1, 20)
        };
        let page = store.products.list(&q).await.unwrap();
        let twins_listed: Vec<ProductId> = page
            .items
            .iter()
            .filter(|p| p.name.as_str() == "Twin")
            .map(|p| p.id)
            .collect();
        let mut expensive: Vec<ProductId> = twins
            .iter()
            .filter(|p| p.price.to_string() == "7.00")
            .map(|p| p.id)
            .collect();
        let mut cheap: Vec<ProductId> = twins
            .iter()
            .filter(|p| p.price.to_string() == "5.00")
            .map(|p| p.id)
            .collect();
        expensive.sort();
        cheap.sort();
        assert_eq!(twins_listed, [expensive, cheap].concat());

        // Paging through ties is stable: pages of 2 by created_at cover every twin once.
        let mut seen = Vec::new();
        for number in 1..=5 {
            let q = ProductListQuery {
                sort: vec![sort(CreatedAt, Ascending)],
                ..query(number, 2)
            };
            seen.extend(
                store
                    .products
                    .list(&q)
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .map(|p| p.id),
            );
        }
        twins.sort_by_key(|p| p.id);
        assert_eq!(seen.len(), 10);
        assert_eq!(&seen[4..], twins.iter().map(|p| p.id).collect::<Vec<_>>());
    }

    pub async fn list_filters_by_category(store: &CatalogStore) {
        let cups = category(store, "Cups").await;
        let plates = category(store, "Plates").await;
        let mut products = vec![
            product("CUP-1", "Cup 1", "1.00", 0),
            product("PLATE-1", "Plate 1", "1.00", 1),
            product("CUP-2", "Cup 2", "1.00", 2),
            product("LOOSE", "Loose", "1.00", 3),
        ];
        products[0].category_id = Some(cups);
        products[1].category_id = Some(plates);
        products[2].category_id = Some(cups);
        insert_all(store, &products).await;

        let in_category = |category| ProductListQuery {
            category: Some(category),
            ..query(1, 1)
        };
        assert_eq!(
            skus(store, &in_category(cups)).await,
            (vec!["CUP-1".into()], 2)
        );
        let second = ProductListQuery {
            page: PageRequest::new(2, 1).unwrap(),
            ..in_category(cups)
        };
        assert_eq!(skus(store, &second).await, (vec!["CUP-2".into()], 2));
        assert_eq!(
            skus(store, &in_category(plates)).await,
            (vec!["PLATE-1".into()], 1)
        );
        let empty = category(store, "Empty").await;
        assert_eq!(skus(store, &in_category(empty)).await, (vec![], 0));
        let unknown = CategoryId(Uuid::new_v4());
        assert_eq!(skus(store, &in_category(unknown)).await, (vec![], 0));
    }

    pub async fn list_searches_name_description_and_sku(store: &CatalogStore) {
        let cups = category(store, "Cups").await;
        let mut products = vec![
            product("CUP-090", "Espresso Cup", "1.00", 0),
            product("MUG-300", "Big mug", "1.00", 1),
            product("PLATE-1", "Plate", "1.00", 2),
            product("SALE-1", "Sale plate", "1.00", 3),
            product("SALE-2", "Other plate", "1.00", 4),
            product("A_B", "Underscore", "1.00", 5),
            product("AXB", "Letter", "1.00", 6),
        ];
        products[1].description = Description::new("Stoneware, holds 300 ML").unwrap();
        products[1].category_id = Some(cups);
        products[3].description = Description::new("Now 50% off!").unwrap();
        products[4].description = Description::new("Was 500 dollars").unwrap();
        insert_all(store, &products).await;

        let search = |text: &str| ProductListQuery {
            search: Some(SearchText::new(text).unwrap()),
            ..query(1, 20)
        };
        let cases: [(&str, &[&str]); 10] = [
            // Name, any case.
            ("espresso", &["CUP-090"]),
            ("ESPRESSO cup", &["CUP-090"]),
            // Description.
            ("stoneware", &["MUG-300"]),
            ("300 ml", &["MUG-300"]),
            // SKU, and a term found in several fields once per product.
            ("mug-3", &["MUG-300"]),
            ("plate", &["PLATE-1", "SALE-1", "SALE-2"]),
            // LIKE wildcards are literal text.
            ("50%", &["SALE-1"]),
            ("%", &["SALE-1"]),
            ("A_B", &["A_B"]),
            ("nothing like this", &[]),
        ];
        for (text, expected) in cases {
            let (got, total) = skus(store, &search(text)).await;
            assert_eq!(got, expected, "search {text:?}");
            assert_eq!(total, expected.len() as u64, "total for {text:?}");
        }
        assert_eq!(skus(store, &search("\\")).await.1, 0);

        // Search and category together, with paging.
        let both = ProductListQuery {
            search: Some(SearchText::new("e").unwrap()),
            category: Some(cups),
            ..query(1, 20)
        };
        assert_eq!(skus(store, &both).await, (vec!["MUG-300".into()], 1));
        let paged = ProductListQuery {
            search: Some(SearchText::new("PLATE").unwrap()),
            ..query(2, 2)
        };
        assert_eq!(skus(store, &paged).await, (vec!["SALE-2".into()], 3));
    }

    pub async fn times_keep_microseconds(store: &CatalogStore) {
        let mut p = product("T-1", "Timed", "1.00", 0);
        p.created_at = at(0) + TimeDelta::nanoseconds(999);
        p.updated_at = at(1);
        store.products.insert(&p).await.unwrap();
        let got = store.products.get(p.id).await.unwrap().unwrap();
        assert_eq!(got.created_at, micros(p.created_at));
        assert_eq!(got.updated_at, micros(p.updated_at));
        assert_eq!(
            got.created_at.timestamp_subsec_micros(),
            p.created_at.timestamp_subsec_micros()
        );
    }

    pub async fn ping_answers(store: &CatalogStore) {
        store.products.ping().await.unwrap();
    }
}

mod sqlite {
    contract_tests!(crate::contract::sqlite_catalog =>
        insert_then_get_round_trips_every_field,
        duplicate_sku_is_refused,
        unknown_category_is_refused,
        update_replaces_the_stored_product,
        delete_removes_once,
        list_pages_oldest_first_with_total,
        list_sorts_by_each_field_with_ties_broken_by_id,
        list_filters_by_category,
        list_searches_name_description_and_sku,
        times_keep_microseconds,
        ping_answers,
    );
}

mod postgres {
    contract_tests!(crate::contract::postgres_catalog =>
        insert_then_get_round_trips_every_field,
        duplicate_sku_is_refused,
        unknown_category_is_refused,
        update_replaces_the_stored_product,
        delete_removes_once,
        list_pages_oldest_first_with_total,
        list_sorts_by_each_field_with_ties_broken_by_id,
        list_filters_by_category,
        list_searches_name_description_and_sku,
        times_keep_microseconds,
        ping_answers,
    );
}
