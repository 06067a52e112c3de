//! Community Management users and roles (the documented `/TGCommunityServices/v1`
//! write side), client against a real sandbox on an ephemeral loopback port.

mod common;

use common::{admin, client, sandbox, stats};
use serde_json::{json, Value};
use tg_core::api::CompanyUserRead;
use tg_core::batch::BatchOp;
use tg_core::client::Client;
use tg_core::{Error, Operation};
use tg_sandbox::{RunningSandbox, SandboxConfig};

const TENANT: &str = "GC51278300AS";
/// A canary that must never come back from the sandbox.
const PASSWORD: &str = "o0ZCWAJ9_canary_VJGEvRhyK";

/// The documented "Create User" body (the public Postman collection's example, renamed).
fn network_user(login: &str) -> Value {
    json!({
        "address": {"addressLine1": "1 Dock Road", "addressLine2": "", "city": "Hamburg",
                    "countryCode": "DE", "postalCode": "20457", "state": "HH"},
        "contactInformation": {"email": "ada@acme.example", "faxNumber": "", "mobile": "",
                               "phoneNumber": "5551212", "phoneNumberExtention": ""},
        "firstName": "Ada", "lastName": "Ops", "loginId": login, "loginPassword": PASSWORD,
        "isConsentClause": "No", "isDayLightSavingsTimeObserved": "No",
        "isRequiredOpenTextMarketingMaterials": "No", "preferredDateFormat": "MM/dd/yy",
        "preferredLanguage": "en", "preferredTimezone": "Europe/Berlin", "type": "Web",
        "userPasswordHint": {"pwdHintQuestionAnswer1": {"answer": "canary-hint", "question": "Dock?"}}
    })
}

fn op(name: &str, payload: Value) -> Operation {
    Operation::parse(name, payload).expect("valid")
}

fn create(company: &str, login: &str) -> Operation {
    op(
        "company_user.create",
        json!({"companyId": company, "user": network_user(login)}),
    )
}

fn roles(company: &str, login: &str, action: &str, names: &[&str]) -> Operation {
    let list: Vec<Value> = names.iter().map(|n| json!({"roleName": n})).collect();
    op(
        "company_user.roles",
        json!({"companyId": company, "loginId": login, "action": action, "roles": list}),
    )
}

async fn read(c: &Client, r: CompanyUserRead<'_>) -> Result<Value, Error> {
    let req = r.request()?;
    c.get(&req.path, &req.query).await
}

async fn partner_company(c: &Client) -> String {
    let p = op(
        "partner.upsert",
        json!({"externalId": "drupal-user-42", "companyName": "Acme Freight", "partnerType": "carrier",
               "country": "DE", "contactEmail": "ops@acme.example", "revision": 1}),
    );
    let r = c.execute(&p, None).await.expect("partner");
    r.body["partnerId"].as_str().expect("partnerId").to_string()
}

async fn events(c: &Client) -> Vec<Value> {
    let page = c
        .get("/tgx/v1/events", &[("limit".into(), "500".into())])
        .await
        .expect("events");
    page["events"].as_array().cloned().unwrap_or_default()
}

