//! The mock payment provider: opens payments and refunds them without moving money.
//! Its payments are settled by the `succeed` and `fail` routes, which exist only
//! while this provider is configured.

use async_trait::async_trait;
use emporium_domain::orders::{Currency, Money, OrderId, PaymentProvider, PaymentProviderError};
use uuid::Uuid;

/// A payment provider that takes no money (development, tests, demos).
#[derive(Debug, Clone, Copy, Default)]
pub struct MockPaymentProvider;

#[async_trait]
impl PaymentProvider for MockPaymentProvider {
    fn name(&self) -> &'static str {
        "mock"
    }

    async fn open(
        &self,
        order_id: OrderId,
        amount: Money,
        currency: Currency,
    ) -> Result<String, PaymentProviderError> {
        let reference = format!("mock_{}", Uuid::now_v7().simple());
        tracing::info!(order_id = %order_id, amount = %amount, currency = %currency, reference, "mock provider: payment opened");
        Ok(reference)
    }

    async fn refund(
        &self,
        reference: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<(), PaymentProviderError> {
        tracing::info!(reference, amount = %amount, idempotency_key, "mock provider: payment refunded");
        Ok(())
    }
}
