//! The contract of the `CategoryRepository` port, written once (`suite`) and run
//! unchanged against every adapter on its real server: sea-orm on SQLite (a file in a
//! temporary directory) and on PostgreSQL (a fresh database named by
//! `EMPORIUM_TEST_POSTGRES_URL`; SKIP when unset, failure when
//! `EMPORIUM_REQUIRE_SERVICES=1`).

#[macro_use]
mod contract;

/// The contract, as async functions over a [`contract::CatalogStore`].
mod suite {
    use emporium_domain::PageRequest;
    use emporium_domain::catalog::{
        Category, CategoryId, CategoryName, CategoryRepositoryError, Slug,
    };
    use uuid::Uuid;

    use super::contract::{CatalogStore, at, micros};

    fn category(name: &str, slug: &str, offset_ms: i64) -> Category {
        Category {
            id: CategoryId(Uuid::new_v4()),
            name: CategoryName::new(name).unwrap(),
            slug: Slug::new(slug).unwrap(),
            created_at: at(offset_ms),
        }
    }

    async fn names(store: &CatalogStore, number: u32, size: u32) -> (Vec<String>, u64) {
        let request = PageRequest::new(number, size).unwrap();
        let page = store.categories.list(request).await.unwrap();
        assert_eq!(page.request, request);
        let names = page
            .items
            .iter()
            .map(|c| c.name.as_str().to_owned())
            .collect();
        (names, page.total)
    }

    pub async fn insert_then_get_round_trips(store: &CatalogStore) {
        let cups = category("Coffee & Tea — Cups ☕", "coffee-tea-cups", 0);
        store.categories.insert(&cups).await.unwrap();
        let got = store
            .categories
            .get(cups.id)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(
            got,
            Category {
                created_at: micros(cups.created_at),
                ..cups.clone()
            }
        );
        assert_eq!(
            store
                .categories
                .get(CategoryId(Uuid::new_v4()))
                .await
                .unwrap(),
            None
        );
    }

    pub async fn duplicate_name_is_refused(store: &CatalogStore) {
        store
            .categories
            .insert(&category("Cups", "cups", 0))
            .await
            .unwrap();
        let clash = category("Cups", "cups-2", 1);
        match store.categories.insert(&clash).await {
            Err(CategoryRepositoryError::DuplicateName(name)) => assert_eq!(name.as_str(), "Cups"),
            other => panic!("expected DuplicateName, got {other:?}"),
        }
        assert_eq!(store.categories.get(clash.id).await.unwrap(), None);
    }

    pub async fn duplicate_slug_is_refused(store: &CatalogStore) {
        store
            .categories
            .insert(&category("Cups", "cups", 0))
            .await
            .unwrap();
        let clash = category("Cups!", "cups", 1);
        match store.categories.insert(&clash).await {
            Err(CategoryRepositoryError::DuplicateSlug(slug)) => assert_eq!(slug.as_str(), "cups"),
            other => panic!("expected DuplicateSlug, got {other:?}"),
        }
        assert_eq!(store.categories.get(clash.id).await.unwrap(), None);
        assert_eq!(names(store, 1, 10).await.1, 1);
    }

    pub async fn list_orders_by_name_with_paging_and_total(store: &CatalogStore) {
        assert_eq!(names(store, 1, 10).await, (vec![], 0));
        for (i, (name, slug)) in [
            ("Plates", "plates"),
            ("Cups", "cups"),
            ("Mugs", "mugs"),
            ("Bowls", "bowls"),
            ("Saucers", "saucers"),
        ]
        .into_iter()
        .enumerate()
        {
            store
                .categories
                .insert(&category(name, slug, i as i64))
                .await
                .unwrap();
        }
        assert_eq!(
            names(store, 1, 2).await,
            (vec!["Bowls".into(), "Cups".into()], 5)
        );
        assert_eq!(
            names(store, 2, 2).await,
            (vec!["Mugs".into(), "Plates".into()], 5)
        );
        assert_eq!(names(store, 3, 2).await, (vec!["Saucers".into()], 5));
        assert_eq!(names(store, 4, 2).await, (vec![], 5));
        let all = store
            .categories
            .list(PageRequest::new(1, PageRequest::MAX_SIZE).unwrap())
            .await
            .unwrap();
        assert_eq!(all.items.len(), 5);
        assert_eq!(all.last_page(), 1);
    }

