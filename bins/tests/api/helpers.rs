//! A server on a data directory the binary wrote to, and the two requests the
//! command-line tests check its accounts with (log-in and `/v1/users/me`).

use std::path::Path;
use std::time::Duration;

use emporium::config::{Config, ServiceSet};
use emporium::server::RunningServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// How long any one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The all-in-one server on the embedded configuration in `data_dir`.
pub struct TestServer {
    server: RunningServer,
    base: String,
    client: reqwest::Client,
}

impl TestServer {
    /// Starts the all-in-one server on `data_dir` (a free port).
    pub async fn start(data_dir: &Path) -> TestServer {
        let config = Config::embedded(data_dir.to_path_buf());
        let server = emporium::server::spawn(
            config,
            ServiceSet::All,
            "127.0.0.1:0".parse().expect("an address"),
        )
        .await
        .expect("the server starts");
        emporium::server::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        TestServer {
            base: format!("http://{}", server.addr),
            server,
            client,
        }
    }

    /// `POST /v1/auth/login`: the status and the body.
    pub async fn log_in(&self, email: &str, password: &str) -> (StatusCode, Value) {
        let credentials = json!({"data": {"type": "credentials",
            "attributes": {"email": email, "password": password}}});
        let request = self
            .client
            .post(format!("{}/v1/auth/login", self.base))
            .header("Content-Type", "application/vnd.api+json")
            .body(credentials.to_string());
        answer(request).await
    }

    /// Logs in; panics unless it succeeds. Returns the access token.
    pub async fn access_token(&self, email: &str, password: &str) -> String {
        let (status, body) = self.log_in(email, password).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let attributes = &body["data"]["attributes"];
        assert_eq!(body["data"]["type"], "tokens");
        assert_eq!(attributes["tokenType"], "Bearer");
        assert_eq!(attributes["expiresIn"], 900);
        attributes["accessToken"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// Panics unless logging in with these credentials is refused as invalid.
    pub async fn assert_log_in_refused(&self, email: &str, password: &str) {
        let (status, body) = self.log_in(email, password).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let refused = body["errors"].as_array().is_some_and(|errors| {
            errors
                .iter()
                .any(|error| error["code"] == "invalid_credentials" && error["status"] == "401")
        });
        assert!(refused, "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }

    /// `GET /v1/users/me` with `token`: the user resource.
    pub async fn me(&self, token: &str) -> Value {
        let request = self
            .client
            .get(format!("{}/v1/users/me", self.base))
            .bearer_auth(token);
        let (status, body) = answer(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Sends `request`: the status and the JSON body.
async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("the request is answered");
    let status = response.status();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}
