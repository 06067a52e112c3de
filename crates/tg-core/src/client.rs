//! The HTTP client: options, OAuth2 token cache, one operation with retries.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER,
};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::api::{truncate, CompanyUserRead, Method, Operation, Request};
use crate::error::{Error, FieldError, Result};
use crate::lens::{self, TransactionSearch};
use crate::retry::{parse_retry_after_at, Decision, Outcome, RetryPolicy};

/// Who a company user create asked for, to recognise it if it already exists.
struct ExistingUser {
    company_id: String,
    login_id: String,
    email: String,
}

impl ExistingUser {
    /// Who a `company_user.create` request asks for: the company from its path, the
    /// loginId and e-mail from its body (the documented Create User body); `None` for
    /// any other request.
    fn of_create(req: &Request, body: Option<&[u8]>) -> Option<ExistingUser> {
        let company = req
            .path
            .strip_prefix("/TGCommunityServices/v1/companies/")?
            .strip_suffix("/users")?;
        if req.method != Method::Post || company.is_empty() || company.contains('/') {
            return None;
        }
        let user: Value = serde_json::from_slice(body?).ok()?;
        let text = |p: &str| user.pointer(p).and_then(Value::as_str).map(str::to_string);
        Some(ExistingUser {
            company_id: company.to_string(),
            login_id: text("/loginId")?,
            email: text("/contactInformation/email")?,
        })
    }
}

/// A secret that never shows in `Debug` or `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Everything a client needs; built from the PHP options array.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// HTTP/2 (one connection, many streams: ALPN on TLS, prior knowledge on loopback
    /// http) instead of HTTP/1.1 keep-alive (up to `concurrency` pooled connections).
    /// Off by default: a single HTTP/2 connection is one task on each side, and at
    /// concurrency 32 the HTTP/1.1 pool delivered about 1.3× as much (BENCHMARKS.md).
    pub http2: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: String::new(),
            tenant: String::new(),
            client_id: String::new(),
            client_secret: Secret::default(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            concurrency: 32,
            retry: RetryPolicy::default(),
            http2: false,
        }
    }
}

/// True when `host` is this machine; plain HTTP is allowed only there.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

impl ClientConfig {
    /// Checks every option and names each bad one.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        match reqwest::Url::parse(&self.base_url) {
            Err(e) => errors.push(FieldError::new("baseUrl", format!("is not a URL: {e}"))),
            Ok(url) => {
                let host = url.host_str().unwrap_or("");
                match url.scheme() {
                    "https" => {}
                    "http" if is_loopback_host(host) => {}
                    "http" => errors.push(FieldError::new(
                        "baseUrl",
                        "must use https:// (plain http is accepted only on loopback, for the sandbox)",
                    )),
                    other => errors.push(FieldError::new(
                        "baseUrl",
                        format!("scheme '{other}' is not supported; use https://"),
                    )),
                }
                if host.is_empty() {
                    errors.push(FieldError::new("baseUrl", "has no host"));
                }
                if !url.username().is_empty() || url.password().is_some() {
                    errors.push(FieldError::new(
                        "baseUrl",
                        "must not carry credentials; use clientId and clientSecret",
                    ));
                }
            }
        }
        if self.tenant.trim().is_empty() {
            errors.push(FieldError::new(
                "tenant",
                "is required (the hub companyId / BUID)",
            ));
        }
        if self.client_id.trim().is_empty() {
            errors.push(FieldError::new("clientId", "is required"));
        }
        // Both travel in HTTP headers (X-TG-Tenant, Basic auth): a CR/LF there made every
        // call fail later with a retryable "transport error" instead of being named now.
        for (field, value) in [("tenant", &self.tenant), ("clientId", &self.client_id)] {
            if value.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    field,
                    "must not contain control characters",
                ));
            }
        }
        if self.client_secret.is_empty() {
            errors.push(FieldError::new("clientSecret", "is required"));
        }
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(300) {
            errors.push(FieldError::new("timeoutMs", "must be between 1 and 300000"));
        }
        if self.connect_timeout.is_zero() || self.connect_timeout > Duration::from_secs(60) {
            errors.push(FieldError::new(
                "connectTimeoutMs",
                "must be between 1 and 60000",
            ));
        }
        if self.concurrency == 0 || self.concurrency > 1024 {
            errors.push(FieldError::new("concurrency", "must be between 1 and 1024"));
        }
        if self.retry.max_retries > 20 {
            errors.push(FieldError::new("maxRetries", "must be between 0 and 20"));
        }
        if self.retry.base.is_zero() || self.retry.base > self.retry.cap {
            errors.push(FieldError::new(
                "retryBaseMs",
                "must be at least 1 and not more than retryMaxMs",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation { errors })
        }
    }
}

