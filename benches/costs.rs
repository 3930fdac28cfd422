//! Cost and latency benchmark (issue 7): `cargo bench --bench costs`.
//!
//! A workspace of about a million spans (agentgen OTLP, `RUNS` runs, default 100,000, ~56 h
//! of simulated time) is built once in `WORK` and reused. Then, medians of `ROUNDS`:
//!
//! 1. Cost by model per hour (what the cost chart and `sightline chart cost` read), against
//!    the same GROUP BY written as one plain SQL statement in the same process: the least
//!    any SQLite-based tool can do for that answer.
//! 2. p95 latency per hour: of LLM calls per model, and of every span per operation (exact
//!    percentiles: every duration read and sorted).
//! 3. Rendering the cost chart (built once) to PNG and to SVG, 1000 x 500.
//! 4. The full HTML report for one day of data.
//!
//! Prints a markdown table. Not a test: nothing is judged here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use sightline::charts::render::{self, Theme};
use sightline::charts::report::{ReportRequest, html};
use sightline::charts::{self, ChartKind, ChartRequest};
use sightline::ingest::{IngestOptions, ingest};
use sightline::store::Store;
use sightline::store::queries::cost::{CostBy, CostQuery, cost_per_bucket};
use sightline::store::queries::latency::{LatencyBy, LatencyQuery, latency};

const HOUR: i64 = 3_600_000_000_000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed().as_secs_f64() * 1000.0)
}

fn rounds<T>(n: usize, mut f: impl FnMut() -> T) -> f64 {
    median((0..n).map(|_| timed(&mut f).1).collect())
}

fn main() {
    let n: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let runs = std::env::var("RUNS").unwrap_or_else(|_| "100000".into());
    let work = PathBuf::from(
        std::env::var("WORK").unwrap_or_else(|_| "/tmp/sightline-bench-costs".into()),
    );
    std::fs::create_dir_all(&work).unwrap();
    let db = work.join(format!("costs-{runs}.db"));
    if !db.exists() {
        let src = work.join(format!("runs-{runs}.otlp.jsonl"));
        if !src.exists() {
            let shared = std::env::var("SIGHTLINE_SHARED").unwrap_or_else(|_| "../shared".into());
            let st = std::process::Command::new("python3")
                .arg(format!("{shared}/agentgen/agentgen.py"))
                .args(["otlp", "--jsonl", "--no-per-run", "--runs", &runs, "-o"])
                .arg(&src)
                .status()
                .unwrap();
            assert!(st.success());
        }
        let tmp = work.join("building.db");
        let _ = std::fs::remove_file(&tmp);
        let store = Store::open(&tmp).unwrap();
        let (r, ms) = timed(|| ingest(&store, &[src], &IngestOptions::default()));
        store.close();
        std::fs::rename(&tmp, &db).unwrap();
        eprintln!("ingested in {:.1} s: {r:?}", ms / 1000.0);
    }
    // A workspace kept from an older build gets this build's migrations (indexes) first: a
    // read-only open does not migrate.
    Store::open(&db).unwrap().close();
    let store = Store::open_read_only(&db).unwrap();
    let c = store.reader().unwrap();
    let spans: i64 = c
        .query_row("SELECT count(*) FROM spans", [], |r| r.get(0))
        .unwrap();
    let llm: i64 = c
        .query_row("SELECT count(*) FROM spans WHERE kind = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    let (lo, hi): (i64, i64) = c
        .query_row("SELECT min(start_ns), max(end_ns) FROM spans", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    println!("| what | figure |\n|---|---|");
    println!(
        "| workspace | {spans} spans ({llm} LLM calls), {:.1} h of data, {} MB |",
        (hi - lo) as f64 / HOUR as f64,
        std::fs::metadata(&db).unwrap().len() / 1_000_000
    );

    // 1. Cost by model per hour.
    let q = CostQuery {
        by: CostBy::Model,
        since_ns: None,
        until_ns: None,
        trace_ref: None,
    };
    let rows = cost_per_bucket(&c, &q, HOUR).unwrap().len();
    let ours = rounds(n, || cost_per_bucket(&c, &q, HOUR).unwrap());
    let baseline_sql = "SELECT start_ns / 3600000000000, model, count(*), sum(input_tokens),
        sum(output_tokens), sum(cost) FROM spans WHERE kind = 2 GROUP BY 1, 2";
    let base = rounds(n, || {
        let mut st = c.prepare_cached(baseline_sql).unwrap();
        let mut r = st.query([]).unwrap();
        let mut k = 0;
        while r.next().unwrap().is_some() {
            k += 1;
        }
        k
    });
    println!("| cost by model per hour ({rows} rows), median | {ours:.1} ms |");
    println!("| plain SQL GROUP BY hour, model (same process), median | {base:.1} ms |");
    println!(
        "| cost by model per hour / plain SQL | {:.2} |",
        ours / base
    );

    // 2. p95 latency per hour.
    for (by, what) in [
        (LatencyBy::Model, "LLM calls per model"),
        (LatencyBy::Operation, "every span per operation"),
    ] {
        let q = LatencyQuery {
            by,
            since_ns: None,
            until_ns: None,
            bucket_ns: Some(HOUR),
            trace_ref: None,
        };
        let rows = latency(&c, &q).unwrap().len();
        let t = rounds(n, || latency(&c, &q).unwrap());
        println!("| p50..p99 latency per hour, {what} ({rows} rows), median | {t:.1} ms |");
    }

    // 3. Chart rendering.
    let (chart, build_ms) =
        timed(|| charts::build(&c, &ChartRequest::new(ChartKind::Cost)).unwrap());
    println!(
        "| cost chart data ({} series x {} buckets), one build | {build_ms:.1} ms |",
        chart.series.len(),
        chart.x_ms.len()
    );
    let png = rounds(n, || render::png(&chart, 1000, 500, Theme::Light).unwrap());
    let svg = rounds(n, || render::svg(&chart, 1000, 500, Theme::Light).unwrap());
    println!("| render cost chart to PNG 1000x500, median | {png:.1} ms |");
    println!("| render cost chart to SVG 1000x500, median | {svg:.1} ms |");

    // 4. A day's report.
    let day = ReportRequest {
        workspace: "bench".into(),
        since_ns: Some(lo),
        until_ns: Some(lo + 24 * HOUR),
        run: None,
        theme: Theme::Light,
    };
    let day_spans: i64 = c
        .query_row(
            "SELECT count(*) FROM spans WHERE start_ns >= ?1 AND start_ns < ?2",
            [lo, lo + 24 * HOUR],
            |r| r.get(0),
        )
        .unwrap();
    let size = html(&c, &day).unwrap().len();
    let t = rounds(n.min(3), || html(&c, &day).unwrap());
    println!(
        "| full HTML report, first 24 h ({day_spans} spans, {} KB), median | {t:.0} ms |",
        size / 1024
    );
}
