//! An HTTP client for the tests that run the binary: JSON:API requests to one base
//! URL, an answer as `(status, body)`, or no answer when the server was killed.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

const JSON_API: &str = "application/vnd.api+json";

pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// A client of `http://addr` whose requests give up after `timeout`.
    pub fn new(addr: SocketAddr, timeout: Duration) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            http: reqwest::Client::builder().timeout(timeout).build().unwrap(),
            base: format!("http://{addr}"),
        }
    }

    /// `(status, body)`, or the transport error when no answer came.
    pub async fn try_send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Accept", JSON_API);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", JSON_API)
                .body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// `(status, body)`, or `None` when the server did not answer (killed).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Option<(u16, Value)> {
        self.try_send(method, path, headers, body).await.ok()
    }

    /// [`send`](Self::send) as the holder of `token`.
    pub async fn bearer(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Option<(u16, Value)> {
        let authorization = format!("Bearer {token}");
        self.send(method, path, &[("Authorization", &authorization)], body)
            .await
    }

    /// Logs in (which must succeed) and returns the access token.
    /// A product with `on_hand` units in stock, created with `credential` (an
    /// `X-API-Key` or `Authorization` header); returns its id.
    pub async fn stocked_product(
        &self,
        credential: (&str, &str),
        sku: &str,
        on_hand: i64,
    ) -> String {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/v1/products",
                &[credential],
                Some(&json!({"data": {"type": "products",
                    "attributes": {"name": "Test cup", "price": "3.00", "sku": sku}}})),
            )
            .await
            .expect("creating a product");
        assert_eq!(status, 201, "{body}");
        let product = body["data"]["id"].as_str().unwrap().to_owned();
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/v1/inventory",
                &[credential],
                Some(&json!({"data": {"type": "inventory", "id": product,
                    "attributes": {"onHand": on_hand}}})),
            )
            .await
            .expect("stocking the product");
        assert_eq!(status, 201, "{body}");
        product
    }

    /// Registers `email` with `password` and logs in; the access token.
    pub async fn register(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/v1/auth/register",
                &[],
                Some(&json!({"data": {"type": "users", "attributes": {
                    "email": email, "password": password, "name": "Buyer"}}})),
            )
            .await
            .expect("registering");
        assert_eq!(status, 201, "{body}");
        self.log_in(email, password).await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/v1/auth/login",
                &[],
                Some(&json!({"data": {"type": "credentials",
                    "attributes": {"email": email, "password": password}}})),
            )
            .await
            .expect("log in");
        assert_eq!(status, 200, "{body}");
        body["data"]["attributes"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}
