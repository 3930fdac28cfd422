//! The OTLP/HTTP receiver: an agent instrumented with any OpenTelemetry SDK points its
//! exporter at `http://127.0.0.1:4318` and its spans, logs and metrics land in the workspace
//! as they are exported.
//!
//! `POST /v1/traces`, `/v1/logs`, `/v1/metrics`, with `application/json` or
//! `application/x-protobuf` bodies, optionally gzip-encoded. Answers as the OTLP/HTTP spec
//! says: 200 with an `Export*ServiceResponse` (a `partialSuccess` when some items were
//! rejected, with how many and why), 400 for a body that does not decode, 404, 405, 413 over
//! the size cap, 415 for another content type or encoding, 403 for a peer that is not this
//! machine (whatever address it was bound to), 503 when the workspace is closing.
//!
//! Each accepted request is appended, as one OTLP/JSON line (protobuf converted), to a spool
//! file in the workspace's folder, and that file is ingested from its cursor: one mapping
//! for files and the wire, derived series and alert inputs updated the same way, and what
//! arrived is kept on disk like any other source (the Sources view shows it, export bundles
//! it).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::otlp_proto::{self, Signal};
use super::{DeriveLater, IngestOptions, SkipReason};
use crate::error::{Error, Result};
use crate::store::Store;

/// The receiver's settings.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Where to listen (default `127.0.0.1:4318`, the OTLP/HTTP port).
    pub addr: SocketAddr,
    /// Largest request body accepted, before and after gzip.
    pub max_body_bytes: usize,
    /// Worker threads answering requests.
    pub workers: usize,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 4318)),
            max_body_bytes: 32 << 20,
            workers: 2,
        }
    }
}

/// Counters of what the receiver took in (for the app's status line and the benchmark).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReceiverStats {
    pub requests: f64,
    pub rejected_requests: f64,
    pub spans: f64,
    pub log_records: f64,
    pub samples: f64,
    /// Items (spans, records, points) refused inside accepted requests.
    pub rejected_items: f64,
    /// The last request refused, and why.
    pub last_error: Option<String>,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    rejected_requests: AtomicU64,
    spans: AtomicU64,
    log_records: AtomicU64,
    samples: AtomicU64,
    rejected_items: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// A running receiver; stops when [`Receiver::stop`] is called or it is dropped.
pub struct Receiver {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
    threads: Vec<std::thread::JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Where one receiver's requests are spooled, and the lock that keeps one append-and-ingest
/// at a time (so a pass's report is exactly one request's outcome).
struct Spool {
    path: PathBuf,
    /// Held for one append-and-ingest; holds the derived-series update that requests put off
    /// (run at most once a second while requests keep coming, and when the receiver idles).
    lock: Mutex<DeriveLater>,
}

/// How often the receiver updates the derived series while requests keep coming.
const DERIVE_EVERY: Duration = Duration::from_secs(1);

impl Receiver {
    /// Binds `cfg.addr` and starts answering. The store must stay open while it runs.
    pub fn start(store: Arc<Store>, cfg: ReceiverConfig) -> Result<Receiver> {
        let listener = TcpListener::bind(cfg.addr).map_err(|e| Error::InvalidArgument {
            what: "OTLP receiver address",
            value: cfg.addr.to_string(),
            why: format!("cannot listen there: {e}"),
        })?;
        let addr = listener.local_addr()?;
        let server = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| Error::Internal(format!("OTLP receiver: {e}")))?;
        let server = Arc::new(server);
        let dir = super::bundle::bundles_dir(store.path())
            .parent()
            .map(|p| p.join("otlp"))
            .unwrap_or_else(|| PathBuf::from("otlp"));
        std::fs::create_dir_all(&dir).map_err(|source| Error::Unwritable {
            path: dir.clone(),
            source,
        })?;
        let spool = Arc::new(Spool {
            path: dir.join(format!("received-{}.jsonl", addr.port())),
            lock: Mutex::new(DeriveLater::new(DERIVE_EVERY)),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let mut threads = Vec::new();
        for _ in 0..cfg.workers.max(1) {
            let (server, stop, counters) = (server.clone(), stop.clone(), counters.clone());
            let (store, spool, cfg) = (store.clone(), spool.clone(), cfg.clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match server.recv_timeout(Duration::from_millis(100)) {
                        Ok(Some(req)) => handle(req, &store, &spool, &cfg, &counters),
                        Ok(None) => derive_now(&store, &spool, &counters, false),
                        Err(_) => std::thread::sleep(Duration::from_millis(50)),
                    }
                }
                derive_now(&store, &spool, &counters, true);
            }));
        }
        Ok(Receiver {
            addr,
            stop,
            server,
            threads,
            counters,
        })
    }

    /// The address it listens on (the port is the real one when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stats(&self) -> ReceiverStats {
        let c = &self.counters;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        ReceiverStats {
            requests: n(&c.requests),
            rejected_requests: n(&c.rejected_requests),
            spans: n(&c.spans),
            log_records: n(&c.log_records),
            samples: n(&c.samples),
            rejected_items: n(&c.rejected_items),
            last_error: c.last_error.lock().ok().and_then(|e| e.clone()),
        }
    }

    /// Stops listening and waits for the requests in progress.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.server.unblock();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How a request's body is encoded on the wire.