#[derive(Clone)]
struct Token {
    /// `Bearer <token>`, ready to send (cheap to clone).
    header: HeaderValue,
    refresh_at: Instant,
}

/// What one call returns: the HTTP status, the decoded body and how many attempts it took.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The decoded answer (`Value::Null` when it was asked for [`Answer::Raw`]).
    pub body: Value,
    pub attempts: u32,
    /// The answer's bytes, when it was asked for [`Answer::Raw`].
    pub raw: Option<bytes::Bytes>,
}

/// How a successful answer is handed back: decoded into a `Value`, or as its bytes for
/// the caller to decode into its own representation (the extension builds PHP arrays
/// straight from them). Error answers are always decoded, to classify them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Decoded,
    Raw,
}

/// An answer body as a `Value`: `{}` when empty, `{"raw": "<text>"}` when it is not JSON.
pub fn decode_answer(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| json!({"raw": truncate(&String::from_utf8_lossy(bytes), 500)}))
    }
}

/// The Trading Grid client. Cheap to clone; clones share the connection pool and token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ClientConfig,
    base: String,
    /// `base` parsed once: each request's URL is this with its path set, so the host is
    /// not parsed (and IDNA-checked) again for every request.
    base_url: reqwest::Url,
    http: reqwest::Client,
    /// `X-TG-Tenant`, built once (the tenant was checked for control characters).
    tenant: HeaderValue,
    /// The current token: read by every request without waiting.
    token: RwLock<Option<Token>>,
    /// Held while a token is fetched, so concurrent requests fetch it once.
    refresh: Mutex<()>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.cfg.base_url)
            .field("tenant", &self.inner.cfg.tenant)
            .field("client_id", &self.inner.cfg.client_id)
            .finish_non_exhaustive()
    }
}

