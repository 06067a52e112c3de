//! tg-bench: helpers for `make bench` (see bench/run.sh and BENCHMARKS.md).
//!
//! * `tg-bench deliver ...` — the native ceiling: PUTs the same partner upserts the PHP
//!   clients send, at the same concurrency, over the same HTTP version (HTTP/2 with prior
//!   knowledge on loopback, one pooled connection, like the extension), with the least
//!   client work possible (bodies and idempotency keys prepared before the clock starts,
//!   answers read but not decoded). Prints one JSON line: ops/s, p50/p99, CPU seconds.
//!   `--engine core-batch` sends through tg-core's `send_batch` driven by `block_on` on
//!   the calling thread with a two-worker runtime — exactly the extension's engine, minus
//!   PHP — and `--engine core-spawn` sends each operation through tg-core's `execute` in
//!   tasks spawned on the runtime: the diagnostics that split the extension's cost into
//!   PHP conversion, tg-core, and the way the batch is driven.
//! * `tg-bench tap --upstream HOST:PORT` — a TCP relay that reads HTTP/2 frame headers
//!   (no HPACK needed) and times every stream from the client's HEADERS frame to the
//!   server's END_STREAM frame (HTTP/1.1 connections: from a request's first byte to the
//!   end of its Content-Length body): per-request latency on the wire for clients that do not
//!   expose it (the extension's `sendBatch`), measured the same way for every client.
//!   Commands on stdin: `report SINCE_UNIX_SECONDS` prints a JSON line with the
//!   percentiles of the streams that started at or after SINCE, then forgets all samples;
//!   `quit` exits.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const USAGE: &str = "usage:
  tg-bench deliver --base URL --tenant T --client-id ID --client-secret S --payloads FILE
                   [--concurrency N] [--count N] [--workers N] [--http1]
                   [--engine raw|core-batch|core-spawn]
  tg-bench tap --upstream HOST:PORT [--listen ADDR] [--workers N]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("deliver") => run(deliver(&args[1..])),
        Some("tap") => run(tap(&args[1..])),
        _ => {
            eprintln!("{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

fn run(r: Result<(), String>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("tg-bench: {e}");
            1
        }
    }
}

struct Args(HashMap<String, String>);

impl Args {
    fn parse(args: &[String], flags: &[&str]) -> Result<Args, String> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let Some(name) = a.strip_prefix("--") else {
                return Err(format!("unexpected argument {a}\n{USAGE}"));
            };
            if flags.contains(&name) {
                map.insert(name.to_string(), "1".to_string());
                continue;
            }
            let v = it
                .next()
                .ok_or_else(|| format!("--{name} needs a value\n{USAGE}"))?;
            map.insert(name.to_string(), v.clone());
        }
        Ok(Args(map))
    }
    fn str(&self, k: &str) -> Result<String, String> {
        self.0
            .get(k)
            .cloned()
            .ok_or_else(|| format!("--{k} is required\n{USAGE}"))
    }
    fn num(&self, k: &str, default: usize) -> Result<usize, String> {
        match self.0.get(k) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| format!("--{k}: {e}")),
        }
    }
    fn flag(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }
}

fn runtime(workers: usize) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// User + system CPU seconds of this whole process (every thread).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct we hand it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// ------------------------------------------------------------------ deliver

struct Prepared {
    path: String,
    body: Vec<u8>,
    key: String,
}

/// The key the extension derives for a batch entry (tg-core `derived_key`), so the
/// sandbox does the same idempotency bookkeeping for every client.
fn derived_key(id: &str, op: &str, payload: &Value) -> String {
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update([0]);
    h.update(op.as_bytes());
    h.update([0]);
    h.update(payload.to_string().as_bytes());
    format!("tg-{}", hex::encode(&h.finalize()[..20]))
}

