//! The routes: documented endpoints, extension resources, and `/_sandbox` admin.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use tg_core::api::{OpKind, Operation};

use crate::faults::{Faults, Injected};
use crate::problem::Problem;
use crate::state::{now_rfc3339, now_unix, State, Subscription};
use crate::App;

type Shared = Arc<App>;
type Q = Query<BTreeMap<String, String>>;
const MAX_BODY: usize = 1024 * 1024;

pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/v1/oauth2/tokens", post(token))
        .route("/TGCommunityServices/v1/companies/{company}", get(company))
        .route(
            "/TGCommunityServices/v1/companies/{company}/partnerDirectory",
            get(partner_directory),
        )
        .route(
            "/TGCommunityServices/v1/companies/{company}/users",
            get(company_users).post(create_company_user),
        )
        .route(
            "/TGCommunityServices/v1/companies/{company}/users/{user}",
            get(get_company_user)
                .put(update_company_user)
                .delete(delete_company_user),
        )
        .route(
            "/TGCommunityServices/v1/companies/{company}/users/{user}/roles",
            get(company_user_roles).put(change_company_user_roles),
        )
        .route("/visibility_transaction_search", post(lens_search))
        .route("/tgx/v1/partners", get(list_partners))
        .route(
            "/tgx/v1/partners/{id}",
            put(upsert_partner).get(get_partner).delete(delete_partner),
        )
        .route(
            "/tgx/v1/partners/{id}/memberships",
            get(partner_memberships),
        )
        .route("/tgx/v1/partners/{id}/onboarding", get(get_onboarding))
        .route(
            "/tgx/v1/partners/{id}/onboarding/{step}",
            put(put_onboarding),
        )
        .route("/tgx/v1/communities", get(list_communities))
        .route(
            "/tgx/v1/communities/{c}/members/{p}",
            put(put_member).delete(delete_member),
        )
        .route("/tgx/v1/access-requests", post(create_access_request))
        .route("/tgx/v1/access-requests/{id}", get(get_access_request))
        .route("/tgx/v1/issues", post(create_issue))
        .route("/tgx/v1/issues/{id}", get(get_issue))
        .route("/tgx/v1/issues/{id}/comments", post(comment_issue))
        .route("/tgx/v1/issues/{id}/status", post(issue_status))
        .route(
            "/tgx/v1/documents/{id}",
            get(get_document).delete(retract_document),
        )
        .route("/tgx/v1/documents/{id}/versions/{v}", put(publish_document))
        .route(
            "/tgx/v1/catalog/{id}",
            put(upsert_catalog)
                .delete(withdraw_catalog)
                .get(get_catalog),
        )
        .route("/tgx/v1/knowledge/{id}", get(get_knowledge))
        .route("/tgx/v1/notifications", post(create_notification))
        .route("/tgx/v1/metrics", get(metrics))
        .route("/tgx/v1/metrics/portal", post(portal_metrics))
        .route("/tgx/v1/events", get(events))
        .route("/tgx/v1/webhooks", post(subscribe))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/faults", post(set_faults).get(get_faults))
        .route("/_sandbox/reset", post(reset))
        .route(
            "/_sandbox/access-requests/{id}/decision",
            post(decide_access),
        )
        .route("/_sandbox/knowledge", post(raise_knowledge))
        .route("/_sandbox/lens/transactions", post(add_transactions))
        .route("/_sandbox/events", post(raise_event))
        .route("/_sandbox/issues/{id}/network", post(network_issue_update))
        .fallback(|| async { Problem::not_found("no such route") })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY * 2))
        .with_state(app)
}

// ---------------------------------------------------------------- plumbing

fn authorize(app: &App, headers: &HeaderMap) -> Result<(), Problem> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| Problem::unauthorized("a Bearer token is required"))?;
    let tokens = app.tokens.lock().unwrap_or_else(|p| p.into_inner());
    match tokens.get(token) {
        Some(exp) if *exp > now_unix() => Ok(()),
        Some(_) => Err(Problem::unauthorized("the access token has expired")),
        None => Err(Problem::unauthorized("the access token is not known")),
    }
}

fn rate_limit(app: &App) -> Result<(), Problem> {
    let Some(per_sec) = app.cfg.rate_limit_per_sec else {
        return Ok(());
    };
    let rate = f64::from(per_sec.max(1));
    let mut b = app.bucket.lock().unwrap_or_else(|p| p.into_inner());
    let now = now_unix();
    b.0 = (b.0 + (now - b.1) * rate).min(rate);
    b.1 = now;
    if b.0 >= 1.0 {
        b.0 -= 1.0;
        return Ok(());
    }
    let wait = ((1.0 - b.0) / rate).max(0.001);
    app.lock().counters.rate_limited += 1;
    let mut p = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many requests",
        format!("limit is {per_sec} requests per second"),
    );
    p.retry_after = Some((wait * 1000.0).ceil() / 1000.0);
    Err(p)
}

/// Auth, rate limit and injected faults common to every tenant call.
async fn gate(app: &App, headers: &HeaderMap, is_write: bool) -> Result<Injected, Problem> {
    app.lock().counters.requests += 1;
    authorize(app, headers)?;
    if headers.get("x-tg-tenant").is_none() {
        return Err(Problem::bad_request("the X-TG-Tenant header is required"));
    }
    rate_limit(app)?;
    let faults: Faults = app.faults.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let delay = faults.delay_ms(is_write);
    if delay > 0 {
        app.lock().counters.delayed += 1;
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    match faults.draw(is_write) {
        Injected::Error => {
            app.lock().counters.errors += 1;
            let status = if rand::random::<bool>() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            Err(Problem::new(
                status,
                "internal",
                "Injected failure",
                "the sandbox injected this failure",
            ))
        }
        Injected::RateLimited(ra) => {
            app.lock().counters.rate_limited += 1;
            let mut p = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                "the sandbox injected this 429",
            );
            p.retry_after = Some(ra);
            Err(p)
        }
        other => Ok(other),
    }
}

fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Problem> {
    if body.len() > MAX_BODY {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            format!("bodies are limited to {MAX_BODY} bytes"),
        ));
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send application/json",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| Problem::bad_request(format!("the body is not valid JSON: {e}")))
}

fn validate(kind: OpKind, payload: Value) -> Result<Value, Problem> {
    match Operation::new(kind, payload) {
        Ok(op) => Ok(op.payload),
        Err(e) => Err(Problem::validation(
            e.field_errors()
                .iter()
                .map(|f| (f.field.clone(), f.message.clone()))
                .collect(),
        )),
    }
}

fn with(mut v: Value, extra: &[(&str, Value)]) -> Value {
    if let Some(m) = v.as_object_mut() {
        for (k, x) in extra {
            m.insert((*k).to_string(), x.clone());
        }
    }
    v
}

fn json_response(status: StatusCode, body: &Value, replayed: bool) -> Response {
    let mut r = (status, axum::Json(body.clone())).into_response();
    if replayed {
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    r
}

/// A response whose body fails mid-way: hyper drops the connection, the client sees
/// a reset after the write was applied.
fn reset_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        ))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

type Applied = Result<(StatusCode, Value), Problem>;

/// Which family of the contract a route belongs to. Past the common gate (auth, rate
/// limit, injected faults), a route's own errors take its family's body: problem+json
/// on the extension, `{"status", "message", "error-code"}` on the documented routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Extension,
    Documented,
}

impl Family {
    fn shape(self, p: Problem) -> Problem {
        match self {
            Family::Extension => p,
            Family::Documented => p.documented(),
        }
    }
}

/// The common shape of every extension write: gate, parse, idempotency, apply under the lock.
async fn write(
    app: &App,
    method: Method,
    headers: &HeaderMap,
    body: Option<&Bytes>,
    f: impl FnOnce(&mut State, Value) -> Applied,
) -> Response {
    write_in(Family::Extension, app, method, headers, body, f).await
}