fn install_crypto_provider() {
    // Several clients (and the sandbox's webhook sender) may race here; losing is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Result<Client> {
        cfg.validate()?;
        install_crypto_provider();
        let plain_http = cfg.base_url.starts_with("http://");
        let mut builder = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .pool_max_idle_per_host(cfg.concurrency.max(8))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            // Static: every request clones the default headers, and a static value's
            // clone touches no shared reference count.
            .user_agent(HeaderValue::from_static(concat!(
                "trading_grid/",
                env!("CARGO_PKG_VERSION")
            )));
        if !plain_http {
            builder = builder.https_only(true);
        }
        builder = match (cfg.http2, plain_http) {
            (true, true) => builder.http2_prior_knowledge(),
            (true, false) => builder,
            (false, _) => builder.http1_only(),
        };
        let http = builder
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        let base = cfg.base_url.trim_end_matches('/').to_string();
        let base_url = reqwest::Url::parse(&base)
            .map_err(|e| Error::validation("baseUrl", format!("is not a URL: {e}")))?;
        let tenant = HeaderValue::from_str(&cfg.tenant)
            .map_err(|_| Error::validation("tenant", "cannot be sent in an HTTP header"))?;
        Ok(Client {
            inner: Arc::new(Inner {
                cfg,
                base,
                base_url,
                http,
                tenant,
                token: RwLock::new(None),
                refresh: Mutex::new(()),
            }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// The cached `Authorization` value, if it is still fresh.
    fn fresh_token(&self) -> Option<HeaderValue> {
        // A poisoned lock only means a panic elsewhere while writing a plain value.
        let cached = self.inner.token.read().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|t| Instant::now() < t.refresh_at)
            .map(|t| t.header.clone())
    }

    /// A bearer token (as the `Authorization` header value), fetched once and reused
    /// until shortly before it expires. `force` fetches a new one even if the cached
    /// one looks fresh (the server refused it), unless another request already did.
    async fn token(&self, force: bool, refused: Option<&HeaderValue>) -> Result<HeaderValue> {
        if !force {
            if let Some(t) = self.fresh_token() {
                return Ok(t);
            }
        }
        let _refreshing = self.inner.refresh.lock().await;
        // Someone else may have fetched one while this request waited.
        if let Some(t) = self.fresh_token() {
            if !force || refused != Some(&t) {
                return Ok(t);
            }
        }
        let cfg = &self.inner.cfg;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            cfg.client_id,
            cfg.client_secret.expose()
        ));
        let url = format!(
            "{}/v1/oauth2/tokens?grant_type=client_credentials",
            self.inner.base
        );
        let mut last = None;
        for attempt in 1..=cfg.retry.max_retries + 1 {
            let res = self
                .inner
                .http
                .post(&url)
                .header(AUTHORIZATION, format!("Basic {basic}"))
                .send()
                .await;
            let outcome = match res {
                Err(e) => {
                    last = Some(transport_error(&e, "token request"));
                    if e.is_connect() {
                        Outcome::NotSent
                    } else {
                        Outcome::MaybeApplied
                    }
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = header_retry_after(resp.headers());
                    let body: Value = resp.json().await.unwrap_or(Value::Null);
                    if status == 200 {
                        let value = body
                            .get("access_token")
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty())
                            .ok_or_else(|| Error::Auth {
                                message: "the token endpoint answered without an access_token"
                                    .into(),
                            })?
                            .to_string();
                        let ttl = body
                            .get("expires_in")
                            .and_then(Value::as_f64)
                            .unwrap_or(3600.0);
                        // Renew a minute early (or at 90% of a short lifetime).
                        let early = (ttl * 0.1).min(60.0);
                        let refresh_at =
                            Instant::now() + Duration::from_secs_f64((ttl - early).max(0.0));
                        let header = HeaderValue::from_str(&format!("Bearer {value}"))
                            .map_err(|_| Error::Auth {
                                message: "the token endpoint answered with an access_token that cannot be sent in a header".into(),
                            })?;
                        *self.inner.token.write().unwrap_or_else(|p| p.into_inner()) =
                            Some(Token {
                                header: header.clone(),
                                refresh_at,
                            });
                        return Ok(header);
                    }
                    if status == 401 || status == 403 {
                        return Err(Error::Auth {
                            message: format!(
                                "the token endpoint refused client id '{}' ({status}: {}); check the client id and secret",
                                cfg.client_id,
                                error_message(&body)
                            ),
                        });
                    }
                    last = Some(status_error(status, &body, retry_after));
                    Outcome::Status {
                        code: status,
                        retry_after,
                    }
                }
            };
            match cfg.retry.decide(outcome, attempt, true, rand::random()) {
                Decision::Retry(wait) => tokio::time::sleep(wait).await,
                Decision::GiveUp => break,
            }
        }
        Err(last.unwrap_or_else(|| Error::Internal("token request gave no answer".into())))
    }

    /// Sends one operation, retrying where that is safe. `idempotency_key` is sent on
    /// every attempt of a POST (and a fresh one is made if none is given).
    pub async fn execute(&self, op: &Operation, idempotency_key: Option<&str>) -> Result<Response> {
        self.execute_owned(op.clone(), idempotency_key).await
    }

    /// The same, taking the operation (its payload becomes the body without a copy).
    pub async fn execute_owned(
        &self,
        op: Operation,
        idempotency_key: Option<&str>,
    ) -> Result<Response> {
        self.execute_as(op, idempotency_key, Answer::Decoded).await
    }

    /// The same, with the answer handed back as `answer` says.
    pub async fn execute_as(
        &self,
        op: Operation,
        idempotency_key: Option<&str>,
        answer: Answer,
    ) -> Result<Response> {
        self.execute_encoded(op, idempotency_key, None, answer)
            .await
    }

    /// The same, with the body already encoded when `encoded` is given: the payload's
    /// JSON, for an operation whose body is its whole payload (a batch encodes it once,
    /// for its idempotency key and as the body).
    pub(crate) async fn execute_encoded(
        &self,
        op: Operation,
        idempotency_key: Option<&str>,
        encoded: Option<bytes::Bytes>,
        answer: Answer,
    ) -> Result<Response> {
        let (req, body) = prepare(op, encoded)?;
        self.execute_prepared(&req, body, idempotency_key, answer)
            .await
    }

    /// Sends a request made by [`prepare`], with its retries.
    pub(crate) async fn execute_prepared(
        &self,
        req: &Request,
        body: Option<bytes::Bytes>,
        idempotency_key: Option<&str>,
        answer: Answer,
    ) -> Result<Response> {
        let fresh;
        let key = match (req.method, idempotency_key) {
            (_, Some(k)) => {
                validate_key(k)?;
                Some(k)
            }
            (Method::Post, None) => {
                fresh = uuid::Uuid::new_v4().to_string();
                Some(fresh.as_str())
            }
            _ => None,
        };
        match self.send_as(req, body.clone(), key, answer).await {
            Err(Error::Conflict { message, problem }) => {
                let conflict = Error::Conflict { message, problem };
                match ExistingUser::of_create(req, body.as_deref()) {
                    Some(wanted) => self.adopt_user(wanted, answer, conflict).await,
                    None => Err(conflict),
                }
            }
            other => other,
        }
    }

    /// A company user create refused because its loginId is taken: OpenText documents
    /// no idempotency key for it, so an earlier attempt whose answer was lost (a reset,
    /// a timeout, a worker killed after sending) looks exactly like this. When the user
    /// holding the loginId has the e-mail the create asked for, it is the one wanted:
    /// its id is the answer. Anyone else's loginId stays a conflict.
    async fn adopt_user(
        &self,
        wanted: ExistingUser,
        answer: Answer,
        conflict: Error,
    ) -> Result<Response> {
        let read = CompanyUserRead::List {
            company_id: &wanted.company_id,
            login_id: Some(&wanted.login_id),
        }
        .request()?;
        let Ok(found) = self.request(&read, None).await else {
            return Err(conflict);
        };
        let same = |u: &&Value| {
            let text = |k: &str| u.get(k).and_then(Value::as_str).unwrap_or_default();
            text("loginId").eq_ignore_ascii_case(&wanted.login_id)
                && text("email").eq_ignore_ascii_case(&wanted.email)
        };
        let Some(user_id) = found
            .body
            .get("users")
            .and_then(Value::as_array)
            .and_then(|users| users.iter().find(same))
            .and_then(|u| u.get("userId").and_then(Value::as_str))
        else {
            return Err(conflict);
        };
        let body = json!({"uniqueId": user_id, "adopted": true});
        Ok(match answer {
            Answer::Decoded => Response {
                status: 200,
                body,
                attempts: found.attempts,
                raw: None,
            },
            Answer::Raw => Response {
                status: 200,
                raw: Some(bytes::Bytes::from(body.to_string())),
                body: Value::Null,
                attempts: found.attempts,
            },
        })
    }

    /// A read: GET `path` with `query`.
    pub async fn get(&self, path: &str, query: &[(String, String)]) -> Result<Value> {
        let req = Request {
            method: Method::Get,
            path: path.to_string(),
            query: query.to_vec(),
            body: None,
        };
        Ok(self.request(&req, None).await?.body)
    }

    /// A write that is not one of the batched operations (e.g. a webhook subscription).
    pub async fn post(&self, path: &str, body: Value, key: Option<&str>) -> Result<Value> {
        let req = Request {
            method: Method::Post,
            path: path.to_string(),
            query: vec![],
            body: Some(body),
        };
        let key = match key {
            Some(k) => {
                validate_key(k)?;
                k.to_string()
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        Ok(self.request(&req, Some(&key)).await?.body)
    }

    /// A Lens transaction search: one page of `getTransactions` (`count`, `total`,
    /// `offset`, `transactions`).
    pub async fn search_transactions(&self, search: &TransactionSearch) -> Result<Value> {
        let req = Request {
            method: Method::Search,
            path: lens::SEARCH_PATH.to_string(),
            query: vec![],
            body: Some(search.body()),
        };
        lens::decode_answer(&self.request(&req, None).await?.body)
    }

    async fn request(&self, req: &Request, key: Option<&str>) -> Result<Response> {
        self.request_as(req, key, Answer::Decoded).await
    }

    async fn request_as(
        &self,
        req: &Request,
        key: Option<&str>,
        answer: Answer,
    ) -> Result<Response> {
        let body = match &req.body {
            Some(b) => Some(encode(b)?),
            None => None,
        };
        self.send_as(req, body, key, answer).await
    }

    /// `req` with `body` (its body, encoded) and its retries.
    async fn send_as(
        &self,
        req: &Request,
        body: Option<bytes::Bytes>,
        key: Option<&str>,
        answer: Answer,
    ) -> Result<Response> {
        let cfg = &self.inner.cfg;
        let safe = req.method != Method::Post || key.is_some();
        let mut url = self.inner.base_url.clone();
        match self.inner.base_url.path().trim_end_matches('/') {
            "" => url.set_path(&req.path),
            prefix => url.set_path(&format!("{prefix}{}", req.path)),
        }
        let mut reauthenticated = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let token = self.token(false, None).await?;
            let method = match req.method {
                Method::Get => reqwest::Method::GET,
                Method::Put => reqwest::Method::PUT,
                Method::Post | Method::Search => reqwest::Method::POST,
                Method::Delete => reqwest::Method::DELETE,
            };
            let mut rb = self
                .inner
                .http
                .request(method, url.clone())
                .header(AUTHORIZATION, own_copy(&token))
                .header(X_TG_TENANT, own_copy(&self.inner.tenant));
            if !req.query.is_empty() {
                rb = rb.query(&req.query);
            }
            if let Some(k) = key {
                rb = rb.header(IDEMPOTENCY_KEY, k);
            }
            if let Some(b) = &body {
                rb = rb
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .body(b.clone());
            }
            let (outcome, err) = match rb.send().await {
                Err(e) => {
                    let outcome = if e.is_connect() {
                        Outcome::NotSent
                    } else {
                        Outcome::MaybeApplied
                    };
                    (outcome, transport_error(&e, &req.path))
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = header_retry_after(resp.headers());
                    let bytes = match resp.bytes().await {
                        Ok(b) => b,
                        Err(e) => {
                            let err = transport_error(&e, &req.path);
                            match cfg.retry.decide(
                                Outcome::MaybeApplied,
                                attempt,
                                safe,
                                rand::random(),
                            ) {
                                Decision::Retry(wait) => {
                                    tokio::time::sleep(wait).await;
                                    continue;
                                }
                                Decision::GiveUp => return Err(err),
                            }
                        }
                    };
                    if (200..300).contains(&status) {
                        return Ok(match answer {
                            Answer::Raw => Response {
                                status,
                                body: Value::Null,
                                attempts: attempt,
                                raw: Some(bytes),
                            },
                            Answer::Decoded => Response {
                                status,
                                body: decode_answer(&bytes),
                                attempts: attempt,
                                raw: None,
                            },
                        });
                    }
                    let parsed = decode_answer(&bytes);
                    if status == 401 && !reauthenticated {
                        // The token may have been revoked or expired early: fetch a new one once.
                        reauthenticated = true;
                        self.token(true, Some(&token)).await?;
                        attempt -= 1;
                        continue;
                    }
                    (
                        Outcome::Status {
                            code: status,
                            retry_after,
                        },
                        status_error(status, &parsed, retry_after),
                    )
                }
            };
            match cfg.retry.decide(outcome, attempt, safe, rand::random()) {
                Decision::Retry(wait) => tokio::time::sleep(wait).await,
                Decision::GiveUp => return Err(err),
            }
        }
    }
}

