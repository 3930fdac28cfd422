//! Bundles and live inputs (issue 8), `cargo bench --bench live`:
//!
//! 1. **Bundle open**: an agentgen bundle (zip, `BUNDLE_RUNS` runs) opened into a fresh
//!    workspace, against plain ingest of the same files already unpacked (the baseline, same
//!    process): MB/s of unpacked bytes, and the ratio.
//! 2. **Follow, sustained**: a writer appends JSON lines at `FOLLOW_RATE` lines/s for
//!    `FOLLOW_SECS` while the follower polls every 200 ms (as `ingest --follow`, `watch` and
//!    the app do); reports how far behind the follower was at each pass (p50, max) and how
//!    long after the writer stopped the last line was in the workspace.
//! 3. **OTLP receiver**: agentgen OTLP/JSON requests POSTed by two clients to the receiver
//!    on 127.0.0.1; spans stored per second.
//! 4. **Line to row**: single lines appended at random moments to a followed file; the time
//!    until the row is committed and SQLite's `data_version` has moved (what the app's
//!    watcher polls every 250 ms before it tells the window), median and p95.
//!
//! Prints a markdown table. Not a test: nothing is judged here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sightline::ingest::otlp_http::{Receiver, ReceiverConfig};
use sightline::ingest::tail::Follower;
use sightline::ingest::{IngestOptions, ingest};
use sightline::store::Store;

