//! Many operations at once: concurrent across ordering keys, strictly in order within
//! one key, one result per operation in the input order.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::api::Operation;
use crate::client::{Answer, Client};
use crate::error::{Error, FieldError};

/// The operations of one ordering key, in input order: (input index, id, operation, idempotency key).
type Group = Vec<(usize, String, Operation, String)>;

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
    /// The answer's bytes instead of `result`, for a batch started with [`Answer::Raw`].
    #[serde(skip)]
    pub raw: Option<bytes::Bytes>,
}

/// A stable idempotency key for a batch entry: the same outbox row always sends the
/// same key, so a repeat after a crash is recognised by the server.
pub fn derived_key(id: &str, op: &Operation) -> String {
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update([0]);
    h.update(op.kind.name().as_bytes());
    h.update([0]);
    // The payload's compact JSON, written straight into the hash (the same bytes as
    // `payload.to_string()`, so keys stay what they were). Writing to a hash cannot fail.
    let _ = serde_json::to_writer(HashWriter(&mut h), &op.payload);
    let digest = h.finalize();
    format!("tg-{}", hex::encode(&digest[..20]))
}

/// Results of a started batch, in chunks as they are produced: (input index, result).
pub type ResultStream = tokio::sync::mpsc::UnboundedReceiver<Vec<(usize, BatchResult)>>;

/// How many results a task gathers before it hands them over. Each hand-over may wake
/// the waiting thread, and a wake-up costs more than converting a result; a few dozen
/// per chunk keeps the consumer busy while the rest are on the wire.
const CHUNK: usize = 64;

/// A result for an operation that was not sent.
fn not_sent(id: String, error: BatchError) -> BatchResult {
    BatchResult {
        id,
        ok: false,
        status: None,
        attempts: 0,
        result: None,
        error: Some(error),
        raw: None,
    }
}

fn refused(id: String, e: &Error) -> BatchResult {
    not_sent(id, BatchError::from(e))
}

/// The result for an operation whose result never came (a task of the batch panicked).
pub fn missing_result(index: usize) -> BatchResult {
    refused(
        format!("#{index}"),
        &Error::Internal("no result was produced for this operation".into()),
    )
}

/// A task's results on their way to the stream: handed over `CHUNK` at a time, and
/// whatever is left when the task ends (even by a panic, as the buffer is dropped).
struct Chunks {
    tx: tokio::sync::mpsc::UnboundedSender<Vec<(usize, BatchResult)>>,
    buf: Vec<(usize, BatchResult)>,
}

impl Chunks {
    fn push(&mut self, i: usize, r: BatchResult) {
        self.buf.push((i, r));
        if self.buf.len() >= CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
            // If the receiver is gone nobody wants the results.
            let _ = self.tx.send(full);
        }
    }
}

impl Drop for Chunks {
    fn drop(&mut self) {
        self.flush();
    }
}

/// `io::Write` into a SHA-256.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Client {
    /// Sends the operations and returns one result per operation, in the input order.
    pub async fn send_batch(&self, ops: Vec<BatchOp>) -> Vec<BatchResult> {
        let total = ops.len();
        let mut results: Vec<Option<BatchResult>> = (0..total).map(|_| None).collect();
        let mut stream = self.start_batch(ops);
        while let Some(chunk) = stream.recv().await {
            for (i, r) in chunk {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.unwrap_or_else(|| missing_result(i)))
            .collect()
    }

    /// Starts sending the operations and returns at once. The stream yields each
    /// operation's result with its input index as soon as it is known (refused ones
    /// first), so a caller can consume results while others are still in flight.
    ///
    /// Concurrent across ordering keys, up to `concurrency` operations in flight, strictly
    /// in order within one key (after a failure the rest of that key is not sent and
    /// reported as `blocked`). Every index arrives exactly once, unless a task of the
    /// batch panicked: then the stream ends without some of them (see [`missing_result`]).
    /// Called outside a tokio runtime, every operation is reported as not sent.
    pub fn start_batch(&self, ops: Vec<BatchOp>) -> ResultStream {
        self.start_batch_as(ops, Answer::Decoded)
    }

    /// [`Client::start_batch`], with successful answers handed back as `answer` says
    /// (`Answer::Raw`: in `raw`, with `result` empty).
    pub fn start_batch_as(&self, ops: Vec<BatchOp>, answer: Answer) -> ResultStream {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        if tokio::runtime::Handle::try_current().is_err() {
            let e = Error::Internal("send_batch needs a tokio runtime".into());
            let all = ops
                .into_iter()
                .enumerate()
                .map(|(i, entry)| (i, refused(entry.id, &e)))
                .collect();
            let _ = tx.send(all);
            return rx;
        }
        // Group by ordering key, keeping first-seen order of keys and input order inside.
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut refusals = Vec::new();
        for (i, entry) in ops.into_iter().enumerate() {
            match entry.op {
                Err(e) => refusals.push((i, refused(entry.id, &e))),
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
        if !refusals.is_empty() {
            // The receiver is still held here: a send cannot fail.
            let _ = tx.send(refusals);
        }
        // `concurrency` tasks on the runtime, each taking the next group from a shared
        // queue (so groups start in input order). They make progress on the runtime's
        // worker threads on their own, instead of being polled from the thread that waits
        // for the batch (the PHP thread, in the extension).
        let workers = self.config().concurrency.max(1).min(groups.len());
        let queue = Arc::new(Mutex::new(VecDeque::from(groups)));
        for _ in 0..workers {
            let queue = Arc::clone(&queue);
            let client = self.clone();
            let mut out = Chunks {
                tx: tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            tokio::spawn(async move {
                loop {
                    // A poisoned queue means another task panicked while popping: go on.
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(group) = next else { break };
                    // If the receiver is gone the operations still run, as they would
                    // have in a call nobody waited for.
                    client.run_group(group, answer, |i, r| out.push(i, r)).await;
                }
            });
        }
        rx
    }

    async fn run_group(
        &self,
        group: Group,
        answer: Answer,
        mut emit: impl FnMut(usize, BatchResult),
    ) {
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
                emit(i, not_sent(id, e));
                continue;
            }
            let r = match self.execute_as(op, Some(&idem), answer).await {
                Ok(resp) => BatchResult {
                    id,
                    ok: true,
                    status: Some(resp.status),
                    attempts: resp.attempts,
                    result: resp.raw.is_none().then_some(resp.body),
                    error: None,
                    raw: resp.raw,
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
                        raw: None,
                    }
                }
            };
            emit(i, r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The key of an outbox row must not change between versions: a row re-sent after an
    /// upgrade is only recognised as a repeat if it carries the key it was first sent with.
    #[test]
    fn derived_keys_are_the_hash_of_id_operation_and_compact_payload() {
        let op = Operation::parse(
            "partner.upsert",
            json!({"externalId": "drupal-user-42", "companyName": "Acme Freight GmbH",
                   "partnerType": "carrier", "country": "DE", "revision": 7,
                   "contactEmail": "ops@acme.example", "attributes": {"vat": "DE1", "note": "ä \"q\""}}),
        )
        .expect("valid");
        let mut h = Sha256::new();
        h.update(b"outbox-17\0partner.upsert\0");
        h.update(op.payload.to_string().as_bytes());
        let want = format!("tg-{}", hex::encode(&h.finalize()[..20]));
        assert_eq!(derived_key("outbox-17", &op), want);
        assert_eq!(
            derived_key("outbox-17", &op),
            derived_key("outbox-17", &op.clone())
        );
        assert_ne!(derived_key("outbox-18", &op), want);
    }
}
