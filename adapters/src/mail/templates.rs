//! [`MailTemplates`] on minijinja: the templates are compiled into the binary
//! (`templates/`), `.html` ones auto-escaped for HTML.

use emporium_domain::notifications::{
    AccountMail, MailContent, MailTemplates, OrderMail, RenderedMail,
};
use minijinja::Environment;
use serde::Serialize;

/// The mail templates (see the [module docs](self)).
pub struct MinijinjaMailTemplates {
    environment: Environment<'static>,
}

#[derive(Serialize)]
struct LineContext {
    name: String,
    sku: String,
    quantity: i64,
    unit_price: String,
    line_total: String,
}

#[derive(Serialize)]
struct OrderContext {
    mail: &'static str,
    subject: String,
    order_id: String,
    order_ref: String,
    status: &'static str,
    lines: Vec<LineContext>,
    total: String,
    currency: String,
    carrier: Option<String>,
    tracking_number: Option<String>,
    cancel_reason: Option<String>,
}

fn mail_name(mail: OrderMail) -> &'static str {
    match mail {
        OrderMail::Confirmation => "confirmation",
        OrderMail::StatusChanged => "status_changed",
        OrderMail::PaymentFailed => "payment_failed",
        OrderMail::PaymentRefunded => "payment_refunded",
        OrderMail::PaymentSucceeded => "payment_succeeded",
    }
}

impl MinijinjaMailTemplates {
    /// The templates, compiled once.
    pub fn new() -> anyhow::Result<Self> {
        let mut environment = Environment::new();
        for (name, source) in [
            (
                "order.subject.txt",
                include_str!("templates/order.subject.txt"),
            ),
            ("order.html", include_str!("templates/order.html")),
            ("message.html", include_str!("templates/message.html")),
            ("order.txt", include_str!("templates/order.txt")),
            ("message.txt", include_str!("templates/message.txt")),
            (
                "account.subject.txt",
                include_str!("templates/account.subject.txt"),
            ),
            ("account.html", include_str!("templates/account.html")),
            ("account.txt", include_str!("templates/account.txt")),
        ] {
            environment.add_template(name, source)?;
        }
        Ok(Self { environment })
    }

    fn render_order(
        &self,
        mail: OrderMail,
        data: &emporium_domain::orders::EventData,
    ) -> anyhow::Result<RenderedMail> {
        let order_id = data.order_id.0.to_string();
        let mut context = OrderContext {
            mail: mail_name(mail),
            subject: String::new(),
            order_ref: order_id[order_id.len() - 8..].to_uppercase(),
            order_id,
            status: data.status.as_str(),
            lines: data
                .lines
                .iter()
                .map(|line| LineContext {
                    name: line.name.as_str().to_owned(),
                    sku: line.sku.as_str().to_owned(),
                    quantity: line.quantity.value(),
                    unit_price: line.unit_price.to_string(),
                    line_total: line.line_total().to_string(),
                })
                .collect(),
            total: data.total.to_string(),
            currency: data.currency.as_str().to_owned(),
            carrier: data.carrier.clone(),
            tracking_number: data.tracking_number.clone(),
            cancel_reason: data.cancel_reason.clone(),
        };
        let subject = self
            .environment
            .get_template("order.subject.txt")?
            .render(&context)?;
        // One line, whatever a template says.
        context.subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        let html = self
            .environment
            .get_template("order.html")?
            .render(&context)?;
        let text = self
            .environment
            .get_template("order.txt")?
            .render(&context)?;
        Ok(RenderedMail {
            subject: context.subject,
            html,
            text,
        })
    }
}

#[derive(Serialize)]
struct AccountContext<'a> {
    mail: &'static str,
    subject: String,
    name: &'a str,
    token: &'a str,
    valid_minutes: u32,
}

impl MinijinjaMailTemplates {
    fn render_account(
        &self,
        mail: AccountMail,
        name: &str,
        token: &str,
        valid_minutes: u32,
    ) -> anyhow::Result<RenderedMail> {
        let mut context = AccountContext {
            mail: match mail {
                AccountMail::PasswordReset => "password_reset",
                AccountMail::VerifyEmail => "verify_email",
            },
            subject: String::new(),
            name,
            token,
            valid_minutes,
        };
        let subject = self
            .environment
            .get_template("account.subject.txt")?
            .render(&context)?;
        context.subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        let html = self
            .environment
            .get_template("account.html")?
            .render(&context)?;
        let text = self
            .environment
            .get_template("account.txt")?
            .render(&context)?;
        Ok(RenderedMail {
            subject: context.subject,
            html,
            text,
        })
    }
}

impl MailTemplates for MinijinjaMailTemplates {
    fn render(&self, content: &MailContent) -> anyhow::Result<RenderedMail> {
        match content {
            MailContent::Order { mail, data } => self.render_order(*mail, data),
            MailContent::Account {
                mail,
                name,
                token,
                valid_minutes,
            } => self.render_account(*mail, name, token, *valid_minutes),
        }
    }
}

