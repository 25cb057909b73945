//! The contract of the `Mailer` port, written once (`suite`) and run unchanged
//! against every adapter: the local mailbox (files in a temporary directory) and
//! SMTP to a real SMTP server (the aiosmtpd sink of `testing::smtp`; SKIP without
//! it, failure when `EMPORIUM_REQUIRE_SERVICES=1`). What arrived is read back with
//! an independent parser (mail-parser), not with the library that wrote it.

#[allow(unused_macros)]
mod contract;

use std::sync::Arc;

use emporium_adapters::mail::{LocalMailbox, Sender, SmtpMailer};
use emporium_adapters::testing::TempDir;
use emporium_adapters::testing::smtp::SmtpSink;
use emporium_domain::notifications::Mailer;

/// The sender every test uses.
const FROM: &str = "Emporium Shop <shop@mail.example>";

/// A mailer and a way to read what it delivered.
pub struct Mailbox {
    /// The mailer under test.
    pub mailer: Arc<dyn Mailer>,
    inbox: Inbox,
}

enum Inbox {
    Files(TempDir),
    Smtp(SmtpSink),
}

impl Mailbox {
    /// Every message delivered so far, raw (RFC 5322), oldest first.
    pub async fn delivered(&self, at_least: usize) -> Vec<Vec<u8>> {
        match &self.inbox {
            Inbox::Files(dir) => {
                let mut paths: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
                    .unwrap()
                    .map(|entry| entry.unwrap().path())
                    .filter(|path| path.extension().is_some_and(|e| e == "eml"))
                    .collect();
                paths.sort();
                paths
                    .iter()
                    .map(|path| std::fs::read(path).unwrap())
                    .collect()
            }
            Inbox::Smtp(sink) => sink
                .wait_for(at_least, std::time::Duration::from_secs(10))
                .await
                .into_iter()
                .map(|received| received.raw)
                .collect(),
        }
    }

    /// The SMTP sink, for the SMTP-only tests.
    fn sink(&mut self) -> Option<&mut SmtpSink> {
        match &mut self.inbox {
            Inbox::Smtp(sink) => Some(sink),
            Inbox::Files(_) => None,
        }
    }
}

/// The local mailbox.
pub async fn local_mailbox() -> Option<Mailbox> {
    let dir = TempDir::new();
    let mailer = LocalMailbox::open(dir.path().join("mail"), Sender::parse(FROM).unwrap())
        .await
        .unwrap();
    Some(Mailbox {
        mailer: Arc::new(mailer),
        inbox: Inbox::Files(dir),
    })
}

/// SMTP to the test sink.
pub async fn smtp() -> Option<Mailbox> {
    contract::init();
    let sink = SmtpSink::start()?;
    let mailer = SmtpMailer::new(&sink.url(), Sender::parse(FROM).unwrap()).unwrap();
    Some(Mailbox {
        mailer: Arc::new(mailer),
        inbox: Inbox::Smtp(sink),
    })
}

/// The contract, as async functions over a [`Mailbox`].
mod suite {
    use emporium_domain::UserId;
    use emporium_domain::accounts::Email;
    use emporium_domain::notifications::{MessageKey, OutgoingMail, RenderedMail};
    use emporium_domain::orders::EventId;
    use mail_parser::MessageParser;
    use uuid::Uuid;

    use super::Mailbox;

    fn mail(event: u128) -> OutgoingMail {
        OutgoingMail {
            key: MessageKey::for_event(EventId(Uuid::from_u128(event)), UserId(Uuid::from_u128(2))),
            to: Email::parse("ada@example.com").unwrap(),
            content: RenderedMail {
                subject: "Order 1A2B is on its way \u{2014} caf\u{e9}".to_owned(),
                html: "<p>Handed to <b>DHL</b> &amp; co.</p>".to_owned(),
                text: "Handed to DHL & co.".to_owned(),
            },
        }
    }

    /// A mail arrives as sent: sender, recipient, subject (non-ASCII included), an
    /// HTML part and a plain-text alternative, and a Message-ID made of its key at
    /// the sender's domain.
    pub async fn a_mail_arrives_whole(mailbox: &mut Mailbox) {
        let sent = mail(42);
        mailbox.mailer.send(&sent).await.unwrap();
        let delivered = mailbox.delivered(1).await;
        assert_eq!(delivered.len(), 1);
        let message = MessageParser::default().parse(&delivered[0]).unwrap();
        assert_eq!(
            message.message_id(),
            Some(format!("{}@mail.example", sent.key.as_str()).as_str())
        );
        assert_eq!(message.subject(), Some(sent.content.subject.as_str()));
        let from = message.from().unwrap().first().unwrap();
        assert_eq!(from.address(), Some("shop@mail.example"));
        assert_eq!(from.name(), Some("Emporium Shop"));
        let to = message.to().unwrap().first().unwrap();
        assert_eq!(to.address(), Some("ada@example.com"));
        assert_eq!(
            message.body_html(0).unwrap().trim(),
            sent.content.html.as_str()
        );
        assert_eq!(
            message.body_text(0).unwrap().trim(),
            sent.content.text.as_str()
        );
        assert_eq!(message.html_body_count(), 1);
        assert_eq!(message.text_body_count(), 1);
    }