fn prepare(list: &[Value], id_prefix: &str) -> Result<Vec<Prepared>, String> {
    list.iter()
        .enumerate()
        .map(|(i, p)| {
            let ext = p
                .get("externalId")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("payload {i} has no externalId"))?;
            Ok(Prepared {
                path: format!("/tgx/v1/partners/{ext}"),
                body: serde_json::to_vec(p).map_err(|e| e.to_string())?,
                key: derived_key(&format!("{id_prefix}{i}"), "partner.upsert", p),
            })
        })
        .collect()
}

struct Target {
    http: reqwest::Client,
    base: String,
    tenant: String,
    bearer: String,
}

async fn put_all(t: Arc<Target>, ops: Arc<Vec<Prepared>>, concurrency: usize) -> (Vec<f64>, usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (t, ops, next) = (t.clone(), ops.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failed = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(op) = ops.get(i) else { break };
                let started = Instant::now();
                let res = t
                    .http
                    .put(format!("{}{}", t.base, op.path))
                    .header("Authorization", &t.bearer)
                    .header("X-TG-Tenant", &t.tenant)
                    .header("Idempotency-Key", &op.key)
                    .header("Content-Type", "application/json")
                    .body(op.body.clone())
                    .send()
                    .await;
                let ok = match res {
                    Ok(r) => {
                        let good = r.status().is_success();
                        r.bytes().await.is_ok() && good
                    }
                    Err(_) => false,
                };
                lat.push(started.elapsed().as_secs_f64() * 1000.0);
                if !ok {
                    failed += 1;
                }
            }
            (lat, failed)
        }));
    }
    let mut all = Vec::with_capacity(ops.len());
    let mut failed = 0;
    for task in tasks {
        if let Ok((lat, f)) = task.await {
            all.extend(lat);
            failed += f;
        }
    }
    (all, failed)
}

