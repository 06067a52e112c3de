//! The operations of the Trading Grid contract (docs/contract.md): their payload
//! schemas, how each becomes an HTTP request, and its ordering key.

use serde_json::Value;

use crate::error::{Error, FieldError, Result};
use crate::schema::{opt, req, validate_object, Kind, Rule};

pub const PARTNER_TYPES: &[&str] = &[
    "supplier",
    "distributor",
    "carrier",
    "customer",
    "service_provider",
];
pub const ISSUE_TYPES: &[&str] = &[
    "shipment_discrepancy",
    "invoice_dispute",
    "missing_documentation",
    "other",
];
pub const ISSUE_STATUSES: &[&str] = &[
    "open",
    "in_progress",
    "awaiting_partner",
    "resolved",
    "closed",
];
const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];
const STEP_STATUSES: &[&str] = &["completed", "in_progress"];
const CATALOG_KINDS: &[&str] = &["specification", "packaging", "pricing_notice", "launch"];
const NOTIFICATION_KINDS: &[&str] = &["notice", "task"];
const ROLES: &[&str] = &["member", "admin", "observer"];

const TEXT: Kind = Kind::Str { min: 1, max: 200 };
const LONG_TEXT: Kind = Kind::Str {
    min: 1,
    max: 20_000,
};
const REVISION: Kind = Kind::Int {
    min: 0,
    max: i64::MAX,
};

const AUDIENCES: &[Rule] = &[
    opt("communities", Kind::IdentList { min: 0, max: 100 }),
    opt("partnerTypes", Kind::EnumList(PARTNER_TYPES)),
];

const PARTNER: &[Rule] = &[
    req("externalId", Kind::Ident),
    req("companyName", TEXT),
    req("partnerType", Kind::Enum(PARTNER_TYPES)),
    req("country", Kind::Country),
    req("contactEmail", Kind::Email),
    opt("contactName", TEXT),
    opt("tradingAddress", Kind::TradingAddress),
    opt("communities", Kind::IdentList { min: 0, max: 50 }),
    req("revision", REVISION),
    opt("attributes", Kind::Map { max: 100 }),
];
const PARTNER_REF: &[Rule] = &[req("externalId", Kind::Ident)];
const MEMBERSHIP: &[Rule] = &[
    req("communityId", Kind::Ident),
    req("partnerId", Kind::Ident),
    opt("role", Kind::Enum(ROLES)),
];
const ACCESS_REQUEST: &[Rule] = &[
    opt("partnerId", Kind::Ident),
    opt("externalId", Kind::Ident),
    req("communityId", Kind::Ident),
    opt("reason", Kind::Str { min: 0, max: 2000 }),
];
const REFERENCES: &[Rule] = &[
    opt("purchaseOrder", Kind::Str { min: 1, max: 64 }),
    opt("invoice", Kind::Str { min: 1, max: 64 }),
    opt("shipment", Kind::Str { min: 1, max: 64 }),
];
const ATTACHMENT: &[Rule] = &[
    req("name", Kind::Str { min: 1, max: 255 }),
    req("sha256", Kind::Sha256),
    opt(
        "size",
        Kind::Int {
            min: 0,
            max: 1 << 40,
        },
    ),
    opt("contentType", Kind::Str { min: 1, max: 127 }),
];
const ISSUE: &[Rule] = &[
    req("externalId", Kind::Ident),
    req("type", Kind::Enum(ISSUE_TYPES)),
    req("title", TEXT),
    req("description", LONG_TEXT),
    opt("partnerId", Kind::Ident),
    opt("partnerExternalId", Kind::Ident),
    opt("priority", Kind::Enum(PRIORITIES)),
    opt("references", Kind::Object(REFERENCES)),
    opt(
        "attachments",
        Kind::ObjectList {
            rules: ATTACHMENT,
            max: 50,
        },
    ),
    opt("dueDate", Kind::Date),
];
const COMMENT: &[Rule] = &[
    req("issueId", Kind::Ident),
    opt("externalId", Kind::Ident),
    req("author", TEXT),
    req("body", LONG_TEXT),
];
const ISSUE_STATUS: &[Rule] = &[
    req("issueId", Kind::Ident),
    req("status", Kind::Enum(ISSUE_STATUSES)),
    opt("resolution", LONG_TEXT),
];
const TRANSLATION: &[Rule] = &[
    req("language", Kind::Language),
    req("title", TEXT),
    opt("sha256", Kind::Sha256),
];
const DOCUMENT: &[Rule] = &[
    req("documentId", Kind::Ident),
    req(
        "version",
        Kind::Int {
            min: 1,
            max: i64::MAX,
        },
    ),
    req("title", TEXT),
    req("language", Kind::Language),
    opt(
        "translations",
        Kind::ObjectList {
            rules: TRANSLATION,
            max: 100,
        },
    ),
    req("audiences", Kind::Object(AUDIENCES)),
    req("sha256", Kind::Sha256),
    opt(
        "size",
        Kind::Int {
            min: 0,
            max: 1 << 40,
        },
    ),
    opt("effectiveDate", Kind::Date),
    req("approved", Kind::Bool),
    opt("revision", REVISION),
];
const DOCUMENT_REF: &[Rule] = &[
    req("documentId", Kind::Ident),
    opt("reason", Kind::Str { min: 0, max: 2000 }),
];
const ONBOARDING_STEP: &[Rule] = &[
    req("externalId", Kind::Ident),
    req("stepId", Kind::Ident),
    req("status", Kind::Enum(STEP_STATUSES)),
    opt("completedAt", Kind::Str { min: 1, max: 40 }),
    opt("evidence", Kind::Str { min: 0, max: 2000 }),
];
const CATALOG: &[Rule] = &[
    req("itemId", Kind::Ident),
    req("sku", Kind::Str { min: 1, max: 64 }),
    req("title", TEXT),
    req("kind", Kind::Enum(CATALOG_KINDS)),
    opt(
        "description",
        Kind::Str {
            min: 0,
            max: 20_000,
        },
    ),
    req("audiences", Kind::Object(AUDIENCES)),
    opt("effectiveDate", Kind::Date),
    opt("attributes", Kind::Map { max: 100 }),
    req("revision", REVISION),
];
const CATALOG_REF: &[Rule] = &[req("itemId", Kind::Ident)];
const NOTIFICATION: &[Rule] = &[
    req("communityId", Kind::Ident),
    req("kind", Kind::Enum(NOTIFICATION_KINDS)),
    req("title", TEXT),
    req("body", LONG_TEXT),
    opt("dueDate", Kind::Date),
];
const PORTAL_METRICS: &[Rule] = &[
    req("period", Kind::Str { min: 4, max: 10 }),
    req("figures", Kind::Map { max: 100 }),
];

