//! `TradingGrid\Client`: the typed operations, `send`/`sendBatch` and reads.

use std::time::{Duration, Instant};

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ArrayKey, ZendHashTable, ZendStr, Zval};
use serde_json::{json, Value};

use tg_core::api::{CompanyUserRead, OpKind, Operation};
use tg_core::batch::{missing_result, BatchOp, BatchResult};
use tg_core::client::{Answer, Client as CoreClient, ClientConfig, Secret};
use tg_core::lens::TransactionSearch;
use tg_core::Error;

use crate::convert::{
    answer_to_zval, array_to_json, element_to_json, json_to_zval, values_of, KeyCache,
};
use crate::guard::{block_on, call, call_json};

const OPTIONS: &[&str] = &[
    "baseUrl",
    "tenant",
    "clientId",
    "clientSecret",
    "timeoutMs",
    "connectTimeoutMs",
    "concurrency",
    "maxRetries",
    "retryBaseMs",
    "retryMaxMs",
    "http2",
];

fn opt_str(o: &Value, key: &str) -> Result<String, Error> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Error::validation(key, "must be a string")),
    }
}

fn opt_u64(o: &Value, key: &str, default: u64) -> Result<u64, Error> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| Error::validation(key, "must be a non-negative integer")),
    }
}

pub fn config_from(options: &Value) -> Result<ClientConfig, Error> {
    let Some(map) = options.as_object() else {
        return Err(Error::validation("options", "must be an array of options"));
    };
    for key in map.keys() {
        if !OPTIONS.contains(&key.as_str()) {
            return Err(Error::validation(
                key.as_str(),
                format!("is not a known option; known: {}", OPTIONS.join(", ")),
            ));
        }
    }
    let d = ClientConfig::default();
    let http2 = match options.get("http2") {
        None | Some(Value::Null) => d.http2,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(Error::validation("http2", "must be true or false")),
    };
    let cap = opt_u64(options, "retryMaxMs", d.retry.cap.as_millis() as u64)?;
    let cfg = ClientConfig {
        base_url: opt_str(options, "baseUrl")?,
        tenant: opt_str(options, "tenant")?,
        client_id: opt_str(options, "clientId")?,
        client_secret: Secret::new(opt_str(options, "clientSecret")?),
        timeout: Duration::from_millis(opt_u64(
            options,
            "timeoutMs",
            d.timeout.as_millis() as u64,
        )?),
        connect_timeout: Duration::from_millis(opt_u64(
            options,
            "connectTimeoutMs",
            d.connect_timeout.as_millis() as u64,
        )?),
        concurrency: usize::try_from(opt_u64(options, "concurrency", d.concurrency as u64)?)
            .unwrap_or(usize::MAX),
        retry: tg_core::retry::RetryPolicy {
            max_retries: u32::try_from(opt_u64(
                options,
                "maxRetries",
                u64::from(d.retry.max_retries),
            )?)
            .unwrap_or(u32::MAX),
            base: Duration::from_millis(opt_u64(
                options,
                "retryBaseMs",
                d.retry.base.as_millis() as u64,
            )?),
            cap: Duration::from_millis(cap),
        },
        http2,
    };
    cfg.validate()?;
    Ok(cfg)
}

fn payload(h: &ZendHashTable, what: &str) -> Result<Value, Error> {
    let v = array_to_json(h, "")?;
    // An empty PHP array is a list to the converter; as a payload it is an empty object.
    Ok(match v {
        Value::Array(a) if a.is_empty() => json!({}),
        Value::Array(_) => {
            return Err(Error::validation(
                what,
                "must be an associative array, not a list",
            ))
        }
        other => other,
    })
}

fn with(mut base: Value, extra: &[(&str, Value)]) -> Value {
    if let Some(m) = base.as_object_mut() {
        for (k, v) in extra {
            m.insert((*k).to_string(), v.clone());
        }
    }
    base
}

/// The keys of a result array, made once per call as interned strings: every result
/// shares them (no key string allocated and hashed per result); and the answers' keys.
struct ResultKeys {
    answers: KeyCache,
    id: ZBox<ZendStr>,
    ok: ZBox<ZendStr>,
    status: ZBox<ZendStr>,
    attempts: ZBox<ZendStr>,
    result: ZBox<ZendStr>,
    error: ZBox<ZendStr>,
}