fn deliver(args: &[String]) -> Result<(), String> {
    let a = Args::parse(args, &["http1"])?;
    let base = a.str("base")?.trim_end_matches('/').to_string();
    let tenant = a.str("tenant")?;
    let id = a.str("client-id")?;
    let secret = a.str("client-secret")?;
    let file = a.str("payloads")?;
    let concurrency = a.num("concurrency", 32)?;
    let workers = a.num("workers", 2)?;
    let http1 = a.flag("http1");
    let engine = a.str("engine").unwrap_or_else(|_| "raw".to_string());

    let doc: Value = serde_json::from_slice(
        &std::fs::read(&file).map_err(|e| format!("cannot read {file}: {e}"))?,
    )
    .map_err(|e| format!("{file}: {e}"))?;
    let list = |k: &str| -> Vec<Value> {
        doc.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut ops = list("ops");
    let count = a.num("count", ops.len())?.min(ops.len());
    ops.truncate(count);
    let warmup = list("warmup");
    if engine != "raw" {
        let cfg = tg_core::ClientConfig {
            base_url: base,
            tenant,
            client_id: id,
            client_secret: tg_core::Secret::new(secret),
            concurrency,
            timeout: Duration::from_secs(30),
            http2: !http1,
            retry: tg_core::retry::RetryPolicy {
                max_retries: 0,
                ..Default::default()
            },
            ..Default::default()
        };
        let out = deliver_core(cfg, &engine, workers, warmup, ops)?;
        println!("{out}");
        return Ok(());
    }
    let warm = Arc::new(prepare(&warmup, "warmup-")?);
    let ops = Arc::new(prepare(&ops, "bench-")?);

    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(concurrency.max(8))
        .tcp_nodelay(true);
    builder = if http1 {
        builder.http1_only()
    } else {
        builder.http2_prior_knowledge()
    };
    let http = builder.build().map_err(|e| e.to_string())?;
    let rt = runtime(workers)?;
    let out = rt.block_on(async move {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        let tok: Value = http
            .post(format!(
                "{base}/v1/oauth2/tokens?grant_type=client_credentials"
            ))
            .header("Authorization", format!("Basic {basic}"))
            .send()
            .await
            .map_err(|e| format!("token request: {e}"))?
            .json()
            .await
            .map_err(|e| format!("token answer: {e}"))?;
        let token = tok
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or("the token endpoint gave no access_token")?;
        let t = Arc::new(Target {
            http,
            base,
            tenant,
            bearer: format!("Bearer {token}"),
        });
        put_all(t.clone(), warm, concurrency).await;
        let start_unix = unix_now();
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        let (mut lat, failed) = put_all(t, ops, concurrency).await;
        let secs = t0.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu0;
        lat.sort_by(|a, b| a.total_cmp(b));
        let n = lat.len();
        Ok::<Value, String>(json!({
            "client": "native",
            "concurrency": concurrency,
            "ops": n,
            "ok": n - failed,
            "failed": failed,
            "seconds": secs,
            "opsPerSec": n as f64 / secs,
            "p50Ms": percentile(&lat, 50.0),
            "p99Ms": percentile(&lat, 99.0),
            "cpuSeconds": cpu,
            "measureStart": start_unix,
            "measureEnd": start_unix + secs,
            "workers": workers,
            "http": if http1 { "1.1" } else { "2" },
        }))
    })?;
    println!("{out}");
    Ok(())
}

fn core_ops(list: Vec<Value>, prefix: &str) -> Vec<tg_core::BatchOp> {
    list.into_iter()
        .enumerate()
        .map(|(i, p)| tg_core::BatchOp {
            id: format!("{prefix}{i}"),
            op: tg_core::Operation::parse("partner.upsert", p),
            ordering_key: None,
            idempotency_key: None,
        })
        .collect()
}

/// The extension's engine without PHP: payload validation, derived keys, tg-core's
/// request path and answer decoding are inside the clock, as they are for `sendBatch`.
fn deliver_core(
    cfg: tg_core::ClientConfig,
    engine: &str,
    workers: usize,
    warmup: Vec<Value>,
    ops: Vec<Value>,
) -> Result<Value, String> {
    let concurrency = cfg.concurrency;
    let http = if cfg.http2 { "2" } else { "1.1" };
    let client = tg_core::Client::new(cfg).map_err(|e| e.to_string())?;
    let rt = runtime(workers)?;
    let n = ops.len();
    let count_ok = |r: &[tg_core::BatchResult]| r.iter().filter(|r| r.ok).count();
    let wok = count_ok(&rt.block_on(client.send_batch(core_ops(warmup.clone(), "warmup-"))));
    if wok != warmup.len() {
        return Err(format!("warm-up failed: {wok} of {} ok", warmup.len()));
    }
    let start_unix = unix_now();
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let ok = match engine {
        "core-batch" => count_ok(&rt.block_on(client.send_batch(core_ops(ops, "bench-")))),
        "core-spawn" => {
            let ops: Arc<Vec<(tg_core::Operation, String)>> = Arc::new(
                core_ops(ops, "bench-")
                    .into_iter()
                    .filter_map(|b| {
                        let op = b.op.ok()?;
                        let key = tg_core::batch::derived_key(&b.id, &op);
                        Some((op, key))
                    })
                    .collect(),
            );
            rt.block_on(async {
                let next = Arc::new(AtomicUsize::new(0));
                let mut tasks = Vec::new();
                for _ in 0..concurrency.max(1) {
                    let (client, ops, next) = (client.clone(), ops.clone(), next.clone());
                    tasks.push(tokio::spawn(async move {
                        let mut ok = 0usize;
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some((op, key)) = ops.get(i) else { break };
                            if client.execute(op, Some(key)).await.is_ok() {
                                ok += 1;
                            }
                        }
                        ok
                    }));
                }
                let mut ok = 0;
                for t in tasks {
                    ok += t.await.unwrap_or(0);
                }
                ok
            })
        }
        other => {
            return Err(format!(
                "--engine {other}: use raw, core-batch or core-spawn"
            ))
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    Ok(json!({
        "client": engine,
        "concurrency": concurrency,
        "ops": n,
        "ok": ok,
        "failed": n - ok,
        "seconds": secs,
        "opsPerSec": n as f64 / secs,
        "cpuSeconds": cpu,
        "measureStart": start_unix,
        "measureEnd": start_unix + secs,
        "workers": workers,
        "http": http,
    }))
}

// ---------------------------------------------------------------------- tap

#[derive(Default)]
struct Samples {
    /// (start, unix seconds; latency, ms)
    done: Vec<(f64, f64)>,
}

/// Incremental HTTP/2 frame-header reader.
struct Frames {
    preface_left: usize,
    hdr: [u8; 9],
    hdr_len: usize,
    skip: usize,
}

impl Frames {
    fn new(client_side: bool) -> Frames {
        Frames {
            preface_left: if client_side { 24 } else { 0 },
            hdr: [0; 9],
            hdr_len: 0,
            skip: 0,
        }
    }

    /// Calls `f(type, flags, stream)` for every frame header completed in `buf`.
    fn feed(&mut self, mut buf: &[u8], mut f: impl FnMut(u8, u8, u32)) {
        while !buf.is_empty() {
            if self.preface_left > 0 {
                let n = self.preface_left.min(buf.len());
                self.preface_left -= n;
                buf = &buf[n..];
            } else if self.skip > 0 {
                let n = self.skip.min(buf.len());
                self.skip -= n;
                buf = &buf[n..];
            } else {
                let n = (9 - self.hdr_len).min(buf.len());
                self.hdr[self.hdr_len..self.hdr_len + n].copy_from_slice(&buf[..n]);
                self.hdr_len += n;
                buf = &buf[n..];
                if self.hdr_len == 9 {
                    let h = self.hdr;
                    let len =
                        (usize::from(h[0]) << 16) | (usize::from(h[1]) << 8) | usize::from(h[2]);
                    let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
                    f(h[3], h[4], stream);
                    self.skip = len;
                    self.hdr_len = 0;
                }
            }
        }
    }
}

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const END_STREAM: u8 = 1;

/// What one connection is waiting for, shared by its two directions.
#[derive(Default)]
struct Conn {
    /// HTTP/2: open streams → when their request started.
    streams: HashMap<u32, (Instant, f64)>,
    /// HTTP/1.1 (no pipelining, as curl and hyper do): the outstanding request.
    h1_start: Option<(Instant, f64)>,
}

/// Incremental HTTP/1.1 response reader: head, then Content-Length bytes of body.
#[derive(Default)]
struct H1Responses {
    head: Vec<u8>,
    body_left: usize,
}

impl H1Responses {
    /// Returns how many responses were completed by `buf`.
    fn feed(&mut self, mut buf: &[u8]) -> usize {
        let mut done = 0;
        while !buf.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(buf.len());
                self.body_left -= n;
                buf = &buf[n..];
                if self.body_left == 0 {
                    done += 1;
                }
                continue;
            }
            self.head.push(buf[0]);
            buf = &buf[1..];
            if self.head.ends_with(b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.head).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                let informational = head.starts_with("http/1.1 1");
                self.head.clear();
                self.body_left = len;
                if len == 0 && !informational {
                    done += 1;
                }
            }
        }
        done
    }
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

