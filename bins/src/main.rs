//! `emporium [serve [all|products|inventory]] | emporium migrate |
//! emporium users create-admin --email E [--name N]` (password on stdin).

use std::process::ExitCode;

use clap::Parser;
use emporium::config::{Cli, Command, Config, ServiceSet, UsersCommand};
use emporium::{composition, server, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let _logs = telemetry::init();
    server::install_crypto_provider();
    let config = match Config::from_settings(cli.settings) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(variable = error.variable, "configuration error: {error}");
            eprintln!("emporium: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
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

/// `emporium users create-admin`: the password is one line of stdin (not echoed
/// anywhere, never logged).
async fn create_admin(config: &Config, email: &str, name: &str) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| anyhow::anyhow!("reading the password from stdin: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']);
    let input = composition::admin_input(email, name, password, "users create-admin")?;
    composition::create_admin(config, input).await?;
    eprintln!("emporium: administrator {email} created");
    Ok(())
}