impl ResultKeys {
    fn new() -> ResultKeys {
        // Request-bound (not persistent): they are dropped before this call returns.
        let k = |s: &str| ZendStr::new_interned(s, false);
        ResultKeys {
            answers: KeyCache::new(),
            id: k("id"),
            ok: k("ok"),
            status: k("status"),
            attempts: k("attempts"),
            result: k("result"),
            error: k("error"),
        }
    }
}

/// One result as the PHP array `sendBatch` documents: id, ok, status, attempts, result,
/// error. The answer body is converted straight from the core's value, never copied.
fn result_zval(r: BatchResult, keys: &mut ResultKeys) -> Result<Zval, Error> {
    let built =
        |e: ext_php_rs::error::Error| Error::Internal(format!("cannot build a PHP array: {e}"));
    fn key(k: &ZBox<ZendStr>) -> ArrayKey<'_> {
        ArrayKey::ZendString(k)
    }
    let mut h = ZendHashTable::with_capacity(6);
    h.insert(key(&keys.id), r.id).map_err(built)?;
    h.insert(key(&keys.ok), r.ok).map_err(built)?;
    h.insert(key(&keys.status), r.status.map(i64::from))
        .map_err(built)?;
    h.insert(key(&keys.attempts), i64::from(r.attempts))
        .map_err(built)?;
    let result = match (&r.raw, &r.result) {
        (Some(bytes), _) => answer_to_zval(bytes, &mut keys.answers)?,
        (None, Some(v)) => json_to_zval(v)?,
        (None, None) => Zval::null(),
    };
    h.insert(key(&keys.result), result).map_err(built)?;
    let error = match &r.error {
        Some(e) => json_to_zval(
            &serde_json::to_value(e)
                .map_err(|e| Error::Internal(format!("cannot encode an error: {e}")))?,
        )?,
        None => Zval::null(),
    };
    h.insert(key(&keys.error), error).map_err(built)?;
    let mut z = Zval::new();
    z.set_hashtable(h);
    Ok(z)
}

fn batch_entry(i: usize, z: &Zval) -> BatchOp {
    let fallback_id = || format!("#{i}");
    let mut v = match element_to_json(z, "ops", i) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return BatchOp {
                id: fallback_id(),
                op: Err(Error::validation(
                    format!("ops[{i}]"),
                    "must be an array with op and payload",
                )),
                ordering_key: None,
                idempotency_key: None,
            }
        }
        Err(e) => {
            return BatchOp {
                id: fallback_id(),
                op: Err(e),
                ordering_key: None,
                idempotency_key: None,
            }
        }
    };
    let id = match v.remove("id") {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => fallback_id(),
    };
    let mut text = |k: &str| match v.remove(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let name = text("op");
    let ordering_key = text("orderingKey");
    let idempotency_key = text("idempotencyKey");
    let op = (|| {
        let name =
            name.ok_or_else(|| Error::validation("op", "is required (e.g. partner.upsert)"))?;
        // Moved out, not copied: the payload is the bulk of the entry.
        let p = match v.remove("payload") {
            Some(p @ Value::Object(_)) => p,
            Some(Value::Array(a)) if a.is_empty() => json!({}),
            Some(_) => return Err(Error::validation("payload", "must be an associative array")),
            None => return Err(Error::validation("payload", "is required")),
        };
        Operation::parse(&name, p)
    })();
    BatchOp {
        id,
        op,
        ordering_key,
        idempotency_key,
    }
}

/// How many entries `sendBatch` converts between two looks at the results that came in.
const FEED_CHUNK: usize = 64;

/// How far the conversion may run ahead of the answers: entries converted but not yet
/// answered. Bounded, so the memory of answered entries is reused for the next ones
/// instead of fresh pages (each a page fault) for a whole 20,000-entry batch. Well above
/// what the tasks hold back (up to 64 results each before they hand them over).
fn feed_window(concurrency: usize) -> usize {
    concurrency.saturating_mul(2 * 64).max(4096)
}