async fn relay(client: TcpStream, upstream: String, samples: Arc<Mutex<Samples>>) {
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let conn: Arc<Mutex<Conn>> = Arc::default();
    // Decided by the client's first bytes; the server direction waits for it.
    let (proto_tx, proto_rx) = tokio::sync::oneshot::channel::<bool>();
    let c1 = conn.clone();
    let up = tokio::spawn(async move {
        let mut frames = Frames::new(true);
        let mut buf = vec![0u8; 64 * 1024];
        let mut h2: Option<bool> = None;
        let mut proto_tx = Some(proto_tx);
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let now = (Instant::now(), unix_now());
            let is_h2 = *h2.get_or_insert_with(|| buf[..n].starts_with(H2_PREFACE));
            if let Some(tx) = proto_tx.take() {
                let _ = tx.send(is_h2);
            }
            {
                let mut c = c1.lock().unwrap_or_else(|p| p.into_inner());
                if is_h2 {
                    frames.feed(&buf[..n], |kind, _flags, stream| match kind {
                        HEADERS if stream != 0 => {
                            c.streams.entry(stream).or_insert(now);
                        }
                        RST_STREAM => {
                            c.streams.remove(&stream);
                        }
                        _ => {}
                    });
                } else if c.h1_start.is_none() {
                    c.h1_start = Some(now);
                }
            }
            if sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = sw.shutdown().await;
    });
    let is_h2 = proto_rx.await.unwrap_or(true);
    let mut frames = Frames::new(false);
    let mut h1 = H1Responses::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match sr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let now = Instant::now();
        {
            let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
            let mut finished = Vec::new();
            if is_h2 {
                frames.feed(&buf[..n], |kind, flags, stream| match kind {
                    DATA | HEADERS if flags & END_STREAM != 0 && stream != 0 => {
                        if let Some((t, unix)) = c.streams.remove(&stream) {
                            finished.push((unix, now.duration_since(t).as_secs_f64() * 1000.0));
                        }
                    }
                    RST_STREAM => {
                        c.streams.remove(&stream);
                    }
                    _ => {}
                });
            } else if h1.feed(&buf[..n]) > 0 {
                if let Some((t, unix)) = c.h1_start.take() {
                    finished.push((unix, now.duration_since(t).as_secs_f64() * 1000.0));
                }
            }
            if !finished.is_empty() {
                samples
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .done
                    .extend(finished);
            }
        }
        if cw.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = cw.shutdown().await;
    up.abort();
}