fn validate_key(k: &str) -> Result<()> {
    if k.is_empty() || k.len() > 255 || !k.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(Error::validation(
            "idempotencyKey",
            "must be 1 to 255 printable ASCII characters without spaces",
        ));
    }
    Ok(())
}

/// A copy of a header value for one request. Not a clone: a clone shares one reference
/// count among all requests in flight, whose cache line then bounces between the
/// runtime's threads on every request (bytes::shared_clone/shared_drop took 4.6% of the
/// worker threads' time at concurrency 32).
fn own_copy(v: &HeaderValue) -> HeaderValue {
    match HeaderValue::from_bytes(v.as_bytes()) {
        Ok(mut copy) => {
            copy.set_sensitive(v.is_sensitive());
            copy
        }
        Err(_) => v.clone(),
    }
}

/// An operation's request and its body, encoded (`encoded`: the payload's JSON, for an
/// operation whose body is its whole payload). The payload is freed here, on the calling
/// thread: a batch prepares on the thread that built the payload, so its many small
/// allocations are not freed from another thread (a slower path in the allocator).
pub(crate) fn prepare(
    op: Operation,
    encoded: Option<bytes::Bytes>,
) -> Result<(Request, Option<bytes::Bytes>)> {
    let mut req = op.into_request();
    let body = match (req.body.take(), encoded) {
        (None, _) => None,
        (Some(_), Some(b)) => Some(b),
        (Some(v), None) => Some(encode(&v)?),
    };
    Ok((req, body))
}

