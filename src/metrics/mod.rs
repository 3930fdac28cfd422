//! Derived series: what logs and spans say, as metric series, so one rule language covers
//! all three signals and rules can be backtested on recorded runs.
//!
//! Computed after each ingest from the workspace's own tables, at the records' own times:
//!
//! | series | labels |
//! |---|---|
//! | `sightline_log_records_total` | `level`, `source` (file name) |
//! | `sightline_spans_total` | `kind`, `name`, `status` |
//! | `sightline_llm_calls_total` | `provider`, `model`, `status` |
//! | `sightline_llm_tokens_total` | `provider`, `model`, `type` (input, output) |
//! | `sightline_llm_cost_usd_total` | `provider`, `model` |
//! | `sightline_tool_calls_total` | `tool`, `status` |
//! | `sightline_span_duration_seconds` (histogram) | `kind` |
//!
//! Counters are cumulative. A series gets a sample in each time step where it changed (1 s
//! steps, coarser when the data spans more than ~1.5 hours, so a series holds at most ~5,000
//! steps) and at least one a minute in between, so it stays visible to instant queries as a
//! scraped series would.

pub mod retention;

use std::collections::HashMap;

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::model::{MetricMeta, MetricSample, SpanKind, SpanStatus};
use crate::store::writer::{labels_json, resolve_series, sample_value_sql};

/// Upper bounds of the span duration histogram, in seconds.
pub const DURATION_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Most distinct span names kept as a label; the rest read `other`.
const MAX_SPAN_NAMES: usize = 200;

const HEARTBEAT_MS: i64 = 60_000;
const MAX_STEPS: i64 = 5_000;

type Key = (String, Vec<(String, String)>);

/// Increments of counters at times, turned into cumulative samples.
#[derive(Default)]
struct Counters {
    events: Vec<(i64, usize, f64)>,
    keys: Vec<Key>,
    index: HashMap<Key, usize>,
}

impl Counters {
    fn add(&mut self, t_ms: i64, metric: &str, labels: Vec<(String, String)>, inc: f64) {
        let key = (metric.to_string(), crate::model::canonical_labels(labels));
        let i = match self.index.get(&key) {
            Some(i) => *i,
            None => {
                self.keys.push(key.clone());
                self.index.insert(key, self.keys.len() - 1);
                self.keys.len() - 1
            }
        };
        self.events.push((t_ms, i, inc));
    }

    fn samples(mut self) -> Vec<MetricSample> {
        if self.events.is_empty() {
            return Vec::new();
        }
        self.events.sort_by_key(|e| e.0);
        let (lo, hi) = (self.events[0].0, self.events[self.events.len() - 1].0);
        let step = (((hi - lo) / MAX_STEPS).max(1000) + 999) / 1000 * 1000;
        let n = self.keys.len();
        let mut total = vec![0.0f64; n];
        // When each series last got a sample.
        let mut last: Vec<Option<i64>> = vec![None; n];
        let mut last_value = vec![0.0f64; n];
        let mut changed = vec![false; n];
        let mut out = Vec::new();
        let keys = &self.keys;
        let mut emit = |k: usize, t: i64, v: f64| {
            out.push(MetricSample {
                metric: keys[k].0.clone(),
                labels: keys[k].1.clone(),
                t_ms: t,
                value: v,
            });
        };
        let mut i = 0;
        while i < self.events.len() {
            let start = self.events[i].0.div_euclid(step) * step;
            let end = start + step - 1;
            let mut touched: Vec<usize> = Vec::new();
            while i < self.events.len() && self.events[i].0 <= end {
                let (_, k, inc) = self.events[i];
                if !changed[k] {
                    changed[k] = true;
                    touched.push(k);
                }
                total[k] += inc;
                i += 1;
            }
            for k in touched {
                changed[k] = false;
                match last[k] {
                    // A counter reads 0 just before its first increment, so `increase`
                    // counts that increment too.
                    None => emit(k, start - 1, 0.0),
                    // Heartbeats while it did not change, so it stays visible.
                    Some(mut t) => {
                        while t + HEARTBEAT_MS < start {
                            t += HEARTBEAT_MS;
                            emit(k, t, last_value[k]);
                        }
                    }
                }
                let t = end.min(hi);
                emit(k, t, total[k]);
                last[k] = Some(t);
                last_value[k] = total[k];
            }
        }
        out
    }
}