fn env_or<T: std::str::FromStr>(k: &str, d: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn work() -> PathBuf {
    let d = PathBuf::from(env_or("WORK", "/tmp/sightline-bench-live".to_string()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn agentgen(args: &[&str]) {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let ok = std::process::Command::new("python3")
        .arg(shared.join("agentgen/agentgen.py"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "agentgen {args:?}");
}

/// One ingest of `path` with default options, and the seconds it took.
fn timed_ingest(store: &Store, path: &Path) -> (sightline::ingest::IngestReport, f64) {
    let t0 = Instant::now();
    let r = ingest(store, &[path.to_owned()], &IngestOptions::default());
    (r, t0.elapsed().as_secs_f64())
}

fn fresh(db: &Path) -> Store {
    let _ = std::fs::remove_file(db);
    for s in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", db.display()));
    }
    let _ = std::fs::remove_dir_all(format!("{}.files", db.display()));
    Store::open(db).unwrap()
}

fn count(store: &Store, sql: &str) -> i64 {
    store
        .reader()
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn dir_bytes(d: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let p = e.path();
        n += if p.is_dir() {
            dir_bytes(&p)
        } else {
            e.metadata().map(|m| m.len()).unwrap_or(0)
        };
    }
    n
}

fn bundle_open(rows: &mut Vec<String>) {
    let w = work();
    let runs: u64 = env_or("BUNDLE_RUNS", 5_000);
    let zip = w.join(format!("bundle-{runs}.zip"));
    if !zip.exists() {
        agentgen(&[
            "bundle",
            "--runs",
            &runs.to_string(),
            "-o",
            zip.to_str().unwrap(),
        ]);
    }
    let rounds: usize = env_or("ROUNDS", 3);
    let (mut t_bundle, mut t_plain) = (Vec::new(), Vec::new());
    let mut mb = 0.0;
    for _ in 0..rounds {
        let db = w.join("bundle.db");
        let store = fresh(&db);
        let (r, secs) = timed_ingest(&store, &zip);
        t_bundle.push(secs);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        store.close();
        let unpacked = std::fs::read_dir(format!("{}.files/bundles", db.display()))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.is_dir())
            .unwrap();
        mb = dir_bytes(&unpacked) as f64 / 1e6;
        let plain = w.join("plain");
        let _ = std::fs::remove_dir_all(&plain);
        std::fs::rename(&unpacked, &plain).unwrap();
        let store = fresh(&w.join("plain.db"));
        let (r, secs) = timed_ingest(&store, &plain);
        t_plain.push(secs);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        store.close();
    }
    let (b, p) = (pct(t_bundle, 0.5), pct(t_plain, 0.5));
    rows.push(format!(
        "| bundle open (agentgen zip, {runs} runs, {mb:.0} MB unpacked) | {:.1} MB/s ({b:.2} s) | plain ingest of the unpacked files: {:.1} MB/s ({p:.2} s); ratio {:.2}x |",
        mb / b,
        mb / p,
        b / p
    ));
}

fn log_line(i: u64, pad: &str) -> String {
    format!(
        "{{\"ts\":{}.{:06},\"level\":\"{}\",\"logger\":\"agent.runtime\",\"msg\":\"step {i} done\",\"trace_id\":\"{:032x}\",\"tokens\":{}{pad}}}\n",
        1_717_243_200 + i / 1000,
        (i % 1000) * 1000,
        if i.is_multiple_of(50) {
            "error"
        } else {
            "info"
        },
        i / 40,
        i % 997
    )
}

fn follow_sustained(rows: &mut Vec<String>) {
    let w = work();
    let rate: u64 = env_or("FOLLOW_RATE", 50_000);
    let secs: u64 = env_or("FOLLOW_SECS", 10);
    let log = w.join("follow.jsonl");
    std::fs::write(&log, "").unwrap();
    let store = Arc::new(fresh(&w.join("follow.db")));
    let written = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (log, written, done) = (log.clone(), written.clone(), done.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            let t0 = Instant::now();
            let mut i = 0u64;
            // Every 10 ms, the lines due by then.
            while t0.elapsed() < Duration::from_secs(secs) {
                let due = (t0.elapsed().as_secs_f64() * rate as f64) as u64;
                let mut buf = String::new();
                while i < due {
                    buf.push_str(&log_line(i, ""));
                    i += 1;
                }
                f.write_all(buf.as_bytes()).unwrap();
                written.store(i, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
            done.store(true, Ordering::Relaxed);
        })
    };
    let mut follower = Follower::new(vec![log.clone()], IngestOptions::default());
    let mut behind = Vec::new();
    let mut read = 0i64;
    let started = Instant::now();
    let mut stopped_at = None;
    loop {
        let t = Instant::now();
        let r = follower.pass(&store);
        read += r.records_added as i64;
        let lag = written.load(Ordering::Relaxed) as i64 - read;
        behind.push(lag.max(0) as f64);
        if done.load(Ordering::Relaxed) {
            stopped_at.get_or_insert_with(Instant::now);
            if read >= written.load(Ordering::Relaxed) as i64 {
                break;
            }
        }
        let spent = t.elapsed();
        if spent < Duration::from_millis(200) {
            std::thread::sleep(Duration::from_millis(200) - spent);
        }
    }
    writer.join().unwrap();
    let drain = stopped_at.map_or(0.0, |s| s.elapsed().as_secs_f64());
    let total = written.load(Ordering::Relaxed);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM logs") as u64, total);
    let wall = started.elapsed().as_secs_f64();
    rows.push(format!(
        "| follow at {rate} lines/s for {secs} s ({total} lines) | lines behind the writer at a pass: p50 {:.0}, max {:.0} ({:.2} s of writing at most); last line in {drain:.2} s after the writer stopped | {:.0} lines/s read on average |",
        pct(behind.clone(), 0.5),
        pct(behind.clone(), 1.0),
        pct(behind, 1.0) / rate as f64,
        total as f64 / wall
    ));
}

fn receiver(rows: &mut Vec<String>) {
    let w = work();
    let runs: u64 = env_or("OTLP_RUNS", 4_000);
    let file = w.join(format!("otlp-{runs}.jsonl"));
    if !file.exists() {
        agentgen(&[
            "otlp",
            "--runs",
            &runs.to_string(),
            "-o",
            file.to_str().unwrap(),
        ]);
    }
    // Requests of up to 512 spans, as an SDK's batch span processor sends them: one process
    // (resource) per request, its spans from many runs.
    let text = std::fs::read_to_string(&file).unwrap();
    let mut by_process: std::collections::BTreeMap<
        String,
        (serde_json::Value, Vec<serde_json::Value>),
    > = Default::default();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let doc: serde_json::Value = serde_json::from_str(l).unwrap();
        for rs in doc["resourceSpans"].as_array().into_iter().flatten() {
            let p = by_process
                .entry(rs["resource"].to_string())
                .or_insert_with(|| (rs["resource"].clone(), Vec::new()));
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                p.1.extend(ss["spans"].as_array().unwrap().iter().cloned());
            }
        }
    }
    let mut bodies: Vec<String> = Vec::new();
    for (resource, spans) in by_process.values() {
        for chunk in spans.chunks(512) {
            let req = serde_json::json!({"resourceSpans": [{
                "resource": resource,
                "scopeSpans": [{"scope": {"name": "agentgen.instrumentation"}, "spans": chunk}],
            }]});
            bodies.push(req.to_string());
        }
    }
    let store = Arc::new(fresh(&w.join("receiver.db")));
    let rx = Receiver::start(
        store.clone(),
        ReceiverConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..ReceiverConfig::default()
        },
    )
    .unwrap();
    let url = format!("http://{}/v1/traces", rx.addr());
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let (bodies, next, url) = (bodies.clone(), next.clone(), url.clone());
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(b) = bodies.get(i) else { break };
                    let r = ureq::post(&url)
                        .set("Content-Type", "application/json")
                        .send_string(b)
                        .unwrap();
                    assert_eq!(r.status(), 200);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let secs = t0.elapsed().as_secs_f64();
    let stats = rx.stats();
    rx.stop();
    let spans = count(&store, "SELECT COUNT(*) FROM spans");
    // Baseline, same process: the same spans ingested from the file in one pass.
    let plain = fresh(&w.join("receiver-plain.db"));
    let (r, plain_secs) = timed_ingest(&plain, &file);
    assert_eq!(r.spans_added as i64, spans);
    rows.push(format!(
        "| OTLP/HTTP receiver, JSON, 2 clients ({} requests of up to 512 spans, {spans} spans) | {:.0} spans/s ({secs:.2} s), {:.1} requests/s | the same spans ingested from the file in one pass: {:.0} spans/s ({plain_secs:.2} s); receiver / file {:.2} |",
        stats.requests,
        spans as f64 / secs,
        stats.requests / secs,
        spans as f64 / plain_secs,
        plain_secs / secs
    ));
}