/// A request body as JSON bytes.
fn encode(body: &Value) -> Result<bytes::Bytes> {
    serde_json::to_vec(body)
        .map(bytes::Bytes::from)
        .map_err(|e| Error::Internal(format!("cannot encode the payload: {e}")))
}

/// Header names built once (`header("X-TG-Tenant", ..)` parses the name on every call).
const X_TG_TENANT: HeaderName = HeaderName::from_static("x-tg-tenant");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

fn header_retry_after(h: &HeaderMap) -> Option<f64> {
    h.get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after_at(v, std::time::SystemTime::now()))
}

fn transport_error(e: &reqwest::Error, what: &str) -> Error {
    // reqwest's Display never contains credentials (they travel in headers), but the URL
    // can; keep only the path we were calling.
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "the connection failed"
    };
    let mut source = String::new();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = cur {
        source = s.to_string();
        cur = s.source();
    }
    let detail = if source.is_empty() {
        String::new()
    } else {
        format!(" ({source})")
    };
    Error::Transport {
        message: format!("{what}: {kind}{detail}"),
        retryable: true,
    }
}

/// The human message of an error body, in either the documented
/// `{"status","message","error-code"}` shape or problem+json.
fn error_message(body: &Value) -> String {
    let pick = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    pick("detail")
        .or_else(|| pick("message"))
        .or_else(|| pick("title"))
        .or_else(|| pick("raw"))
        .unwrap_or_else(|| "no details given".to_string())
}