/// A write in `family`. The documented API knows no Idempotency-Key, so there a POST
/// without one is served; one with a key is remembered and replayed as on the extension.
async fn write_in(
    family: Family,
    app: &App,
    method: Method,
    headers: &HeaderMap,
    body: Option<&Bytes>,
    f: impl FnOnce(&mut State, Value) -> Applied,
) -> Response {
    let injected = match gate(app, headers, true).await {
        Ok(i) => i,
        Err(p) => return p.into_response(),
    };
    let outcome = apply(family, app, &method, headers, body, f);
    app.mark_dirty();
    match outcome {
        Ok(Answer::Replayed(status, body)) => json_response(status, &body, true),
        Ok(Answer::Applied(status, body)) => {
            if injected == Injected::ResetAfterApply {
                app.lock().counters.resets += 1;
                return reset_response();
            }
            json_response(status, &body, false)
        }
        Err(p) => family.shape(p).into_response(),
    }
}

enum Answer {
    Applied(StatusCode, Value),
    /// The stored answer to an earlier request with the same Idempotency-Key.
    Replayed(StatusCode, Value),
}

/// Parses the body, checks the Idempotency-Key, and applies `f` under the lock (or
/// replays the answer stored for the key).
fn apply(
    family: Family,
    app: &App,
    method: &Method,
    headers: &HeaderMap,
    body: Option<&Bytes>,
    f: impl FnOnce(&mut State, Value) -> Applied,
) -> Result<Answer, Problem> {
    let payload = match body {
        Some(b) => parse_body(headers, b)?,
        None => Value::Null,
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|k| family == Family::Extension || !k.is_empty());
    if family == Family::Extension
        && *method == Method::POST
        && key.as_deref().is_none_or(str::is_empty)
    {
        return Err(Problem::field(
            "Idempotency-Key",
            "the Idempotency-Key header is required on POST",
        ));
    }
    if let Some(k) = key.as_deref() {
        if k.len() > 255 || k.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
            return Err(Problem::field(
                "Idempotency-Key",
                "must be 1 to 255 printable ASCII characters without spaces",
            ));
        }
    }
    let hash = {
        let mut h = Sha256::new();
        h.update(method.as_str().as_bytes());
        h.update(body.map(|b| b.as_ref()).unwrap_or_default());
        hex::encode(h.finalize())
    };
    let mut s = app.lock();
    let record_key = key.as_ref().map(|k| format!("{}|{k}", s.tenant));
    if let Some(rk) = &record_key {
        if let Some(rec) = s.idempotency.get(rk).cloned() {
            if rec.hash != hash {
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency-mismatch",
                    "Idempotency key reused",
                    "this Idempotency-Key was used with a different request",
                ));
            }
            s.counters.duplicates += 1;
            let status = StatusCode::from_u16(rec.status).unwrap_or(StatusCode::OK);
            return Ok(Answer::Replayed(status, rec.body));
        }
    }
    let (status, answer) = f(&mut s, payload)?;
    if let Some(rk) = record_key {
        s.idempotency.insert(
            rk,
            crate::state::IdemRecord {
                hash,
                status: status.as_u16(),
                body: answer.clone(),
            },
        );
    }
    Ok(Answer::Applied(status, answer))
}

async fn read(
    app: &App,
    headers: &HeaderMap,
    f: impl FnOnce(&State) -> Result<Value, Problem>,
) -> Response {
    read_in(Family::Extension, app, headers, f).await
}

async fn read_in(
    family: Family,
    app: &App,
    headers: &HeaderMap,
    f: impl FnOnce(&State) -> Result<Value, Problem>,
) -> Response {
    if let Err(p) = gate(app, headers, false).await {
        return p.into_response();
    }
    let s = app.lock();
    match f(&s) {
        Ok(v) => axum::Json(v).into_response(),
        Err(p) => family.shape(p).into_response(),
    }
}

fn page<T: Clone + serde::Serialize>(
    items: &[T],
    q: &BTreeMap<String, String>,
    key: &str,
) -> Result<Value, Problem> {
    let after: usize = match q.get("after").filter(|a| !a.is_empty()) {
        Some(a) => a
            .parse()
            .map_err(|_| Problem::field("after", "is not a cursor returned by this API"))?,
        None => 0,
    };
    let limit: usize = match q.get("limit") {
        Some(l) => l
            .parse()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| Problem::field("limit", "must be between 1 and 500"))?,
        None => 100,
    };
    let slice: Vec<T> = items.iter().skip(after).take(limit).cloned().collect();
    let end = after + slice.len();
    Ok(json!({key: slice, "nextCursor": end.to_string(), "hasMore": end < items.len()}))
}

// ---------------------------------------------------------------- documented

async fn token(AxState(app): AxState<Shared>, Query(q): Q, headers: HeaderMap) -> Response {
    app.lock().counters.requests += 1;
    if q.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Problem::bad_request("grant_type must be client_credentials")
            .documented()
            .into_response();
    }
    let creds = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let ok = creds
        .as_deref()
        .and_then(|c| c.split_once(':'))
        .is_some_and(|(id, secret)| {
            id == app.cfg.client_id
                && subtle_eq(secret.as_bytes(), app.cfg.client_secret.as_bytes())
        });
    if !ok {
        let mut p = Problem::unauthorized("Invalid client credentials").documented();
        p.kind = "invalid_client";
        return p.into_response();
    }
    let token = format!("tgsb_{}", uuid::Uuid::new_v4().simple());
    let ttl = app.cfg.token_ttl_secs;
    app.tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(token.clone(), now_unix() + ttl as f64);
    axum::Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl}))
        .into_response()
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn company(
    AxState(app): AxState<Shared>,
    Path(company): Path<String>,
    headers: HeaderMap,
) -> Response {
    read_in(Family::Documented, &app, &headers, |s| {
        if company != s.tenant {
            return Err(invisible(&company));
        }
        Ok(json!({"companyId": s.tenant, "companyName": s.company_name, "status": "active"}))
    })
    .await
}

fn invisible(company: &str) -> Problem {
    Problem::not_found(format!("company {company} is not visible to this tenant"))
}

async fn partner_directory(
    AxState(app): AxState<Shared>,
    Path(company): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    read_in(Family::Documented, &app, &headers, |s| {
        if company != s.tenant {
            return Err(invisible(&company));
        }
        let list: Vec<Value> = s
            .partners
            .values()
            .filter(|p| q.get("partnerCompanyId").is_none_or(|id| p["partnerId"] == *id))
            .filter(|p| q.get("partnerCompanyName").is_none_or(|n| p["companyName"].as_str().is_some_and(|c| c.eq_ignore_ascii_case(n))))
            .filter(|p| q.get("tradingAddress").is_none_or(|t| p["tradingAddress"] == *t))
            .map(|p| json!({"partnerCompanyId": p["partnerId"], "partnerCompanyName": p["companyName"], "tradingAddress": p.get("tradingAddress").cloned().unwrap_or(Value::Null), "status": p["status"]}))
            .collect();
        Ok(json!({"partners": list}))
    })
    .await
}

// ---------------------------------------------------------------- company users (documented)

/// Members of the documented "Create User" body that are written but never read back.
const WRITE_ONLY: &[&str] = &["loginPassword", "userPasswordHint"];

/// The company's users must be the tenant's own or a partner's.
fn visible_company(s: &State, company: &str) -> Result<(), Problem> {
    if s.company_visible(company) {
        Ok(())
    } else {
        Err(invisible(company))
    }
}

/// A user of `company` by its userId, or 404.
fn user_in<'a>(s: &'a State, company: &str, user_id: &str) -> Result<&'a Value, Problem> {
    s.users
        .get(user_id)
        .filter(|u| u["companyId"] == company)
        .ok_or_else(|| {
            Problem::not_found(format!(
                "company {company} has no user with userId {user_id}"
            ))
        })
}

/// A user of `company` by its loginId, or 404.
fn user_by_login<'a>(s: &'a State, company: &str, login_id: &str) -> Result<&'a Value, Problem> {
    s.user_by_login(company, login_id).ok_or_else(|| {
        Problem::not_found(format!(
            "company {company} has no user with loginId {login_id}"
        ))
    })
}