// Community Management users, as OpenText documents them (the "Create User", "Update
// User" and "Update Roles" requests of the public Postman collection): the nested
// `user`, `changes` and `roles` members are the request bodies, verbatim.
const YES_NO: &[&str] = &["Yes", "No"];
/// The only user type the documented requests show.
const USER_TYPES: &[&str] = &["Web"];
/// Lower case like every other enum here; sent as the documented `Add` / `Remove`.
pub const ROLE_ACTIONS: &[&str] = &["add", "remove"];
const PHONE: Kind = Kind::Str { min: 0, max: 40 };

const USER_ADDRESS: &[Rule] = &[
    opt("addressLine1", Kind::Str { min: 0, max: 200 }),
    opt("addressLine2", Kind::Str { min: 0, max: 200 }),
    opt("city", Kind::Str { min: 0, max: 100 }),
    opt("state", Kind::Str { min: 0, max: 100 }),
    opt("postalCode", Kind::Str { min: 0, max: 20 }),
    opt("countryCode", Kind::Country),
];
const USER_CONTACT: &[Rule] = &[
    req("email", Kind::Email),
    opt("phoneNumber", PHONE),
    // Spelled as the documented request spells it.
    opt("phoneNumberExtention", Kind::Str { min: 0, max: 10 }),
    opt("mobile", PHONE),
    opt("faxNumber", PHONE),
];
const PASSWORD_HINT: &[Rule] = &[req("question", TEXT), req("answer", TEXT)];
const PASSWORD_HINTS: &[Rule] = &[
    opt("pwdHintQuestionAnswer1", Kind::Object(PASSWORD_HINT)),
    opt("pwdHintQuestionAnswer2", Kind::Object(PASSWORD_HINT)),
    opt("pwdHintQuestionAnswer3", Kind::Object(PASSWORD_HINT)),
    opt("pwdHintQuestionAnswer4", Kind::Object(PASSWORD_HINT)),
    opt("pwdHintQuestionAnswer5", Kind::Object(PASSWORD_HINT)),
    opt("pwdHintQuestionAnswer6", Kind::Object(PASSWORD_HINT)),
];
/// The body of "Create User"; an update (`Kind::Changes`) may name any of it.
const USER: &[Rule] = &[
    req("loginId", Kind::LoginId),
    req("firstName", TEXT),
    req("lastName", TEXT),
    req("type", Kind::Enum(USER_TYPES)),
    req("contactInformation", Kind::Object(USER_CONTACT)),
    opt("address", Kind::Object(USER_ADDRESS)),
    opt("loginPassword", Kind::Str { min: 8, max: 128 }),
    opt("userPasswordHint", Kind::Object(PASSWORD_HINTS)),
    opt("preferredLanguage", Kind::Language),
    opt("preferredTimezone", Kind::Str { min: 1, max: 64 }),
    opt("preferredDateFormat", Kind::Str { min: 1, max: 32 }),
    opt("isConsentClause", Kind::Enum(YES_NO)),
    opt("isDayLightSavingsTimeObserved", Kind::Enum(YES_NO)),
    opt("isRequiredOpenTextMarketingMaterials", Kind::Enum(YES_NO)),
];
const COMPANY_USER_CREATE: &[Rule] = &[
    req("companyId", Kind::Ident),
    req("user", Kind::Object(USER)),
];
const COMPANY_USER_UPDATE: &[Rule] = &[
    req("companyId", Kind::Ident),
    req("userId", Kind::Ident),
    req("changes", Kind::Changes(USER)),
];
const COMPANY_USER_REF: &[Rule] = &[req("companyId", Kind::Ident), req("userId", Kind::Ident)];
const ROLE: &[Rule] = &[req("roleName", Kind::Str { min: 1, max: 100 })];
const COMPANY_USER_ROLES: &[Rule] = &[
    req("companyId", Kind::Ident),
    req("loginId", Kind::LoginId),
    req("action", Kind::Enum(ROLE_ACTIONS)),
    req(
        "roles",
        Kind::ObjectList {
            rules: ROLE,
            max: 100,
        },
    ),
];

