//! Property tests for how the client reads error answers (problem+json, the documented
//! `{"status","message","error-code"}` shape, and anything else a server or a proxy may
//! send), through the real client against a scripted HTTP/1.1 server on loopback; and for
//! the retry policy on hostile `Retry-After` values.
//!
//! Every case is a real request, so the default is 64 cases per property (about a second);
//! `PROPTEST_CASES` raises it like for the other property tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

use tg_core::client::{Client, ClientConfig, Secret};
use tg_core::retry::{parse_retry_after, parse_retry_after_at, Decision, Outcome, RetryPolicy};
use tg_core::Error;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// What the scripted server answers to one request path.
#[derive(Clone, Debug)]
enum Reply {
    Http {
        status: u16,
        body: Vec<u8>,
        retry_after: Option<String>,
    },
    /// Raw bytes instead of an HTTP answer (then the connection closes).
    Raw(Vec<u8>),
}

struct Server {
    rt: Runtime,
    base: String,
    replies: Arc<Mutex<HashMap<u64, Reply>>>,
    next: AtomicU64,
    client: Client,
}

fn reason(status: u16) -> &'static str {
    if (200..300).contains(&status) {
        "OK"
    } else {
        "Scripted"
    }
}

async fn serve(mut sock: tokio::net::TcpStream, replies: Arc<Mutex<HashMap<u64, Reply>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let reply = if path.starts_with("/v1/oauth2/tokens") {
        Reply::Http {
            status: 200,
            body: br#"{"access_token":"tok","token_type":"Bearer","expires_in":36000}"#.to_vec(),
            retry_after: None,
        }
    } else {
        let id = path
            .trim_start_matches("/case/")
            .parse::<u64>()
            .unwrap_or(u64::MAX);
        replies
            .lock()
            .expect("lock")
            .get(&id)
            .cloned()
            .unwrap_or(Reply::Raw(Vec::new()))
    };
    let out = match reply {
        Reply::Raw(bytes) => bytes,
        Reply::Http {
            status,
            body,
            retry_after,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: application/problem+json\r\nContent-Length: {}\r\nConnection: close\r\n",
                reason(status),
                body.len()
            )
            .into_bytes();
            if let Some(ra) = retry_after {
                out.extend_from_slice(b"Retry-After: ");
                out.extend_from_slice(ra.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&body);
            out
        }
    };
    let _ = sock.write_all(&out).await;
    let _ = sock.shutdown().await;
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let replies: Arc<Mutex<HashMap<u64, Reply>>> = Arc::default();
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let r = replies.clone();
        rt.spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, r.clone()));
            }
        });
        let client = rt.block_on(async {
            Client::new(ClientConfig {
                base_url: base.clone(),
                tenant: "GC1".into(),
                client_id: "id".into(),
                client_secret: Secret::new("problem-test-secret"),
                timeout: Duration::from_secs(5),
                connect_timeout: Duration::from_secs(2),
                retry: RetryPolicy {
                    max_retries: 0,
                    base: Duration::from_millis(1),
                    cap: Duration::from_millis(5),
                },
                http2: false,
                ..Default::default()
            })
            .expect("client")
        });
        Server {
            rt,
            base,
            replies,
            next: AtomicU64::new(1),
            client,
        }
    })
}

/// Performs one GET against the scripted reply.
fn call(reply: Reply) -> Result<Value, Error> {
    let s = server();
    let id = s.next.fetch_add(1, Ordering::Relaxed);
    s.replies.lock().expect("lock").insert(id, reply);
    let path = format!("/case/{id}");
    let r = s.rt.block_on(s.client.get(&path, &[]));
    s.replies.lock().expect("lock").remove(&id);
    let _ = &s.base;
    r
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,40}", "\\PC{0,20}", Just(String::new())]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z-]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body as servers send them: problem+json, the documented Trading Grid error shape,
/// any JSON, or arbitrary bytes (an HTML error page from a proxy, a cut-off body, ...).
fn error_body() -> impl Strategy<Value = Vec<u8>> {
    let field_error = prop_oneof![
        (text(), text()).prop_map(|(f, m)| json!({"field": f, "message": m})),
        any_json(),
    ];
    let problem = (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(prop_oneof![text().prop_map(Value::from), any_json()]),
        prop::option::of(prop::collection::vec(field_error, 0..4)),
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(title, ty, detail, errors, status)| {
            let mut m = serde_json::Map::new();
            if let Some(t) = title {
                m.insert("title".into(), json!(t));
            }
            if let Some(t) = ty {
                m.insert("type".into(), json!(t));
            }
            if let Some(d) = detail {
                m.insert("detail".into(), d);
            }
            if let Some(e) = errors {
                m.insert("errors".into(), Value::Array(e));
            }
            if let Some(s) = status {
                m.insert("status".into(), json!(s));
            }
            serde_json::to_vec(&Value::Object(m)).expect("encodes")
        });
    let documented = (any::<i64>(), text(), text()).prop_map(|(s, m, c)| {
        serde_json::to_vec(&json!({"status": s, "message": m, "error-code": c})).expect("encodes")
    });
    prop_oneof![
        3 => problem,
        2 => documented,
        1 => any_json().prop_map(|v| serde_json::to_vec(&v).expect("encodes")),
        1 => prop::collection::vec(any::<u8>(), 0..600),
        1 => "[ -~]{500,700}".prop_map(String::into_bytes),
        1 => Just(Vec::new()),
    ]
}