#[derive(Clone, Copy, PartialEq)]
enum Wire {
    Json,
    Proto,
}

/// A refusal: status code and message (sent as a `google.rpc.Status`).
struct Refusal(u16, String);

fn header<'a>(req: &'a tiny_http::Request, name: &str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn handle(
    mut req: tiny_http::Request,
    store: &Store,
    spool: &Spool,
    cfg: &ReceiverConfig,
    c: &Counters,
) {
    c.requests.fetch_add(1, Ordering::Relaxed);
    // The media type without parameters (`application/json; charset=utf-8`).
    let ctype = header(&req, "content-type")
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    // Answers go in the request's encoding; JSON when it is neither.
    let wire = if ctype == "application/x-protobuf" {
        Wire::Proto
    } else {
        Wire::Json
    };
    let result = accept(&mut req, store, spool, cfg, &ctype, wire);
    let (code, body) = match result {
        Ok(done) => {
            let (items, counter) = match done.signal {
                Signal::Traces => (done.accepted, &c.spans),
                Signal::Logs => (done.accepted, &c.log_records),
                Signal::Metrics => (done.accepted, &c.samples),
            };
            counter.fetch_add(items, Ordering::Relaxed);
            c.rejected_items.fetch_add(done.rejected, Ordering::Relaxed);
            if let Some(e) = done.derive_error {
                set_error(c, e);
            }
            (
                200,
                success_body(wire, done.signal, done.rejected, &done.why),
            )
        }
        Err(Refusal(code, msg)) => {
            c.rejected_requests.fetch_add(1, Ordering::Relaxed);
            set_error(c, format!("{code}: {msg}"));
            (code, status_body(wire, code, &msg))
        }
    };
    let ctype = match wire {
        Wire::Json => "application/json",
        Wire::Proto => "application/x-protobuf",
    };
    let mut resp = tiny_http::Response::from_data(body).with_status_code(code);
    if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], ctype.as_bytes()) {
        resp = resp.with_header(h);
    }
    if code == 405
        && let Ok(h) = tiny_http::Header::from_bytes(&b"Allow"[..], &b"POST"[..])
    {
        resp = resp.with_header(h);
    }
    let _ = req.respond(resp);
}

struct Accepted {
    signal: Signal,
    accepted: u64,
    rejected: u64,
    why: String,
    /// The derived-series update that ran after it failed (the request itself was stored).
    derive_error: Option<String>,
}