    /// Sending the same mail again (a resend after a crash) gives the same
    /// Message-ID; another mail another one.
    pub async fn a_resend_is_the_same_message(mailbox: &mut Mailbox) {
        mailbox.mailer.send(&mail(1)).await.unwrap();
        mailbox.mailer.send(&mail(1)).await.unwrap();
        mailbox.mailer.send(&mail(2)).await.unwrap();
        let mut ids: Vec<String> = mailbox
            .delivered(3)
            .await
            .iter()
            .map(|raw| {
                MessageParser::default()
                    .parse(raw)
                    .unwrap()
                    .message_id()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        ids.dedup();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 2, "{ids:?}");
    }
}

mod local {
    use super::*;

    #[tokio::test]
    async fn a_mail_arrives_whole() {
        let mut mailbox = local_mailbox().await.unwrap();
        super::suite::a_mail_arrives_whole(&mut mailbox).await;
    }

    #[tokio::test]
    async fn a_resend_is_the_same_message() {
        let mut mailbox = local_mailbox().await.unwrap();
        super::suite::a_resend_is_the_same_message(&mut mailbox).await;
    }

    /// Mail holds personal data: the mailbox and its files are private.
    #[tokio::test]
    async fn the_mailbox_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let mailbox = local_mailbox().await.unwrap();
        mailbox.mailer.send(&suite_mail()).await.unwrap();
        let Inbox::Files(dir) = &mailbox.inbox else {
            unreachable!()
        };
        let dir = dir.path().join("mail");
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        for entry in std::fs::read_dir(&dir).unwrap() {
            let mode = entry.unwrap().metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    fn suite_mail() -> emporium_domain::notifications::OutgoingMail {
        use emporium_domain::notifications::{MessageKey, OutgoingMail, RenderedMail};
        OutgoingMail {
            key: MessageKey::parse("private").unwrap(),
            to: emporium_domain::accounts::Email::parse("ada@example.com").unwrap(),
            content: RenderedMail {
                subject: "s".to_owned(),
                html: "<p>h</p>".to_owned(),
                text: "t".to_owned(),
            },
        }
    }
}

mod smtp {
    use emporium_domain::notifications::MailerError;

    use super::*;

    #[tokio::test]
    async fn a_mail_arrives_whole() {
        let Some(mut mailbox) = smtp().await else {
            return;
        };
        super::suite::a_mail_arrives_whole(&mut mailbox).await;
    }

    #[tokio::test]
    async fn a_resend_is_the_same_message() {
        let Some(mut mailbox) = smtp().await else {
            return;
        };
        super::suite::a_resend_is_the_same_message(&mut mailbox).await;
    }

    /// A server that refuses the recipient is `Rejected` (with its reply); a server
    /// that is down is `Unavailable`; back up, mail goes again with no new mailer.
    #[tokio::test]
    async fn refusals_and_outages_are_told_apart() {
        let Some(mut mailbox) = smtp().await else {
            return;
        };
        let mail = {
            use emporium_domain::notifications::{MessageKey, OutgoingMail, RenderedMail};
            OutgoingMail {
                key: MessageKey::parse("outage").unwrap(),
                to: emporium_domain::accounts::Email::parse("ada@example.com").unwrap(),
                content: RenderedMail {
                    subject: "s".to_owned(),
                    html: "<p>h</p>".to_owned(),
                    text: "t".to_owned(),
                },
            }
        };
        let sink = mailbox.sink().unwrap();
        sink.refuse(true);
        match mailbox.mailer.send(&mail).await {
            Err(MailerError::Rejected(reply)) => assert!(reply.contains("550"), "{reply}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let sink = mailbox.sink().unwrap();
        sink.refuse(false);
        sink.stop();
        match mailbox.mailer.send(&mail).await {
            Err(MailerError::Unavailable(_)) => {}
            other => panic!("expected the server to be unavailable, got {other:?}"),
        }
        mailbox.sink().unwrap().resume();
        mailbox.mailer.send(&mail).await.unwrap();
        assert_eq!(mailbox.delivered(1).await.len(), 1);
    }
}
