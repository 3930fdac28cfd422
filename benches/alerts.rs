//! Alert evaluation benchmark (issue 6), run by `bench/alerts.sh` (or
//! `cargo bench --bench alerts`):
//!
//! A workspace of 10,000 series (10 metric families x 1,000 label sets, counters and
//! gauges) holding 24 h of samples at 60 s (14.4 M samples), and one rule group of 100 rules
//! of the shapes agent rule files use (rate/increase ratios by label, sums against
//! thresholds, max_over_time, absent-style `or` fallbacks, recording rules feeding later
//! rules). Measures one group cycle (every rule evaluated once, alert state moved, as the
//! live loop does) at the end of the data, median and p95 of `ROUNDS`; the same selectors
//! read as a plain SQL scan in the same process give the baseline. Then the live loop as it
//! runs: recent samples kept between cycles (`HeadCache`), a 10,000-sample scrape written
//! before each cycle. `LIVE_ONLY=1` runs only the live loop; `SPLIT=1` prints how much of
//! each live cycle is reading; `SERIAL=1` evaluates one rule after another (by default rules
//! that can go side by side do, on every core).
//!
//! Prints a markdown table. Not a test: nothing is judged here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use sightline::alerts::engine::{EvalContext, GroupState, Parallel, eval_group};
use sightline::alerts::rules::parse_rule_file;
use sightline::model::MetricSample;
use sightline::promql::MemSource;
use sightline::store::Store;
use sightline::store::queries::series::StoreSource;
use sightline::store::writer::SampleBatch;

const FAMILIES: usize = 10;
const PER_FAMILY: usize = 1_000;
const STEP_MS: i64 = 60_000;
const HOURS: i64 = 24;

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64) * 0.95) as usize].min(v[v.len() - 1])
}

/// Time on a CPU so far, in ms (Linux schedstat), of every thread of this process but the
/// workspace writer (which writes the scrape before each cycle): the live loop's thread and
/// the threads rules are evaluated on. Less disturbed than wall time by other work on a
/// shared machine.
fn cpu_ms() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut ns = 0.0;
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.trim() == "sightline-write" {
            continue;
        }
        ns += std::fs::read_to_string(t.path().join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    ns / 1e6
}

fn family(i: usize) -> String {
    format!("agent_metric_{i}_total")
}

fn labels(j: usize) -> Vec<(String, String)> {
    vec![
        ("instance".into(), format!("pod-{}", j % 50)),
        ("job".into(), format!("job-{}", j % 5)),
        (
            "status".into(),
            if j.is_multiple_of(7) { "error" } else { "ok" }.into(),
        ),
        ("tool".into(), format!("tool-{}", j / 50)),
    ]
}

fn build(db: &std::path::Path, end_ms: i64) {
    let store = Store::open(db).unwrap();
    let w = store.writer().unwrap().clone();
    let steps = HOURS * 3_600_000 / STEP_MS;
    let start = end_ms - steps * STEP_MS;
    for f in 0..FAMILIES {
        let mut batch = Vec::with_capacity(PER_FAMILY * steps as usize);
        for j in 0..PER_FAMILY {
            let l = labels(j);
            let rate = 0.1 + (j % 13) as f64 * 0.05;
            for k in 0..=steps {
                batch.push(MetricSample {
                    metric: family(f),
                    labels: l.clone(),
                    t_ms: start + k * STEP_MS,
                    value: (k as f64 * 60.0 * rate).floor(),
                });
            }
        }
        for chunk in batch.chunks(500_000) {
            w.write_samples(SampleBatch {
                samples: chunk.to_vec(),
                metric_meta: Vec::new(),
            })
            .unwrap();
        }
    }
    drop(w);
    store.close();
}