/// The longest the conversion waits for answers when it is a window ahead; then it goes
/// on anyway (the window is a memory bound, never a reason to stall).
const FEED_WAIT: Duration = Duration::from_millis(100);

/// A connection to one Trading Grid tenant (or the sandbox). Build it once per request
/// or worker; connections and the access token are reused across calls.
#[php_class]
#[php(name = "TradingGrid\\Client")]
pub struct Client {
    /// The core client and the pid it was built in. After `fork()` its pooled connections
    /// belong to the parent's dead runtime, so the child builds its own.
    core: std::sync::Mutex<(u32, CoreClient)>,
}

impl Client {
    fn inner(&self) -> Result<CoreClient, Error> {
        let pid = std::process::id();
        let mut guard = self.core.lock().unwrap_or_else(|p| p.into_inner());
        if guard.0 != pid {
            let fresh = CoreClient::new(guard.1.config().clone())?;
            *guard = (pid, fresh);
        }
        Ok(guard.1.clone())
    }

    fn op(
        &self,
        kind: OpKind,
        payload: Value,
        key: Option<String>,
    ) -> Result<Zval, ext_php_rs::exception::PhpException> {
        call_json(|| {
            let op = Operation::new(kind, payload)?;
            let resp = block_on(self.inner()?.execute(&op, key.as_deref()))??;
            Ok(resp.body)
        })
    }

    fn read(
        &self,
        path: String,
        query: Vec<(String, String)>,
    ) -> Result<Zval, ext_php_rs::exception::PhpException> {
        call_json(|| block_on(self.inner()?.get(&path, &query))?)
    }

    fn read_users(
        &self,
        r: CompanyUserRead<'_>,
    ) -> Result<Zval, ext_php_rs::exception::PhpException> {
        call_json(|| {
            let req = r.request()?;
            block_on(self.inner()?.get(&req.path, &req.query))?
        })
    }

    fn change_roles(
        &self,
        company_id: String,
        login_id: String,
        action: &str,
        role_names: &ZendHashTable,
    ) -> Result<Zval, ext_php_rs::exception::PhpException> {
        let p = call(|| {
            let roles: Vec<Value> = strings(role_names, "roleNames", "must be a role name")?
                .into_iter()
                .map(|name| json!({"roleName": name}))
                .collect();
            Ok(
                json!({"companyId": company_id, "loginId": login_id, "action": action, "roles": roles}),
            )
        })?;
        self.op(OpKind::CompanyUserRoles, p, None)
    }
}

/// A PHP list of strings, each refused by its place (`what[i]`) if it is not one.
// Not `Vec<String>` in the signature: ext-php-rs converts that with an iterator that
// panics on a key that is not UTF-8 (an `\Error("Rust panic")` before our guard runs).
fn strings(h: &ZendHashTable, what: &str, expected: &str) -> Result<Vec<String>, Error> {
    values_of(h)
        .into_iter()
        .enumerate()
        .map(|(i, z)| {
            z.dereference()
                .str()
                .map(str::to_string)
                .ok_or_else(|| Error::validation(format!("{what}[{i}]"), expected))
        })
        .collect()
}

fn seg(s: &str) -> Result<String, Error> {
    // "." and ".." would be resolved by the URL parser and address another resource.
    if s == "." || s == ".." {
        return Err(Error::validation(
            "id",
            "must not be . or .. (it would leave its URL path)",
        ));
    }
    if s.is_empty()
        || s.len() > 128
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
    {
        return Err(Error::validation(
            "id",
            "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -",
        ));
    }
    Ok(s.to_string())
}

#[php_impl]
impl Client {
    /// Builds a client from options: baseUrl, tenant, clientId, clientSecret (required),
    /// timeoutMs, connectTimeoutMs, concurrency, maxRetries, retryBaseMs, retryMaxMs, http2.
    /// Throws ValidationException naming the bad option. Nothing is sent yet.
    pub fn __construct(options: &ZendHashTable) -> PhpResult<Self> {
        call(|| {
            let cfg = config_from(&payload(options, "options")?)?;
            Ok(Client {
                core: std::sync::Mutex::new((std::process::id(), CoreClient::new(cfg)?)),
            })
        })
    }

