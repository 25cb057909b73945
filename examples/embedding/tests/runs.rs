//! The example runs as written: one mail printed, one record, for an event
//! delivered twice.

#[test]
fn the_example_tells_the_buyer_once() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_embedding-example"))
        .env("RUST_LOG", "off")
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.matches("To: ada@example.com").count(), 1, "{stdout}");
    assert!(stdout.contains("Subject: Order "), "{stdout}");
    assert!(
        stdout.contains("recorded: email order.created sent (1 attempt)"),
        "{stdout}"
    );
    assert!(stdout.contains("notifications: 1"), "{stdout}");
}