fn meta(family: &str, metrics: &[&str], kind: &'static str, help: &str, unit: &str) -> MetricMeta {
    MetricMeta {
        family: family.into(),
        metrics: metrics.iter().map(|m| m.to_string()).collect(),
        kind,
        help: help.into(),
        unit: unit.into(),
        derived: true,
    }
}

fn families() -> Vec<MetricMeta> {
    vec![
        meta(
            "sightline_log_records",
            &["sightline_log_records_total"],
            "counter",
            "Log records read, by level and source file.",
            "",
        ),
        meta(
            "sightline_spans",
            &["sightline_spans_total"],
            "counter",
            "Spans ended, by kind, name and status.",
            "",
        ),
        meta(
            "sightline_llm_calls",
            &["sightline_llm_calls_total"],
            "counter",
            "LLM calls ended, by provider, model and status.",
            "",
        ),
        meta(
            "sightline_llm_tokens",
            &["sightline_llm_tokens_total"],
            "counter",
            "LLM tokens, by provider, model and type (input, output).",
            "",
        ),
        meta(
            "sightline_llm_cost_usd",
            &["sightline_llm_cost_usd_total"],
            "counter",
            "LLM cost in US dollars, by provider and model.",
            "usd",
        ),
        meta(
            "sightline_tool_calls",
            &["sightline_tool_calls_total"],
            "counter",
            "Tool calls ended, by tool and status.",
            "",
        ),
        meta(
            "sightline_span_duration_seconds",
            &[
                "sightline_span_duration_seconds_bucket",
                "sightline_span_duration_seconds_sum",
                "sightline_span_duration_seconds_count",
            ],
            "histogram",
            "Span durations, by kind.",
            "seconds",
        ),
    ]
}

fn level_name(l: i64) -> &'static str {
    crate::model::Level::from_i64(l)
        .map(|l| l.as_str())
        .unwrap_or("unknown")
}

/// Log-record counters of one source.
fn log_counters(conn: &Connection, source_id: i64, source: &str) -> Result<Vec<MetricSample>> {
    let mut c = Counters::default();
    let mut st = conn.prepare(
        "SELECT ts / 1000000000 * 1000 AS t, level, count(*) FROM logs WHERE source_id = ?1 GROUP BY t, level",
    )?;
    let mut rows = st.query(params![source_id])?;
    while let Some(r) = rows.next()? {
        let (t, level, n): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        c.add(
            t,
            "sightline_log_records_total",
            vec![
                ("level".into(), level_name(level).into()),
                ("source".into(), source.into()),
            ],
            n as f64,
        );
    }
    Ok(c.samples())
}

/// Span, LLM and tool counters and the duration histogram over every span.
fn span_counters(conn: &Connection) -> Result<Vec<MetricSample>> {
    let mut names: HashMap<String, i64> = HashMap::new();
    {
        let mut st =
            conn.prepare("SELECT name, count(*) FROM spans GROUP BY name ORDER BY count(*) DESC")?;
        let mut rows = st.query([])?;
        let mut i = 0;
        while let Some(r) = rows.next()? {
            if i < MAX_SPAN_NAMES {
                names.insert(r.get(0)?, r.get(1)?);
            }
            i += 1;
        }
    }
    let mut c = Counters::default();
    let mut st = conn.prepare(
        "SELECT end_ns, start_ns, name, kind, status, provider, model, input_tokens, output_tokens, cost, tool_name FROM spans",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let end_ns: i64 = r.get(0)?;
        let start_ns: i64 = r.get(1)?;
        let name: String = r.get(2)?;
        let kind = SpanKind::from_i64(r.get(3)?);
        let status = SpanStatus::from_i64(r.get(4)?);
        let status_s = if status == SpanStatus::Error {
            "error"
        } else {
            "ok"
        };
        let t = end_ns / 1_000_000;
        let name = if names.contains_key(&name) {
            name
        } else {
            "other".into()
        };
        c.add(
            t,
            "sightline_spans_total",
            vec![
                ("kind".into(), kind.as_str().into()),
                ("name".into(), name),
                ("status".into(), status_s.into()),
            ],
            1.0,
        );
        let dur = (end_ns - start_ns).max(0) as f64 / 1e9;
        let k = vec![("kind".to_string(), kind.as_str().to_string())];
        for le in DURATION_BUCKETS {
            if dur <= *le {
                let mut l = k.clone();
                l.push(("le".into(), crate::promql::gofmt::format_g(*le)));
                c.add(t, "sightline_span_duration_seconds_bucket", l, 1.0);
            }
        }
        let mut l = k.clone();
        l.push(("le".into(), "+Inf".into()));
        c.add(t, "sightline_span_duration_seconds_bucket", l, 1.0);
        c.add(t, "sightline_span_duration_seconds_count", k.clone(), 1.0);
        c.add(t, "sightline_span_duration_seconds_sum", k, dur);
        if kind == SpanKind::Llm {
            let provider: String = r
                .get::<_, Option<String>>(5)?
                .unwrap_or_else(|| "unknown".into());
            let model: String = r
                .get::<_, Option<String>>(6)?
                .unwrap_or_else(|| "unknown".into());
            let pm = || {
                vec![
                    ("provider".to_string(), provider.clone()),
                    ("model".to_string(), model.clone()),
                ]
            };
            let mut l = pm();
            l.push(("status".into(), status_s.into()));
            c.add(t, "sightline_llm_calls_total", l, 1.0);
            for (ty, col) in [("input", 7), ("output", 8)] {
                if let Some(n) = r.get::<_, Option<i64>>(col)? {
                    let mut l = pm();
                    l.push(("type".into(), ty.into()));
                    c.add(t, "sightline_llm_tokens_total", l, n as f64);
                }
            }
            if let Some(cost) = r.get::<_, Option<f64>>(9)? {
                c.add(t, "sightline_llm_cost_usd_total", pm(), cost);
            }
        }
        if kind == SpanKind::Tool {
            let tool: String = r
                .get::<_, Option<String>>(10)?
                .unwrap_or_else(|| "unknown".into());
            c.add(
                t,
                "sightline_tool_calls_total",
                vec![("tool".into(), tool), ("status".into(), status_s.into())],
                1.0,
            );
        }
    }
    Ok(c.samples())
}