/// A raw call with a fresh token, for what the typed client never sends.
async fn raw(
    sb: &RunningSandbox,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!(
            "{}/v1/oauth2/tokens?grant_type=client_credentials",
            sb.base_url()
        ))
        .basic_auth("id", Some("secret-value"))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let mut rb = http
        .request(method, format!("{}{path}", sb.base_url()))
        .bearer_auth(token["access_token"].as_str().unwrap_or_default())
        .header("X-TG-Tenant", TENANT);
    if let Some(b) = body {
        rb = rb
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    let resp = rb.send().await.expect("call");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_partner_user_is_created_found_renamed_given_roles_and_deleted() {
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    let company = partner_company(&c).await;

    let created = c
        .execute(&create(&company, "ada@acme.example"), None)
        .await
        .expect("created");
    assert_eq!(created.status, 201);
    let unique = created.body["uniqueId"]
        .as_str()
        .expect("uniqueId")
        .to_string();

    // Found by loginId and by the immutable id alike; the list finds it by loginId.
    let by_login = read(
        &c,
        CompanyUserRead::One {
            company_id: &company,
            user: "ada@acme.example",
        },
    )
    .await
    .expect("by loginId");
    let by_id = read(
        &c,
        CompanyUserRead::One {
            company_id: &company,
            user: &unique,
        },
    )
    .await
    .expect("by userId");
    assert_eq!(by_login, by_id);
    assert_eq!(by_id["userId"], unique.as_str());
    assert_eq!(by_id["contactInformation"]["email"], "ada@acme.example");
    assert!(by_id.get("loginPassword").is_none() && by_id.get("userPasswordHint").is_none());
    let listed = read(
        &c,
        CompanyUserRead::List {
            company_id: &company,
            login_id: Some("ada@acme.example"),
        },
    )
    .await
    .expect("list");
    assert_eq!(
        listed["users"],
        json!([{"userId": unique, "loginId": "ada@acme.example", "email": "ada@acme.example",
                 "firstName": "Ada", "lastName": "Ops"}])
    );
    let hub = read(
        &c,
        CompanyUserRead::List {
            company_id: TENANT,
            login_id: None,
        },
    )
    .await
    .expect("hub list");
    assert_eq!(hub["users"], json!([]), "a partner's user is not the hub's");

    // A partial update: the new loginId and one address line; the rest stays.
    let changed = c
        .execute(
            &op(
                "company_user.update",
                json!({"companyId": company, "userId": unique,
                       "changes": {"loginId": "ada.ops@acme.example", "address": {"city": "Bremen"}}}),
            ),
            None,
        )
        .await
        .expect("updated");
    assert_eq!(changed.body["loginId"], "ada.ops@acme.example");
    assert_eq!(changed.body["address"]["city"], "Bremen");
    assert_eq!(changed.body["address"]["addressLine1"], "1 Dock Road");
    let gone = read(
        &c,
        CompanyUserRead::One {
            company_id: &company,
            user: "ada@acme.example",
        },
    )
    .await
    .expect_err("the old loginId no longer resolves");
    assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");

    // Roles by the new loginId: add two, remove one.
    for (action, names) in [
        ("add", &["OCC User", "Email2EDI custom"][..]),
        ("remove", &["OCC User"][..]),
    ] {
        c.execute(
            &roles(&company, "ada.ops@acme.example", action, names),
            None,
        )
        .await
        .expect("roles");
    }
    let now = read(
        &c,
        CompanyUserRead::Roles {
            company_id: &company,
            login_id: "ada.ops@acme.example",
        },
    )
    .await
    .expect("roles");
    assert_eq!(now["roles"], json!([{"roleName": "Email2EDI custom"}]));
    let by_id = read(
        &c,
        CompanyUserRead::Roles {
            company_id: &company,
            login_id: &unique,
        },
    )
    .await
    .expect_err("roles are read by loginId only");
    assert!(matches!(by_id, Error::NotFound { .. }), "{by_id:?}");

    c.execute(
        &op(
            "company_user.delete",
            json!({"companyId": company, "userId": unique}),
        ),
        None,
    )
    .await
    .expect("deleted");
    match read(
        &c,
        CompanyUserRead::One {
            company_id: &company,
            user: &unique,
        },
    )
    .await
    {
        Err(Error::NotFound { problem, .. }) => {
            assert_eq!(problem["status"], 404);
            assert_eq!(problem["error-code"], "not-found");
            assert!(
                problem.get("type").is_none(),
                "the documented error body: {problem}"
            );
        }
        other => panic!("a deleted user is not found: {other:?}"),
    }

    let kinds: Vec<Value> = events(&c)
        .await
        .into_iter()
        .filter(|e| {
            e["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("company_user."))
        })
        .collect();
    let types: Vec<&str> = kinds.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "company_user.created",
            "company_user.updated",
            "company_user.roles_changed",
            "company_user.roles_changed",
            "company_user.deleted"
        ]
    );
    assert_eq!(kinds[1]["data"]["previousLoginId"], "ada@acme.example");
    assert_eq!(kinds[1]["data"]["fields"], json!(["address", "loginId"]));
    let s = stats(&sb).await;
    for (name, n) in [
        ("company_user.create", 1),
        ("company_user.update", 1),
        ("company_user.roles", 2),
        ("company_user.delete", 1),
    ] {
        assert_eq!(s["applied"][name], n, "{name}: {s}");
    }
}

