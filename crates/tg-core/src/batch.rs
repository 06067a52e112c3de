//! Many operations at once: concurrent across ordering keys, strictly in order within
//! one key, one result per operation in the input order.

use std::collections::HashMap;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::api::Operation;
use crate::client::Client;
use crate::error::{Error, FieldError};

/// One entry of a batch as the caller gave it. `op` is already parsed and validated,
/// or carries the reason it could not be.
#[derive(Debug)]
pub struct BatchOp {
    pub id: String,
    pub op: Result<Operation, Error>,
    pub ordering_key: Option<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchError {
    pub class: &'static str,
    pub retryable: bool,
    #[serde(rename = "retryAfter")]
    pub retry_after: Option<f64>,
    pub message: String,
    pub field: Option<String>,
    pub errors: Vec<FieldError>,
}

impl From<&Error> for BatchError {
    fn from(e: &Error) -> Self {
        BatchError {
            class: e.class(),
            retryable: e.retryable(),
            retry_after: e.retry_after(),
            message: e.to_string(),
            field: e.field_errors().first().map(|f| f.field.clone()),
            errors: e.field_errors().to_vec(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchResult {
    pub id: String,
    pub ok: bool,
    pub status: Option<u16>,
    pub attempts: u32,
    pub result: Option<Value>,
    pub error: Option<BatchError>,
}

/// A stable idempotency key for a batch entry: the same outbox row always sends the
/// same key, so a repeat after a crash is recognised by the server.
pub fn derived_key(id: &str, op: &Operation) -> String {
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update([0]);
    h.update(op.kind.name().as_bytes());
    h.update([0]);
    h.update(op.payload.to_string().as_bytes());
    let digest = h.finalize();
    format!("tg-{}", hex::encode(&digest[..20]))
}

impl Client {
    pub async fn send_batch(&self, ops: Vec<BatchOp>) -> Vec<BatchResult> {
        let total = ops.len();
        let mut results: Vec<Option<BatchResult>> = (0..total).map(|_| None).collect();
        // Group by ordering key, keeping first-seen order of keys and input order inside.
        let mut groups: Vec<Vec<(usize, String, Operation, String)>> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, entry) in ops.into_iter().enumerate() {
            match entry.op {
                Err(e) => {
                    results[i] = Some(BatchResult {
                        id: entry.id,
                        ok: false,
                        status: None,
                        attempts: 0,
                        result: None,
                        error: Some(BatchError::from(&e)),
                    });
                }
                Ok(op) => {
                    let key = entry.ordering_key.unwrap_or_else(|| op.ordering_key());
                    let idem = entry
                        .idempotency_key
                        .unwrap_or_else(|| derived_key(&entry.id, &op));
                    let g = *index.entry(key).or_insert_with(|| {
                        groups.push(Vec::new());
                        groups.len() - 1
                    });
                    groups[g].push((i, entry.id, op, idem));
                }
            }
        }
        let concurrency = self.config().concurrency.max(1);
        let done: Vec<Vec<(usize, BatchResult)>> = stream::iter(groups)
            .map(|group| self.run_group(group))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for (i, r) in done.into_iter().flatten() {
            results[i] = Some(r);
        }
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| BatchResult {
                    id: format!("#{i}"),
                    ok: false,
                    status: None,
                    attempts: 0,
                    result: None,
                    error: Some(BatchError::from(&Error::Internal(
                        "no result was produced for this operation".into(),
                    ))),
                })
            })
            .collect()
    }

    async fn run_group(
        &self,
        group: Vec<(usize, String, Operation, String)>,
    ) -> Vec<(usize, BatchResult)> {
        let mut out = Vec::with_capacity(group.len());
        let mut failed: Option<String> = None;
        for (i, id, op, idem) in group {
            if let Some(prev) = &failed {
                let e = BatchError {
                    class: "blocked",
                    retryable: true,
                    retry_after: None,
                    message: format!(
                        "not sent: an earlier operation with the same ordering key ({prev}) failed"
                    ),
                    field: None,
                    errors: vec![],
                };
                out.push((
                    i,
                    BatchResult {
                        id,
                        ok: false,
                        status: None,
                        attempts: 0,
                        result: None,
                        error: Some(e),
                    },
                ));
                continue;
            }
            let r = match self.execute(&op, Some(&idem)).await {
                Ok(resp) => BatchResult {
                    id,
                    ok: true,
                    status: Some(resp.status),
                    attempts: resp.attempts,
                    result: Some(resp.body),
                    error: None,
                },
                Err(e) => {
                    failed = Some(id.clone());
                    BatchResult {
                        id,
                        ok: false,
                        status: e.status(),
                        attempts: 0,
                        result: None,
                        error: Some(BatchError::from(&e)),
                    }
                }
            };
            out.push((i, r));
        }
        out
    }
}
