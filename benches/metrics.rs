//! Metrics benchmark (issue 5), run by `bench/metrics.sh` (or `cargo bench --bench metrics`
//! with the environment it sets):
//!
//! 1. Parse throughput on a 10,000-series exposition: Sightline's parser against the
//!    `prometheus-parse` crate, in this process, same bytes, medians of `ROUNDS`.
//! 2. Scrape-to-stored latency: an HTTP server on 127.0.0.1 serves that exposition; each
//!    round is one scrape (GET, parse) plus the committed write of its samples.
//! 3. `sum by (job) (rate(x[5m]))` over 1,000 series holding 24 h of 5 s samples (17.28 M
//!    samples): instant (what an alert rule evaluates) and range queries, medians.
//!
//! Prints a markdown table. Not a test: nothing is judged here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Instant;

use sightline::ingest::prom_text::parse_exposition;
use sightline::ingest::scrape::{ScrapeConfig, scrape_once};
use sightline::model::MetricSample;
use sightline::promql::Query;
use sightline::store::Store;
use sightline::store::queries::series::StoreSource;
use sightline::store::writer::SampleBatch;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64) * 0.95) as usize].min(v[v.len() - 1])
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed().as_secs_f64() * 1000.0)
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let expo_path = std::env::var("EXPOSITION").map(PathBuf::from).ok();
    let work = PathBuf::from(
        std::env::var("WORK").unwrap_or_else(|_| "/tmp/sightline-bench-metrics".into()),
    );
    std::fs::create_dir_all(&work).unwrap();
    println!("| what | figure |\n|---|---|");

    if let Some(p) = expo_path {
        let bytes = std::fs::read(&p).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let e = parse_exposition(&bytes, None).unwrap();
        let series = e.sample_count();
        let mb = bytes.len() as f64 / 1e6;
        println!(
            "| exposition | {series} samples, {} families, {mb:.1} MB |",
            e.families.len()
        );
        let ours: Vec<f64> = (0..rounds)
            .map(|_| timed(|| parse_exposition(&bytes, None).unwrap().sample_count()).1)
            .collect();
        let theirs: Vec<f64> = (0..rounds)
            .map(|_| {
                timed(|| {
                    let lines = text.lines().map(|l| Ok(l.to_string()));
                    prometheus_parse::Scrape::parse(lines)
                        .unwrap()
                        .samples
                        .len()
                })
                .1
            })
            .collect();
        let (o, t) = (median(ours), median(theirs));
        println!(
            "| parse, Sightline | {o:.2} ms ({:.1} M samples/s) |",
            series as f64 / o / 1000.0
        );
        println!(
            "| parse, prometheus-parse 0.2.5 | {t:.2} ms ({:.1} M samples/s); Sightline {:.1}x faster |",
            series as f64 / t / 1000.0,
            t / o
        );

        // Scrape to stored.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let body = bytes.clone();
        std::thread::spawn(move || {
            for c in listener.incoming() {
                let Ok(mut c) = c else { continue };
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let _ = write!(
                    c,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = c.write_all(&body);
            }
        });
        let db = work.join("scrape.db");
        let _ = std::fs::remove_file(&db);
        let store = Store::open(&db).unwrap();
        let w = store.writer().unwrap().clone();
        let cfg = ScrapeConfig::new(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
        let mut total = Vec::new();
        let mut fetch_parse = Vec::new();
        for i in 0..rounds {
            let t0 = Instant::now();
            let o = scrape_once(&cfg, 1_700_000_000_000 + i as i64 * 5000);
            assert!(o.error.is_none(), "{:?}", o.error);
            fetch_parse.push(o.duration_ms);
            w.write_samples(SampleBatch {
                samples: o.samples,
                metric_meta: o.meta,
            })
            .unwrap();
            total.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        drop(w);
        store.close();
        println!(
            "| scrape to stored ({series} samples): GET + parse | median {:.1} ms, p95 {:.1} ms |",
            median(fetch_parse.clone()),
            p95(fetch_parse)
        );
        println!(
            "| scrape to stored: GET + parse + committed write | median {:.1} ms, p95 {:.1} ms |",
            median(total.clone()),
            p95(total)
        );
    }

    // 1,000 series x 24 h of 5 s samples.
    let db = work.join("rate-1000x24h.db");
    let end: i64 = 1_717_243_200_000 + 86_400_000;
    let start = end - 86_400_000;
    if !db.exists() {
        let tmp = work.join("rate-1000x24h.db.part");
        let _ = std::fs::remove_file(&tmp);
        let store = Store::open(&tmp).unwrap();
        let w = store.writer().unwrap().clone();
        let (_, ms) = timed(|| {
            let mut t = start;
            let mut counters = vec![0f64; 1000];
            let mut batch = Vec::with_capacity(200_000);
            while t <= end {
                for (i, c) in counters.iter_mut().enumerate() {
                    *c += ((i * 7 + (t / 5000) as usize) % 13) as f64;
                    batch.push(MetricSample {
                        metric: "agent_requests_total".into(),
                        labels: vec![
                            ("instance".into(), format!("pod-{}", i % 100)),
                            ("job".into(), format!("job-{}", i % 10)),
                            ("route".into(), format!("/r{}", i / 100)),
                        ],
                        t_ms: t,
                        value: *c,
                    });
                }
                if batch.len() >= 200_000 {
                    w.write_samples(SampleBatch {
                        samples: std::mem::take(&mut batch),
                        metric_meta: Vec::new(),
                    })
                    .unwrap();
                }
                t += 5000;
            }
            w.write_samples(SampleBatch {
                samples: batch,
                metric_meta: Vec::new(),
            })
            .unwrap();
        });
        drop(w);
        store.close();
        std::fs::rename(&tmp, &db).unwrap();
        println!(
            "| writing 17.28 M samples (1,000 series x 24 h x 5 s) | {:.1} s ({:.0} k samples/s) |",
            ms / 1000.0,
            17_281_000.0 / ms
        );
    }
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!(
        "| that workspace on disk | {:.0} MB ({:.1} bytes per sample) |",
        size as f64 / 1e6,
        size as f64 / 17_281_000.0
    );
    let store = Store::open(&db).unwrap();
    let conn = store.reader().unwrap();
    let src = StoreSource::new(&conn);
    let q = Query::parse("sum by (job) (rate(agent_requests_total[5m]))").unwrap();
    let inst: Vec<f64> = (0..rounds)
        .map(|_| timed(|| q.instant(&src, end).unwrap()).1)
        .collect();
    println!(
        "| `sum by (job) (rate(x[5m]))`, instant, 1,000 series | median {:.1} ms (target < 100 ms) |",
        median(inst)
    );
    let r1h: Vec<f64> = (0..rounds.min(10))
        .map(|_| timed(|| q.range(&src, end - 3_600_000, end, 15_000).unwrap()).1)
        .collect();
    println!(
        "| same, range over the last 1 h, step 15 s (241 steps) | median {:.0} ms |",
        median(r1h)
    );
    let r24: Vec<f64> = (0..3)
        .map(|_| timed(|| q.range(&src, start, end, 300_000).unwrap()).1)
        .collect();
    println!(
        "| same, range over 24 h, step 5 m (289 steps, every sample read) | median {:.0} ms |",
        median(r24)
    );
    drop(conn);
    store.close();

    // The same workspace after the default downsampling (raw 2 h, then one per minute).
    let small = work.join("rate-1000x24h-compacted.db");
    let _ = std::fs::remove_file(&small);
    std::fs::copy(&db, &small).unwrap();
    let store = Store::open(&small).unwrap();
    let (rep, ms) = timed(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        store
            .writer()
            .unwrap()
            .exec(move |conn| {
                let r = sightline::metrics::retention::compact(conn, &Default::default())?;
                conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE)")?;
                let _ = tx.send(r);
                Ok(())
            })
            .unwrap();
        rx.recv().unwrap()
    });
    let conn = store.reader().unwrap();
    let left: i64 = conn
        .query_row("SELECT count(*) FROM samples", [], |r| r.get(0))
        .unwrap();
    println!(
        "| downsampling it (raw 2 h, then 1/min) and VACUUM | {:.1} s; {} samples thinned, {left} left, {:.0} MB on disk |",
        ms / 1000.0,
        rep.thinned,
        std::fs::metadata(&small).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );
    let src = StoreSource::new(&conn);
    let inst: Vec<f64> = (0..rounds)
        .map(|_| timed(|| q.instant(&src, end).unwrap()).1)
        .collect();
    println!(
        "| instant rate query after downsampling | median {:.1} ms |",
        median(inst)
    );
    let r24: Vec<f64> = (0..3)
        .map(|_| timed(|| q.range(&src, start, end, 300_000).unwrap()).1)
        .collect();
    println!(
        "| 24 h range query (step 5 m) after downsampling | median {:.0} ms |",
        median(r24)
    );
    drop(conn);
    store.close();
}