/// Every operation the client can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    PartnerUpsert,
    PartnerDelete,
    MembershipSet,
    AccessRequestCreate,
    IssueCreate,
    IssueComment,
    IssueStatus,
    DocumentPublish,
    DocumentRetract,
    OnboardingStep,
    CatalogUpsert,
    CatalogWithdraw,
    NotificationCreate,
    MetricsPortal,
    CompanyUserCreate,
    CompanyUserUpdate,
    CompanyUserDelete,
    CompanyUserRoles,
}

impl OpKind {
    pub const ALL: [OpKind; 18] = [
        OpKind::PartnerUpsert,
        OpKind::PartnerDelete,
        OpKind::MembershipSet,
        OpKind::AccessRequestCreate,
        OpKind::IssueCreate,
        OpKind::IssueComment,
        OpKind::IssueStatus,
        OpKind::DocumentPublish,
        OpKind::DocumentRetract,
        OpKind::OnboardingStep,
        OpKind::CatalogUpsert,
        OpKind::CatalogWithdraw,
        OpKind::NotificationCreate,
        OpKind::MetricsPortal,
        OpKind::CompanyUserCreate,
        OpKind::CompanyUserUpdate,
        OpKind::CompanyUserDelete,
        OpKind::CompanyUserRoles,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OpKind::PartnerUpsert => "partner.upsert",
            OpKind::PartnerDelete => "partner.delete",
            OpKind::MembershipSet => "membership.set",
            OpKind::AccessRequestCreate => "access_request.create",
            OpKind::IssueCreate => "issue.create",
            OpKind::IssueComment => "issue.comment",
            OpKind::IssueStatus => "issue.status",
            OpKind::DocumentPublish => "document.publish",
            OpKind::DocumentRetract => "document.retract",
            OpKind::OnboardingStep => "onboarding.step",
            OpKind::CatalogUpsert => "catalog.upsert",
            OpKind::CatalogWithdraw => "catalog.withdraw",
            OpKind::NotificationCreate => "notification.create",
            OpKind::MetricsPortal => "metrics.portal",
            OpKind::CompanyUserCreate => "company_user.create",
            OpKind::CompanyUserUpdate => "company_user.update",
            OpKind::CompanyUserDelete => "company_user.delete",
            OpKind::CompanyUserRoles => "company_user.roles",
        }
    }

    pub fn parse(name: &str) -> Result<OpKind> {
        OpKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = OpKind::ALL.iter().map(|k| k.name()).collect();
                Error::validation(
                    "op",
                    format!(
                        "unknown operation '{}'; known: {}",
                        truncate(name, 64),
                        known.join(", ")
                    ),
                )
            })
    }

    fn rules(self) -> &'static [Rule] {
        match self {
            OpKind::PartnerUpsert => PARTNER,
            OpKind::PartnerDelete => PARTNER_REF,
            OpKind::MembershipSet => MEMBERSHIP,
            OpKind::AccessRequestCreate => ACCESS_REQUEST,
            OpKind::IssueCreate => ISSUE,
            OpKind::IssueComment => COMMENT,
            OpKind::IssueStatus => ISSUE_STATUS,
            OpKind::DocumentPublish => DOCUMENT,
            OpKind::DocumentRetract => DOCUMENT_REF,
            OpKind::OnboardingStep => ONBOARDING_STEP,
            OpKind::CatalogUpsert => CATALOG,
            OpKind::CatalogWithdraw => CATALOG_REF,
            OpKind::NotificationCreate => NOTIFICATION,
            OpKind::MetricsPortal => PORTAL_METRICS,
            OpKind::CompanyUserCreate => COMPANY_USER_CREATE,
            OpKind::CompanyUserUpdate => COMPANY_USER_UPDATE,
            OpKind::CompanyUserDelete => COMPANY_USER_REF,
            OpKind::CompanyUserRoles => COMPANY_USER_ROLES,
        }
    }

    /// A `POST` creates something new each time, so a retry is safe only with an
    /// idempotency key; the others are idempotent by nature.
    pub fn method(self) -> Method {
        match self {
            OpKind::PartnerUpsert
            | OpKind::MembershipSet
            | OpKind::DocumentPublish
            | OpKind::OnboardingStep
            | OpKind::CatalogUpsert
            | OpKind::CompanyUserUpdate
            | OpKind::CompanyUserRoles => Method::Put,
            OpKind::PartnerDelete
            | OpKind::DocumentRetract
            | OpKind::CatalogWithdraw
            | OpKind::CompanyUserDelete => Method::Delete,
            OpKind::CompanyUserCreate
            | OpKind::AccessRequestCreate
            | OpKind::IssueCreate
            | OpKind::IssueComment
            | OpKind::IssueStatus
            | OpKind::NotificationCreate
            | OpKind::MetricsPortal => Method::Post,
        }
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
    /// A read sent as a `POST` because its criteria travel in the body (Lens's GraphQL
    /// search): safe to retry like a `GET`, so it needs no idempotency key.
    Search,
}