/// Replaces the derived series of `metrics` (limited to `source` when given) by `samples`.
fn replace(
    tx: &rusqlite::Transaction<'_>,
    metrics: &[&str],
    source: Option<&str>,
    samples: &[MetricSample],
) -> Result<()> {
    for m in metrics {
        tx.execute(
            "DELETE FROM samples WHERE series_id IN (SELECT id FROM series WHERE metric = ?1
                 AND (?2 IS NULL OR json_extract(labels, '$.source') = ?2))",
            params![m, source],
        )?;
    }
    let mut ids: HashMap<(String, String), i64> = HashMap::new();
    let mut ins =
        tx.prepare_cached("INSERT OR REPLACE INTO samples (series_id, t, v) VALUES (?1, ?2, ?3)")?;
    let fams = families();
    for s in samples {
        let fam = fams
            .iter()
            .find(|f| f.metrics.contains(&s.metric))
            .map(|f| f.family.as_str());
        let id = resolve_series(tx, &mut ids, &s.metric, labels_json(&s.labels), fam)?;
        ins.execute(params![id, s.t_ms, sample_value_sql(s.value)])?;
    }
    Ok(())
}

/// Recomputes derived series after an ingest: the log counters of `sources` (id, file name)
/// and, when spans changed, the span series.
pub fn refresh(
    conn: &mut Connection,
    sources: &[(i64, String)],
    spans_changed: bool,
) -> Result<usize> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut n = 0;
    {
        let mut fam = tx.prepare_cached(
            "INSERT INTO metric_families (name, kind, help, unit, derived) VALUES (?1, ?2, ?3, ?4, 1)
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, help = excluded.help, unit = excluded.unit, derived = 1",
        )?;
        for f in families() {
            fam.execute(params![f.family, f.kind, f.help, f.unit])?;
        }
    }
    for (id, name) in sources {
        let s = log_counters(&tx, *id, name)?;
        n += s.len();
        replace(&tx, &["sightline_log_records_total"], Some(name), &s)?;
    }
    if spans_changed {
        let s = span_counters(&tx)?;
        n += s.len();
        replace(
            &tx,
            &[
                "sightline_spans_total",
                "sightline_llm_calls_total",
                "sightline_llm_tokens_total",
                "sightline_llm_cost_usd_total",
                "sightline_tool_calls_total",
                "sightline_span_duration_seconds_bucket",
                "sightline_span_duration_seconds_sum",
                "sightline_span_duration_seconds_count",
            ],
            None,
            &s,
        )?;
    }
    tx.commit()?;
    Ok(n)
}

/// The file name a source's series are labelled with.
pub fn source_label(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
        .to_string()
}