    /// Creates or updates the partner with this externalId (revision-guarded).
    pub fn upsert_partner(&self, partner: &ZendHashTable) -> PhpResult<Zval> {
        let p = call(|| payload(partner, "partner"))?;
        self.op(OpKind::PartnerUpsert, p, None)
    }

    /// Reads a partner by the portal's external id.
    pub fn get_partner(&self, external_id: String) -> PhpResult<Zval> {
        let id = call(|| seg(&external_id))?;
        self.read(format!("/tgx/v1/partners/{id}"), vec![])
    }

    /// Deletes a partner; its memberships become removed.
    pub fn delete_partner(&self, external_id: String) -> PhpResult<Zval> {
        self.op(
            OpKind::PartnerDelete,
            json!({"externalId": external_id}),
            None,
        )
    }

    /// One page of partners: ['items' => [...], 'nextCursor' => ?string, 'hasMore' => bool].
    pub fn list_partners(&self, after: Option<String>, limit: Option<i64>) -> PhpResult<Zval> {
        let mut q = vec![(
            "limit".to_string(),
            limit.unwrap_or(100).clamp(1, 500).to_string(),
        )];
        if let Some(a) = after.filter(|a| !a.is_empty()) {
            q.push(("after".to_string(), a));
        }
        self.read("/tgx/v1/partners".into(), q)
    }

    /// The communities of the tenant.
    pub fn communities(&self) -> PhpResult<Zval> {
        self.read("/tgx/v1/communities".into(), vec![])
    }

    /// Puts a partner (by partnerId) into a community; the membership starts pending.
    pub fn set_membership(
        &self,
        community_id: String,
        partner_id: String,
        role: Option<String>,
    ) -> PhpResult<Zval> {
        let p = json!({"communityId": community_id, "partnerId": partner_id,
                       "role": role.unwrap_or_else(|| "member".into())});
        self.op(OpKind::MembershipSet, p, None)
    }

    /// A partner's memberships: ['items' => [...]].
    pub fn memberships(&self, external_id: String) -> PhpResult<Zval> {
        let id = call(|| seg(&external_id))?;
        self.read(format!("/tgx/v1/partners/{id}/memberships"), vec![])
    }

    /// Asks for access to a community on behalf of a partner.
    pub fn request_access(
        &self,
        request: &ZendHashTable,
        idempotency_key: Option<String>,
    ) -> PhpResult<Zval> {
        let p = call(|| payload(request, "request"))?;
        self.op(OpKind::AccessRequestCreate, p, idempotency_key)
    }

    /// Reads an access request and its status.
    pub fn get_access_request(&self, request_id: String) -> PhpResult<Zval> {
        let id = call(|| seg(&request_id))?;
        self.read(format!("/tgx/v1/access-requests/{id}"), vec![])
    }

    /// Raises a trading issue (shipment discrepancy, invoice dispute, missing documentation, other).
    pub fn create_issue(
        &self,
        issue: &ZendHashTable,
        idempotency_key: Option<String>,
    ) -> PhpResult<Zval> {
        let p = call(|| payload(issue, "issue"))?;
        self.op(OpKind::IssueCreate, p, idempotency_key)
    }

    /// Adds a portal-side comment to an issue.
    pub fn comment_issue(
        &self,
        issue_id: String,
        comment: &ZendHashTable,
        idempotency_key: Option<String>,
    ) -> PhpResult<Zval> {
        let p = call(|| {
            Ok(with(
                payload(comment, "comment")?,
                &[("issueId", json!(issue_id))],
            ))
        })?;
        self.op(OpKind::IssueComment, p, idempotency_key)
    }

    /// Moves an issue to a new status; resolved needs a resolution. Illegal moves throw ApiException 409.
    pub fn set_issue_status(
        &self,
        issue_id: String,
        status: String,
        resolution: Option<String>,
        idempotency_key: Option<String>,
    ) -> PhpResult<Zval> {
        let mut p = json!({"issueId": issue_id, "status": status});
        if let Some(r) = resolution {
            p["resolution"] = json!(r);
        }
        self.op(OpKind::IssueStatus, p, idempotency_key)
    }