fn line_to_row(rows: &mut Vec<String>) {
    let w = work();
    let log = w.join("latency.jsonl");
    std::fs::write(&log, "").unwrap();
    let store = Arc::new(fresh(&w.join("latency.db")));
    let stop = Arc::new(AtomicBool::new(false));
    let follower = {
        let (store, stop, log) = (store.clone(), stop.clone(), log.clone());
        std::thread::spawn(move || {
            sightline::ingest::tail::follow(
                &store,
                vec![log],
                IngestOptions::default(),
                Duration::from_millis(200),
                &stop,
                |_| {},
            )
        })
    };
    let conn = store.reader().unwrap();
    let version = || -> i64 {
        conn.query_row("PRAGMA data_version", [], |r| r.get(0))
            .unwrap()
    };
    let mut lat = Vec::new();
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let n: u64 = env_or("LATENCY_LINES", 40);
    for i in 0..n {
        // At a random moment within the poll period.
        std::thread::sleep(Duration::from_millis(150 + (i * 37) % 200));
        let v0 = version();
        let t0 = Instant::now();
        f.write_all(log_line(i, "").as_bytes()).unwrap();
        while version() == v0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    stop.store(true, Ordering::Relaxed);
    follower.join().unwrap();
    let (p50, p95) = (pct(lat.clone(), 0.5), pct(lat, 0.95));
    rows.push(format!(
        "| line appended -> row committed (follow poll 200 ms), {n} lines | median {p50:.0} ms, p95 {p95:.0} ms | + up to 250 ms until the app's watcher sends data-changed: worst case about {:.0} ms |",
        p95 + 250.0
    ));
}

fn main() {
    // `cargo bench` passes --bench; nothing else is read from the command line.
    let only = std::env::var("ONLY").unwrap_or_default();
    println!("| what | result | beside it |\n|---|---|---|");
    // Each row is printed as soon as it is measured, so a stopped run keeps what it had.
    let mut rows = Vec::new();
    let want = |k: &str| only.is_empty() || only.split(',').any(|o| o == k);
    if want("bundle") {
        bundle_open(&mut rows);
        println!("{}", rows.last().map_or("", String::as_str));
    }
    if want("follow") {
        follow_sustained(&mut rows);
        println!("{}", rows.last().map_or("", String::as_str));
    }
    if want("receiver") {
        receiver(&mut rows);
        println!("{}", rows.last().map_or("", String::as_str));
    }
    if want("latency") {
        line_to_row(&mut rows);
        println!("{}", rows.last().map_or("", String::as_str));
    }
}