fn accept(
    req: &mut tiny_http::Request,
    store: &Store,
    spool: &Spool,
    cfg: &ReceiverConfig,
    ctype: &str,
    wire: Wire,
) -> std::result::Result<Accepted, Refusal> {
    // Bound to loopback, no other host can connect; bound wider by choice, others are still
    // refused: the receiver is for this machine's agents.
    match req.remote_addr() {
        Some(a) if a.ip().is_loopback() => {}
        Some(a) => {
            return Err(Refusal(
                403,
                format!("{}: only this machine may send (127.0.0.1, ::1)", a.ip()),
            ));
        }
        None => {}
    }
    let path = req.url().split('?').next().unwrap_or("").to_string();
    let signal = match path.as_str() {
        "/v1/traces" => Signal::Traces,
        "/v1/logs" => Signal::Logs,
        "/v1/metrics" => Signal::Metrics,
        other => {
            return Err(Refusal(
                404,
                format!("{other}: not an OTLP path (/v1/traces, /v1/logs, /v1/metrics)"),
            ));
        }
    };
    if *req.method() != tiny_http::Method::Post {
        return Err(Refusal(
            405,
            format!("{}: only POST is accepted", req.method()),
        ));
    }
    if ctype != "application/json" && ctype != "application/x-protobuf" {
        return Err(Refusal(
            415,
            format!(
                "content type {:?}: send application/json or application/x-protobuf",
                ctype
            ),
        ));
    }
    let gzip = match header(req, "content-encoding").map(|v| v.trim().to_ascii_lowercase()) {
        None => false,
        Some(e) if e.is_empty() || e == "identity" => false,
        Some(e) if e == "gzip" => true,
        Some(e) => {
            return Err(Refusal(
                415,
                format!("content encoding {e:?}: only gzip is supported"),
            ));
        }
    };
    let cap = cfg.max_body_bytes;
    if req.body_length().is_some_and(|n| n > cap) {
        return Err(too_big(cap));
    }
    let mut raw = Vec::new();
    req.as_reader()
        .take(cap as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Refusal(400, format!("reading the body: {e}")))?;
    if raw.len() > cap {
        return Err(too_big(cap));
    }
    let body = if gzip {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .take(cap as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| Refusal(400, format!("the gzip body does not decompress: {e}")))?;
        if out.len() > cap {
            return Err(too_big(cap));
        }
        out
    } else {
        raw
    };
    let key = match signal {
        Signal::Traces => "resourceSpans",
        Signal::Logs => "resourceLogs",
        Signal::Metrics => "resourceMetrics",
    };
    // One compact JSON line for the spool.
    let line: Vec<u8> = match wire {
        Wire::Proto => {
            let v = otlp_proto::to_json(signal, &body)
                .map_err(|e| Refusal(400, format!("the protobuf body does not decode: {e}")))?;
            serde_json::to_vec(&v).map_err(|e| Refusal(500, e.to_string()))?
        }
        Wire::Json => {
            let v: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| Refusal(400, format!("the JSON body does not parse: {e}")))?;
            let Some(obj) = v.as_object() else {
                return Err(Refusal(400, "the JSON body is not an object".into()));
            };
            let other = ["resourceSpans", "resourceLogs", "resourceMetrics"]
                .into_iter()
                .find(|k| *k != key && obj.contains_key(*k));
            if let Some(o) = other
                && !obj.contains_key(key)
            {
                return Err(Refusal(
                    400,
                    format!("the body holds {o}, but was sent to {path}"),
                ));
            }
            if memchr::memchr(b'\n', &body).is_none() {
                body
            } else {
                serde_json::to_vec(&v).map_err(|e| Refusal(500, e.to_string()))?
            }
        }
    };
    if line.len() <= 2 {
        // `{}`: an empty request is valid and holds nothing.
        return Ok(Accepted {
            signal,
            accepted: 0,
            rejected: 0,
            why: String::new(),
            derive_error: None,
        });
    }
    let mut later = spool
        .lock
        .lock()
        .map_err(|_| Refusal(500, "the receiver's spool lock is poisoned".into()))?;
    if store.writer().is_none() {
        return Err(Refusal(503, "the workspace is read-only or closing".into()));
    }
    append_line(&spool.path, &line)
        .map_err(|e| Refusal(503, format!("cannot write {}: {e}", spool.path.display())))?;
    let opts = IngestOptions {
        report_skipped_lines: 100,
        derive: false,
        ..IngestOptions::default()
    };
    let report = super::ingest(store, std::slice::from_ref(&spool.path), &opts);
    if let Some(e) = report.errors.first() {
        return Err(Refusal(503, format!("storing the request: {}", e.error)));
    }
    later.add(&report);
    // What was stored is stored: a failed series update is the receiver's error, not the
    // request's.
    let derive_error = later.run(store, false);
    drop(later);
    let accepted = match signal {
        Signal::Traces => report.files.iter().map(|f| f.spans_added).sum(),
        Signal::Logs => report.records_added,
        Signal::Metrics => report.samples_added,
    };
    let mut rejected = 0;
    let mut why = Vec::new();
    for f in &report.files {
        for (reason, n) in &f.skipped_by_reason {
            if matches!(
                reason,
                SkipReason::IncompleteLastLine | SkipReason::PartlyKept
            ) {
                continue;
            }
            rejected += n;
        }
        for s in f.skipped_lines.iter().take(5) {
            if s.reason != SkipReason::PartlyKept {
                why.push(s.detail.clone());
            }
        }
    }
    Ok(Accepted {
        signal,
        accepted,
        rejected,
        why: why.join("; "),
        derive_error: derive_error.map(|e| e.error),
    })
}