fn tap(args: &[String]) -> Result<(), String> {
    let a = Args::parse(args, &[])?;
    let upstream = a.str("upstream")?;
    let listen = a
        .str("listen")
        .unwrap_or_else(|_| "127.0.0.1:0".to_string());
    let workers = a.num("workers", 1)?;
    let rt = runtime(workers)?;
    let samples = Arc::new(Mutex::new(Samples::default()));
    let listener = rt
        .block_on(TcpListener::bind(&listen))
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("tg-bench tap listening on http://{addr}");
    let _ = std::io::stdout().flush();
    let s2 = samples.clone();
    rt.spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(relay(sock, upstream.clone(), s2.clone()));
        }
    });
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let mut parts = line.split_whitespace();
        match parts.next() {
            Some("report") => {
                let since: f64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
                let kept: Vec<(f64, f64)> = {
                    let mut s = samples.lock().unwrap_or_else(|p| p.into_inner());
                    std::mem::take(&mut s.done)
                        .into_iter()
                        .filter(|(start, _)| *start >= since)
                        .collect()
                };
                // When the first request went out and the last answer came back: the
                // time before and after is spent in the client, not on the wire.
                let first = kept.iter().map(|k| k.0).fold(f64::INFINITY, f64::min);
                let last = kept.iter().map(|k| k.0 + k.1 / 1000.0).fold(0.0, f64::max);
                let mut lat: Vec<f64> = kept.iter().map(|k| k.1).collect();
                lat.sort_by(|a, b| a.total_cmp(b));
                println!(
                    "{}",
                    json!({
                        "samples": lat.len(),
                        "p50Ms": percentile(&lat, 50.0),
                        "p99Ms": percentile(&lat, 99.0),
                        "firstStart": if first.is_finite() { first } else { 0.0 },
                        "lastEnd": last,
                    })
                );
                let _ = std::io::stdout().flush();
            }
            None => continue,
            Some("quit") => break,
            Some(other) => eprintln!("tg-bench tap: unknown command {other}"),
        }
    }
    Ok(())
}
