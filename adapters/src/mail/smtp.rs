//! [`Mailer`] over SMTP with lettre (async, tokio, rustls).
//!
//! `EMPORIUM_SMTP_URL` chooses the security: `smtp://host:587?tls=required` (STARTTLS,
//! refused without it), `smtps://host:465` (TLS from the start), `smtp://host:25`
//! (plain, for a local relay or a test sink); credentials as `smtp://user:pass@host`.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use emporium_domain::Unavailable;
use emporium_domain::notifications::{Mailer, MailerError, OutgoingMail};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Sender, message};

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends mail through an SMTP server (see the [module docs](self)).
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    sender: Sender,
}

impl SmtpMailer {
    /// A mailer for the server at `url`, sending as `sender`. Connects lazily.
    pub fn new(url: &str, sender: Sender) -> anyhow::Result<Self> {
        // lettre's rustls uses the process-wide provider: make sure ring is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("not an smtp:// or smtps:// URL")?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self { transport, sender })
    }

    /// Whether the server answers (an SMTP `NOOP`).
    pub async fn ping(&self) -> anyhow::Result<()> {
        let answered = self
            .transport
            .test_connection()
            .await
            .context("the mail server did not answer")?;
        anyhow::ensure!(answered, "the mail server did not answer NOOP");
        Ok(())
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailerError> {
        let message = message(&self.sender, mail)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // The server answered, and said no.
            Err(error) if error.is_permanent() || error.is_transient() => {
                Err(MailerError::Rejected(error.to_string()))
            }
            Err(error) => Err(MailerError::Unavailable(Unavailable::new(
                "the mail server",
                error,
            ))),
        }
    }
}
