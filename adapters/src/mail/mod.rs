//! Email adapters: [`SmtpMailer`] (lettre over SMTP, STARTTLS or plain as its URL
//! says), [`LocalMailbox`] (the embedded default: one `.eml` file per message, also
//! logged) and [`MinijinjaMailTemplates`] (HTML with a plain-text alternative,
//! escaped by minijinja's HTML auto-escaping).
//!
//! Both mailers build the same RFC 5322 message ([`message`]): its `Message-ID` is
//! the mail's key at the sender's domain, so a resend is the same message.

mod mailbox;
mod smtp;
mod templates;

pub use mailbox::LocalMailbox;
pub use smtp::SmtpMailer;
pub use templates::MinijinjaMailTemplates;

use anyhow::Context;
use emporium_domain::notifications::OutgoingMail;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

/// The sender of every mail: `EMPORIUM_MAIL_FROM`, e.g. `Emporium <shop@example.com>`.
#[derive(Debug, Clone)]
pub struct Sender(Mailbox);

impl Sender {
    /// Parses `from` (`shop@example.com` or `Name <shop@example.com>`).
    pub fn parse(from: &str) -> anyhow::Result<Self> {
        let mailbox: Mailbox = from
            .parse()
            .with_context(|| format!("{from:?} is not a mail address"))?;
        Ok(Self(mailbox))
    }

    /// The `Message-ID` of the mail with `key`: `<key@sender's domain>`.
    pub fn message_id(&self, key: &str) -> String {
        format!("<{key}@{}>", self.0.email.domain())
    }
}

/// The message `mail` from `sender`: HTML with a plain-text alternative, its
/// `Message-ID` from the mail's key.
pub fn message(sender: &Sender, mail: &OutgoingMail) -> anyhow::Result<Message> {
    let to: Mailbox = mail
        .to
        .as_str()
        .parse()
        .with_context(|| format!("the recipient {:?}", mail.to.as_str()))?;
    Message::builder()
        .from(sender.0.clone())
        .to(to)
        .subject(mail.content.subject.clone())
        .message_id(Some(sender.message_id(mail.key.as_str())))
        .multipart(MultiPart::alternative_plain_html(
            mail.content.text.clone(),
            mail.content.html.clone(),
        ))
        .context("building the message")
}
