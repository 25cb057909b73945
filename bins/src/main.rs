//! `emporium [serve [all|products|inventory|users|orders]] | emporium migrate [SERVICES] |
//! emporium users create-admin --email E [--name N]` (password at a prompt or on stdin) |
//! `emporium events dead [--limit N] | emporium events replay ID`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use emporium::config::{Cli, Command, Config, EventsCommand, ServiceSet, UsersCommand};
use emporium::{composition, server, telemetry};

fn main() -> ExitCode {
    return_large_blocks_to_the_system();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => {
            eprintln!("emporium: cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

/// glibc raises its mmap threshold each time a large block is freed, after which
/// blocks of that size come from the freeing thread's arena and stay resident when
/// freed. Each Argon2 hash (19 MiB, on a blocking-pool thread) then kept its memory:
/// 64 sign-ups and log-ins left the server at 143 MiB. A fixed threshold (1 MiB)
/// keeps such blocks mapped on their own, so freeing returns them to the system.
/// Applications that embed the crates and hash passwords may want the same.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_system() {
    // SAFETY: `mallopt` only sets an allocator parameter; it is called before the
    // runtime starts any thread, and an unaccepted value is reported (0), not UB.
    let accepted = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
    if accepted == 0 {
        eprintln!("emporium: glibc refused the mmap threshold; large blocks may stay resident");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_system() {}

async fn run() -> ExitCode {
    let cli = Cli::from_env();
    let _logs = telemetry::init();
    server::install_crypto_provider();
    let config = Config::from_settings(cli.settings);
    let outcome = match cli.command.unwrap_or(Command::Serve {
        services: ServiceSet::All,
    }) {
        Command::Serve { services } => server::serve(config, services).await,
        Command::Migrate { services } => composition::migrate(&config, services).await,
        Command::Users {
            command: UsersCommand::CreateAdmin { email, name },
        } => create_admin(&config, &email, &name).await,
        Command::Events { command } => events(&config, command).await,
        Command::Backup { file } => backup(&config, &file).await,
        Command::Restore { file } => restore(&config, &file).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "emporium stopped");
            eprintln!("emporium: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `emporium users create-admin`: the password is typed at a prompt when stdin is a
/// terminal, else read as one line of stdin; it is never echoed or logged.
async fn create_admin(config: &Config, email: &str, name: &str) -> anyhow::Result<()> {
    let password = read_admin_password()?;
    let input = composition::admin_input(email, name, &password, "users create-admin")?;
    composition::create_admin(config, input).await?;
    eprintln!("emporium: administrator {email} created");
    Ok(())
}

/// `emporium events dead`: one JSON object per line on stdout (id, group, entry,
/// failures, error, at, event), oldest first. `emporium events replay ID`.
/// The SQLite file of `config`, or why there is none.
fn sqlite_database(config: &Config) -> anyhow::Result<std::path::PathBuf> {
    emporium_adapters::sql::sqlite_file(&config.database_url).context(
        "EMPORIUM_DATABASE_URL is not an SQLite file: back up PostgreSQL with pg_dump and \
         MongoDB with mongodump (docs/operations.md)",
    )
}

async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    sqlite_database(config)?;
    emporium_adapters::sql::backup_sqlite(&config.database_url, file).await?;
    tracing::info!(file = %file.display(), "backup written");
    Ok(())
}

async fn restore(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let database = sqlite_database(config)?;
    let Some(_lock) = emporium_adapters::sql::DatabaseLock::for_restore(&database)? else {
        anyhow::bail!(
            "a server is running on {}: stop it before restoring",
            database.display()
        );
    };
    let kept = emporium_adapters::sql::restore_sqlite(file, &database).await?;
    tracing::info!(
        backup = %file.display(),
        database = %database.display(),
        kept = ?kept,
        "database restored; the replaced files were kept"
    );
    Ok(())
}

async fn events(config: &Config, command: EventsCommand) -> anyhow::Result<()> {
    let dead = composition::dead_letters(config).await?;
    match command {
        EventsCommand::Dead { limit } => {
            let letters = dead.list(limit as usize).await?;
            for letter in &letters {
                let event: serde_json::Value = serde_json::from_str(&letter.event)
                    .unwrap_or_else(|_| serde_json::Value::String(letter.event.clone()));
                let line = serde_json::json!({
                    "id": letter.id,
                    "group": letter.group,
                    "entry": letter.entry,
                    "failures": letter.failures,
                    "error": letter.error,
                    "at": letter.at,
                    "event": event,
                });
                println!("{line}");
            }
            eprintln!("emporium: {} dead letter(s)", letters.len());
            Ok(())
        }
        EventsCommand::Replay { id } => {
            anyhow::ensure!(
                dead.replay(&id).await?,
                "events replay: no dead letter {id} (see `emporium events dead`)"
            );
            eprintln!("emporium: dead letter {id} published again and removed");
            Ok(())
        }
    }
}

/// At a terminal: asks twice without echo (a typo would lock the admin out). From a
/// pipe: one line, its line ending removed.
fn read_admin_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let password = rpassword::prompt_password("Administrator password: ")
            .context("reading the password from the terminal")?;
        let repeated = rpassword::prompt_password("Repeat the password: ")
            .context("reading the password from the terminal")?;
        anyhow::ensure!(
            password == repeated,
            "users create-admin: the two passwords differ; nothing was created"
        );
        return Ok(password);
    }
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("reading the password from stdin")?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}
