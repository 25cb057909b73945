//! `emporium [serve [all|products|inventory|users]] | emporium migrate [SERVICES] |
//! emporium users create-admin --email E [--name N]` (password at a prompt or on stdin).

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use emporium::config::{Cli, Command, Config, ServiceSet, UsersCommand};
use emporium::{composition, server, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
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