    /// Reads an issue with its comments and history.
    pub fn get_issue(&self, issue_id: String) -> PhpResult<Zval> {
        let id = call(|| seg(&issue_id))?;
        self.read(format!("/tgx/v1/issues/{id}"), vec![])
    }

    /// Publishes an approved document version to its audiences; a newer version supersedes.
    pub fn publish_document(&self, version: &ZendHashTable) -> PhpResult<Zval> {
        let p = call(|| payload(version, "version"))?;
        self.op(OpKind::DocumentPublish, p, None)
    }

    /// Withdraws every version of a document.
    pub fn retract_document(&self, document_id: String, reason: Option<String>) -> PhpResult<Zval> {
        let mut p = json!({"documentId": document_id});
        if let Some(r) = reason.filter(|r| !r.is_empty()) {
            p["reason"] = json!(r);
        }
        self.op(OpKind::DocumentRetract, p, None)
    }

    /// Reads a document with its versions.
    pub fn get_document(&self, document_id: String) -> PhpResult<Zval> {
        let id = call(|| seg(&document_id))?;
        self.read(format!("/tgx/v1/documents/{id}"), vec![])
    }

    /// Records an onboarding step completed (or started) on the portal.
    pub fn record_onboarding_step(
        &self,
        external_id: String,
        step_id: String,
        step: &ZendHashTable,
    ) -> PhpResult<Zval> {
        let p = call(|| {
            Ok(with(
                payload(step, "step")?,
                &[
                    ("externalId", json!(external_id)),
                    ("stepId", json!(step_id)),
                ],
            ))
        })?;
        self.op(OpKind::OnboardingStep, p, None)
    }

    /// A partner's onboarding steps.
    pub fn onboarding(&self, external_id: String) -> PhpResult<Zval> {
        let id = call(|| seg(&external_id))?;
        self.read(format!("/tgx/v1/partners/{id}/onboarding"), vec![])
    }

    /// Publishes a catalog item or notice (revision-guarded).
    pub fn upsert_catalog_item(&self, item: &ZendHashTable) -> PhpResult<Zval> {
        let p = call(|| payload(item, "item"))?;
        self.op(OpKind::CatalogUpsert, p, None)
    }

    /// Withdraws a catalog item.
    pub fn withdraw_catalog_item(&self, item_id: String) -> PhpResult<Zval> {
        self.op(OpKind::CatalogWithdraw, json!({"itemId": item_id}), None)
    }

    /// Reads a knowledge article or announcement raised on the network side.
    pub fn get_knowledge(&self, article_id: String) -> PhpResult<Zval> {
        let id = call(|| seg(&article_id))?;
        self.read(format!("/tgx/v1/knowledge/{id}"), vec![])
    }

    /// Posts a notice or task to a community.
    pub fn notify(
        &self,
        notification: &ZendHashTable,
        idempotency_key: Option<String>,
    ) -> PhpResult<Zval> {
        let p = call(|| payload(notification, "notification"))?;
        self.op(OpKind::NotificationCreate, p, idempotency_key)
    }

    /// Network figures (issue resolution times, response rates, participation).
    pub fn metrics(&self, community_id: Option<String>) -> PhpResult<Zval> {
        let q = community_id
            .filter(|c| !c.is_empty())
            .map(|c| vec![("communityId".to_string(), c)])
            .unwrap_or_default();
        self.read("/tgx/v1/metrics".into(), q)
    }

    /// Sends the portal's own figures for a period.
    pub fn send_portal_metrics(
        &self,
        metrics: &ZendHashTable,
        idempotency_key: Option<String>,
    ) -> PhpResult<Zval> {
        let p = call(|| payload(metrics, "metrics"))?;
        self.op(OpKind::MetricsPortal, p, idempotency_key)
    }

