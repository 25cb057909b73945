//! Migrations on a real PostgreSQL server: services that start at once on one
//! database (the split deployment) all come up, whatever the interleaving.

use emporium_adapters::sql;
use emporium_adapters::testing;
use emporium_domain::PageRequest;
use emporium_domain::accounts::UserRepository;

/// Four processes' worth of pools migrate one fresh database at the same moment:
/// every run succeeds, and the schema is there once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_migrations_of_one_postgres_database_all_succeed() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(url) = testing::postgres_database().await else {
        return;
    };
    let mut pools = Vec::new();
    for _ in 0..4 {
        pools.push(sql::connect(&url).await.expect("connect to PostgreSQL"));
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(pools.len()));
    let runs: Vec<_> = pools
        .iter()
        .cloned()
        .map(|db| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                sql::migrate(&db).await
            })
        })
        .collect();
    for run in runs {
        run.await
            .unwrap()
            .unwrap_or_else(|error| panic!("a concurrent migration failed: {error:#}"));
    }
    // The schema works, and a later run finds nothing to do.
    let users = sql::SqlUserRepository::new(pools[0].clone());
    let page = users.list(PageRequest::new(1, 10).unwrap()).await.unwrap();
    assert_eq!(page.total, 0);
    sql::migrate(&pools[1]).await.unwrap();
}
