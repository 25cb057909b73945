//! `emporium [serve [all|products|inventory]] | emporium migrate`.

use std::process::ExitCode;

use clap::Parser;
use emporium::config::{Cli, Command, Config, ServiceSet};
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