/// One HTTP request derived from an operation.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

/// A validated operation, ready to send.
#[derive(Debug, Clone)]
pub struct Operation {
    pub kind: OpKind,
    pub payload: Value,
}

fn s<'a>(payload: &'a Value, key: &str) -> &'a str {
    payload.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Where a company's users live (`companyId` is the hub tenant or a partner company).
fn users_path(company_id: &str) -> String {
    format!(
        "/TGCommunityServices/v1/companies/{}/users",
        seg(company_id)
    )
}

/// Percent-encodes a path segment (identifiers are already restricted, this is belt and
/// braces; a login id such as `ada@acme.example` keeps its `@`, as the documented
/// requests send it, since RFC 3986 allows `@` in a path segment).
fn seg(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'~' | b':' | b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Operation {
    /// Validates `payload` for `kind`; every problem is reported, each by its path.
    pub fn new(kind: OpKind, payload: Value) -> Result<Operation> {
        let mut errors = Vec::new();
        validate_object(&payload, kind.rules(), "", &mut errors);
        if errors.is_empty() {
            cross_checks(kind, &payload, &mut errors);
        }
        if errors.is_empty() {
            Ok(Operation { kind, payload })
        } else {
            Err(Error::Validation { errors })
        }
    }

    pub fn parse(op: &str, payload: Value) -> Result<Operation> {
        Operation::new(OpKind::parse(op)?, payload)
    }

    /// Operations on one entity share a key; they are sent one after another.
    pub fn ordering_key(&self) -> String {
        let p = &self.payload;
        match self.kind {
            OpKind::PartnerUpsert | OpKind::PartnerDelete | OpKind::OnboardingStep => {
                format!("partner:{}", s(p, "externalId"))
            }
            OpKind::MembershipSet => format!("partner:{}", s(p, "partnerId")),
            OpKind::AccessRequestCreate => {
                let who = if s(p, "externalId").is_empty() {
                    s(p, "partnerId")
                } else {
                    s(p, "externalId")
                };
                format!("partner:{who}")
            }
            OpKind::IssueCreate => format!("issue:{}", s(p, "externalId")),
            OpKind::IssueComment | OpKind::IssueStatus => format!("issue:{}", s(p, "issueId")),
            OpKind::DocumentPublish | OpKind::DocumentRetract => {
                format!("document:{}", s(p, "documentId"))
            }
            OpKind::CatalogUpsert | OpKind::CatalogWithdraw => {
                format!("catalog:{}", s(p, "itemId"))
            }
            OpKind::NotificationCreate => format!("notification:{}", s(p, "communityId")),
            OpKind::MetricsPortal => "metrics".to_string(),
            // A user is addressed by its loginId until it has a userId (and roles stay
            // addressed by loginId): give ops that mix both one orderingKey of your own.
            OpKind::CompanyUserCreate => format!(
                "company_user:{}:{}",
                s(p, "companyId"),
                p.get("user").map_or("", |u| s(u, "loginId"))
            ),
            OpKind::CompanyUserRoles => {
                format!("company_user:{}:{}", s(p, "companyId"), s(p, "loginId"))
            }
            OpKind::CompanyUserUpdate | OpKind::CompanyUserDelete => {
                format!("company_user:{}:{}", s(p, "companyId"), s(p, "userId"))
            }
        }
    }

    /// The HTTP request for this operation; path parameters leave the body.
    pub fn request(&self) -> Request {
        self.clone().into_request()
    }

    /// The payload keys that go into the request's path and are not repeated in its body.
    fn in_path(kind: OpKind) -> &'static [&'static str] {
        match kind {
            OpKind::MembershipSet => &["communityId", "partnerId"],
            OpKind::IssueComment | OpKind::IssueStatus => &["issueId"],
            OpKind::DocumentPublish => &["documentId", "version"],
            OpKind::OnboardingStep => &["externalId", "stepId"],
            OpKind::CatalogUpsert => &["itemId"],
            _ => &[],
        }
    }

    /// The member of the payload that is the whole body (Community Management bodies
    /// are the documented request as it is, beside the ids that address it).
    fn body_member(kind: OpKind) -> Option<&'static str> {
        match kind {
            OpKind::CompanyUserCreate => Some("user"),
            OpKind::CompanyUserUpdate => Some("changes"),
            OpKind::CompanyUserRoles => Some("roles"),
            _ => None,
        }
    }

    fn has_body(kind: OpKind) -> bool {
        !matches!(
            kind,
            OpKind::PartnerDelete
                | OpKind::DocumentRetract
                | OpKind::CatalogWithdraw
                | OpKind::CompanyUserDelete
        )
    }

    /// True when the request's body is the whole payload, unchanged (so the payload's
    /// JSON is the body's).
    pub fn body_is_payload(&self) -> bool {
        Self::has_body(self.kind)
            && Self::in_path(self.kind).is_empty()
            && Self::body_member(self.kind).is_none()
    }

    /// The HTTP request, taking the payload along instead of copying it.
    pub fn into_request(self) -> Request {
        let kind = self.kind;
        let mut payload = self.payload;
        let (path, query) = Self::target(kind, &payload);
        let body = if !Self::has_body(kind) {
            None
        } else if let Some(key) = Self::body_member(kind) {
            payload.as_object_mut().and_then(|m| m.remove(key))
        } else {
            if let Some(m) = payload.as_object_mut() {
                for k in Self::in_path(kind) {
                    m.remove(*k);
                }
            }
            Some(payload)
        };
        Request {
            method: kind.method(),
            path,
            query,
            body,
        }
    }

    /// The path and query of the request (read from the payload).
    fn target(kind: OpKind, p: &Value) -> (String, Vec<(String, String)>) {
        let path = match kind {
            OpKind::PartnerUpsert | OpKind::PartnerDelete => {
                format!("/tgx/v1/partners/{}", seg(s(p, "externalId")))
            }
            OpKind::MembershipSet => format!(
                "/tgx/v1/communities/{}/members/{}",
                seg(s(p, "communityId")),
                seg(s(p, "partnerId"))
            ),
            OpKind::AccessRequestCreate => "/tgx/v1/access-requests".to_string(),
            OpKind::IssueCreate => "/tgx/v1/issues".to_string(),
            OpKind::IssueComment => format!("/tgx/v1/issues/{}/comments", seg(s(p, "issueId"))),
            OpKind::IssueStatus => format!("/tgx/v1/issues/{}/status", seg(s(p, "issueId"))),
            OpKind::DocumentPublish => format!(
                "/tgx/v1/documents/{}/versions/{}",
                seg(s(p, "documentId")),
                p.get("version").and_then(Value::as_i64).unwrap_or(0)
            ),
            OpKind::DocumentRetract => format!("/tgx/v1/documents/{}", seg(s(p, "documentId"))),
            OpKind::OnboardingStep => format!(
                "/tgx/v1/partners/{}/onboarding/{}",
                seg(s(p, "externalId")),
                seg(s(p, "stepId"))
            ),
            OpKind::CatalogUpsert | OpKind::CatalogWithdraw => {
                format!("/tgx/v1/catalog/{}", seg(s(p, "itemId")))
            }
            OpKind::NotificationCreate => "/tgx/v1/notifications".to_string(),
            OpKind::MetricsPortal => "/tgx/v1/metrics/portal".to_string(),
            OpKind::CompanyUserCreate => users_path(s(p, "companyId")),
            OpKind::CompanyUserUpdate | OpKind::CompanyUserDelete => {
                format!("{}/{}", users_path(s(p, "companyId")), seg(s(p, "userId")))
            }
            OpKind::CompanyUserRoles => format!(
                "{}/{}/roles",
                users_path(s(p, "companyId")),
                seg(s(p, "loginId"))
            ),
        };
        let query = match (kind, s(p, "reason")) {
            (OpKind::DocumentRetract, reason) if !reason.is_empty() => {
                vec![("reason".to_string(), reason.to_string())]
            }
            (OpKind::CompanyUserRoles, _) => {
                let action = if s(p, "action") == "remove" {
                    "Remove"
                } else {
                    "Add"
                };
                vec![("action".to_string(), action.to_string())]
            }
            _ => vec![],
        };
        (path, query)
    }
}