fn set_error(c: &Counters, e: String) {
    if let Ok(mut last) = c.last_error.lock() {
        *last = Some(e);
    }
}

/// Runs the derived-series update the requests put off, when it is due (the receiver is
/// idle) or at once (`force`: it is stopping).
fn derive_now(store: &Store, spool: &Spool, c: &Counters, force: bool) {
    let Ok(mut later) = spool.lock.lock() else {
        return;
    };
    if let Some(e) = later.run(store, force) {
        set_error(c, e.error);
    }
}

fn too_big(cap: usize) -> Refusal {
    Refusal(
        413,
        format!("the body is larger than {cap} bytes (the receiver's cap)"),
    )
}

fn append_line(path: &std::path::Path, line: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line);
    buf.push(b'\n');
    f.write_all(&buf)
}

/// `Export*ServiceResponse`: empty on full success, `partialSuccess` otherwise.
fn success_body(wire: Wire, signal: Signal, rejected: u64, why: &str) -> Vec<u8> {
    let field = match signal {
        Signal::Traces => "rejectedSpans",
        Signal::Logs => "rejectedLogRecords",
        Signal::Metrics => "rejectedDataPoints",
    };
    match wire {
        Wire::Json => {
            if rejected == 0 {
                return b"{}".to_vec();
            }
            serde_json::json!({"partialSuccess": {field: rejected.to_string(), "errorMessage": why}})
                .to_string()
                .into_bytes()
        }
        Wire::Proto => {
            if rejected == 0 {
                return Vec::new();
            }
            // partial_success (1) { rejected_* (1): int64, error_message (2): string }
            let mut inner = Vec::new();
            inner.push(0x08);
            varint(&mut inner, rejected);
            inner.push(0x12);
            varint(&mut inner, why.len() as u64);
            inner.extend_from_slice(why.as_bytes());
            let mut out = vec![0x0a];
            varint(&mut out, inner.len() as u64);
            out.extend_from_slice(&inner);
            out
        }
    }
}

/// `google.rpc.Status { code (1), message (2) }` with the gRPC code for the HTTP status.
fn status_body(wire: Wire, http: u16, msg: &str) -> Vec<u8> {
    let code: u64 = match http {
        400 | 415 => 3,  // INVALID_ARGUMENT
        403 => 7,        // PERMISSION_DENIED
        404 | 405 => 12, // UNIMPLEMENTED
        413 => 8,        // RESOURCE_EXHAUSTED
        503 => 14,       // UNAVAILABLE
        _ => 13,         // INTERNAL
    };
    match wire {
        Wire::Json => serde_json::json!({"code": code, "message": msg})
            .to_string()
            .into_bytes(),
        Wire::Proto => {
            let mut out = vec![0x08];
            varint(&mut out, code);
            out.push(0x12);
            varint(&mut out, msg.len() as u64);
            out.extend_from_slice(msg.as_bytes());
            out
        }
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}
