//! The client against a real sandbox on an ephemeral loopback port.

mod common;

use std::time::Duration;

use common::{admin, client, sandbox, stats};
use serde_json::{json, Value};
use tg_core::batch::BatchOp;
use tg_core::client::{Client, ClientConfig};
use tg_core::{Error, Operation};
use tg_sandbox::SandboxConfig;

fn partner(id: &str, revision: i64) -> Operation {
    Operation::parse(
        "partner.upsert",
        json!({"externalId": id, "companyName": "Acme", "partnerType": "supplier",
               "country": "DE", "contactEmail": "a@acme.example", "revision": revision}),
    )
    .expect("valid")
}

#[tokio::test]
async fn upsert_then_read_back_through_a_cached_token() {
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    let r = c.execute(&partner("p-1", 1), None).await.expect("created");
    assert_eq!(r.status, 201);
    let again = c.execute(&partner("p-1", 2), None).await.expect("updated");
    assert_eq!(again.status, 200);
    let read = c.get("/tgx/v1/partners/p-1", &[]).await.expect("read");
    assert_eq!(read["revision"], 2);
}

#[tokio::test]
async fn wrong_secret_is_an_auth_error_that_does_not_repeat_the_secret() {
    let sb = sandbox(36_000).await;
    let err = client(&sb, "not-the-secret")
        .get("/tgx/v1/communities", &[])
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(!err.to_string().contains("not-the-secret"));
}

#[tokio::test]
async fn an_expired_token_is_renewed_transparently() {
    let sb = sandbox(1).await;
    let c = client(&sb, "secret-value");
    c.get("/tgx/v1/communities", &[]).await.expect("first");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    c.get("/tgx/v1/communities", &[])
        .await
        .expect("after expiry");
}

#[tokio::test]
async fn injected_failures_and_resets_are_retried_and_applied_exactly_once() {
    let sb = sandbox(36_000).await;
    admin(
        &sb,
        "/_sandbox/faults",
        json!({"errorRate": 0.2, "rateLimitRate": 0.1, "resetRate": 0.05,
        "retryAfter": 0.01, "writesOnly": true}),
    )
    .await;
    let c = client(&sb, "secret-value");
    let ops: Vec<BatchOp> = (0..300)
        .map(|i| BatchOp {
            id: format!("op-{i}"),
            op: Operation::parse(
                "notification.create",
                json!({"communityId": "logistics-eu", "kind": "notice", "title": format!("n{i}"), "body": "b"}),
            ),
            ordering_key: None,
            idempotency_key: None,
        })
        .collect();
    let results = c.send_batch(ops).await;
    assert!(
        results.iter().all(|r| r.ok),
        "{:?}",
        results.iter().find(|r| !r.ok)
    );
    let s = stats(&sb).await;
    assert_eq!(s["applied"]["notification.create"], 300, "{s}");
    assert!(
        s["faults"]["resets"].as_u64().unwrap_or(0) > 0,
        "resets were injected: {s}"
    );
    assert!(
        s["duplicates"].as_u64().unwrap_or(0) > 0,
        "a reset after apply is absorbed by the key: {s}"
    );
}

/// A big batch on a multi-thread runtime (as in the extension): every operation done,
/// in order per key, results in input order, and one token fetched for all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_batch_shares_one_token_and_keeps_order_per_key() {
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    let ops: Vec<BatchOp> = (0..400)
        .map(|i| BatchOp {
            id: format!("op-{i}"),
            // 8 keys with 25 revisions each, then 200 keys with one.
            op: Ok(if i < 200 {
                partner(&format!("p-many-{}", i % 8), i64::from(i / 8 + 1))
            } else {
                partner(&format!("p-one-{i}"), 1)
            }),
            ordering_key: None,
            idempotency_key: None,
        })
        .collect();
    let results = c.send_batch(ops).await;
    assert_eq!(results.len(), 400);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.id, format!("op-{i}"));
        assert!(r.ok, "{r:?}");
        // Had a later revision of the same key gone first, this one would not apply.
        assert_eq!(
            r.result.as_ref().map(|b| &b["applied"]),
            Some(&Value::Bool(true)),
            "{r:?}"
        );
    }
    for k in 0..8 {
        let read = c
            .get(&format!("/tgx/v1/partners/p-many-{k}"), &[])
            .await
            .expect("read");
        assert_eq!(read["revision"], 25);
    }
    assert_eq!(sb.tokens_issued(), 1, "one token for the whole batch");
}

