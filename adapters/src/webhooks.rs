//! Webhook adapters: [`HttpWebhookSender`] signs deliveries with the
//! `standardwebhooks` crate (Standard Webhooks v1: HMAC-SHA256 of
//! `id.timestamp.body`) and posts them with reqwest, and [`RandomSecrets`] makes
//! `whsec_` secrets and one-time tokens from the operating system's random numbers.
//!
//! SSRF protection (design §5): unless private targets are allowed
//! (`EMPORIUM_WEBHOOK_ALLOW_PRIVATE=true`, for tests), a URL whose host is a
//! private, loopback, link-local or otherwise non-public address is refused, and
//! names are resolved by a resolver that keeps only public addresses, so the
//! connection goes to an address that was checked (no DNS rebinding in between).
//! Redirects are never followed; each attempt has a 10 s timeout, and at most
//! 64 KiB of the answer is read.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use emporium_domain::secrets::SecretGenerator;
use emporium_domain::webhooks::{
    SendOutcome, TargetRefused, WebhookRequest, WebhookSecret, WebhookSender, WebhookUrl,
};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long one delivery attempt may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest `Retry-After` passed on, in seconds (a day).
const MAX_RETRY_AFTER_SECONDS: u64 = 86_400;
/// The most of an answer that is read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Whether `ip` is a public unicast address (not private, loopback, link-local,
/// shared, documentation, benchmarking, multicast, reserved or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)
        || first == 0x0100)
}

/// Resolves names to their public addresses only; a name with none fails.
struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_public(address.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addresses: Addrs = Box::new(public.into_iter());
            Ok(addresses)
        }) as Pin<Box<dyn Future<Output = _> + Send>>
    }
}

/// Posts signed webhook deliveries (see the [module docs](self)).
#[derive(Clone)]
pub struct HttpWebhookSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl HttpWebhookSender {
    /// A sender; `allow_private` lets it call private addresses (tests only).
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve the target itself, past
            // the public-only resolver.
            .no_proxy()
            .user_agent(concat!("Emporium-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        Ok(Self {
            client: builder
                .build()
                .context("building the webhook HTTP client")?,
            allow_private,
        })
    }

    fn signature(request: &WebhookRequest) -> anyhow::Result<String> {
        let timestamp = request.timestamp.timestamp();
        let signatures = request
            .secrets
            .iter()
            .map(|secret| {
                standardwebhooks::Webhook::new(secret.expose())
                    .and_then(|signer| {
                        signer.sign(
                            request.message_id.as_str(),
                            timestamp,
                            request.body.as_bytes(),
                        )
                    })
                    .map_err(|error| anyhow::anyhow!("signing the delivery: {error}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(signatures.join(" "))
    }
}

/// The `Retry-After` of an answer, in seconds (delay-seconds or an HTTP date).
fn retry_after(response: &reqwest::Response) -> Option<u64> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    // At most a day: the delivery schedule never waits longer than that for it.
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.min(MAX_RETRY_AFTER_SECONDS));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    u64::try_from((at.to_utc() - chrono::Utc::now()).num_seconds())
        .ok()
        .map(|seconds| seconds.min(MAX_RETRY_AFTER_SECONDS))
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn check_target(&self, url: &WebhookUrl) -> Result<(), TargetRefused> {
        if self.allow_private {
            return Ok(());
        }
        let parsed = reqwest::Url::parse(url.as_str())
            .map_err(|error| TargetRefused(format!("it is not a valid URL ({error})")))?;
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addresses: Vec<IpAddr> = match parsed.host() {
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => {
                literal_ip(&parsed).into_iter().collect()
            }
            Some(url::Host::Domain(name)) => tokio::net::lookup_host((name, port))
                .await
                .map_err(|_| TargetRefused(format!("the host {name} does not resolve")))?
                .map(|address| address.ip())
                .collect(),
            None => return Err(TargetRefused("it names no host".to_owned())),
        };
        if addresses.iter().any(|ip| is_public(*ip)) {
            Ok(())
        } else {
            Err(TargetRefused(
                "its host is a private, loopback or link-local address".to_owned(),
            ))
        }
    }

    async fn send(&self, request: &WebhookRequest) -> SendOutcome {
        let started = Instant::now();
        let elapsed =
            |started: Instant| u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let failed = |error: String, started: Instant| SendOutcome {
            status_code: None,
            duration_ms: elapsed(started),
            error: Some(error),
            retry_after: None,
        };
        // Literal addresses skip the resolver: check them here.
        if let Err(refused) = self.check_literal(&request.url) {
            return failed(format!("refused: {refused}"), started);
        }
        let signature = match Self::signature(request) {
            Ok(signature) => signature,
            Err(error) => return failed(format!("{error:#}"), started),
        };
        let sent = self
            .client
            .post(request.url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", request.message_id.as_str())
            .header(
                "webhook-timestamp",
                request.timestamp.timestamp().to_string(),
            )
            .header("webhook-signature", signature)
            .body(request.body.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => {
                let error = if error.is_timeout() {
                    "timed out".to_owned()
                } else {
                    let mut text = error.to_string();
                    let mut source = std::error::Error::source(&error);
                    while let Some(cause) = source {
                        text = format!("{text}: {cause}");
                        source = cause.source();
                    }
                    text
                };
                return failed(error, started);
            }
        };
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        // Read (and drop) at most a bounded part of the answer.
        let mut read = 0;
        while read < MAX_RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        let error = match status {
            200..=299 => None,
            300..=399 => Some(format!("answered {status}: redirects are not followed")),
            _ => Some(format!("answered {status}")),
        };
        SendOutcome {
            status_code: Some(status),
            duration_ms: elapsed(started),
            error,
            retry_after,
        }
    }
}

impl HttpWebhookSender {
    fn check_literal(&self, url: &WebhookUrl) -> Result<(), String> {
        if self.allow_private {
            return Ok(());
        }
        let parsed = reqwest::Url::parse(url.as_str()).map_err(|error| error.to_string())?;
        let Some(ip) = literal_ip(&parsed) else {
            return Ok(());
        };
        if is_public(ip) {
            Ok(())
        } else {
            Err(format!("{ip} is not a public address"))
        }
    }
}

/// The address `url` names literally (`http://10.0.0.1/`, `http://[::1]/`), if it
/// does: such hosts skip the resolver, so they are checked on their own.
fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// Makes secrets from the operating system's random numbers: `whsec_` webhook
/// secrets of 24 bytes, and one-time tokens of 32 bytes (URL-safe base64).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomSecrets;

impl SecretGenerator for RandomSecrets {
    fn webhook_secret(&self) -> WebhookSecret {
        let mut bytes = [0_u8; 24];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
        WebhookSecret::new(&format!("whsec_{}", STANDARD.encode(bytes)))
            .expect("24 random bytes make a valid secret")
    }

    fn one_time_token(&self) -> String {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn secrets_are_random_and_of_the_standard_form() {
        let one = RandomSecrets.webhook_secret();
        let two = RandomSecrets.webhook_secret();
        assert_ne!(one, two);
        assert!(one.expose().starts_with("whsec_"));
        assert!(standardwebhooks::Webhook::new(one.expose()).is_ok());
        let token = RandomSecrets.one_time_token();
        assert_eq!(token.len(), 43);
        assert_ne!(token, RandomSecrets.one_time_token());
    }
}