/// Validates a documented body as the `member` of its tg-core operation (`envelope`
/// holds the path parameters), naming fields as they are in the body sent.
fn validate_body(
    kind: OpKind,
    mut envelope: Value,
    member: &str,
    body: Value,
) -> Result<Value, Problem> {
    envelope[member] = body;
    validate(kind, envelope).map_err(|mut p| {
        for (field, _) in &mut p.errors {
            if field == member {
                *field = "(body)".into();
            } else if let Some(rest) = field.strip_prefix(member) {
                *field = rest.strip_prefix('.').unwrap_or(rest).to_string();
            }
        }
        p
    })
}

/// What a read of one user shows: everything stored but its roles (read on their own).
fn user_view(u: &Value) -> Value {
    let mut v = u.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("roles");
    }
    v
}

fn roles_view(u: &Value) -> Value {
    let roles: Vec<Value> = u["roles"]
        .as_array()
        .map(|r| r.iter().map(|n| json!({"roleName": n})).collect())
        .unwrap_or_default();
    json!({"userId": u["userId"], "loginId": u["loginId"], "roles": roles})
}

async fn company_users(
    AxState(app): AxState<Shared>,
    Path(company): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    read_in(Family::Documented, &app, &headers, |s| {
        visible_company(s, &company)?;
        let login = q.get("loginId").filter(|l| !l.is_empty());
        let users: Vec<Value> = s
            .users
            .values()
            .filter(|u| u["companyId"] == company.as_str())
            .filter(|u| login.is_none_or(|l| u["loginId"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(l))))
            .map(|u| json!({"userId": u["userId"], "loginId": u["loginId"], "email": u["contactInformation"]["email"], "firstName": u["firstName"], "lastName": u["lastName"]}))
            .collect();
        Ok(json!({"users": users}))
    })
    .await
}

// ---------------------------------------------------------------- Lens (documented)

fn graphql_errors(message: &str) -> Response {
    axum::Json(json!({"data": null, "errors": [{"message": message}]})).into_response()
}

/// `POST /visibility_transaction_search`: a GraphQL document in `{"query": ...}`.
/// Answers as GraphQL over HTTP does: 200 with `data`, or 200 with `errors`.
async fn lens_search(AxState(app): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(p) = gate(&app, &headers, false).await {
        return p.into_response();
    }
    let v = match parse_body(&headers, &body) {
        Ok(v) => v,
        Err(p) => return p.into_response(),
    };
    let Some(document) = v.get("query").and_then(Value::as_str) else {
        return graphql_errors("the body must be {\"query\": \"<GraphQL document>\"}");
    };
    if v.get("variables")
        .is_some_and(|x| x.as_object().is_some_and(|m| !m.is_empty()))
    {
        return graphql_errors(
            "variables are not supported by the sandbox; write the arguments inline",
        );
    }
    let parsed = match crate::lens::parse(document) {
        Ok(q) => q,
        Err(e) => return graphql_errors(&e.0),
    };
    let s = app.lock();
    match crate::lens::search(&s.transactions, &parsed) {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(e) => graphql_errors(&e.0),
    }
}

/// Adds Lens transactions (`{"transactions": [...]}` or one object), as trading on the
/// network would: what the exception scan of the portal then finds.
async fn add_transactions(AxState(app): AxState<Shared>, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return Problem::bad_request(format!("the body is not valid JSON: {e}")).into_response()
        }
    };
    let given = match v.get("transactions") {
        Some(Value::Array(list)) => list.clone(),
        Some(_) => return Problem::field("transactions", "must be a list").into_response(),
        None => vec![v],
    };
    let mut s = app.lock();
    let mut added = vec![];
    for (i, t) in given.iter().enumerate() {
        let id = s.next("LT");
        match crate::lens::transaction(t, id, now_rfc3339()) {
            Ok(t) => added.push(t),
            Err(e) => return Problem::field(&format!("transactions[{i}]"), &e).into_response(),
        }
    }
    s.transactions.extend(added.iter().cloned());
    drop(s);
    app.mark_dirty();
    (
        StatusCode::CREATED,
        axum::Json(json!({"transactions": added})),
    )
        .into_response()
}

async fn create_company_user(
    AxState(app): AxState<Shared>,
    Path(company): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_in(
        Family::Documented,
        &app,
        Method::POST,
        &headers,
        Some(&body),
        |s, payload| {
            visible_company(s, &company)?;
            let v = validate_body(
                OpKind::CompanyUserCreate,
                json!({"companyId": company}),
                "user",
                payload,
            )?;
            let mut user = v["user"].clone();
            let login = user["loginId"].as_str().unwrap_or_default().to_string();
            if s.login_taken(&login, None) {
                return Err(Problem::conflict(format!(
                    "loginId {login} is already taken"
                )));
            }
            let id = s.next("GCUS");
            let now = now_rfc3339();
            if let Some(m) = user.as_object_mut() {
                for k in WRITE_ONLY {
                    m.remove(*k);
                }
            }
            let stored = with(
                user,
                &[
                    ("userId", json!(id)),
                    ("companyId", json!(company)),
                    ("roles", json!([])),
                    ("createdAt", json!(now)),
                    ("updatedAt", json!(now)),
                ],
            );
            s.users.insert(id.clone(), stored);
            s.applied("company_user.create");
            s.emit(
                "company_user.created",
                json!({"companyId": company, "userId": id, "loginId": login}),
            );
            Ok((StatusCode::CREATED, json!({"uniqueId": id})))
        },
    )
    .await
}

