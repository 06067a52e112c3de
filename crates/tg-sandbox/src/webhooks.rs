//! Delivers events to subscribers, signed `TG-Signature: t=...,v1=...`, one event per
//! POST, in order, retrying a failed delivery with backoff (1 s, 2 s, 4 s … 8 tries).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::state::{now_unix, Event, Subscription};
use crate::App;

const TRIES: u32 = 8;

pub async fn deliver_forever(app: Arc<App>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Ok(http) = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    else {
        return;
    };
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let work: Vec<(Subscription, Vec<Event>)> = {
            let s = app.lock();
            s.subscriptions
                .iter()
                .map(|sub| {
                    let evs: Vec<Event> = s
                        .events
                        .iter()
                        .skip(usize::try_from(sub.delivered).unwrap_or(usize::MAX))
                        .take(50)
                        .cloned()
                        .collect();
                    (sub.clone(), evs)
                })
                .filter(|(_, e)| !e.is_empty())
                .collect()
        };
        for (sub, events) in work {
            for e in events {
                let wanted = sub.types.iter().any(|t| t == "*" || *t == e.kind);
                if wanted {
                    deliver(&app, &http, &sub, &e).await;
                }
                let mut s = app.lock();
                if let Some(x) = s.subscriptions.iter_mut().find(|x| x.id == sub.id) {
                    x.delivered = x.delivered.max(e.sequence);
                }
            }
            app.mark_dirty();
        }
    }
}

async fn deliver(app: &App, http: &reqwest::Client, sub: &Subscription, e: &Event) {
    let body = json!({"events": [e]}).to_string();
    for attempt in 0..TRIES {
        let ts = now_unix() as i64;
        let Ok(sig) = tg_core::webhook::sign(body.as_bytes(), &sub.secret, ts) else {
            return;
        };
        let res = http
            .post(&sub.url)
            .header("content-type", "application/json")
            .header("tg-signature", sig)
            .body(body.clone())
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => {
                app.lock().counters.webhook_deliveries += 1;
                return;
            }
            _ => {
                app.lock().counters.webhook_failures += 1;
                tokio::time::sleep(Duration::from_millis(1000u64 << attempt.min(6))).await;
            }
        }
    }
}