/// 100 rules: 10 shapes over each of the 10 families.
fn rules() -> String {
    let mut out = String::from("groups:\n  - name: bench\n    interval: 5s\n    rules:\n");
    for f in 0..FAMILIES {
        let m = family(f);
        let shapes = [
            format!("record: bench:{m}:rate5m\n        expr: sum by (job) (rate({m}[5m]))"),
            format!(
                "alert: ErrRatio{f}\n        expr: sum by (tool) (rate({m}{{status=\"error\"}}[5m])) / sum by (tool) (rate({m}[5m])) > 0.5"
            ),
            format!("alert: Burn{f}\n        expr: sum(increase({m}[1h])) > 1e12"),
            format!("alert: JobHigh{f}\n        expr: bench:{m}:rate5m > 1e9\n        for: 30s"),
            format!(
                "alert: PodMax{f}\n        expr: max by (instance) (max_over_time({m}[10m])) > 1e12"
            ),
            format!(
                "alert: Exact{f}\n        expr: (sum by (tool) ({m}{{status=\"error\"}}) - sum by (tool) ({m}{{status=\"error\"}} offset 1m) or sum by (tool) ({m}{{status=\"error\"}})) >= 1e9"
            ),
            format!("alert: Missing{f}\n        expr: absent({m}{{job=\"nope\"}})"),
            format!(
                "alert: Topk{f}\n        expr: topk(3, sum by (instance) (rate({m}[5m]))) > 1e9"
            ),
            format!(
                "alert: Changes{f}\n        expr: count(changes({m}{{job=\"job-1\"}}[5m]) > 100) > 0"
            ),
            format!("alert: Delta{f}\n        expr: sum by (job) (delta({m}[15m])) < -1"),
        ];
        for s in shapes {
            out.push_str(&format!("      - {s}\n"));
        }
    }
    out
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let work = PathBuf::from(
        std::env::var("WORK").unwrap_or_else(|_| "/tmp/sightline-bench-alerts".into()),
    );
    std::fs::create_dir_all(&work).unwrap();
    let db = work.join("alerts-10k.db");
    let end_ms: i64 = 1_717_243_200_000 + HOURS * 3_600_000;
    if !db.exists() {
        let t = Instant::now();
        build(&db, end_ms);
        eprintln!(
            "built {} in {:.1} s",
            db.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let text = rules();
    let groups = parse_rule_file(&text, std::path::Path::new("bench.yml")).unwrap();
    assert_eq!(groups[0].rules.len(), 100);
    let store = Store::open_read_only(&db).unwrap();
    let store = &store;
    let conn = store.reader().unwrap();
    let src = StoreSource::new(&conn);
    let mut state = GroupState::default();
    // SERIAL=1: every rule one after another, on the loop's thread.
    let ctx = EvalContext {
        parallel: if std::env::var_os("SERIAL").is_some() {
            Parallel::Never
        } else {
            Parallel::Auto
        },
        ..EvalContext::default()
    };
    let mut times = Vec::new();
    let mut errors = 0;
    // LIVE_ONLY=1 skips the cycles without kept samples (for profiling the live loop).
    let live_only = std::env::var_os("LIVE_ONLY").is_some();
    let cold_rounds = if live_only { 0 } else { rounds + 2 };
    let other_rounds = if live_only { 0 } else { rounds.min(5) };
    for r in 0..cold_rounds {
        let mut out = MemSource::default();
        let t = Instant::now();
        let e = eval_group(
            &groups[0],
            &mut state,
            &src,
            &mut out,
            end_ms - 5_000 * (rounds + 2 - r) as i64,
            &ctx,
        );
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        errors += e.len();
        if r >= 2 {
            times.push(ms);
        }
    }
    assert_eq!(errors, 0);
    // Of which: reading the ten families' last 65 minutes (what the rules' widest windows
    // need), once each.
    let mut reads = Vec::new();
    for _ in 0..other_rounds {
        let t = Instant::now();
        for f in 0..FAMILIES {
            let m = promql_parser::label::Matcher::new(
                promql_parser::label::MatchOp::Equal,
                "__name__",
                &family(f),
            );
            let s = sightline::promql::SeriesSource::select(&src, &[m], end_ms - 3_900_000, end_ms)
                .unwrap();
            assert_eq!(s.len(), PER_FAMILY);
        }
        reads.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    // The live loop: recent samples kept between cycles (HeadCache); before each cycle a
    // scrape writes one new sample for every series, 5 s after the last.
    let live_store = Store::open(&db).unwrap();
    let writer = live_store.writer().unwrap().clone();
    let live_conn = live_store.reader().unwrap();
    let mut head = sightline::alerts::head::HeadCache::with_feed(writer.feed().clone());
    let mut live_state = GroupState::default();
    let mut live = Vec::new();
    let mut live_cpu = Vec::new();
    for r in 0..rounds + 2 {
        let ts = end_ms + 5_000 * (r as i64 + 1);
        let mut scrape = Vec::with_capacity(FAMILIES * PER_FAMILY);
        for f in 0..FAMILIES {
            for j in 0..PER_FAMILY {
                scrape.push(MetricSample {
                    metric: family(f),
                    labels: labels(j),
                    t_ms: ts - 300,
                    value: (ts / 1000) as f64,
                });
            }
        }
        writer
            .write_samples(SampleBatch {
                samples: scrape,
                metric_meta: Vec::new(),
            })
            .unwrap();
        let mut out = MemSource::default();
        let t = Instant::now();
        let cpu0 = cpu_ms();
        let view = head.cycle(&live_conn).unwrap();
        let cycle_ms = t.elapsed().as_secs_f64() * 1000.0;
        // SPLIT=1: first bring every family's window up to date and hand it out (printed),
        // so the cycle's remaining time is evaluation.
        if std::env::var_os("SPLIT").is_some() {
            for f in 0..FAMILIES {
                let m = promql_parser::label::Matcher::new(
                    promql_parser::label::MatchOp::Equal,
                    "__name__",
                    &family(f),
                );
                sightline::promql::SeriesSource::select(&view, &[m], ts - 3_900_000, ts).unwrap();
            }
            eprintln!(
                "read {:.1} ms (of which the cycle's start {cycle_ms:.1} ms)",
                t.elapsed().as_secs_f64() * 1000.0
            );
        }
        let e = eval_group(&groups[0], &mut live_state, &view, &mut out, ts, &ctx);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert!(e.is_empty(), "{e:?}");
        if r >= 2 {
            live.push(ms);
            live_cpu.push(cpu_ms() - cpu0);
        }
    }
    // RULES=1: each rule's own time in one more cycle (what a cycle spends where).
    if std::env::var_os("RULES").is_some() {
        let ts = end_ms + 5_000 * (rounds as i64 + 3);
        let view = head.cycle(&live_conn).unwrap();
        let cached = sightline::promql::CachedSource::new(&view);
        let mut per: Vec<(f64, String)> = Vec::new();
        for rule in &groups[0].rules {
            let t = Instant::now();
            let _ = rule.expr.instant(&cached, ts);
            per.push((t.elapsed().as_secs_f64() * 1000.0, rule.expr.text.clone()));
        }
        let mut shapes: std::collections::BTreeMap<String, f64> = Default::default();
        for (ms, text) in &per {
            let shape = text.replace(|c: char| c.is_ascii_digit(), "");
            *shapes.entry(shape).or_default() += ms;
        }
        for (shape, ms) in shapes {
            eprintln!("{ms:7.2} ms  {shape}");
        }
    }
    let mut head_reads = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let view = head.cycle(&live_conn).unwrap();
        for f in 0..FAMILIES {
            let m = promql_parser::label::Matcher::new(
                promql_parser::label::MatchOp::Equal,
                "__name__",
                &family(f),
            );
            let s =
                sightline::promql::SeriesSource::select(&view, &[m], end_ms - 3_900_000, end_ms)
                    .unwrap();
            assert_eq!(s.len(), PER_FAMILY);
        }
        head_reads.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let head_reads = median(head_reads[1..].to_vec());
    drop(writer);
    drop(live_conn);
    live_store.close();
    // Baseline: the samples those selectors read (the last 1 h of every series), scanned.
    let mut scan = Vec::new();
    for _ in 0..other_rounds {
        let t = Instant::now();
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM samples WHERE t > ?1",
                [end_ms - 3_600_000],
                |r| r.get(0),
            )
            .unwrap();
        assert!(n > 0);
        scan.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let samples: i64 = conn
        .query_row("SELECT count(*) FROM samples", [], |r| r.get(0))
        .unwrap();
    println!("| what | figure |\n|---|---|");
    println!(
        "| workspace | {} series, {samples} samples (24 h at 60 s) |",
        FAMILIES * PER_FAMILY
    );
    if !times.is_empty() {
        println!(
            "| one group cycle, 100 rules | median {:.1} ms, p95 {:.1} ms ({rounds} cycles) |",
            median(times.clone()),
            p95(times)
        );
    }
    println!(
        "| live loop cycle, 100 rules, recent samples kept between cycles, a 10,000-sample scrape before each | median {:.1} ms, p95 {:.1} ms |",
        median(live.clone()),
        p95(live)
    );
    println!(
        "| the same, CPU time of the loop's thread and the evaluation threads | median {:.1} ms, p95 {:.1} ms |",
        median(live_cpu.clone()),
        p95(live_cpu)
    );
    println!(
        "| of which: the kept samples brought up to date and handed out, 10 families x 65 min | median {head_reads:.1} ms |"
    );
    println!(
        "| of which: reading the 10 families' last 65 min (10,000 series) | median {:.1} ms |",
        median(reads)
    );
    println!(
        "| baseline: SQL count of the last hour's samples (every series) | median {:.1} ms |",
        median(scan)
    );
}