async fn get_company_user(
    AxState(app): AxState<Shared>,
    Path((company, user)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    read_in(Family::Documented, &app, &headers, |s| {
        visible_company(s, &company)?;
        // The userId first: it never changes, while a loginId may be reused.
        let found = user_in(s, &company, &user).or_else(|_| user_by_login(s, &company, &user));
        found.map(user_view).map_err(|_| {
            Problem::not_found(format!(
                "company {company} has no user {user} (by userId or loginId)"
            ))
        })
    })
    .await
}

async fn update_company_user(
    AxState(app): AxState<Shared>,
    Path((company, user_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_in(Family::Documented, &app, Method::PUT, &headers, Some(&body), |s, payload| {
        visible_company(s, &company)?;
        let mut stored = user_in(s, &company, &user_id)?.clone();
        let v = validate_body(OpKind::CompanyUserUpdate, json!({"companyId": company, "userId": user_id}), "changes", payload)?;
        let previous_login = stored["loginId"].clone();
        if let Some(login) = v["changes"]["loginId"].as_str() {
            if s.login_taken(login, Some(&user_id)) {
                return Err(Problem::conflict(format!("loginId {login} is already taken")));
            }
        }
        let before = stored.clone();
        let mut fields = vec![];
        for (k, change) in v["changes"].as_object().into_iter().flatten() {
            if WRITE_ONLY.contains(&k.as_str()) {
                fields.push(k.clone());
                continue;
            }
            // Partial all the way down: a nested object keeps the members not named.
            match (stored.get_mut(k), change) {
                (Some(Value::Object(have)), Value::Object(new)) => {
                    for (nk, nv) in new {
                        have.insert(nk.clone(), nv.clone());
                    }
                }
                _ => stored[k.as_str()] = change.clone(),
            }
            if before.get(k) != stored.get(k) {
                fields.push(k.clone());
            }
        }
        if fields.is_empty() {
            s.counters.duplicates += 1;
            return Ok((StatusCode::OK, user_view(&stored)));
        }
        stored["updatedAt"] = json!(now_rfc3339());
        s.users.insert(user_id.clone(), stored.clone());
        s.applied("company_user.update");
        let mut data = json!({"companyId": company, "userId": user_id, "loginId": stored["loginId"], "fields": fields});
        if stored["loginId"] != previous_login {
            data["previousLoginId"] = previous_login;
        }
        s.emit("company_user.updated", data);
        Ok((StatusCode::OK, user_view(&stored)))
    })
    .await
}

async fn delete_company_user(
    AxState(app): AxState<Shared>,
    Path((company, user_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    write_in(
        Family::Documented,
        &app,
        Method::DELETE,
        &headers,
        None,
        |s, _| {
            visible_company(s, &company)?;
            let login = user_in(s, &company, &user_id)?["loginId"].clone();
            s.users.remove(&user_id);
            s.applied("company_user.delete");
            s.emit(
                "company_user.deleted",
                json!({"companyId": company, "userId": user_id, "loginId": login}),
            );
            Ok((
                StatusCode::OK,
                json!({"userId": user_id, "loginId": login, "deleted": true}),
            ))
        },
    )
    .await
}

async fn company_user_roles(
    AxState(app): AxState<Shared>,
    Path((company, login)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    read_in(Family::Documented, &app, &headers, |s| {
        visible_company(s, &company)?;
        user_by_login(s, &company, &login).map(roles_view)
    })
    .await
}

async fn change_company_user_roles(
    AxState(app): AxState<Shared>,
    Path((company, login)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_in(Family::Documented, &app, Method::PUT, &headers, Some(&body), |s, payload| {
        visible_company(s, &company)?;
        let action = match q.get("action").map(String::as_str) {
            Some("Add") => "add",
            Some("Remove") => "remove",
            _ => return Err(Problem::bad_request("the query parameter action must be Add or Remove")),
        };
        let mut stored = user_by_login(s, &company, &login)?.clone();
        let v = validate_body(OpKind::CompanyUserRoles, json!({"companyId": company, "loginId": login, "action": action}), "roles", payload)?;
        let named: Vec<String> = v["roles"].as_array().into_iter().flatten().filter_map(|r| r["roleName"].as_str().map(str::to_string)).collect();
        let mut roles: Vec<String> = stored["roles"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_string)).collect();
        let before = roles.clone();
        if action == "add" {
            for n in &named {
                if !roles.contains(n) {
                    roles.push(n.clone());
                }
            }
        } else {
            roles.retain(|r| !named.contains(r));
        }
        if roles == before {
            s.counters.duplicates += 1;
            return Ok((StatusCode::OK, roles_view(&stored)));
        }
        stored["roles"] = json!(roles);
        stored["updatedAt"] = json!(now_rfc3339());
        let user_id = stored["userId"].as_str().unwrap_or_default().to_string();
        s.users.insert(user_id.clone(), stored.clone());
        s.applied("company_user.roles");
        s.emit("company_user.roles_changed", json!({"companyId": company, "userId": user_id, "loginId": stored["loginId"], "action": action, "roles": named, "current": roles}));
        Ok((StatusCode::OK, roles_view(&stored)))
    })
    .await
}

// ---------------------------------------------------------------- partners

async fn upsert_partner(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&app, Method::PUT, &headers, Some(&body), |s, payload| {
        let p = validate(OpKind::PartnerUpsert, payload)?;
        if p["externalId"] != id.as_str() {
            return Err(Problem::field("externalId", "must equal the externalId in the path"));
        }
        let communities: Vec<String> = p.get("communities").and_then(Value::as_array).map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_string)).collect()).unwrap_or_default();
        let bad: Vec<(String, String)> = communities.iter().enumerate().filter(|(_, c)| !s.communities.contains_key(*c)).map(|(i, c)| (format!("communities[{i}]"), format!("community '{c}' does not exist"))).collect();
        if !bad.is_empty() {
            return Err(Problem::validation(bad));
        }
        let revision = p["revision"].as_i64().unwrap_or(0);
        let now = now_rfc3339();
        if let Some(existing) = s.partners.get(&id).cloned() {
            let stored = existing["revision"].as_i64().unwrap_or(0);
            if revision < stored || (revision == stored && strip_meta(&existing) == p) {
                s.counters.duplicates += 1;
                let reason = if revision < stored { "stale_revision" } else { "unchanged" };
                return Ok((StatusCode::OK, with(existing, &[("applied", json!(false)), ("reason", json!(reason))])));
            }
            let merged = with(p.clone(), &[("partnerId", existing["partnerId"].clone()), ("status", existing["status"].clone()), ("createdAt", existing["createdAt"].clone()), ("updatedAt", json!(now))]);
            s.partners.insert(id.clone(), merged.clone());
            s.applied("partner.upsert");
            s.emit("partner.updated", json!({"externalId": id, "partnerId": merged["partnerId"], "revision": revision}));
            join_communities(s, &merged, &communities);
            return Ok((StatusCode::OK, with(merged, &[("applied", json!(true))])));
        }
        let partner_id = s.next("GC");
        let created = with(p.clone(), &[("partnerId", json!(partner_id)), ("status", json!("registered")), ("createdAt", json!(now)), ("updatedAt", json!(now))]);
        s.partners.insert(id.clone(), created.clone());
        s.applied("partner.upsert");
        s.emit("partner.created", json!({"externalId": id, "partnerId": partner_id, "revision": revision, "companyName": created["companyName"]}));
        join_communities(s, &created, &communities);
        Ok((StatusCode::CREATED, with(created, &[("applied", json!(true))])))
    })
    .await
}

fn strip_meta(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        for k in ["partnerId", "status", "createdAt", "updatedAt"] {
            m.remove(k);
        }
    }
    v
}

fn join_communities(s: &mut State, partner: &Value, communities: &[String]) {
    let pid = partner["partnerId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for c in communities {
        let key = format!("{c}|{pid}");
        if s.memberships.contains_key(&key) {
            continue;
        }
        let auto = s
            .communities
            .get(c)
            .and_then(|x| x["autoApprove"].as_bool())
            .unwrap_or(false);
        set_membership(
            s,
            c,
            &pid,
            if auto { "active" } else { "pending" },
            "member",
        );
    }
}

fn set_membership(
    s: &mut State,
    community: &str,
    partner_id: &str,
    status: &str,
    role: &str,
) -> Value {
    let key = format!("{community}|{partner_id}");
    let external = s
        .partner_by_id(partner_id)
        .map(|p| p["externalId"].clone())
        .unwrap_or(Value::Null);
    let previous = s
        .memberships
        .get(&key)
        .map(|m| m["status"].clone())
        .unwrap_or(Value::Null);
    let m = json!({"communityId": community, "partnerId": partner_id, "externalId": external, "status": status, "role": role, "updatedAt": now_rfc3339()});
    s.memberships.insert(key, m.clone());
    if previous != status {
        s.emit("membership.changed", json!({"communityId": community, "partnerId": partner_id, "externalId": external, "status": status, "previous": previous}));
    }
    m
}

async fn get_partner(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read(&app, &headers, |s| {
        s.partners
            .get(&id)
            .cloned()
            .ok_or_else(|| Problem::not_found(format!("partner {id} does not exist")))
    })
    .await
}

async fn list_partners(AxState(app): AxState<Shared>, Query(q): Q, headers: HeaderMap) -> Response {
    read(&app, &headers, |s| {
        page(
            &s.partners.values().cloned().collect::<Vec<_>>(),
            &q,
            "items",
        )
    })
    .await
}

async fn delete_partner(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    write(&app, Method::DELETE, &headers, None, |s, _| {
        let Some(p) = s.partners.remove(&id) else {
            s.counters.duplicates += 1;
            return Ok((
                StatusCode::OK,
                json!({"externalId": id, "deleted": true, "applied": false}),
            ));
        };
        let pid = p["partnerId"].as_str().unwrap_or_default().to_string();
        let keys: Vec<String> = s
            .memberships
            .keys()
            .filter(|k| k.ends_with(&format!("|{pid}")))
            .cloned()
            .collect();
        for k in keys {
            if let Some((c, _)) = k.split_once('|') {
                let c = c.to_string();
                set_membership(s, &c, &pid, "removed", "member");
            }
        }
        s.applied("partner.delete");
        s.emit(
            "partner.deleted",
            json!({"externalId": id, "partnerId": pid}),
        );
        Ok((
            StatusCode::OK,
            json!({"externalId": id, "deleted": true, "applied": true}),
        ))
    })
    .await
}

async fn partner_memberships(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read(&app, &headers, |s| {
        let p = s
            .partners
            .get(&id)
            .ok_or_else(|| Problem::not_found(format!("partner {id} does not exist")))?;
        let items: Vec<Value> = s
            .memberships
            .values()
            .filter(|m| m["partnerId"] == p["partnerId"])
            .cloned()
            .collect();
        Ok(json!({"items": items}))
    })
    .await
}

async fn list_communities(AxState(app): AxState<Shared>, headers: HeaderMap) -> Response {
    read(&app, &headers, |s| {
        Ok(json!({"items": s.communities.values().cloned().collect::<Vec<_>>()}))
    })
    .await
}

async fn put_member(
    AxState(app): AxState<Shared>,
    Path((c, p)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&app, Method::PUT, &headers, Some(&body), |s, payload| {
        let v = validate(
            OpKind::MembershipSet,
            with(
                payload,
                &[("communityId", json!(c)), ("partnerId", json!(p))],
            ),
        )?;
        if !s.communities.contains_key(&c) {
            return Err(Problem::not_found(format!("community {c} does not exist")));
        }
        if s.partner_by_id(&p).is_none() {
            return Err(Problem::not_found(format!("partner {p} does not exist")));
        }
        let role = v
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("member")
            .to_string();
        let current = s
            .memberships
            .get(&format!("{c}|{p}"))
            .map(|m| m["status"].as_str().unwrap_or("").to_string());
        let status = match current.as_deref() {
            Some("active") => "active",
            Some("suspended") => "suspended",
            _ => {
                if s.communities[&c]["autoApprove"].as_bool().unwrap_or(false) {
                    "active"
                } else {
                    "pending"
                }
            }
        };
        let m = set_membership(s, &c, &p, status, &role);
        s.applied("membership.set");
        Ok((StatusCode::OK, m))
    })
    .await
}

async fn delete_member(
    AxState(app): AxState<Shared>,
    Path((c, p)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    write(&app, Method::DELETE, &headers, None, |s, _| {
        if !s.memberships.contains_key(&format!("{c}|{p}")) {
            return Err(Problem::not_found(format!(
                "partner {p} is not in community {c}"
            )));
        }
        let m = set_membership(s, &c, &p, "removed", "member");
        s.applied("membership.remove");
        Ok((StatusCode::OK, m))
    })
    .await
}

// ---------------------------------------------------------------- access requests

async fn create_access_request(
    AxState(app): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&app, Method::POST, &headers, Some(&body), |s, payload| {
        let v = validate(OpKind::AccessRequestCreate, payload)?;
        let partner = match (v.get("externalId").and_then(Value::as_str), v.get("partnerId").and_then(Value::as_str)) {
            (Some(e), _) => s.partners.get(e).cloned(),
            (None, Some(p)) => s.partner_by_id(p).cloned(),
            _ => None,
        }
        .ok_or_else(|| Problem::field("externalId", "no such partner"))?;
        let c = v["communityId"].as_str().unwrap_or_default().to_string();
        if !s.communities.contains_key(&c) {
            return Err(Problem::field("communityId", "no such community"));
        }
        let id = s.next("AR");
        let r = json!({"requestId": id, "partnerId": partner["partnerId"], "externalId": partner["externalId"], "communityId": c,
            "reason": v.get("reason").cloned().unwrap_or(Value::Null), "status": "pending", "createdAt": now_rfc3339()});
        s.access_requests.insert(id.clone(), r.clone());
        s.applied("access_request.create");
        s.emit("access_request.created", r.clone());
        Ok((StatusCode::CREATED, r))
    })
    .await
}

async fn get_access_request(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read(&app, &headers, |s| {
        s.access_requests
            .get(&id)
            .cloned()
            .ok_or_else(|| Problem::not_found(format!("access request {id} does not exist")))
    })
    .await
}

pub(crate) fn decide(s: &mut State, id: &str, status: &str, note: &str) -> Result<Value, Problem> {
    let mut r = s
        .access_requests
        .get(id)
        .cloned()
        .ok_or_else(|| Problem::not_found(format!("access request {id} does not exist")))?;
    if r["status"] != "pending" {
        return Err(Problem::conflict(format!(
            "access request {id} is already {}",
            r["status"]
        )));
    }
    r["status"] = json!(status);
    r["note"] = json!(note);
    r["decidedAt"] = json!(now_rfc3339());
    s.access_requests.insert(id.to_string(), r.clone());
    s.emit("access_request.changed", json!({"requestId": id, "externalId": r["externalId"], "partnerId": r["partnerId"], "communityId": r["communityId"], "status": status, "note": note}));
    let (c, p) = (
        r["communityId"].as_str().unwrap_or_default().to_string(),
        r["partnerId"].as_str().unwrap_or_default().to_string(),
    );
    set_membership(
        s,
        &c,
        &p,
        if status == "approved" {
            "active"
        } else {
            "rejected"
        },
        "member",
    );
    Ok(r)
}

async fn decide_access(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let status = v.get("status").and_then(Value::as_str).unwrap_or("");
    if status != "approved" && status != "rejected" {
        return Problem::field("status", "must be approved or rejected").into_response();
    }
    let note = v.get("note").and_then(Value::as_str).unwrap_or("");
    let r = decide(&mut app.lock(), &id, status, note);
    app.mark_dirty();
    match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(p) => p.into_response(),
    }
}

