//! `emporium backup` of the embedded database under load, and `emporium restore`
//! of that copy: every order acknowledged before the backup began is there after
//! the restore; a restore beside a running server is refused.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::client::Client;
use super::server::{ServerProcess, emporium_command, free_addr, serve_command};

const ADMIN_EMAIL: &str = "admin@backup.test";
const ADMIN_PASSWORD: &str = "a backup test admin password";

fn serve(dir: &Path, addr: SocketAddr) -> ServerProcess {
    let command = serve_command(dir, addr, (ADMIN_EMAIL, ADMIN_PASSWORD));
    ServerProcess::start(command, addr, dir)
}

/// Runs `emporium <args>` on the data directory `dir`: (success, stderr).
fn emporium(dir: &Path, args: &[&str]) -> (bool, String) {
    let output = emporium_command(dir)
        .args(args)
        .output()
        .expect("running emporium");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_load_restores_every_acknowledged_order() {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let mut server = serve(dir.path(), addr);
    let client = Arc::new(Client::new(addr, Duration::from_secs(10)));
    let admin = client.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let authorization = format!("Bearer {admin}");
    let product = client
        .stocked_product(("Authorization", &authorization), "BACKUP-1", 1_000_000)
        .await;
    let buyer = client
        .register("buyer@backup.test", "a buyer password")
        .await;

    // Orders keep coming while the backup is taken.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (client, token, product) = (client.clone(), buyer.clone(), product.clone());
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let order = json!({"data": {"type": "orders", "attributes": {
                    "lines": [{"productId": product, "quantity": 1}],
                    "shippingAddress": {"name": "Ada", "line1": "1 St", "city": "London",
                        "postalCode": "N1", "country": "GB"}}}});
                while !stop.load(Ordering::Relaxed) {
                    if let Some((201, body)) = client
                        .bearer(reqwest::Method::POST, "/v1/orders", &token, Some(&order))
                        .await
                    {
                        let id = body["data"]["id"].as_str().unwrap().to_owned();
                        acknowledged.lock().unwrap().push(id);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let copy = dir.path().join("backups").join("shop.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let copy_arg = copy.to_str().unwrap().to_owned();
    let backup_dir = dir.path().to_path_buf();
    let (ok, stderr) =
        tokio::task::spawn_blocking(move || emporium(&backup_dir, &["backup", &copy_arg]))
            .await
            .unwrap();
    assert!(ok, "the backup failed: {stderr}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let all = acknowledged.lock().unwrap().len();
    assert!(
        before.len() >= 10,
        "only {} orders before the backup",
        before.len()
    );
    assert!(all > before.len(), "no order during the backup");
    eprintln!("{} orders before the backup, {all} in all", before.len());

    // Not beside a running server.
    let (ok, stderr) = emporium(dir.path(), &["restore", copy.to_str().unwrap()]);
    assert!(!ok && stderr.contains("stop it"), "{stderr}");
    server.kill();
    let (ok, stderr) = emporium(dir.path(), &["restore", copy.to_str().unwrap()]);
    assert!(ok, "the restore failed: {stderr}");
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".before-restore-"))
        .collect();
    assert!(!kept.is_empty(), "the replaced database is kept");

    // Every order acknowledged before the backup began is back.
    let _server = serve(dir.path(), addr);
    let buyer = client.log_in("buyer@backup.test", "a buyer password").await;
    for id in &before {
        let (status, _) = client
            .bearer(
                reqwest::Method::GET,
                &format!("/v1/orders/{id}"),
                &buyer,
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            status, 200,
            "order {id}, acknowledged before the backup, is missing"
        );
    }
    // A damaged file is refused, and nothing is replaced.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    drop(_server);
    let (ok, stderr) = emporium(dir.path(), &["restore", junk.to_str().unwrap()]);
    assert!(!ok, "a damaged file was restored: {stderr}");
    let (ok, stderr) = emporium(dir.path(), &["backup", copy.to_str().unwrap()]);
    assert!(!ok && stderr.contains("exists"), "{stderr}");
}