    /// One page of the event feed after a cursor: ['events' => [...], 'nextCursor' => ?string, 'hasMore' => bool].
    pub fn events(&self, after: Option<String>, limit: Option<i64>) -> PhpResult<Zval> {
        let mut q = vec![(
            "limit".to_string(),
            limit.unwrap_or(100).clamp(1, 500).to_string(),
        )];
        if let Some(a) = after.filter(|a| !a.is_empty()) {
            q.push(("after".to_string(), a));
        }
        self.read("/tgx/v1/events".into(), q)
    }

    /// The hub company's partner directory (documented Community Management read),
    /// optionally filtered by partnerCompanyId, partnerCompanyName or tradingAddress:
    /// ['partners' => [['partnerCompanyId' =>, 'partnerCompanyName' =>, 'tradingAddress' =>, 'status' =>], ...]].
    pub fn partner_directory(&self, filters: Option<&ZendHashTable>) -> PhpResult<Zval> {
        const FILTERS: [&str; 3] = ["partnerCompanyId", "partnerCompanyName", "tradingAddress"];
        let (tenant, query) = call(|| {
            let mut query = vec![];
            if let Some(f) = filters {
                let given = payload(f, "filters")?;
                for (k, v) in given.as_object().into_iter().flatten() {
                    if !FILTERS.contains(&k.as_str()) {
                        return Err(Error::validation(
                            format!("filters.{k}"),
                            format!("is not a filter; use {}", FILTERS.join(", ")),
                        ));
                    }
                    match v.as_str() {
                        Some(text) if !text.is_empty() && text.len() <= 200 => {
                            query.push((k.clone(), text.to_string()))
                        }
                        _ => {
                            return Err(Error::validation(
                                format!("filters.{k}"),
                                "must be a string of 1 to 200 characters",
                            ))
                        }
                    }
                }
            }
            Ok((seg(&self.inner()?.config().tenant)?, query))
        })?;
        self.read(
            format!("/TGCommunityServices/v1/companies/{tenant}/partnerDirectory"),
            query,
        )
    }

    /// Searches Lens (documented by OpenText: `POST /visibility_transaction_search`,
    /// GraphQL `getTransactions`) for business documents traded on the network. `$search`
    /// holds Lens's own query arguments — count (1-1000), offset, filters
    /// ([['field' => 'status', 'values' => [['value' => 'F']]]]), fields (must/should),
    /// ranges (['field' => 'arrivaltime', 'from' => RFC 3339, 'to' => ...]), sortby,
    /// contentKeyFilters, query — plus contentKeys, the content key names to return
    /// (default: purchase order number, invoice number, shipment identification).
    /// Returns ['count' => int, 'total' => int, 'offset' => int, 'transactions' => [...]].
    /// Throws ValidationException naming the bad argument before anything is sent.
    pub fn search_transactions(&self, search: &ZendHashTable) -> PhpResult<Zval> {
        call_json(|| {
            let search = TransactionSearch::new(payload(search, "search")?)?;
            block_on(self.inner()?.search_transactions(&search))?
        })
    }

    /// One page of the Lens transactions that need a person — delivery failed (status F)
    /// or validation error (V) — whose status was set at or after `$since` (RFC 3339), oldest
    /// first: the exceptions the portal turns into trading issues. Same result shape as
    /// searchTransactions().
    pub fn transaction_exceptions(
        &self,
        since: Option<String>,
        count: Option<i64>,
        offset: Option<i64>,
    ) -> PhpResult<Zval> {
        call_json(|| {
            let search = TransactionSearch::exceptions(
                since.as_deref(),
                count.unwrap_or(100),
                offset.unwrap_or(0),
            )?;
            block_on(self.inner()?.search_transactions(&search))?
        })
    }

    /// Subscribes a URL to signed event deliveries.
    pub fn subscribe_webhook(
        &self,
        url: String,
        secret: String,
        types: Option<&ZendHashTable>,
    ) -> PhpResult<Zval> {
        call_json(|| {
            if secret.len() < 16 {
                return Err(Error::validation(
                    "secret",
                    "must be at least 16 characters",
                ));
            }
            let types: Vec<String> = match types {
                None => vec!["*".into()],
                Some(h) => strings(h, "types", "must be an event type name")?,
            };
            let body = json!({"url": url, "secret": secret, "types": types});
            block_on(self.inner()?.post("/tgx/v1/webhooks", body, None))?
        })
    }