// ---------------------------------------------------------------- issues

const TRANSITIONS: &[(&str, &[&str])] = &[
    ("open", &["in_progress", "awaiting_partner", "resolved"]),
    ("in_progress", &["awaiting_partner", "resolved"]),
    ("awaiting_partner", &["in_progress", "resolved"]),
    ("resolved", &["closed", "in_progress"]),
    ("closed", &[]),
];

/// Refuses a status change the issue state machine does not allow (409).
fn check_transition(from: &str, to: &str) -> Result<(), Problem> {
    let allowed = TRANSITIONS
        .iter()
        .find(|(f, _)| *f == from)
        .map(|(_, t)| *t)
        .unwrap_or(&[]);
    if allowed.contains(&to) {
        return Ok(());
    }
    Err(Problem::conflict(format!(
        "an issue cannot go from {from} to {to}; allowed: {}",
        if allowed.is_empty() {
            "none".to_string()
        } else {
            allowed.join(", ")
        }
    )))
}

pub(crate) fn transition(
    s: &mut State,
    id: &str,
    to: &str,
    resolution: Option<&str>,
    origin: &str,
) -> Result<Value, Problem> {
    let mut issue = s
        .issues
        .get(id)
        .cloned()
        .ok_or_else(|| Problem::not_found(format!("issue {id} does not exist")))?;
    let from = issue["status"].as_str().unwrap_or("open").to_string();
    check_transition(&from, to)?;
    issue["status"] = json!(to);
    if let Some(r) = resolution {
        issue["resolution"] = json!(r);
    }
    let entry = json!({"at": now_rfc3339(), "from": from, "to": to, "origin": origin, "resolution": resolution});
    if let Some(h) = issue["history"].as_array_mut() {
        h.push(entry);
    }
    if to == "resolved" {
        issue["resolvedAt"] = json!(now_unix());
    }
    s.issues.insert(id.to_string(), issue.clone());
    s.emit("issue.status_changed", json!({"issueId": id, "externalId": issue["externalId"], "from": from, "to": to, "resolution": resolution, "origin": origin}));
    Ok(issue)
}

pub(crate) fn add_comment(
    s: &mut State,
    id: &str,
    author: &str,
    body: &str,
    external: Value,
    origin: &str,
) -> Result<Value, Problem> {
    let mut issue = s
        .issues
        .get(id)
        .cloned()
        .ok_or_else(|| Problem::not_found(format!("issue {id} does not exist")))?;
    let cid = s.next("CM");
    let c = json!({"commentId": cid, "externalId": external, "author": author, "body": body, "origin": origin, "at": now_rfc3339()});
    if let Some(list) = issue["comments"].as_array_mut() {
        list.push(c.clone());
    }
    if origin == "network" && issue["firstResponseAt"].is_null() {
        issue["firstResponseAt"] = json!(now_unix());
    }
    s.issues.insert(id.to_string(), issue.clone());
    s.emit(
        "issue.comment_added",
        json!({"issueId": id, "externalId": issue["externalId"], "comment": c, "origin": origin}),
    );
    Ok(c)
}