fn status_error(status: u16, body: &Value, retry_after: Option<f64>) -> Error {
    let message = error_message(body);
    match status {
        401 | 403 => Error::Auth { message },
        404 => Error::NotFound {
            message,
            problem: body.clone(),
        },
        409 => Error::Conflict {
            message,
            problem: body.clone(),
        },
        422 | 400
            if body
                .get("errors")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty()) =>
        {
            let errors = body
                .get("errors")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|e| {
                            FieldError::new(
                                e.get("field")
                                    .and_then(Value::as_str)
                                    .unwrap_or("(payload)"),
                                e.get("message")
                                    .and_then(Value::as_str)
                                    .unwrap_or("is invalid"),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            Error::Validation { errors }
        }
        429 => Error::RateLimited {
            retry_after: retry_after.unwrap_or(1.0),
        },
        _ => Error::Api {
            status,
            message,
            problem: body.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(url: &str) -> ClientConfig {
        ClientConfig {
            base_url: url.into(),
            tenant: "GC1".into(),
            client_id: "id".into(),
            client_secret: Secret::new("s3cret-value"),
            ..Default::default()
        }
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(cfg("http://127.0.0.1:8080").validate().is_ok());
        assert!(cfg("http://localhost:8080").validate().is_ok());
        assert!(cfg("http://[::1]:8080").validate().is_ok());
        let err = cfg("http://apibetagrid.example.com")
            .validate()
            .expect_err("refused");
        assert_eq!(err.field_errors()[0].field, "baseUrl");
        assert!(cfg("https://apibetagrid.example.com").validate().is_ok());
    }

    #[test]
    fn control_characters_in_header_values_are_refused_by_name() {
        let mut c = cfg("https://x.example");
        c.tenant = "GC1\r\nX-Injected: 1".into();
        c.client_id = "id\0".into();
        let err = c.validate().expect_err("refused");
        let fields: Vec<&str> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, vec!["tenant", "clientId"]);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = cfg("https://x.example");
        assert!(!format!("{c:?}").contains("s3cret-value"));
        let client = Client::new(c).expect("client");
        assert!(!format!("{client:?}").contains("s3cret-value"));
    }

    #[test]
    fn problem_json_422_becomes_field_errors() {
        let body = json!({"status": 422, "errors": [{"field": "country", "message": "bad"}]});
        let e = status_error(422, &body, None);
        assert_eq!(e.field_errors()[0].field, "country");
    }
}
