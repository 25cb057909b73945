//! [`Mailer`] of the embedded default: each message is written, as the SMTP server
//! would receive it, to `<dir>/<key>.eml` (mode 0600, since mail holds personal
//! data), and logged. A resend of the same mail replaces its file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use async_trait::async_trait;
use emporium_domain::notifications::{Mailer, MailerError, OutgoingMail};

use super::{Sender, message};

/// The local mailbox (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct LocalMailbox {
    dir: PathBuf,
    sender: Sender,
}

impl LocalMailbox {
    /// A mailbox in `dir` (created, mode 0700), sending as `sender`.
    pub async fn open(dir: impl Into<PathBuf>, sender: Sender) -> anyhow::Result<Self> {
        let dir = dir.into();
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("creating the mailbox {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tokio::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .await
                .with_context(|| format!("restricting the mailbox {}", dir.display()))?;
        }
        Ok(Self { dir, sender })
    }

    /// Where the messages are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for LocalMailbox {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailerError> {
        let bytes = message(&self.sender, mail)?.formatted();
        let path = self.dir.join(format!("{}.eml", mail.key.as_str()));
        let partial = self.dir.join(format!(".{}.eml.partial", mail.key.as_str()));
        let write = async {
            let mut options = tokio::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            options.mode(0o600);
            let mut file = options.open(&partial).await?;
            tokio::io::AsyncWriteExt::write_all(&mut file, &bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&partial, &path).await
        };
        write
            .await
            .with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(
            to = mail.to.as_str(),
            subject = mail.content.subject,
            file = %path.display(),
            "mail written to the local mailbox"
        );
        Ok(())
    }
}