async fn create_issue(AxState(app): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    write(&app, Method::POST, &headers, Some(&body), |s, payload| {
        let v = validate(OpKind::IssueCreate, payload)?;
        let partner = match (v.get("partnerExternalId").and_then(Value::as_str), v.get("partnerId").and_then(Value::as_str)) {
            (Some(e), _) => s.partners.get(e).cloned(),
            (None, Some(p)) => s.partner_by_id(p).cloned(),
            _ => None,
        }
        .ok_or_else(|| Problem::field("partnerExternalId", "no such partner"))?;
        let id = s.next("TI");
        let issue = with(v, &[("issueId", json!(id)), ("partnerId", partner["partnerId"].clone()), ("partnerExternalId", partner["externalId"].clone()),
            ("status", json!("open")), ("comments", json!([])), ("history", json!([{"at": now_rfc3339(), "to": "open", "origin": "portal"}])),
            ("createdAt", json!(now_rfc3339())), ("createdAtUnix", json!(now_unix()))]);
        s.issues.insert(id.clone(), issue.clone());
        s.applied("issue.create");
        s.emit("issue.created", json!({"issueId": id, "externalId": issue["externalId"], "type": issue["type"], "partnerId": issue["partnerId"], "priority": issue.get("priority").cloned().unwrap_or(json!("normal"))}));
        Ok((StatusCode::CREATED, issue))
    })
    .await
}

async fn get_issue(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read(&app, &headers, |s| {
        s.issues
            .get(&id)
            .cloned()
            .ok_or_else(|| Problem::not_found(format!("issue {id} does not exist")))
    })
    .await
}

async fn comment_issue(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&app, Method::POST, &headers, Some(&body), |s, payload| {
        let v = validate(
            OpKind::IssueComment,
            with(payload, &[("issueId", json!(id))]),
        )?;
        let c = add_comment(
            s,
            &id,
            v["author"].as_str().unwrap_or(""),
            v["body"].as_str().unwrap_or(""),
            v.get("externalId").cloned().unwrap_or(Value::Null),
            "portal",
        )?;
        s.applied("issue.comment");
        Ok((StatusCode::CREATED, c))
    })
    .await
}

async fn issue_status(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&app, Method::POST, &headers, Some(&body), |s, payload| {
        let v = validate(
            OpKind::IssueStatus,
            with(payload, &[("issueId", json!(id))]),
        )?;
        let issue = transition(
            s,
            &id,
            v["status"].as_str().unwrap_or(""),
            v.get("resolution").and_then(Value::as_str),
            "portal",
        )?;
        s.applied("issue.status");
        Ok((StatusCode::OK, issue))
    })
    .await
}

/// The network side acting on an issue (a support agent or the partner): comment and/or status.
async fn network_issue_update(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut s = app.lock();
    let mut out = json!({});
    // Check the status change first, so a refused change leaves no comment behind.
    if let Some(st) = v.get("status").and_then(Value::as_str) {
        let from = s
            .issues
            .get(&id)
            .and_then(|i| i["status"].as_str())
            .unwrap_or("open")
            .to_string();
        if let Err(p) = check_transition(&from, st) {
            return p.into_response();
        }
    }
    if let Some(b) = v.get("comment").and_then(Value::as_str) {
        match add_comment(
            &mut s,
            &id,
            v.get("author")
                .and_then(Value::as_str)
                .unwrap_or("Network support"),
            b,
            Value::Null,
            "network",
        ) {
            Ok(c) => out["comment"] = c,
            Err(p) => return p.into_response(),
        }
    }
    if let Some(st) = v.get("status").and_then(Value::as_str) {
        match transition(
            &mut s,
            &id,
            st,
            v.get("resolution").and_then(Value::as_str),
            "network",
        ) {
            Ok(i) => out["issue"] = i,
            Err(p) => return p.into_response(),
        }
    }
    drop(s);
    app.mark_dirty();
    axum::Json(out).into_response()
}

// ---------------------------------------------------------------- documents

async fn publish_document(
    AxState(app): AxState<Shared>,
    Path((id, v)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&app, Method::PUT, &headers, Some(&body), |s, payload| {
        let version: i64 = v.parse().map_err(|_| Problem::field("version", "must be a positive integer"))?;
        let p = validate(OpKind::DocumentPublish, with(payload, &[("documentId", json!(id)), ("version", json!(version))]))?;
        let mut doc = s.documents.get(&id).cloned().unwrap_or_else(|| json!({"documentId": id, "versions": {}, "status": "draft", "currentVersion": null}));
        let current = doc["currentVersion"].as_i64();
        if let Some(existing) = doc["versions"].get(v.as_str()) {
            let mut same = existing.clone();
            if let Some(m) = same.as_object_mut() {
                for k in ["status", "publishedAt", "supersededBy"] {
                    m.remove(k);
                }
            }
            let mut incoming = p.clone();
            if let Some(m) = incoming.as_object_mut() {
                m.remove("documentId");
                m.remove("version");
            }
            if same == incoming {
                s.counters.duplicates += 1;
                return Ok((StatusCode::OK, with(doc, &[("applied", json!(false)), ("reason", json!("unchanged"))])));
            }
            return Err(Problem::conflict(format!("version {version} of {id} is already published with other content; publish a new version")));
        }
        if let Some(c) = current {
            if version < c {
                return Err(Problem::conflict(format!("version {version} is older than the published version {c}")));
            }
        }
        if doc["status"] == "retracted" {
            doc["status"] = json!("draft");
        }
        let mut entry = with(p.clone(), &[("status", json!("published")), ("publishedAt", json!(now_rfc3339()))]);
        if let Some(m) = entry.as_object_mut() {
            m.remove("documentId");
            m.remove("version");
        }
        if let Some(c) = current {
            if let Some(old) = doc["versions"].get_mut(c.to_string()) {
                old["status"] = json!("superseded");
                old["supersededBy"] = json!(version);
            }
        }
        doc["versions"][v.as_str()] = entry;
        doc["currentVersion"] = json!(version);
        doc["status"] = json!("published");
        doc["title"] = p["title"].clone();
        doc["audiences"] = p["audiences"].clone();
        s.documents.insert(id.clone(), doc.clone());
        s.applied("document.publish");
        if let Some(c) = current {
            s.emit("document.superseded", json!({"documentId": id, "version": c, "supersededBy": version}));
        }
        s.emit("document.published", json!({"documentId": id, "version": version, "title": p["title"], "language": p["language"], "audiences": p["audiences"]}));
        Ok((StatusCode::OK, with(json!({"documentId": id, "version": version, "status": "published", "supersedes": current}), &[("applied", json!(true))])))
    })
    .await
}

async fn retract_document(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    write(&app, Method::DELETE, &headers, None, |s, _| {
        let mut doc = s
            .documents
            .get(&id)
            .cloned()
            .ok_or_else(|| Problem::not_found(format!("document {id} does not exist")))?;
        if doc["status"] == "retracted" {
            s.counters.duplicates += 1;
            return Ok((StatusCode::OK, with(doc, &[("applied", json!(false))])));
        }
        if let Some(vs) = doc["versions"].as_object_mut() {
            for v in vs.values_mut() {
                v["status"] = json!("retracted");
            }
        }
        doc["status"] = json!("retracted");
        doc["retractionReason"] = json!(q.get("reason").cloned().unwrap_or_default());
        s.documents.insert(id.clone(), doc.clone());
        s.applied("document.retract");
        s.emit(
            "document.retracted",
            json!({"documentId": id, "reason": doc["retractionReason"]}),
        );
        Ok((StatusCode::OK, with(doc, &[("applied", json!(true))])))
    })
    .await
}