fn retry_after() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        (0u32..100_000).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-1".to_string()),
        Just("1e400".to_string()),
        Just("Wed, 21 Oct 2015 07:28:00 GMT".to_string()),
        "[ -~]{0,20}",
    ])
}

/// What the client must make of a body (the same rule as the client, stated independently):
/// the problem document (non-JSON kept as text cut to 500 characters) and the message.
fn expected(body: &[u8]) -> (Value, String) {
    let problem: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).unwrap_or_else(|_| {
            let text = String::from_utf8_lossy(body);
            let raw = if text.chars().count() <= 500 {
                text.to_string()
            } else {
                let mut t: String = text.chars().take(500).collect();
                t.push('…');
                t
            };
            json!({ "raw": raw })
        })
    };
    let pick = |k: &str| problem.get(k).and_then(Value::as_str).map(str::to_string);
    let msg = pick("detail")
        .or_else(|| pick("message"))
        .or_else(|| pick("title"))
        .or_else(|| pick("raw"))
        .unwrap_or_else(|| "no details given".to_string());
    (problem, msg)
}

proptest! {
    #![proptest_config(config())]

    /// Every non-2xx answer becomes the error class its status says, with the body's
    /// message, field errors by name, and never a panic.
    #[test]
    fn error_answers_map_to_the_right_error(
        status in prop_oneof![400u16..=599, Just(401), Just(403), Just(404), Just(409), Just(422), Just(429), 300u16..=399, 600u16..=999],
        body in error_body(),
        ra in retry_after(),
    ) {
        let r = call(Reply::Http { status, body: body.clone(), retry_after: ra.clone() });
        let err = match r {
            Ok(v) => { prop_assert!(false, "status {status} gave Ok({v})"); unreachable!() }
            Err(e) => e,
        };
        // 304 has no body by definition (HTTP drops what the server sent).
        let (parsed, msg) = expected(if status == 304 { &[] } else { &body });
        let field_errors = parsed.get("errors").and_then(Value::as_array).filter(|e| !e.is_empty());
        match status {
            401 | 403 => prop_assert!(matches!(&err, Error::Auth { .. }), "{status}: {err:?}"),
            404 => prop_assert!(matches!(&err, Error::NotFound { .. }), "{err:?}"),
            409 => prop_assert!(matches!(&err, Error::Conflict { .. }), "{err:?}"),
            400 | 422 if field_errors.is_some() => {
                let list = field_errors.expect("some");
                let Error::Validation { errors } = &err else {
                    prop_assert!(false, "expected Validation, got {err:?}");
                    unreachable!()
                };
                prop_assert_eq!(errors.len(), list.len());
                for (got, sent) in errors.iter().zip(list) {
                    let want = sent.get("field").and_then(Value::as_str).unwrap_or("(payload)");
                    prop_assert_eq!(got.field.as_str(), want);
                    let want = sent.get("message").and_then(Value::as_str).unwrap_or("is invalid");
                    prop_assert_eq!(got.message.as_str(), want);
                }
            }
            429 => {
                let Error::RateLimited { retry_after } = err else {
                    prop_assert!(false, "expected RateLimited, got {err:?}");
                    unreachable!()
                };
                let want = ra
                    .as_deref()
                    .and_then(|v| parse_retry_after_at(v, std::time::SystemTime::now()))
                    .unwrap_or(1.0);
                prop_assert!(retry_after.is_finite() && (0.0..=86_400.0).contains(&retry_after));
                prop_assert_eq!(retry_after, want);
            }
            _ => {
                let Error::Api { status: s, message, problem } = &err else {
                    prop_assert!(false, "expected Api, got {err:?}");
                    unreachable!()
                };
                prop_assert_eq!(*s, status);
                // Only a server error (5xx) is worth another try; 6xx..9xx are not HTTP.
                prop_assert_eq!(err.retryable(), (500..=599).contains(&status));
                prop_assert_eq!(problem, &parsed);
                prop_assert_eq!(message, &msg);
            }
        }
        match &err {
            Error::Auth { message } => prop_assert!(message.ends_with(&msg), "{message:?} / {msg:?}"),
            Error::NotFound { message, problem } | Error::Conflict { message, problem } => {
                prop_assert_eq!(message, &msg);
                prop_assert_eq!(problem, &parsed);
            }
            _ => {}
        }
        // The status-class rules hold whatever the body says.
        prop_assert_eq!(err.status().is_some(), !matches!(err, Error::Auth { .. }));
        prop_assert!(!err.to_string().contains("problem-test-secret"));
    }

    /// A 2xx answer with any body is a success carrying that body (or its text).
    #[test]
    fn success_answers_with_any_body(status in 200u16..=299, body in error_body()) {
        prop_assume!(status != 204 && status != 205);
        let v = call(Reply::Http { status, body: body.clone(), retry_after: None })
            .unwrap_or_else(|e| panic!("{status} gave {e}"));
        prop_assert_eq!(v, expected(&body).0);
    }

    /// Whatever bytes come back instead of an HTTP answer: an error, never a panic or a hang.
    #[test]
    fn garbage_instead_of_http_is_a_transport_error(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        "HTTP/1.1 [0-9]{1,4} [ -~]{0,10}\r\n([A-Za-z-]{1,10}: [ -~]{0,20}\r\n){0,3}\r\n[ -~]{0,20}".prop_map(String::into_bytes),
        Just(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut".to_vec()),
        Just(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec()),
    ]) {
        match call(Reply::Raw(bytes.clone())) {
            Ok(_) => {}
            Err(Error::Transport { message, .. }) => prop_assert!(message.starts_with("/case/"), "{message}"),
            Err(Error::Api { .. } | Error::Auth { .. } | Error::NotFound { .. } | Error::Conflict { .. }
                | Error::RateLimited { .. } | Error::Validation { .. }) => {} // it parsed as HTTP after all
            Err(other) => prop_assert!(false, "{other:?} for {:?}", String::from_utf8_lossy(&bytes)),
        }
    }

    /// The retry policy on any Retry-After text, any attempt and any jitter: never a panic,
    /// never a wait longer than the cap.
    #[test]
    fn retry_policy_on_hostile_values(
        ra in retry_after(),
        raw in prop::option::of(any::<f64>()),
        attempt in any::<u32>(),
        jitter in prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY), 0.0f64..1.0],
        base_ms in 1u64..10_000,
        cap_ms in prop_oneof![1u64..100_000, Just(u64::MAX)],
        max_retries in 0u32..30,
        code in 100u16..1000,
        safe in any::<bool>(),
    ) {
        let p = RetryPolicy {
            max_retries,
            base: Duration::from_millis(base_ms),
            cap: Duration::from_millis(cap_ms.max(base_ms)),
        };
        let parsed = ra.as_deref().and_then(parse_retry_after);
        if let Some(s) = parsed {
            prop_assert!(s.is_finite() && (0.0..=86_400.0).contains(&s));
        }
        for retry_after in [parsed, raw] {
            for outcome in [Outcome::NotSent, Outcome::MaybeApplied, Outcome::Status { code, retry_after }, Outcome::Status { code: 429, retry_after }] {
                match p.decide(outcome, attempt, safe, jitter) {
                    Decision::Retry(wait) => {
                        prop_assert!(attempt <= max_retries);
                        prop_assert!(wait <= p.cap, "{wait:?} > cap {:?}", p.cap);
                    }
                    Decision::GiveUp => {}
                }
            }
        }
        let b = p.backoff(attempt, jitter);
        prop_assert!(b <= p.cap);
    }
}

#[test]
fn a_huge_error_body_does_not_become_a_huge_message_when_it_is_not_json() {
    let body = vec![b'<'; 5 * 1024 * 1024];
    let err = call(Reply::Http {
        status: 502,
        body,
        retry_after: None,
    })
    .expect_err("502");
    assert!(err.to_string().len() < 1_000, "{}", err.to_string().len());
}

#[test]
fn a_closed_port_is_a_fast_retryable_transport_error() {
    let s = server();
    // Bind then drop: the port is closed (nothing listens) on loopback.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let client = Client::new(ClientConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        tenant: "GC1".into(),
        client_id: "id".into(),
        client_secret: Secret::new("closed-port-secret"),
        retry: RetryPolicy {
            max_retries: 1,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
        },
        ..Default::default()
    })
    .expect("client");
    let started = std::time::Instant::now();
    let err =
        s.rt.block_on(client.get("/tgx/v1/communities", &[]))
            .expect_err("closed");
    assert!(
        matches!(
            err,
            Error::Transport {
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("could not connect"), "{err}");
    assert!(!err.to_string().contains("closed-port-secret"));
    assert!(started.elapsed() < Duration::from_secs(3));
}
