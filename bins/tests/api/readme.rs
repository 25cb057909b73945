//! The README's walk through the API runs as written: the binary is started the way a
//! new user starts it (in an empty directory, so the default `./data` is used), and
//! every `sh` block from "## A walk through the API" up to "## Layout" runs, in order,
//! as one `bash -euo pipefail` script against it — with the server's address for
//! `http://localhost:8080` and the binary for `cargo run -q --`. Needs `curl` and
//! `jq` (skipped without them, unless `EMPORIUM_REQUIRE_SERVICES=1`).

use std::process::{Command, Stdio};

use crate::server::{BINARY, ServerProcess, free_addr};

/// The README at the repository root.
const README: &str = include_str!("../../../README.md");
/// The heading the walk-through starts at.
const FIRST_HEADING: &str = "## A walk through the API";
/// The heading after it.
const END_HEADING: &str = "## Layout";

/// The `sh` blocks between [`FIRST_HEADING`] and [`END_HEADING`], joined in order.
fn walk_through() -> String {
    let mut script = String::new();
    let mut in_section = false;
    let mut in_block = false;
    for line in README.lines() {
        if line.trim_end() == FIRST_HEADING {
            in_section = true;
        } else if line.trim_end() == END_HEADING {
            break;
        } else if in_block {
            if line.trim_end() == "```" {
                in_block = false;
                script.push('\n');
            } else {
                script.push_str(line);
                script.push('\n');
            }
        } else if in_section && line.trim_end() == "```sh" {
            in_block = true;
        }
    }
    assert!(
        !in_block,
        "an unterminated ```sh block in the README walk-through"
    );
    script
}

/// Whether `tool` runs.
fn installed(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[test]
fn the_readme_walk_through_runs_as_written() {
    for tool in ["bash", "curl", "jq"] {
        if !installed(tool) {
            if emporium_adapters::testing::services_required() {
                panic!(
                    "`{tool}` is not installed but EMPORIUM_REQUIRE_SERVICES=1: the README \
                     walk-through needs bash, curl and jq"
                );
            }
            eprintln!("SKIP: `{tool}` is not installed; the README walk-through needs it");
            return;
        }
    }
    let script = walk_through();
    assert!(
        script.contains("http://localhost:8080") && script.contains("cargo run -q --"),
        "the walk-through no longer names the server or the binary as expected:\n{script}"
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let addr = free_addr();
    let environment = |command: &mut Command| {
        command
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        if let Some(home) = std::env::var_os("HOME") {
            command.env("HOME", home);
        }
    };
    let mut command = Command::new(BINARY);
    environment(&mut command);
    command.env("EMPORIUM_ADDR", addr.to_string());
    let server = ServerProcess::start(command, addr, dir.path());

    let script = script
        .replace("http://localhost:8080", &format!("http://{addr}"))
        .replace("cargo run -q --", &format!("'{BINARY}'"));
    let mut bash = Command::new("bash");
    environment(&mut bash);
    let output = bash
        .args(["-euo", "pipefail", "-c", &script])
        .stdin(Stdio::null())
        .output()
        .expect("running bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = format!(
        "--- script ---\n{script}\n--- stdout ---\n{stdout}\n--- stderr ---\n{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.logs()
    );
    assert!(
        output.status.success(),
        "the walk-through failed ({})\n{report}",
        output.status
    );
    for expected in [
        r#""insufficient_stock""#,
        r#""onHand": 15"#,
        r#""Espresso cup""#,
        r#""tokens""#,
        r#""email": "ada@example.com""#,
        r#""trackingNumber": "JD014600006281""#,
        r#""delivered""#,
        r#""toStatus": "delivered""#,
    ] {
        assert!(
            stdout.contains(expected),
            "no {expected} in the output\n{report}"
        );
    }
    drop(server);
}

/// Every repository path the README and `docs/` cite in backticks (`bins/src/…`,
/// `scripts/test`, `docs/api.md`: a path under a top-level directory, or any path
/// of a source or document file) exists, from the repository root: a renamed or
/// deleted file, or one outside the repository, leaves no dangling reference.
#[test]
fn the_docs_cite_only_files_that_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository root");
    let top_level = [
        "adapters/",
        "application/",
        "bins/",
        "domain/",
        "docs/",
        "scripts/",
        "tests/",
        ".ci/",
    ];
    let mut documents = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("a docs entry").path();
        if path.extension().is_some_and(|ext| ext == "md") {
            documents.push(path);
        }
    }
    let mut missing = Vec::new();
    for document in &documents {
        let text = std::fs::read_to_string(document).expect("a readable document");
        for (index, span) in text.split('`').enumerate() {
            let source_file = [".rs", ".md", ".sh", ".toml", ".yaml"]
                .iter()
                .any(|ext| span.ends_with(ext))
                && span.contains('/')
                && !span.starts_with(['/', '.']);
            let is_path = index % 2 == 1
                && (source_file || top_level.iter().any(|dir| span.starts_with(dir)))
                && span
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
            if is_path && !root.join(span).exists() {
                missing.push(format!("{}: {span}", document.display()));
            }
        }
    }
    assert!(documents.len() > 3, "{documents:?}");
    assert!(
        missing.is_empty(),
        "cited but missing:\n{}",
        missing.join("\n")
    );
}