async fn get_document(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read(&app, &headers, |s| {
        s.documents
            .get(&id)
            .cloned()
            .ok_or_else(|| Problem::not_found(format!("document {id} does not exist")))
    })
    .await
}

// ---------------------------------------------------------------- onboarding, catalog, knowledge

async fn put_onboarding(
    AxState(app): AxState<Shared>,
    Path((id, step)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&app, Method::PUT, &headers, Some(&body), |s, payload| {
        let v = validate(
            OpKind::OnboardingStep,
            with(
                payload,
                &[("externalId", json!(id)), ("stepId", json!(step))],
            ),
        )?;
        if !s.partners.contains_key(&id) {
            return Err(Problem::not_found(format!("partner {id} does not exist")));
        }
        let steps = s.onboarding.entry(id.clone()).or_default();
        if steps
            .get(&step)
            .is_some_and(|old| old["status"] == v["status"])
        {
            s.counters.duplicates += 1;
            let old = steps[&step].clone();
            return Ok((StatusCode::OK, old));
        }
        let rec = with(
            v.clone(),
            &[
                ("origin", json!("portal")),
                ("updatedAt", json!(now_rfc3339())),
            ],
        );
        steps.insert(step.clone(), rec.clone());
        s.applied("onboarding.step");
        s.emit(
            "onboarding.step_recorded",
            json!({"externalId": id, "stepId": step, "status": v["status"]}),
        );
        Ok((StatusCode::OK, rec))
    })
    .await
}

async fn get_onboarding(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read(&app, &headers, |s| {
        if !s.partners.contains_key(&id) {
            return Err(Problem::not_found(format!("partner {id} does not exist")));
        }
        let items: Vec<Value> = s
            .onboarding
            .get(&id)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        Ok(json!({"items": items}))
    })
    .await
}

async fn upsert_catalog(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&app, Method::PUT, &headers, Some(&body), |s, payload| {
        let v = validate(
            OpKind::CatalogUpsert,
            with(payload, &[("itemId", json!(id))]),
        )?;
        let rev = v["revision"].as_i64().unwrap_or(0);
        if let Some(old) = s.catalog.get(&id) {
            let stored = old["revision"].as_i64().unwrap_or(0);
            if old["status"] != "withdrawn" && rev <= stored {
                s.counters.duplicates += 1;
                let reason = if rev < stored {
                    "stale_revision"
                } else {
                    "unchanged"
                };
                return Ok((
                    StatusCode::OK,
                    with(
                        old.clone(),
                        &[("applied", json!(false)), ("reason", json!(reason))],
                    ),
                ));
            }
        }
        let item = with(
            v,
            &[
                ("status", json!("published")),
                ("updatedAt", json!(now_rfc3339())),
            ],
        );
        s.catalog.insert(id.clone(), item.clone());
        s.applied("catalog.upsert");
        s.emit(
            "catalog.published",
            json!({"itemId": id, "sku": item["sku"], "kind": item["kind"], "revision": rev}),
        );
        Ok((StatusCode::OK, with(item, &[("applied", json!(true))])))
    })
    .await
}

async fn withdraw_catalog(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    write(&app, Method::DELETE, &headers, None, |s, _| {
        let mut item = s
            .catalog
            .get(&id)
            .cloned()
            .ok_or_else(|| Problem::not_found(format!("catalog item {id} does not exist")))?;
        if item["status"] == "withdrawn" {
            s.counters.duplicates += 1;
            return Ok((StatusCode::OK, with(item, &[("applied", json!(false))])));
        }
        item["status"] = json!("withdrawn");
        s.catalog.insert(id.clone(), item.clone());
        s.applied("catalog.withdraw");
        s.emit("catalog.withdrawn", json!({"itemId": id}));
        Ok((StatusCode::OK, with(item, &[("applied", json!(true))])))
    })
    .await
}

async fn get_catalog(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read(&app, &headers, |s| {
        s.catalog
            .get(&id)
            .cloned()
            .ok_or_else(|| Problem::not_found(format!("catalog item {id} does not exist")))
    })
    .await
}

async fn get_knowledge(
    AxState(app): AxState<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read(&app, &headers, |s| {
        s.knowledge
            .get(&id)
            .cloned()
            .ok_or_else(|| Problem::not_found(format!("article {id} does not exist")))
    })
    .await
}

pub(crate) fn publish_knowledge(s: &mut State, v: &Value) -> Result<Value, Problem> {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("announcement");
    if kind != "resolution" && kind != "announcement" {
        return Err(Problem::field("kind", "must be resolution or announcement"));
    }
    let mut errors = vec![];
    for f in ["title", "body", "topic", "region"] {
        if v.get(f).and_then(Value::as_str).is_none_or(str::is_empty) {
            errors.push((f.to_string(), "is required".to_string()));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let id = s.next("KA");
    let a = json!({"articleId": id, "kind": kind, "title": v["title"], "body": v["body"], "topic": v["topic"], "region": v["region"],
        "partnerTypes": v.get("partnerTypes").cloned().unwrap_or(json!([])), "language": v.get("language").cloned().unwrap_or(json!("en")), "publishedAt": now_rfc3339()});
    s.knowledge.insert(id.clone(), a.clone());
    let event = if kind == "resolution" {
        "knowledge.published"
    } else {
        "announcement.published"
    };
    s.emit(event, json!({"articleId": id, "kind": kind, "title": a["title"], "topic": a["topic"], "region": a["region"], "partnerTypes": a["partnerTypes"]}));
    Ok(a)
}

async fn raise_knowledge(AxState(app): AxState<Shared>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let r = publish_knowledge(&mut app.lock(), &v);
    app.mark_dirty();
    match r {
        Ok(a) => (StatusCode::CREATED, axum::Json(a)).into_response(),
        Err(p) => p.into_response(),
    }
}

// ---------------------------------------------------------------- notifications, metrics

async fn create_notification(
    AxState(app): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&app, Method::POST, &headers, Some(&body), |s, payload| {
        let v = validate(OpKind::NotificationCreate, payload)?;
        let c = v["communityId"].as_str().unwrap_or_default();
        if !s.communities.contains_key(c) {
            return Err(Problem::field("communityId", "no such community"));
        }
        let id = s.next("NT");
        let n = with(v, &[("notificationId", json!(id)), ("createdAt", json!(now_rfc3339()))]);
        s.notifications.push(n.clone());
        s.applied("notification.create");
        s.emit("notification.posted", json!({"notificationId": id, "communityId": n["communityId"], "kind": n["kind"], "title": n["title"]}));
        Ok((StatusCode::CREATED, n))
    })
    .await
}

async fn portal_metrics(
    AxState(app): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&app, Method::POST, &headers, Some(&body), |s, payload| {
        let v = validate(OpKind::MetricsPortal, payload)?;
        let period = v["period"].as_str().unwrap_or_default().to_string();
        s.portal_metrics
            .insert(period.clone(), v["figures"].clone());
        s.applied("metrics.portal");
        Ok((
            StatusCode::CREATED,
            json!({"period": period, "figures": v["figures"], "accepted": true}),
        ))
    })
    .await
}