#[cfg(test)]
mod tests {
    use emporium_domain::UserId;
    use emporium_domain::accounts::Email;
    use emporium_domain::catalog::{Price, ProductId, ProductName, Sku};
    use emporium_domain::orders::{
        Currency, EventData, LineQuantity, OrderId, OrderStatus, PricedLine,
    };
    use uuid::Uuid;

    use super::*;

    fn data(status: OrderStatus, name: &str) -> EventData {
        let line = PricedLine {
            product_id: ProductId(Uuid::from_u128(1)),
            sku: Sku::new("CUP-090").unwrap(),
            name: ProductName::new(name).unwrap(),
            unit_price: Price::parse("12.50").unwrap(),
            quantity: LineQuantity::new(2).unwrap(),
        };
        EventData {
            order_id: OrderId(Uuid::from_u128(0xabcdef12)),
            user_id: UserId(Uuid::from_u128(2)),
            email: Email::parse("ada@example.com").unwrap(),
            status,
            total: line.line_total(),
            lines: vec![line],
            currency: Currency::EUR,
            previous_status: None,
            cancel_reason: None,
            payment_id: None,
            shipment_id: None,
            carrier: None,
            tracking_number: None,
        }
    }

    fn render(mail: OrderMail, data: EventData) -> RenderedMail {
        MinijinjaMailTemplates::new()
            .unwrap()
            .render(&MailContent::Order { mail, data })
            .unwrap()
    }

    #[test]
    fn a_confirmation_lists_the_lines_and_total_in_both_parts() {
        let mail = render(
            OrderMail::Confirmation,
            data(OrderStatus::Pending, "Espresso cup"),
        );
        assert_eq!(mail.subject, "Order ABCDEF12 is placed");
        for part in [&mail.html, &mail.text] {
            assert!(part.contains("Espresso cup"), "{part}");
            assert!(part.contains("CUP-090"), "{part}");
            assert!(part.contains("12.50 EUR"), "{part}");
            assert!(part.contains("25.00 EUR"), "{part}");
        }
        assert!(mail.html.starts_with("<!DOCTYPE html>"));
    }

    #[test]
    fn account_mails_carry_the_token_and_how_long_it_works() {
        let templates = MinijinjaMailTemplates::new().unwrap();
        let reset = templates
            .render(&MailContent::Account {
                mail: AccountMail::PasswordReset,
                name: "Ada <3".to_owned(),
                token: "tok_123-abc".to_owned(),
                valid_minutes: 30,
            })
            .unwrap();
        assert_eq!(reset.subject, "Reset your password");
        assert!(reset.html.contains("tok_123-abc") && reset.text.contains("tok_123-abc"));
        assert!(reset.text.contains("30 minutes"));
        assert!(reset.html.contains("Ada &lt;3"), "{}", reset.html);
        let verify = templates
            .render(&MailContent::Account {
                mail: AccountMail::VerifyEmail,
                name: "Ada".to_owned(),
                token: "tok".to_owned(),
                valid_minutes: 7 * 24 * 60,
            })
            .unwrap();
        assert_eq!(verify.subject, "Confirm your email address");
        assert!(verify.text.contains("7 days"), "{}", verify.text);
    }

    #[test]
    fn html_is_escaped_and_text_is_left_as_written() {
        let mail = render(
            OrderMail::Confirmation,
            data(OrderStatus::Pending, "<script>alert(1)</script> & co"),
        );
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(mail.html.contains("&lt;script&gt;"), "{}", mail.html);
        assert!(mail.html.contains("&amp; co"), "{}", mail.html);
        assert!(mail.text.contains("<script>alert(1)</script> & co"));
    }

    #[test]
    fn a_dispatch_names_carrier_and_tracking_number_and_each_status_its_subject() {
        let mut shipped = data(OrderStatus::Shipped, "Cup");
        shipped.carrier = Some("DHL".to_owned());
        shipped.tracking_number = Some("JD014600006281".to_owned());
        let mail = render(OrderMail::StatusChanged, shipped);
        assert_eq!(mail.subject, "Order ABCDEF12 is on its way");
        assert!(mail.html.contains("DHL") && mail.html.contains("JD014600006281"));
        assert!(mail.text.contains("tracking number JD014600006281"));
        for (status, subject) in [
            (OrderStatus::Paid, "Payment received for order ABCDEF12"),
            (OrderStatus::Delivered, "Order ABCDEF12 was delivered"),
            (OrderStatus::Cancelled, "Order ABCDEF12 was cancelled"),
        ] {
            assert_eq!(
                render(OrderMail::StatusChanged, data(status, "Cup")).subject,
                subject
            );
        }
        assert_eq!(
            render(OrderMail::PaymentFailed, data(OrderStatus::Pending, "Cup")).subject,
            "Payment for order ABCDEF12 failed"
        );
    }
}
