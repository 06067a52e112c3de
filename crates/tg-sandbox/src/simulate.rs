//! `--simulate-partners`: scripted partners and network staff who answer, so events
//! flow back in the demo and the tests without anyone typing.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::routes::{add_comment, decide, publish_knowledge, transition};
use crate::App;

pub async fn run(app: Arc<App>) {
    let mut tick: u64 = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        tick += 1;
        let mut s = app.lock();
        let mut changed = false;
        let pending: Vec<String> = s
            .access_requests
            .values()
            .filter(|r| r["status"] == "pending")
            .filter_map(|r| r["requestId"].as_str().map(str::to_string))
            .collect();
        for id in pending {
            changed |= decide(
                &mut s,
                &id,
                "approved",
                "Approved by the simulated community manager",
            )
            .is_ok();
        }
        let partners: Vec<Value> = s.partners.values().cloned().collect();
        for p in partners {
            let ext = p["externalId"].as_str().unwrap_or_default().to_string();
            let key = format!("training|{ext}");
            if let std::collections::btree_map::Entry::Vacant(e) = s.simulated.entry(key) {
                e.insert(true);
                s.emit("onboarding.training_completed", json!({"externalId": ext, "stepId": "training", "course": "Trading Grid basics", "score": 92}));
                s.emit("onboarding.acknowledged", json!({"externalId": ext, "stepId": "code-of-conduct", "acknowledgement": "Supplier code of conduct"}));
                changed = true;
            }
        }
        let issues: Vec<Value> = s.issues.values().cloned().collect();
        for i in issues {
            let id = i["issueId"].as_str().unwrap_or_default().to_string();
            let key = format!("issue|{id}");
            if i["status"] == "open" && !s.simulated.contains_key(&key) {
                s.simulated.insert(key, true);
                let _ = add_comment(
                    &mut s,
                    &id,
                    "Partner support (simulated)",
                    "We are checking our records and will answer within 24 hours.",
                    Value::Null,
                    "network",
                );
                let _ = transition(&mut s, &id, "awaiting_partner", None, "network");
                s.emit("notification.partner_response", json!({"issueId": id, "externalId": i["externalId"], "message": "The partner answered your trading issue"}));
                changed = true;
            }
        }
        let docs: Vec<Value> = s
            .documents
            .values()
            .filter(|d| d["status"] == "published")
            .cloned()
            .collect();
        for d in docs {
            let key = format!("doc|{}|{}", d["documentId"], d["currentVersion"]);
            if let std::collections::btree_map::Entry::Vacant(e) = s.simulated.entry(key) {
                e.insert(true);
                let first = s
                    .partners
                    .values()
                    .next()
                    .and_then(|p| p["externalId"].as_str())
                    .map(str::to_string);
                s.emit("document.accepted", json!({"documentId": d["documentId"], "version": d["currentVersion"], "externalId": first}));
                changed = true;
            }
        }
        if tick % 40 == 5 {
            let _ = publish_knowledge(
                &mut s,
                &json!({"kind": "announcement", "title": "Port strike in Rotterdam", "body": "Expect 48 h delays on inbound containers.", "topic": "logistics", "region": "EU", "partnerTypes": ["carrier", "supplier"]}),
            );
            changed = true;
        }
        drop(s);
        if changed {
            app.mark_dirty();
        }
    }
}