    /// Creates a network user of a company: the hub (the tenant) or a partner (its
    /// partnerId). $user is the documented "Create User" body: loginId, firstName,
    /// lastName, type ('Web') and contactInformation.email are required; address,
    /// preferredLanguage, preferredTimezone, loginPassword, ... are optional.
    /// Returns ['uniqueId' => string]: store that id, a loginId can change. A loginId
    /// already taken throws ApiException 409 (after a retry that was applied, too:
    /// then look the user up with companyUsers($companyId, $loginId)).
    pub fn create_company_user(
        &self,
        company_id: String,
        user: &ZendHashTable,
        idempotency_key: Option<String>,
    ) -> PhpResult<Zval> {
        let p = call(|| Ok(json!({"companyId": company_id, "user": payload(user, "user")?})))?;
        self.op(OpKind::CompanyUserCreate, p, idempotency_key)
    }

    /// Changes some of a user's fields, addressed by its userId (uniqueId): only the
    /// members given change, nested arrays (address, contactInformation) member by
    /// member. A new loginId is allowed if it is free. Returns the user as it is now.
    pub fn update_company_user(
        &self,
        company_id: String,
        user_id: String,
        changes: &ZendHashTable,
    ) -> PhpResult<Zval> {
        let p = call(|| {
            Ok(json!({"companyId": company_id, "userId": user_id,
                      "changes": payload(changes, "changes")?}))
        })?;
        self.op(OpKind::CompanyUserUpdate, p, None)
    }

    /// Deletes a user by its userId. One that no longer exists throws ApiException 404.
    pub fn delete_company_user(&self, company_id: String, user_id: String) -> PhpResult<Zval> {
        self.op(
            OpKind::CompanyUserDelete,
            json!({"companyId": company_id, "userId": user_id}),
            None,
        )
    }

    /// One user's details, by its userId or its current loginId (never its password).
    pub fn company_user(&self, company_id: String, user_id_or_login_id: String) -> PhpResult<Zval> {
        self.read_users(CompanyUserRead::One {
            company_id: &company_id,
            user: &user_id_or_login_id,
        })
    }

    /// A company's users: ['users' => [['userId', 'loginId', 'email', 'firstName',
    /// 'lastName'], ...]], or only the one with this loginId. Users cannot be searched
    /// by e-mail or name: list them and match, then keep the userId.
    pub fn company_users(&self, company_id: String, login_id: Option<String>) -> PhpResult<Zval> {
        let login_id = login_id.filter(|l| !l.is_empty());
        self.read_users(CompanyUserRead::List {
            company_id: &company_id,
            login_id: login_id.as_deref(),
        })
    }

    /// A user's roles, by its current loginId: ['userId', 'loginId', 'roles' => [['roleName' => ...], ...]].
    pub fn company_user_roles(&self, company_id: String, login_id: String) -> PhpResult<Zval> {
        self.read_users(CompanyUserRead::Roles {
            company_id: &company_id,
            login_id: &login_id,
        })
    }

    /// Gives a user (by its current loginId) these roles, by name; roles it already
    /// holds are kept once. Returns its roles as companyUserRoles() does.
    pub fn add_company_user_roles(
        &self,
        company_id: String,
        login_id: String,
        role_names: &ZendHashTable,
    ) -> PhpResult<Zval> {
        self.change_roles(company_id, login_id, "add", role_names)
    }

    /// Takes these roles (by name) from a user (by its current loginId); names it does
    /// not hold are ignored. Returns its roles as companyUserRoles() does.
    pub fn remove_company_user_roles(
        &self,
        company_id: String,
        login_id: String,
        role_names: &ZendHashTable,
    ) -> PhpResult<Zval> {
        self.change_roles(company_id, login_id, "remove", role_names)
    }