async fn metrics(AxState(app): AxState<Shared>, Query(q): Q, headers: HeaderMap) -> Response {
    read(&app, &headers, |s| {
        let community = q.get("communityId").cloned();
        let in_scope = |pid: &Value| -> bool {
            match &community {
                None => true,
                Some(c) => s.memberships.contains_key(&format!("{c}|{}", pid.as_str().unwrap_or(""))),
            }
        };
        let issues: Vec<&Value> = s.issues.values().filter(|i| in_scope(&i["partnerId"])).collect();
        let resolved: Vec<f64> = issues.iter().filter_map(|i| Some((i["resolvedAt"].as_f64()? - i["createdAtUnix"].as_f64()?) / 3600.0)).collect();
        let responded = issues.iter().filter(|i| !i["firstResponseAt"].is_null()).count();
        let open = issues.iter().filter(|i| i["status"] != "resolved" && i["status"] != "closed").count();
        let mean = if resolved.is_empty() { Value::Null } else { json!(resolved.iter().sum::<f64>() / resolved.len() as f64) };
        let participation: Vec<Value> = s.communities.keys().filter(|c| community.as_ref().is_none_or(|x| x == *c)).map(|c| {
            let ms: Vec<&Value> = s.memberships.values().filter(|m| m["communityId"] == c.as_str()).collect();
            json!({"communityId": c, "members": ms.iter().filter(|m| m["status"] != "removed").count(), "active": ms.iter().filter(|m| m["status"] == "active").count()})
        }).collect();
        Ok(json!({
            "issues": {"total": issues.len(), "open": open, "resolved": resolved.len(), "meanResolutionHours": mean},
            "responseRate": if issues.is_empty() { Value::Null } else { json!(responded as f64 / issues.len() as f64) },
            "participation": participation,
            "documents": {"published": s.documents.values().filter(|d| d["status"] == "published").count(),
                          "accepted": s.events.iter().filter(|e| e.kind == "document.accepted").count()},
            "portal": s.portal_metrics,
            "generatedAt": now_rfc3339(),
        }))
    })
    .await
}

// ---------------------------------------------------------------- events, webhooks

async fn events(AxState(app): AxState<Shared>, Query(q): Q, headers: HeaderMap) -> Response {
    read(&app, &headers, |s| page(&s.events, &q, "events")).await
}

async fn subscribe(AxState(app): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    write(&app, Method::POST, &headers, Some(&body), |s, v| {
        let url = v
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut errors = vec![];
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            errors.push(("url".to_string(), "must be an http(s) URL".to_string()));
        }
        let secret = v
            .get("secret")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if secret.len() < 16 {
            errors.push((
                "secret".to_string(),
                "must be at least 16 characters".to_string(),
            ));
        }
        if !errors.is_empty() {
            return Err(Problem::validation(errors));
        }
        let types: Vec<String> = v
            .get("types")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_else(|| vec!["*".into()]);
        let id = s.next("WH");
        // Deliveries start from now: history stays available through the feed.
        let from = s.events.len() as u64;
        s.subscriptions.push(Subscription {
            id: id.clone(),
            url: url.clone(),
            secret,
            types: types.clone(),
            delivered: from,
        });
        s.applied("webhook.subscribe");
        Ok((
            StatusCode::CREATED,
            json!({"subscriptionId": id, "url": url, "types": types, "fromSequence": from + 1}),
        ))
    })
    .await
}

// ---------------------------------------------------------------- sandbox admin

async fn stats(AxState(app): AxState<Shared>) -> Response {
    axum::Json(app.lock().stats()).into_response()
}

async fn get_faults(AxState(app): AxState<Shared>) -> Response {
    let f = app.faults.lock().unwrap_or_else(|p| p.into_inner()).clone();
    axum::Json(serde_json::to_value(f).unwrap_or(Value::Null)).into_response()
}

async fn set_faults(AxState(app): AxState<Shared>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            let f = f.clamp();
            *app.faults.lock().unwrap_or_else(|p| p.into_inner()) = f.clone();
            axum::Json(serde_json::to_value(f).unwrap_or(Value::Null)).into_response()
        }
        Err(e) => Problem::bad_request(format!("faults: {e}")).into_response(),
    }
}

async fn reset(AxState(app): AxState<Shared>) -> Response {
    {
        let mut s = app.lock();
        let tenant = s.tenant.clone();
        *s = State::new(&tenant);
    }
    *app.faults.lock().unwrap_or_else(|p| p.into_inner()) = Faults::default();
    app.mark_dirty();
    StatusCode::NO_CONTENT.into_response()
}

/// Raises a network-side event: training completed, acknowledgement, document accepted,
/// or a notification that needs a person.
async fn raise_event(AxState(app): AxState<Shared>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    const ALLOWED: &[&str] = &[
        "onboarding.training_completed",
        "onboarding.acknowledged",
        "document.accepted",
        "notification.dispute_overdue",
        "notification.document_awaiting_approval",
        "notification.partner_response",
    ];
    if !ALLOWED.contains(&kind) {
        return Problem::field("type", &format!("must be one of {}", ALLOWED.join(", ")))
            .into_response();
    }
    let data = v.get("data").cloned().unwrap_or(json!({}));
    let e = app.lock().emit(kind, data);
    app.mark_dirty();
    (
        StatusCode::CREATED,
        axum::Json(serde_json::to_value(e).unwrap_or(Value::Null)),
    )
        .into_response()
}

async fn home(AxState(app): AxState<Shared>) -> Html<String> {
    let s = app.lock();
    let esc = |v: &Value| -> String {
        let t = match v {
            Value::String(x) => x.clone(),
            Value::Null => String::new(),
            o => o.to_string(),
        };
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut h = String::from("<!doctype html><meta charset=utf-8><title>tg-sandbox</title><style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style>");
    h.push_str(&format!(
        "<h1>Trading Grid sandbox — tenant {}</h1>",
        esc(&json!(s.tenant))
    ));
    let st = s.stats();
    h.push_str(&format!(
        "<p>{} requests, {} events, {} duplicates absorbed, faults injected: {}</p>",
        st["requests"],
        st["events"],
        st["duplicates"],
        esc(&st["faults"])
    ));
    h.push_str("<h2>Partners</h2><table><tr><th>External id</th><th>Partner id</th><th>Company</th><th>Type</th><th>Revision</th></tr>");
    for p in s.partners.values() {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p["externalId"]),
            esc(&p["partnerId"]),
            esc(&p["companyName"]),
            esc(&p["partnerType"]),
            esc(&p["revision"])
        ));
    }
    h.push_str("</table><h2>Memberships</h2><table><tr><th>Community</th><th>Partner</th><th>Status</th></tr>");
    for m in s.memberships.values() {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&m["communityId"]),
            esc(&m["externalId"]),
            esc(&m["status"])
        ));
    }
    h.push_str("</table><h2>Network users</h2><table><tr><th>Company</th><th>User id</th><th>Login id</th><th>Name</th><th>Roles</th></tr>");
    for u in s.users.values() {
        let roles: Vec<&str> = u["roles"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td></tr>",
            esc(&u["companyId"]),
            esc(&u["userId"]),
            esc(&u["loginId"]),
            esc(&u["firstName"]),
            esc(&u["lastName"]),
            esc(&json!(roles.join(", ")))
        ));
    }
    h.push_str("</table><h2>Trading issues</h2><table><tr><th>Issue</th><th>Type</th><th>Title</th><th>Status</th><th>Comments</th></tr>");
    for i in s.issues.values() {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&i["issueId"]),
            esc(&i["type"]),
            esc(&i["title"]),
            esc(&i["status"]),
            i["comments"].as_array().map_or(0, Vec::len)
        ));
    }
    h.push_str("</table><h2>Documents</h2><table><tr><th>Document</th><th>Title</th><th>Version</th><th>Status</th></tr>");
    for d in s.documents.values() {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d["documentId"]),
            esc(&d["title"]),
            esc(&d["currentVersion"]),
            esc(&d["status"])
        ));
    }
    h.push_str("</table><h2>Lens transactions</h2><table><tr><th>Transaction</th><th>Arrived</th><th>EDI type</th><th>Status</th><th>Sender → receiver</th><th>Error</th></tr>");
    for t in s.transactions.iter().rev().take(50) {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
            esc(&t["transactionid"]),
            esc(&t["arrivaltime"]),
            esc(&t["editype"]),
            esc(&t["status"]),
            esc(&t["senderaddress"]),
            esc(&t["receiveraddress"]),
            esc(&t["externalerrormessage"])
        ));
    }
    h.push_str("</table><h2>Recent events</h2><table><tr><th>#</th><th>Type</th><th>At</th></tr>");
    for e in s.events.iter().rev().take(50) {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.sequence,
            esc(&json!(e.kind)),
            esc(&json!(e.occurred_at))
        ));
    }
    h.push_str("</table>");
    Html(h)
}
