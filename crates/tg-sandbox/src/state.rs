//! The sandbox's state: everything Trading Grid would hold for one tenant, plus the
//! event log, idempotency records and counters. One mutex guards it; handlers hold it
//! only for the synchronous part of their work, never across an await.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub sequence: u64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "occurredAt")]
    pub occurred_at: String,
    pub data: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdemRecord {
    pub hash: String,
    pub status: u16,
    pub body: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub types: Vec<String>,
    /// Sequence of the last event handed to this subscriber.
    #[serde(default)]
    pub delivered: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counters {
    pub requests: u64,
    pub applied: BTreeMap<String, u64>,
    pub duplicates: u64,
    pub errors: u64,
    pub rate_limited: u64,
    pub resets: u64,
    pub delayed: u64,
    pub webhook_deliveries: u64,
    pub webhook_failures: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub tenant: String,
    pub company_name: String,
    pub partners: BTreeMap<String, Value>,
    pub communities: BTreeMap<String, Value>,
    /// (communityId, partnerId) → membership.
    pub memberships: BTreeMap<String, Value>,
    pub access_requests: BTreeMap<String, Value>,
    pub issues: BTreeMap<String, Value>,
    pub documents: BTreeMap<String, Value>,
    pub onboarding: BTreeMap<String, BTreeMap<String, Value>>,
    pub catalog: BTreeMap<String, Value>,
    pub knowledge: BTreeMap<String, Value>,
    pub notifications: Vec<Value>,
    pub portal_metrics: BTreeMap<String, Value>,
    /// Community Management users of the hub and partner companies, by userId (the
    /// `uniqueId` create returns). Never holds a password or password hints.
    #[serde(default)]
    pub users: BTreeMap<String, Value>,
    pub events: Vec<Event>,
    pub idempotency: HashMap<String, IdemRecord>,
    pub subscriptions: Vec<Subscription>,
    pub counters: Counters,
    pub next_id: u64,
    /// Things the simulated partners have already reacted to.
    pub simulated: BTreeMap<String, bool>,
    /// Lens: the business documents traded on the network, oldest first.
    #[serde(default)]
    pub transactions: Vec<Value>,
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

pub fn now_unix() -> f64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e9
}

impl State {
    pub fn new(tenant: &str) -> State {
        let mut s = State {
            tenant: tenant.to_string(),
            company_name: "Sandbox Hub Company".into(),
            partners: BTreeMap::new(),
            communities: BTreeMap::new(),
            memberships: BTreeMap::new(),
            access_requests: BTreeMap::new(),
            issues: BTreeMap::new(),
            documents: BTreeMap::new(),
            onboarding: BTreeMap::new(),
            catalog: BTreeMap::new(),
            knowledge: BTreeMap::new(),
            notifications: Vec::new(),
            portal_metrics: BTreeMap::new(),
            users: BTreeMap::new(),
            events: Vec::new(),
            idempotency: HashMap::new(),
            subscriptions: Vec::new(),
            counters: Counters::default(),
            next_id: 1,
            simulated: BTreeMap::new(),
            transactions: Vec::new(),
        };
        for (id, name, types, auto) in [
            (
                "suppliers-global",
                "Suppliers (global)",
                vec!["supplier", "service_provider"],
                false,
            ),
            ("logistics-eu", "Logistics EU", vec!["carrier"], false),
            (
                "distributors-na",
                "Distributors North America",
                vec!["distributor", "customer"],
                true,
            ),
        ] {
            s.communities.insert(
                id.into(),
                json!({"communityId": id, "name": name, "partnerTypes": types, "autoApprove": auto}),
            );
        }
        s
    }

    pub fn next(&mut self, prefix: &str) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!("{prefix}{n:010}")
    }

    pub fn emit(&mut self, kind: &str, data: Value) -> Event {
        let sequence = self.events.len() as u64 + 1;
        let e = Event {
            id: format!("evt_{sequence:012}"),
            sequence,
            kind: kind.to_string(),
            occurred_at: now_rfc3339(),
            data,
        };
        self.events.push(e.clone());
        e
    }

    pub fn applied(&mut self, op: &str) {
        *self.counters.applied.entry(op.to_string()).or_insert(0) += 1;
    }

    pub fn partner_by_id(&self, partner_id: &str) -> Option<&Value> {
        self.partners
            .values()
            .find(|p| p.get("partnerId").and_then(Value::as_str) == Some(partner_id))
    }

    /// A company whose users this tenant manages: its own, or a partner's.
    pub fn company_visible(&self, company_id: &str) -> bool {
        company_id == self.tenant || self.partner_by_id(company_id).is_some()
    }

    /// The user of `company_id` with this loginId (login ids ignore ASCII case).
    pub fn user_by_login(&self, company_id: &str, login_id: &str) -> Option<&Value> {
        self.users.values().find(|u| {
            u["companyId"] == company_id
                && u["loginId"]
                    .as_str()
                    .is_some_and(|l| l.eq_ignore_ascii_case(login_id))
        })
    }

    /// Whether a user other than `except` already signs in with this loginId: login ids
    /// are unique across the network, not per company.
    pub fn login_taken(&self, login_id: &str, except: Option<&str>) -> bool {
        self.users.iter().any(|(id, u)| {
            Some(id.as_str()) != except
                && u["loginId"]
                    .as_str()
                    .is_some_and(|l| l.eq_ignore_ascii_case(login_id))
        })
    }

    pub fn stats(&self) -> Value {
        let c = &self.counters;
        json!({
            "requests": c.requests,
            "applied": c.applied,
            "duplicates": c.duplicates,
            "faults": {"errors": c.errors, "rateLimited": c.rate_limited, "resets": c.resets, "delayed": c.delayed},
            "events": self.events.len(),
            "webhooks": {"subscriptions": self.subscriptions.len(), "deliveries": c.webhook_deliveries, "failures": c.webhook_failures},
            "partners": self.partners.len(),
            "issues": self.issues.len(),
            "documents": self.documents.len(),
            "transactions": self.transactions.len(),
            "users": self.users.len(),
        })
    }
}