/// A batch fed while it is being sent: an operation pushed after its key's earlier ones
/// were all answered still goes after them, and one pushed after its key failed (when no
/// task holds that key any more) is blocked, not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_fed_while_it_is_sent_keeps_order_and_blocks_after_a_failure() {
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    let status = |issue: &str, s: &str| {
        Operation::parse("issue.status", json!({"issueId": issue, "status": s}))
    };
    let entry = |id: &str, op| BatchOp {
        id: id.into(),
        op,
        ordering_key: None,
        idempotency_key: None,
    };
    let (mut feed, mut stream) = c.open_batch(tg_core::client::Answer::Decoded);
    feed.push(entry("p1", Ok(partner("p-fed", 1))));
    feed.push(entry("m1", status("TI-missing", "in_progress")));
    let mut got: Vec<(usize, tg_core::batch::BatchResult)> = Vec::new();
    while got.len() < 2 {
        got.extend(stream.recv().await.expect("results"));
    }
    // Both keys are idle now: p-fed done, TI-missing failed.
    feed.push(entry("p2", Ok(partner("p-fed", 2))));
    feed.push(entry("m2", status("TI-missing", "awaiting_partner")));
    feed.push(entry("bad", Err(Error::validation("op", "is required"))));
    drop(feed);
    while let Some(chunk) = stream.recv().await {
        got.extend(chunk);
    }
    got.sort_by_key(|(i, _)| *i);
    let ids: Vec<&str> = got.iter().map(|(_, r)| r.id.as_str()).collect();
    assert_eq!(ids, ["p1", "m1", "p2", "m2", "bad"]);
    let class = |i: usize| got[i].1.error.as_ref().map(|e| e.class);
    assert!(got[0].1.ok && got[2].1.ok, "{got:?}");
    assert_eq!(
        got[2].1.result.as_ref().map(|b| &b["applied"]),
        Some(&Value::Bool(true)),
        "revision 2 went after revision 1"
    );
    assert_eq!(class(1), Some("not_found"));
    assert_eq!(class(3), Some("blocked"));
    assert_eq!(got[3].1.attempts, 0, "a blocked operation is not sent");
    assert_eq!(class(4), Some("validation"));
}

/// HTTP/1.1 is the default; HTTP/2 (prior knowledge on loopback) is an option and works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http2_option_delivers_a_batch_over_one_connection() {
    let sb = sandbox(36_000).await;
    assert!(
        !ClientConfig::default().http2,
        "HTTP/1.1 keep-alive is the default"
    );
    let mut cfg = client(&sb, "secret-value").config().clone();
    cfg.http2 = true;
    let c = Client::new(cfg).expect("client");
    let ops: Vec<BatchOp> = (0..50)
        .map(|i| BatchOp {
            id: format!("h2-{i}"),
            op: Ok(partner(&format!("p-h2-{i}"), 1)),
            ordering_key: None,
            idempotency_key: None,
        })
        .collect();
    let results = c.send_batch(ops).await;
    assert!(results.iter().all(|r| r.ok), "{results:?}");
    let read = c.get("/tgx/v1/partners/p-h2-49", &[]).await.expect("read");
    assert_eq!(read["revision"], 1);
}

#[tokio::test]
async fn batch_keeps_order_within_a_key() {
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    let ops: Vec<BatchOp> = (1..=20)
        .map(|rev| BatchOp {
            id: format!("rev-{rev}"),
            op: Ok(partner("p-ordered", rev)),
            ordering_key: None,
            idempotency_key: None,
        })
        .collect();
    let results = c.send_batch(ops).await;
    assert!(results
        .iter()
        .all(|r| r.ok && r.result.as_ref().is_some_and(|b| b["applied"] == true)));
    let read = c
        .get("/tgx/v1/partners/p-ordered", &[])
        .await
        .expect("read");
    assert_eq!(read["revision"], 20);
}

#[tokio::test]
async fn rate_limit_answers_are_waited_out() {
    let sb = tg_sandbox::start(SandboxConfig {
        client_id: "id".into(),
        client_secret: "secret-value".into(),
        rate_limit_per_sec: Some(50),
        ..Default::default()
    })
    .await
    .expect("sandbox");
    // 80 upserts at 32 in flight against 50 per second: most wait out several 429s, and
    // on a busy machine a few need more than 8 tries (seen failing ~1 run in 4 then).
    let mut cfg = client(&sb, "secret-value").config().clone();
    cfg.retry.max_retries = 20;
    let c = Client::new(cfg).expect("client");
    let ops: Vec<BatchOp> = (0..80)
        .map(|i| BatchOp {
            id: i.to_string(),
            op: Ok(partner(&format!("rl-{i}"), 1)),
            ordering_key: None,
            idempotency_key: None,
        })
        .collect();
    let results = c.send_batch(ops).await;
    let failed: Vec<_> = results.iter().filter(|r| !r.ok).collect();
    assert!(
        failed.is_empty(),
        "{} failed, first: {:?}",
        failed.len(),
        failed.first()
    );
    assert!(
        stats(&sb).await["faults"]["rateLimited"]
            .as_u64()
            .unwrap_or(0)
            > 0
    );
}

