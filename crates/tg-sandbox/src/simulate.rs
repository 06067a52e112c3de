//! `--simulate-partners`: scripted partners and network staff who answer, so events
//! flow back in the demo and the tests without anyone typing.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::routes::{add_comment, decide, publish_knowledge, transition};
use crate::state::{now_rfc3339, State};
use crate::App;

/// A partner with a trading address starts trading: the hub's purchase order reaches it,
/// its ship notice fails delivery and its invoice fails validation — the two exceptions
/// Lens shows and the portal's exception scan turns into trading issues.
fn trade(s: &mut State, partner: &Value) -> bool {
    let address = partner["tradingAddress"].clone();
    let name = partner["companyName"].clone();
    let hub = json!(format!("ZZ:{}", s.tenant));
    let n = s.next_id;
    let po = format!("PO-{n:06}");
    let made = [
        json!({"editype": "850", "status": "S", "deliverystatus": "Delivered",
               "senderaddress": hub, "sendername": s.company_name, "receiveraddress": address, "receivername": name,
               "contentkeys": {"purchase order number": po}}),
        json!({"editype": "856", "status": "F", "deliverystatus": "DeliveryFailed",
               "errorcode": "DLV-0503", "externalerrormessage": "The receiving mailbox did not accept the ship notice",
               "senderaddress": address, "sendername": name, "receiveraddress": hub, "receivername": s.company_name,
               "contentkeys": {"purchase order number": po, "shipment identification": format!("SH-{n:06}")}}),
        json!({"editype": "810", "status": "V", "deliverystatus": "NotDelivered",
               "errorcode": "VAL-0117", "externalerrormessage": "Invoice total does not match the sum of its lines",
               "senderaddress": address, "sendername": name, "receiveraddress": hub, "receivername": s.company_name,
               "contentkeys": {"purchase order number": po, "invoice number": format!("INV-{n:06}")}}),
    ];
    for t in made {
        let id = s.next("LT");
        if let Ok(t) = crate::lens::transaction(&t, id, now_rfc3339()) {
            s.transactions.push(t);
        }
    }
    true
}

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
        let trading: Vec<Value> = s
            .partners
            .values()
            .filter(|p| p.get("tradingAddress").and_then(Value::as_str).is_some())
            .cloned()
            .collect();
        for p in trading {
            let ext = p["externalId"].as_str().unwrap_or_default().to_string();
            let key = format!("lens|{ext}");
            if let std::collections::btree_map::Entry::Vacant(e) = s.simulated.entry(key) {
                e.insert(true);
                changed |= trade(&mut s, &p);
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