    pub async fn get_many_reads_the_existing_ones_in_one_call(store: &CatalogStore) {
        let cups = category("Cups", "cups", 0);
        let mugs = category("Mugs", "mugs", 1);
        for c in [&cups, &mugs] {
            store.categories.insert(c).await.unwrap();
        }
        let mut found = store
            .categories
            .get_many(&[mugs.id, CategoryId(Uuid::new_v4()), cups.id])
            .await
            .unwrap();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Cups", "Mugs"]);
        assert!(store.categories.get_many(&[]).await.unwrap().is_empty());
    }

    pub async fn update_renames_and_refuses_duplicates(store: &CatalogStore) {
        let cups = category("Cups", "cups", 0);
        let mugs = category("Mugs", "mugs", 1);
        for c in [&cups, &mugs] {
            store.categories.insert(c).await.unwrap();
        }
        let renamed = Category {
            name: CategoryName::new("Teacups").unwrap(),
            ..cups.clone()
        };
        store.categories.update(&renamed).await.unwrap();
        assert_eq!(
            store
                .categories
                .get(cups.id)
                .await
                .unwrap()
                .unwrap()
                .name
                .as_str(),
            "Teacups"
        );
        let clash = Category {
            slug: Slug::new("mugs").unwrap(),
            ..renamed.clone()
        };
        assert!(matches!(
            store.categories.update(&clash).await,
            Err(CategoryRepositoryError::DuplicateSlug(_))
        ));
        let clash = Category {
            name: CategoryName::new("Mugs").unwrap(),
            ..renamed.clone()
        };
        assert!(matches!(
            store.categories.update(&clash).await,
            Err(CategoryRepositoryError::DuplicateName(_))
        ));
        let missing = category("Bowls", "bowls", 2);
        assert!(matches!(
            store.categories.update(&missing).await,
            Err(CategoryRepositoryError::NotFound(id)) if id == missing.id
        ));
        assert_eq!(
            store
                .categories
                .get(cups.id)
                .await
                .unwrap()
                .unwrap()
                .slug
                .as_str(),
            "cups"
        );
    }

    pub async fn delete_refuses_a_category_products_belong_to(store: &CatalogStore) {
        let cups = category("Cups", "cups", 0);
        let empty = category("Empty", "empty", 1);
        for c in [&cups, &empty] {
            store.categories.insert(c).await.unwrap();
        }
        let mut product = super::contract::product("CUP-1");
        product.category_id = Some(cups.id);
        store.products.insert(&product).await.unwrap();
        let refused = store.categories.delete(cups.id).await;
        assert!(
            matches!(refused, Err(CategoryRepositoryError::InUse(id)) if id == cups.id),
            "{refused:?}"
        );
        assert!(store.categories.get(cups.id).await.unwrap().is_some());
        assert!(store.categories.delete(empty.id).await.unwrap());
        assert!(!store.categories.delete(empty.id).await.unwrap());
        assert_eq!(store.categories.get(empty.id).await.unwrap(), None);
    }
}

mod sqlite {
    contract_tests!(crate::contract::sqlite_catalog =>
        insert_then_get_round_trips,
        duplicate_name_is_refused,
        duplicate_slug_is_refused,
        list_orders_by_name_with_paging_and_total,
        get_many_reads_the_existing_ones_in_one_call,
        update_renames_and_refuses_duplicates,
        delete_refuses_a_category_products_belong_to,
    );
}

mod postgres {
    contract_tests!(crate::contract::postgres_catalog =>
        insert_then_get_round_trips,
        duplicate_name_is_refused,
        duplicate_slug_is_refused,
        list_orders_by_name_with_paging_and_total,
        get_many_reads_the_existing_ones_in_one_call,
        update_renames_and_refuses_duplicates,
        delete_refuses_a_category_products_belong_to,
    );
}