#[tokio::test]
async fn state_survives_a_restart_with_a_data_file() {
    let dir = std::env::temp_dir().join(format!("tg-sandbox-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let data = dir.join("state.json");
    let _ = std::fs::remove_file(&data);
    let cfg = SandboxConfig {
        client_id: "id".into(),
        client_secret: "secret-value".into(),
        data: Some(data.clone()),
        ..Default::default()
    };
    let sb = tg_sandbox::start(cfg.clone()).await.expect("first run");
    client(&sb, "secret-value")
        .execute(&partner("kept", 3), None)
        .await
        .expect("write");
    sb.shutdown().await;
    let sb = tg_sandbox::start(cfg).await.expect("second run");
    let read = client(&sb, "secret-value")
        .get("/tgx/v1/partners/kept", &[])
        .await
        .expect("still there");
    assert_eq!(read["revision"], 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn lens_exceptions_come_back_with_their_content_keys_page_by_page() {
    use tg_core::lens::TransactionSearch;
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    let added = admin(
        &sb,
        "/_sandbox/lens/transactions",
        json!({"transactions": [
            {"editype": "850", "status": "S", "arrivaltime": "2026-11-01T08:00:00Z",
             "contentkeys": {"purchase order number": "PO-1"}},
            {"editype": "856", "status": "F", "arrivaltime": "2026-11-02T08:00:00Z",
             "errorcode": "DLV-1", "senderaddress": "ZZ:ACME",
             "contentkeys": {"purchase order number": "PO-1", "shipment identification": "SH-1"}},
            {"editype": "810", "status": "V", "arrivaltime": "2026-11-03T08:00:00Z",
             "contentkeys": {"invoice number": "INV-1"}},
        ]}),
    )
    .await;
    assert_eq!(added["transactions"].as_array().map(Vec::len), Some(3));

    let first = TransactionSearch::exceptions(Some("2026-11-01T00:00:00Z"), 1, 0).expect("valid");
    let page = c.search_transactions(&first).await.expect("page");
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(page["count"], 1);
    let t = &page["transactions"][0];
    assert_eq!(t["editype"], "856");
    assert_eq!(t["errorcode"], "DLV-1");
    assert_eq!(
        t["contentkeys"],
        json!([{"key": "purchase order number", "value": "PO-1"},
               {"key": "shipment identification", "value": "SH-1"}])
    );
    let second = TransactionSearch::exceptions(Some("2026-11-01T00:00:00Z"), 1, 1).expect("valid");
    let page = c.search_transactions(&second).await.expect("page");
    assert_eq!(page["transactions"][0]["editype"], "810");

    let later = TransactionSearch::exceptions(Some("2026-11-02T08:00:01Z"), 10, 0).expect("valid");
    assert_eq!(
        c.search_transactions(&later).await.expect("page")["total"],
        1
    );
}

#[tokio::test]
async fn lens_refusals_are_api_errors_that_are_not_retried() {
    use tg_core::lens::TransactionSearch;
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    let warm = TransactionSearch::exceptions(None, 1, 0).expect("valid");
    c.search_transactions(&warm)
        .await
        .expect("token fetched, empty page");
    let before = stats(&sb).await["requests"].as_u64().unwrap_or(0);
    let free_text = TransactionSearch::new(json!({"query": "status:F"})).expect("valid");
    let e = c
        .search_transactions(&free_text)
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::Api { status: 400, .. }), "{e:?}");
    assert!(e.to_string().contains("free-text"), "{e}");
    let after = stats(&sb).await["requests"].as_u64().unwrap_or(0);
    assert_eq!(after - before, 1, "a refused search is sent once");
}

#[tokio::test]
async fn lens_searches_are_retried_through_injected_failures() {
    use tg_core::lens::TransactionSearch;
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    admin(
        &sb,
        "/_sandbox/lens/transactions",
        json!({"editype": "856", "status": "F"}),
    )
    .await;
    admin(
        &sb,
        "/_sandbox/faults",
        json!({"errorRate": 0.3, "writesOnly": false}),
    )
    .await;
    for _ in 0..10 {
        let page = c
            .search_transactions(&TransactionSearch::exceptions(None, 10, 0).expect("valid"))
            .await
            .expect("a search is safe to retry");
        assert_eq!(page["total"], 1);
    }
}