/// The documented reads of a company's users (the hub tenant's or a partner company's).
/// Their ids are checked as an operation's payload is, so a bad one is named
/// (`companyId`, `loginId`, `userIdOrLoginId`) before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompanyUserRead<'a> {
    /// `GET .../users`: every user of the company (`userId`, `loginId`, `email`, names),
    /// or only the one with this `loginId`. Users cannot be searched by e-mail or name.
    List {
        company_id: &'a str,
        login_id: Option<&'a str>,
    },
    /// `GET .../users/{userIdOrLoginId}`: one user's details.
    One { company_id: &'a str, user: &'a str },
    /// `GET .../users/{loginId}/roles`: the user's roles (by loginId only).
    Roles {
        company_id: &'a str,
        login_id: &'a str,
    },
}

const READ_IDS: &[Rule] = &[
    req("companyId", Kind::Ident),
    opt("loginId", Kind::LoginId),
    opt("userIdOrLoginId", Kind::LoginId),
];

impl CompanyUserRead<'_> {
    /// The `GET` request, or a validation error naming the bad id.
    pub fn request(&self) -> Result<Request> {
        let (company_id, id_name, id) = match *self {
            CompanyUserRead::List {
                company_id,
                login_id,
            } => (company_id, "loginId", login_id),
            CompanyUserRead::One { company_id, user } => {
                (company_id, "userIdOrLoginId", Some(user))
            }
            CompanyUserRead::Roles {
                company_id,
                login_id,
            } => (company_id, "loginId", Some(login_id)),
        };
        let mut ids = serde_json::Map::new();
        ids.insert("companyId".into(), Value::from(company_id));
        if let Some(id) = id {
            ids.insert(id_name.into(), Value::from(id));
        }
        let mut errors = Vec::new();
        validate_object(&Value::Object(ids), READ_IDS, "", &mut errors);
        if !errors.is_empty() {
            return Err(Error::Validation { errors });
        }
        let users = users_path(company_id);
        let (path, query) = match *self {
            CompanyUserRead::List {
                login_id: Some(login),
                ..
            } => (users, vec![("loginId".to_string(), login.to_string())]),
            CompanyUserRead::List { login_id: None, .. } => (users, vec![]),
            CompanyUserRead::One { user, .. } => (format!("{users}/{}", seg(user)), vec![]),
            CompanyUserRead::Roles { login_id, .. } => {
                (format!("{users}/{}/roles", seg(login_id)), vec![])
            }
        };
        Ok(Request {
            method: Method::Get,
            path,
            query,
            body: None,
        })
    }
}