#[tokio::test]
async fn passwords_and_hints_are_written_but_never_read_back() {
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    c.execute(&create(TENANT, "hub.user@hub.example"), None)
        .await
        .expect("created");
    let mut seen = vec![
        read(
            &c,
            CompanyUserRead::One {
                company_id: TENANT,
                user: "hub.user@hub.example",
            },
        )
        .await
        .expect("read")
        .to_string(),
        events(&c).await.iter().map(Value::to_string).collect(),
        stats(&sb).await.to_string(),
    ];
    seen.push(
        reqwest::get(sb.base_url())
            .await
            .expect("home")
            .text()
            .await
            .expect("html"),
    );
    assert!(
        seen[3].contains("hub.user@hub.example"),
        "the home page lists users"
    );
    for text in &seen {
        assert!(
            !text.contains(PASSWORD) && !text.contains("canary-hint"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_login_id_already_taken_is_a_conflict_in_the_documented_error_shape() {
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    let company = partner_company(&c).await;
    c.execute(&create(&company, "ada@acme.example"), None)
        .await
        .expect("first");
    // Login ids are unique across the network and ignore case.
    let again = c
        .execute(&create(TENANT, "ADA@acme.example"), None)
        .await
        .expect_err("taken");
    match &again {
        Error::Conflict { problem, message } => {
            assert_eq!(
                problem,
                &json!({"status": 409, "message": message, "error-code": "conflict"})
            );
            assert!(message.contains("already taken"), "{message}");
        }
        other => panic!("expected a conflict: {other:?}"),
    }
    let other = c
        .execute(&create(&company, "bob@acme.example"), None)
        .await
        .expect("second");
    let rename = op(
        "company_user.update",
        json!({"companyId": company, "userId": other.body["uniqueId"], "changes": {"loginId": "ada@acme.example"}}),
    );
    let err = c.execute(&rename, None).await.expect_err("taken");
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    assert_eq!(stats(&sb).await["applied"]["company_user.create"], 2);
}

#[tokio::test]
async fn a_replayed_create_returns_the_first_unique_id() {
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    let first = c
        .execute(&create(TENANT, "ada@hub.example"), Some("outbox-7"))
        .await
        .expect("first");
    let replay = c
        .execute(&create(TENANT, "ada@hub.example"), Some("outbox-7"))
        .await
        .expect("replayed, not a conflict");
    assert_eq!(first.body, replay.body);
    assert_eq!(replay.status, 201);
    let s = stats(&sb).await;
    assert_eq!(s["applied"]["company_user.create"], 1, "{s}");
    assert_eq!(s["duplicates"], 1, "{s}");
}

/// In a batch, a user's create and its roles share the loginId ordering key, so the
/// roles never arrive before the user; injected failures and resets after apply are
/// retried and absorbed by the idempotency keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_and_roles_in_a_batch_arrive_in_order_and_once_despite_faults() {
    let sb = sandbox(36_000).await;
    admin(
        &sb,
        "/_sandbox/faults",
        json!({"errorRate": 0.2, "rateLimitRate": 0.1, "resetRate": 0.1, "retryAfter": 0.01, "writesOnly": true}),
    )
    .await;
    // 40% of attempts fail: with 15 retries an op fails for good once in about 2.3
    // million, so the 80 of them all land (8 retries left this test failing ~2% of runs).
    let mut cfg = client(&sb, "secret-value").config().clone();
    cfg.retry.max_retries = 15;
    let c = Client::new(cfg).expect("client");
    let mut ops = vec![];
    for i in 0..40 {
        let login = format!("user{i}@hub.example");
        ops.push(BatchOp {
            id: format!("create-{i}"),
            op: Ok(create(TENANT, &login)),
            ordering_key: None,
            idempotency_key: None,
        });
        ops.push(BatchOp {
            id: format!("roles-{i}"),
            op: Ok(roles(TENANT, &login, "add", &["Partner Admin"])),
            ordering_key: None,
            idempotency_key: None,
        });
    }
    let results = c.send_batch(ops).await;
    assert!(
        results.iter().all(|r| r.ok),
        "{:?}",
        results.iter().find(|r| !r.ok)
    );
    admin(&sb, "/_sandbox/faults", json!({})).await;
    for i in [0, 17, 39] {
        let login = format!("user{i}@hub.example");
        let r = read(
            &c,
            CompanyUserRead::Roles {
                company_id: TENANT,
                login_id: &login,
            },
        )
        .await
        .expect("roles");
        assert_eq!(r["roles"], json!([{"roleName": "Partner Admin"}]));
    }
    let s = stats(&sb).await;
    assert_eq!(s["applied"]["company_user.create"], 40, "{s}");
    assert_eq!(s["applied"]["company_user.roles"], 40, "{s}");
}

#[tokio::test]
async fn the_documented_routes_refuse_in_their_own_error_shape() {
    let sb = sandbox(36_000).await;
    let users = format!("/TGCommunityServices/v1/companies/{TENANT}/users");

    // No Idempotency-Key is needed on the documented create.
    let mut body = network_user("ada@hub.example");
    let (status, answer) = raw(&sb, reqwest::Method::POST, &users, Some(&body.to_string())).await;
    assert_eq!(status, 201, "{answer}");

    body["firstName"] = Value::Null;
    body["contactInformation"]["email"] = json!("not-an-address");
    body["loginId"] = json!("eve@hub.example");
    let (status, answer) = raw(&sb, reqwest::Method::POST, &users, Some(&body.to_string())).await;
    assert_eq!(status, 422);
    assert_eq!(
        answer,
        json!({"status": 422, "error-code": "validation",
               "message": "firstName: is required; contactInformation.email: must be an e-mail address"})
    );

    let roles = format!("{users}/ada@hub.example/roles");
    for action in ["Replace", "add", ""] {
        let (status, answer) = raw(
            &sb,
            reqwest::Method::PUT,
            &format!("{roles}?action={action}"),
            Some(r#"[{"roleName": "OCC User"}]"#),
        )
        .await;
        assert_eq!(status, 400, "{action}: {answer}");
        assert_eq!(answer["error-code"], "bad-request");
    }
    let (status, answer) = raw(
        &sb,
        reqwest::Method::PUT,
        &format!("{roles}?action=Add"),
        Some(r#"[{"role": "OCC User"}]"#),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        answer["message"],
        "[0].roleName: is required; [0].role: is not a known field"
    );

    let (status, answer) = raw(
        &sb,
        reqwest::Method::GET,
        "/TGCommunityServices/v1/companies/GC9999999999/users",
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(answer["error-code"], "not-found");
    let (status, _) = raw(
        &sb,
        reqwest::Method::PUT,
        &format!("{users}/ada@hub.example"),
        Some(r#"{"firstName": "Ada"}"#),
    )
    .await;
    assert_eq!(status, 404, "an update addresses the user by its userId");
}

#[tokio::test]
async fn users_survive_a_restart_and_an_older_state_file_still_loads() {
    let dir = std::env::temp_dir().join(format!("tg-sandbox-users-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let data = dir.join("state.json");
    // A state file written before users existed.
    let mut old = serde_json::to_value(tg_sandbox::state::State::new(TENANT)).expect("state");
    old.as_object_mut().expect("object").remove("users");
    std::fs::write(&data, old.to_string()).expect("write");
    let cfg = SandboxConfig {
        client_id: "id".into(),
        client_secret: "secret-value".into(),
        data: Some(data.clone()),
        ..Default::default()
    };
    let sb = tg_sandbox::start(cfg.clone())
        .await
        .expect("old file loads");
    let created = client(&sb, "secret-value")
        .execute(&create(TENANT, "kept@hub.example"), None)
        .await
        .expect("created");
    sb.shutdown().await;
    let saved = std::fs::read_to_string(&data).expect("saved");
    assert!(saved.contains("kept@hub.example") && !saved.contains(PASSWORD));
    let sb = tg_sandbox::start(cfg).await.expect("second run");
    let unique = created.body["uniqueId"].as_str().unwrap_or_default();
    let read_back = read(
        &client(&sb, "secret-value"),
        CompanyUserRead::One {
            company_id: TENANT,
            user: unique,
        },
    )
    .await
    .expect("still there");
    assert_eq!(read_back["loginId"], "kept@hub.example");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A create sent again without its first key (the network documents none: a lost
/// answer, then a new attempt) finds its loginId taken by the very user it asked for:
/// that user's id is the answer. Someone else holding the loginId stays a conflict.
#[tokio::test]
async fn a_create_whose_user_already_exists_adopts_it_but_not_someone_elses() {
    let sb = sandbox(36_000).await;
    let c = client(&sb, "secret-value");
    let company = partner_company(&c).await;
    let first = c
        .execute(&create(&company, "ada@acme.example"), Some("attempt-1"))
        .await
        .expect("created");
    let again = c
        .execute(&create(&company, "ADA@acme.example"), Some("attempt-2"))
        .await
        .expect("adopted");
    assert_eq!(again.body["uniqueId"], first.body["uniqueId"]);
    assert_eq!(again.body["adopted"], true);
    assert_eq!(stats(&sb).await["applied"]["company_user.create"], 1);

    let mut stranger = network_user("ada@acme.example");
    stranger["contactInformation"]["email"] = json!("someone.else@acme.example");
    let other = op(
        "company_user.create",
        json!({"companyId": company, "user": stranger}),
    );
    let err = c
        .execute(&other, Some("attempt-3"))
        .await
        .expect_err("not the same person");
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
}