    /// Checks the connection: fetches a token and reads the communities.
    /// Returns ['ok' => true, 'latencyMs' => float, 'tenant' => string, 'communities' => int].
    pub fn ping(&self) -> PhpResult<Zval> {
        call_json(|| {
            let started = Instant::now();
            let inner = self.inner()?;
            let body = block_on(inner.get("/tgx/v1/communities", &[]))??;
            let n = body
                .get("items")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            Ok(
                json!({"ok": true, "latencyMs": started.elapsed().as_secs_f64() * 1000.0,
                      "tenant": inner.config().tenant, "communities": n}),
            )
        })
    }

    /// Sends one operation in the sendBatch format and returns its result (never throws for
    /// a failed operation; the result says what failed).
    pub fn send(&self, op: &Zval) -> PhpResult<Zval> {
        call(|| {
            let entry = batch_entry(0, op);
            let core = self.inner()?;
            let first = block_on(async {
                let mut stream = core.start_batch_as(vec![entry], Answer::Raw);
                stream
                    .recv()
                    .await
                    .and_then(|chunk| chunk.into_iter().next())
            })?;
            result_zval(
                first.map_or_else(|| missing_result(0), |(_, r)| r),
                &mut ResultKeys::new(),
            )
        })
    }

    /// Sends many operations concurrently (up to `concurrency` in flight), in order per
    /// orderingKey, and returns one result per operation in the input order.
    pub fn send_batch(&self, ops: &ZendHashTable) -> PhpResult<Zval> {
        call(|| {
            let items = values_of(ops);
            let total = items.len();
            let core = self.inner()?;
            let window = feed_window(core.config().concurrency);
            let built = |e: ext_php_rs::error::Error| {
                Error::Internal(format!("cannot build a PHP array: {e}"))
            };
            // Filled in input order first, then each slot replaced as its result arrives
            // (replacing keeps the position), so results are converted to PHP while the
            // rest are still on the wire.
            let mut out = ZendHashTable::with_capacity(u32::try_from(total).unwrap_or(u32::MAX));
            for _ in 0..total {
                out.push(Zval::null()).map_err(built)?;
            }
            let mut seen = vec![false; total];
            let mut keys = ResultKeys::new();
            // Returns how many results the chunk held.
            let mut place = |chunk: Vec<(usize, BatchResult)>| {
                let n = chunk.len();
                for (i, r) in chunk {
                    let slot = i64::try_from(i)
                        .map_err(|_| Error::Internal("result index out of range".into()))?;
                    out.insert_at_index(slot, result_zval(r, &mut keys)?)
                        .map_err(built)?;
                    if let Some(s) = seen.get_mut(i) {
                        *s = true;
                    }
                }
                Ok::<usize, Error>(n)
            };
            block_on(async {
                // Each entry is handed to the batch as soon as it is converted, so the
                // first requests are on the wire while the rest are still PHP arrays.
                let (mut feed, mut stream) = core.open_batch(Answer::Raw);
                let mut answered = 0usize;
                for (i, z) in items.into_iter().enumerate() {
                    feed.push(batch_entry(i, z));
                    if i % FEED_CHUNK == FEED_CHUNK - 1 {
                        while let Ok(chunk) = stream.try_recv() {
                            answered += place(chunk)?;
                        }
                        while (i + 1).saturating_sub(answered) > window {
                            match tokio::time::timeout(FEED_WAIT, stream.recv()).await {
                                Ok(Some(chunk)) => answered += place(chunk)?,
                                Ok(None) | Err(_) => break,
                            }
                        }
                    }
                }
                // The batch is complete: tasks end when the last group is sent.
                drop(feed);
                // Results come in chunks (each task hands over a few dozen at a time), so
                // this thread wakes a few hundred times for 20,000 operations, not 20,000.
                while let Some(chunk) = stream.recv().await {
                    place(chunk)?;
                }
                Ok::<(), Error>(())
            })??;
            for (i, _) in seen.iter().enumerate().filter(|(_, s)| !**s) {
                let slot = i64::try_from(i)
                    .map_err(|_| Error::Internal("result index out of range".into()))?;
                out.insert_at_index(slot, result_zval(missing_result(i), &mut keys)?)
                    .map_err(built)?;
            }
            let mut z = Zval::new();
            z.set_hashtable(out);
            Ok(z)
        })
    }
}