/// Rules that involve more than one field.
fn cross_checks(kind: OpKind, p: &Value, errors: &mut Vec<FieldError>) {
    let has = |path: &[&str]| {
        let mut v = p;
        for k in path {
            match v.get(k) {
                Some(x) if !x.is_null() => v = x,
                _ => return false,
            }
        }
        v.as_str().is_none_or(|s| !s.is_empty())
    };
    match kind {
        OpKind::AccessRequestCreate if !has(&["partnerId"]) && !has(&["externalId"]) => {
            errors.push(FieldError::new(
                "externalId",
                "either externalId or partnerId is required",
            ));
        }
        OpKind::IssueCreate => {
            if !has(&["partnerId"]) && !has(&["partnerExternalId"]) {
                errors.push(FieldError::new(
                    "partnerExternalId",
                    "either partnerExternalId or partnerId is required",
                ));
            }
            match s(p, "type") {
                "invoice_dispute" if !has(&["references", "invoice"]) => errors.push(
                    FieldError::new("references.invoice", "is required for an invoice dispute"),
                ),
                "shipment_discrepancy"
                    if !has(&["references", "shipment"])
                        && !has(&["references", "purchaseOrder"]) =>
                {
                    errors.push(FieldError::new(
                        "references.shipment",
                        "a shipment or purchase order number is required for a shipment discrepancy",
                    ))
                }
                _ => {}
            }
        }
        OpKind::IssueStatus if s(p, "status") == "resolved" && !has(&["resolution"]) => {
            errors.push(FieldError::new(
                "resolution",
                "is required when the status is resolved",
            ));
        }
        OpKind::CompanyUserRoles
            if p.get("roles")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty) =>
        {
            errors.push(FieldError::new("roles", "at least one role is required"));
        }
        OpKind::DocumentPublish => {
            if p.get("approved").and_then(Value::as_bool) != Some(true) {
                errors.push(FieldError::new(
                    "approved",
                    "only an approved document version may be published",
                ));
            }
            let empty = |k: &str| {
                p.get("audiences")
                    .and_then(|a| a.get(k))
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
            };
            if empty("communities") && empty("partnerTypes") {
                errors.push(FieldError::new(
                    "audiences",
                    "at least one community or partner type is required",
                ));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn partner() -> Value {
        json!({"externalId": "drupal-user-42", "companyName": "Acme Freight",
               "partnerType": "carrier", "country": "DE",
               "contactEmail": "ops@acme.example", "revision": 3})
    }

    #[test]
    fn partner_upsert_becomes_a_put_keyed_by_external_id() {
        let op = Operation::parse("partner.upsert", partner()).expect("valid");
        let r = op.request();
        assert_eq!(r.method, Method::Put);
        assert_eq!(r.path, "/tgx/v1/partners/drupal-user-42");
        assert_eq!(op.ordering_key(), "partner:drupal-user-42");
    }

    #[test]
    fn invalid_partner_names_each_field() {
        let mut p = partner();
        p["partnerType"] = json!("pirate");
        p["country"] = json!("Germany");
        let err = Operation::parse("partner.upsert", p).expect_err("invalid");
        let fields: Vec<&str> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, vec!["partnerType", "country"]);
    }

    #[test]
    fn invoice_dispute_requires_an_invoice_number() {
        let issue = json!({"externalId": "drupal-node-9", "type": "invoice_dispute",
            "title": "Short paid", "description": "Invoice paid 10% short",
            "partnerExternalId": "drupal-user-42"});
        let err = Operation::parse("issue.create", issue).expect_err("invalid");
        assert_eq!(err.field_errors()[0].field, "references.invoice");
    }

    #[test]
    fn unapproved_documents_never_leave() {
        let doc = json!({"documentId": "sop-1", "version": 2, "title": "SOP", "language": "en",
            "audiences": {"communities": ["logistics-eu"]}, "sha256": "a".repeat(64),
            "approved": false});
        let err = Operation::parse("document.publish", doc).expect_err("invalid");
        assert_eq!(err.field_errors()[0].field, "approved");
    }

    #[test]
    fn document_publish_moves_id_and_version_into_the_path() {
        let doc = json!({"documentId": "sop-1", "version": 2, "title": "SOP", "language": "en",
            "audiences": {"partnerTypes": ["carrier"]}, "sha256": "a".repeat(64),
            "approved": true});
        let r = Operation::parse("document.publish", doc)
            .expect("valid")
            .request();
        assert_eq!(r.path, "/tgx/v1/documents/sop-1/versions/2");
        let body = r.body.expect("body");
        assert!(body.get("documentId").is_none() && body.get("version").is_none());
    }

    fn network_user() -> Value {
        json!({"loginId": "ada@acme.example", "firstName": "Ada", "lastName": "Ops", "type": "Web",
               "contactInformation": {"email": "ada@acme.example", "phoneNumber": "5551212", "faxNumber": ""},
               "address": {"addressLine1": "1 Dock Road", "addressLine2": "", "city": "Hamburg",
                           "postalCode": "20457", "countryCode": "DE"},
               "preferredLanguage": "en", "preferredTimezone": "Europe/Berlin", "isConsentClause": "No"})
    }

    #[test]
    fn company_user_create_posts_the_documented_body_to_the_company() {
        let op = Operation::parse(
            "company_user.create",
            json!({"companyId": "GC0000000001", "user": network_user()}),
        )
        .expect("valid");
        assert_eq!(
            op.ordering_key(),
            "company_user:GC0000000001:ada@acme.example"
        );
        let r = op.request();
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            r.path,
            "/TGCommunityServices/v1/companies/GC0000000001/users"
        );
        assert_eq!(
            r.body,
            Some(network_user()),
            "the body is the user, verbatim"
        );
    }

    #[test]
    fn company_user_create_names_nested_fields() {
        let mut user = network_user();
        user["contactInformation"] = json!({"phoneNumber": "1"});
        user["address"]["countryCode"] = json!("Germany");
        user["loginId"] = json!("ada ops");
        let err = Operation::parse(
            "company_user.create",
            json!({"companyId": "GC1", "user": user}),
        )
        .expect_err("invalid");
        let fields: Vec<&str> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(
            fields,
            vec![
                "user.loginId",
                "user.contactInformation.email",
                "user.address.countryCode"
            ]
        );
    }

    #[test]
    fn company_user_update_is_partial_all_the_way_down_but_not_empty() {
        let op = Operation::parse(
            "company_user.update",
            json!({"companyId": "GC1", "userId": "GCUS0000000002",
                   "changes": {"loginId": "ada.ops@acme.example", "contactInformation": {"mobile": "1"}}}),
        )
        .expect("a partial change needs no e-mail");
        let r = op.request();
        assert_eq!(r.method, Method::Put);
        assert_eq!(
            r.path,
            "/TGCommunityServices/v1/companies/GC1/users/GCUS0000000002"
        );
        assert_eq!(
            r.body,
            Some(json!({"loginId": "ada.ops@acme.example", "contactInformation": {"mobile": "1"}}))
        );
        assert_eq!(op.ordering_key(), "company_user:GC1:GCUS0000000002");
        let err = Operation::parse(
            "company_user.update",
            json!({"companyId": "GC1", "userId": "U1", "changes": {}}),
        )
        .expect_err("nothing to change");
        assert_eq!(
            err.to_string(),
            "changes: must name at least one field to change"
        );
        let err = Operation::parse(
            "company_user.update",
            json!({"companyId": "GC1", "userId": "U1", "changes": {"nickname": "x"}}),
        )
        .expect_err("unknown field");
        assert_eq!(err.field_errors()[0].field, "changes.nickname");
    }

    #[test]
    fn company_user_roles_become_the_documented_put_with_an_action() {
        let p = |action: &str, roles: Value| json!({"companyId": "GC1", "loginId": "ada@acme.example", "action": action, "roles": roles});
        let roles = json!([{"roleName": "Email2EDI custom"}, {"roleName": "OCC User"}]);
        let r = Operation::parse("company_user.roles", p("remove", roles.clone()))
            .expect("valid")
            .request();
        assert_eq!(r.method, Method::Put);
        assert_eq!(
            r.path,
            "/TGCommunityServices/v1/companies/GC1/users/ada@acme.example/roles"
        );
        assert_eq!(r.query, vec![("action".to_string(), "Remove".to_string())]);
        assert_eq!(r.body, Some(roles.clone()));
        let err =
            Operation::parse("company_user.roles", p("Replace", roles)).expect_err("bad action");
        assert_eq!(err.field_errors()[0].field, "action");
        let err =
            Operation::parse("company_user.roles", p("add", json!([]))).expect_err("no roles");
        assert_eq!(err.to_string(), "roles: at least one role is required");
        let err = Operation::parse("company_user.roles", p("add", json!([{"roleName": ""}])))
            .expect_err("empty name");
        assert_eq!(err.field_errors()[0].field, "roles[0].roleName");
    }

    #[test]
    fn company_user_delete_sends_no_body() {
        let r = Operation::parse(
            "company_user.delete",
            json!({"companyId": "GC1", "userId": "GCUS0000000002"}),
        )
        .expect("valid")
        .request();
        assert_eq!(r.method, Method::Delete);
        assert!(r.body.is_none());
    }

    #[test]
    fn company_user_reads_check_their_ids_and_encode_login_ids() {
        let one = CompanyUserRead::One {
            company_id: "GC1",
            user: "ada+ops@acme.example",
        }
        .request()
        .expect("valid");
        assert_eq!(
            one.path,
            "/TGCommunityServices/v1/companies/GC1/users/ada%2Bops@acme.example"
        );
        let list = CompanyUserRead::List {
            company_id: "GC1",
            login_id: Some("ada@acme.example"),
        }
        .request()
        .expect("valid");
        assert_eq!(list.path, "/TGCommunityServices/v1/companies/GC1/users");
        assert_eq!(
            list.query,
            vec![("loginId".to_string(), "ada@acme.example".to_string())]
        );
        let err = CompanyUserRead::Roles {
            company_id: "GC1",
            login_id: "..",
        }
        .request()
        .expect_err("dot segment");
        assert_eq!(err.field_errors()[0].field, "loginId");
        let err = CompanyUserRead::List {
            company_id: "GC 1",
            login_id: None,
        }
        .request()
        .expect_err("bad company");
        assert_eq!(err.field_errors()[0].field, "companyId");
    }

    /// The validator skips its unknown-key search when every key of an object matched a
    /// rule, which is only sound if no two rules of one object share a name.
    #[test]
    fn rule_names_are_distinct_in_every_object() {
        fn distinct(rules: &[Rule], at: &str) {
            for (i, r) in rules.iter().enumerate() {
                assert!(
                    rules[..i].iter().all(|o| o.name != r.name),
                    "{at}: rule {} twice",
                    r.name
                );
                match r.kind {
                    Kind::Object(nested)
                    | Kind::Changes(nested)
                    | Kind::ObjectList { rules: nested, .. } => {
                        distinct(nested, &format!("{at}.{}", r.name))
                    }
                    _ => {}
                }
            }
        }
        for kind in OpKind::ALL {
            distinct(kind.rules(), kind.name());
        }
    }

    #[test]
    fn unknown_operation_lists_the_known_ones() {
        let err = Operation::parse("partner.explode", json!({})).expect_err("unknown");
        assert!(err
            .to_string()
            .starts_with("op: unknown operation 'partner.explode'"));
    }
}
