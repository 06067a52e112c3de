//! Many operations at once: concurrent across ordering keys, strictly in order within
//! one key, one result per operation in the input order.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::api::{Operation, Request};
use crate::client::{prepare, Answer, Client};
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
    /// The answer's bytes instead of `result`, for a batch started with [`Answer::Raw`].
    #[serde(skip)]
    pub raw: Option<bytes::Bytes>,
}

/// A stable idempotency key for a batch entry: the same outbox row always sends the
/// same key, so a repeat after a crash is recognised by the server.
pub fn derived_key(id: &str, op: &Operation) -> String {
    // The payload's compact JSON (the same bytes as `payload.to_string()`, so keys stay
    // what they were). Writing to a Vec cannot fail.
    let json = serde_json::to_vec(&op.payload).unwrap_or_default();
    key_of_json(id, op, &json)
}

/// [`derived_key`] from the payload's compact JSON, already written.
fn key_of_json(id: &str, op: &Operation, json: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update([0]);
    h.update(op.kind.name().as_bytes());
    h.update([0]);
    h.update(json);
    let digest = h.finalize();
    // "tg-" and the first 20 bytes in lower-case hex (what `hex::encode` writes).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(3 + 40);
    key.push_str("tg-");
    for b in &digest[..20] {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 15)]));
    }
    key
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
        let (mut feed, stream) = self.open_batch(answer);
        for entry in ops {
            feed.push(entry);
        }
        stream
    }

    /// A batch that is sent while it is still being built: each operation given to
    /// [`BatchFeed::push`] goes out as soon as a task is free for its ordering key, so a
    /// caller converting its input one entry at a time (the extension, from PHP arrays)
    /// does not hold everything back until the last entry is converted. Same guarantees
    /// as [`Client::start_batch`]; input indexes count the pushes from 0. The batch is
    /// complete when the feed is dropped, and the stream ends once every result is in.
    pub fn open_batch(&self, answer: Answer) -> (BatchFeed, ResultStream) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let runtime = tokio::runtime::Handle::try_current().ok();
        let shared = Arc::new(Shared {
            client: self.clone(),
            answer,
            sched: Mutex::new(Sched::default()),
            wake: Notify::new(),
        });
        let feed = BatchFeed {
            shared,
            runtime,
            max_tasks: self.config().concurrency.max(1),
            next_index: 0,
            refused: Chunks {
                tx,
                buf: Vec::new(),
            },
        };
        (feed, rx)
    }
}

/// The operations of one ordering key that are waiting to be sent, in input order.
struct Group {
    key: String,
    pending: VecDeque<Queued>,
    /// In the ready queue or being sent by a task (one task at a time per key).
    scheduled: bool,
    /// The id of the operation of this key that failed: the rest are not sent.
    failed: Option<String>,
}

struct Queued {
    index: usize,
    id: String,
    /// The request with its body encoded, made when the operation was pushed (see
    /// `client::prepare`); an error if the payload could not be encoded.
    request: Result<(Request, Option<bytes::Bytes>), Error>,
    idem: String,
}

/// Which operation a task sends next, decided under the lock.
enum Next {
    Send(Queued),
    Blocked(Queued, String),
    Done,
}

#[derive(Default)]
struct Sched {
    /// Groups by slot; a slot is freed (and reused) when its group is done.
    slots: Vec<Option<Group>>,
    free: Vec<usize>,
    by_key: HashMap<String, usize>,
    /// Slots whose group has operations and no task yet, in the order they became ready
    /// (so groups start in input order).
    ready: VecDeque<usize>,
    /// Tasks waiting for a group that no push has claimed yet.
    idle: usize,
    spawned: usize,
    /// No more pushes: waiting tasks end once the ready queue is empty.
    closed: bool,
}

impl Sched {
    fn group(&mut self, slot: usize) -> Option<&mut Group> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    /// The next operation of the group in `slot`, or `Done` (then the group is no longer
    /// scheduled; a group that failed stays, to block later pushes of its key).
    fn next_of(&mut self, slot: usize) -> Next {
        let Some(g) = self.group(slot) else {
            return Next::Done;
        };
        match g.pending.pop_front() {
            Some(q) => match &g.failed {
                Some(prev) => Next::Blocked(q, prev.clone()),
                None => Next::Send(q),
            },
            None => {
                g.scheduled = false;
                if g.failed.is_none() {
                    let key = std::mem::take(&mut g.key);
                    self.by_key.remove(&key);
                    if let Some(s) = self.slots.get_mut(slot) {
                        *s = None;
                    }
                    self.free.push(slot);
                }
                Next::Done
            }
        }
    }
}

struct Shared {
    client: Client,
    answer: Answer,
    sched: Mutex<Sched>,
    /// Wakes tasks waiting for a ready group (one per push; all when the feed closes).
    wake: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Sched> {
        // A poisoned lock means a task panicked while scheduling: go on with the rest.
        self.sched.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a ready group; `None` once the feed is closed and nothing is ready.
    /// Before waiting, the results gathered in `out` are handed over: a caller waiting
    /// for them must not wait on an idle task.
    async fn next_group(&self, out: &mut Chunks) -> Option<usize> {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            // Registered before looking, so a push or the close in between still wakes us.
            notified.as_mut().enable();
            {
                let mut s = self.lock();
                if let Some(slot) = s.ready.pop_front() {
                    return Some(slot);
                }
                if s.closed {
                    return None;
                }
                s.idle += 1;
            }
            out.flush();
            notified.await;
        }
    }

