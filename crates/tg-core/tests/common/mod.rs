//! What the client ⇄ sandbox test files share: a sandbox on an ephemeral loopback port,
//! a client for it, and its admin API.

use std::time::Duration;

use serde_json::Value;
use tg_core::client::{Client, ClientConfig, Secret};
use tg_core::retry::RetryPolicy;
use tg_sandbox::{RunningSandbox, SandboxConfig};

pub async fn sandbox(ttl: u64) -> RunningSandbox {
    // The admin calls' plain reqwest client needs a process-wide TLS provider, which
    // otherwise only a tg-core client or the sandbox's webhook task (racing) installs.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tg_sandbox::start(SandboxConfig {
        client_id: "id".into(),
        client_secret: "secret-value".into(),
        token_ttl_secs: ttl,
        ..Default::default()
    })
    .await
    .expect("sandbox starts")
}

pub fn client(sb: &RunningSandbox, secret: &str) -> Client {
    Client::new(ClientConfig {
        base_url: sb.base_url(),
        tenant: "GC51278300AS".into(),
        client_id: "id".into(),
        client_secret: Secret::new(secret),
        retry: RetryPolicy {
            max_retries: 8,
            base: Duration::from_millis(5),
            cap: Duration::from_secs(2),
        },
        ..Default::default()
    })
    .expect("client")
}

pub async fn admin(sb: &RunningSandbox, path: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{}{path}", sb.base_url()))
        .json(&body)
        .send()
        .await
        .expect("admin call")
        .json()
        .await
        .unwrap_or(Value::Null)
}

pub async fn stats(sb: &RunningSandbox) -> Value {
    reqwest::get(format!("{}/_sandbox/stats", sb.base_url()))
        .await
        .expect("stats")
        .json()
        .await
        .expect("json")
}