    /// One task: takes ready groups and sends each one's operations in order.
    async fn run(self: Arc<Self>, mut out: Chunks) {
        while let Some(slot) = self.next_group(&mut out).await {
            loop {
                let next = self.lock().next_of(slot);
                match next {
                    Next::Done => break,
                    Next::Blocked(q, prev) => out.push(q.index, blocked(q.id, &prev)),
                    Next::Send(q) => {
                        let (index, r) = self.send(q).await;
                        if !r.ok {
                            if let Some(g) = self.lock().group(slot) {
                                g.failed = Some(r.id.clone());
                            }
                        }
                        // If the receiver is gone the operations still run, as they
                        // would have in a call nobody waited for.
                        out.push(index, r);
                    }
                }
            }
        }
    }

    async fn send(&self, q: Queued) -> (usize, BatchResult) {
        let Queued {
            index,
            id,
            request,
            idem,
        } = q;
        let sent = match request {
            Ok((req, body)) => {
                self.client
                    .execute_prepared(&req, body, Some(&idem), self.answer)
                    .await
            }
            Err(e) => Err(e),
        };
        let r = match sent {
            Ok(resp) => BatchResult {
                id,
                ok: true,
                status: Some(resp.status),
                attempts: resp.attempts,
                result: resp.raw.is_none().then_some(resp.body),
                error: None,
                raw: resp.raw,
            },
            Err(e) => BatchResult {
                id,
                ok: false,
                status: e.status(),
                attempts: 0,
                result: None,
                error: Some(BatchError::from(&e)),
                raw: None,
            },
        };
        (index, r)
    }
}

fn blocked(id: String, prev: &str) -> BatchResult {
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
    not_sent(id, e)
}

/// The input side of [`Client::open_batch`]. Dropping it completes the batch.
pub struct BatchFeed {
    shared: Arc<Shared>,
    /// The runtime the batch's tasks run on (`None`: called outside one, nothing is sent).
    runtime: Option<tokio::runtime::Handle>,
    max_tasks: usize,
    next_index: usize,
    /// Refused entries' results, handed over a chunk at a time.
    refused: Chunks,
}

impl BatchFeed {
    /// Adds the next operation (its input index is the number of pushes before it). A
    /// valid one is queued behind the earlier operations of its ordering key and sent as
    /// soon as a task is free; a refused one's result goes to the stream.
    pub fn push(&mut self, entry: BatchOp) {
        let index = self.next_index;
        self.next_index += 1;
        let op = match (entry.op, &self.runtime) {
            (Err(e), _) => return self.refused.push(index, refused(entry.id, &e)),
            (Ok(_), None) => {
                let e = Error::Internal("send_batch needs a tokio runtime".into());
                return self.refused.push(index, refused(entry.id, &e));
            }
            (Ok(op), Some(_)) => op,
        };
        let key = entry.ordering_key.unwrap_or_else(|| op.ordering_key());
        let (idem, body) = match entry.idempotency_key {
            Some(k) => (k, None),
            // Encoded once: hashed for the key, and sent as the body when it is one.
            None => match serde_json::to_vec(&op.payload) {
                Ok(json) => {
                    let k = key_of_json(&entry.id, &op, &json);
                    (k, op.body_is_payload().then(|| bytes::Bytes::from(json)))
                }
                // (A `Value` always encodes; if not, sending reports it.)
                Err(_) => (derived_key(&entry.id, &op), None),
            },
        };
        let queued = Queued {
            index,
            id: entry.id,
            request: prepare(op, body),
            idem,
        };
        let spawn = {
            let mut s = self.shared.lock();
            let slot = match s.by_key.get(&key) {
                Some(&slot) => slot,
                None => {
                    let g = Group {
                        key: key.clone(),
                        pending: VecDeque::new(),
                        scheduled: false,
                        failed: None,
                    };
                    let slot = match s.free.pop() {
                        Some(slot) => {
                            if let Some(x) = s.slots.get_mut(slot) {
                                *x = Some(g);
                            }
                            slot
                        }
                        None => {
                            s.slots.push(Some(g));
                            s.slots.len() - 1
                        }
                    };
                    s.by_key.insert(key, slot);
                    slot
                }
            };
            let Some(g) = s.group(slot) else {
                return;
            };
            g.pending.push_back(queued);
            if g.scheduled {
                false
            } else {
                g.scheduled = true;
                s.ready.push_back(slot);
                if s.idle > 0 {
                    // Claimed here, so the next push does not count on the same task.
                    s.idle -= 1;
                    self.shared.wake.notify_one();
                    false
                } else if s.spawned < self.max_tasks {
                    s.spawned += 1;
                    true
                } else {
                    false
                }
            }
        };
        if let (true, Some(rt)) = (spawn, &self.runtime) {
            let out = Chunks {
                tx: self.refused.tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            rt.spawn(Arc::clone(&self.shared).run(out));
        }
    }
}

impl Drop for BatchFeed {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        // Tasks waiting for work see the close and end; the others end when the ready
        // queue is empty. The refused results are handed over by `Chunks`' own drop.
        self.shared.wake.notify_waiters();
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
