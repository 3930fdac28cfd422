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
//! | `sightline_tool_call_streak` (gauge) | `tool`: longest run of identical calls per step |
//! | `sightline_last_activity_timestamp_seconds` (gauge) | newest log record or span end |
//! | `sightline_runs_open` (gauge) | runs whose root span has not ended |
//!
//! Counters are cumulative. A series gets a sample in each time step where it changed (1 s
//! steps, coarser when the data spans more than ~25 minutes, so a series holds at most ~1,500
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
const MAX_STEPS: i64 = 1_500;

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

    /// The cumulative samples: (series index into `keys`, time, value), and the keys.
    fn samples(mut self) -> Derived {
        if self.events.is_empty() {
            return Derived::default();
        }
        self.events.sort_by_key(|e| e.0);
        let (lo, hi) = (self.events[0].0, self.events[self.events.len() - 1].0);
        let step = step_for(lo, hi);
        let n = self.keys.len();
        let mut total = vec![0.0f64; n];
        // When each series last got a sample.
        let mut last: Vec<Option<i64>> = vec![None; n];
        let mut last_value = vec![0.0f64; n];
        let mut changed = vec![false; n];
        let mut out = Vec::new();
        let mut emit = |k: usize, t: i64, v: f64| out.push((k, t, v));
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
        Derived {
            keys: self.keys,
            samples: out,
        }
    }
}

/// Derived samples, each naming its series by index, so a million samples do not carry a
/// million copies of their labels.
#[derive(Debug, Default)]
pub struct Derived {
    keys: Vec<Key>,
    samples: Vec<(usize, i64, f64)>,
}

impl Derived {
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// As workspace samples (for tests and small outputs).
    pub fn to_samples(&self) -> Vec<MetricSample> {
        self.samples
            .iter()
            .map(|&(k, t, v)| MetricSample {
                metric: self.keys[k].0.clone(),
                labels: self.keys[k].1.clone(),
                t_ms: t,
                value: v,
            })
            .collect()
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
        meta(
            "sightline_tool_call_streak",
            &["sightline_tool_call_streak"],
            "gauge",
            "Longest run of consecutive calls of one tool with the same arguments in a trace.",
            "",
        ),
        meta(
            "sightline_last_activity_timestamp_seconds",
            &["sightline_last_activity_timestamp_seconds"],
            "gauge",
            "Time of the newest log record or span end.",
            "seconds",
        ),
        meta(
            "sightline_runs_open",
            &["sightline_runs_open"],
            "gauge",
            "Runs whose root span has not ended.",
            "",
        ),
    ]
}

fn level_name(l: i64) -> &'static str {
    crate::model::Level::from_i64(l)
        .map(|l| l.as_str())
        .unwrap_or("unknown")
}

/// The time step of derived samples for data spanning `[lo, hi]` (ms): 1 s, or coarser so a
/// series holds at most `MAX_STEPS` steps.
fn step_for(lo: i64, hi: i64) -> i64 {
    (((hi - lo) / MAX_STEPS).max(1000) + 999) / 1000 * 1000
}

/// Log-record counters of one source, from its per-second buckets.
fn log_counters(conn: &Connection, source_id: i64, source: &str) -> Result<Derived> {
    let (lo, hi): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT min(t), max(t) FROM log_buckets WHERE source_id = ?1",
        [source_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(Derived::default());
    };
    let step_s = step_for(lo * 1000, hi * 1000) / 1000;
    let mut c = Counters::default();
    let mut st = conn.prepare(
        "SELECT t / ?2 * ?2 AS b, level, sum(n) FROM log_buckets WHERE source_id = ?1 GROUP BY b, level",
    )?;
    let mut rows = st.query(params![source_id, step_s])?;
    while let Some(r) = rows.next()? {
        let (t, level, n): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        c.add(
            t * 1000,
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

/// Span, LLM and tool counters and the duration histogram over every span, aggregated by
/// SQL at the derived step (so the work is bounded by steps x label sets, not by spans).
fn span_counters(conn: &Connection) -> Result<Derived> {
    let (lo, hi): (Option<i64>, Option<i64>) =
        conn.query_row("SELECT min(end_ns), max(end_ns) FROM spans", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(Derived::default());
    };
    let step_ns = step_for(lo / 1_000_000, hi / 1_000_000) * 1_000_000;
    let top: std::collections::HashSet<String> = {
        let mut st =
            conn.prepare("SELECT name FROM spans GROUP BY name ORDER BY count(*) DESC LIMIT ?1")?;
        let rows = st.query_map([MAX_SPAN_NAMES as i64], |r| r.get::<_, String>(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let status_s = |s: i64| {
        if SpanStatus::from_i64(s) == SpanStatus::Error {
            "error"
        } else {
            "ok"
        }
    };
    let mut c = Counters::default();
    // Spans by kind, name, status.
    let mut st = conn.prepare(
        "SELECT end_ns / ?1 * ?1 / 1000000 AS b, kind, name, status, count(*) FROM spans GROUP BY b, kind, name, status",
    )?;
    let mut rows = st.query([step_ns])?;
    while let Some(r) = rows.next()? {
        let (t, kind, name, status, n): (i64, i64, String, i64, i64) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        let name = if top.contains(&name) {
            name
        } else {
            "other".into()
        };
        c.add(
            t,
            "sightline_spans_total",
            vec![
                ("kind".into(), SpanKind::from_i64(kind).as_str().into()),
                ("name".into(), name),
                ("status".into(), status_s(status).into()),
            ],
            n as f64,
        );
    }
    // Durations: count per bucket (cumulative in `le`), count and sum.
    let mut case = String::from("CASE");
    for (i, le) in DURATION_BUCKETS.iter().enumerate() {
        case.push_str(&format!(
            " WHEN end_ns - start_ns <= {} THEN {i}",
            (le * 1e9) as i64
        ));
    }
    case.push_str(&format!(" ELSE {} END", DURATION_BUCKETS.len()));
    let sql = format!(
        "SELECT end_ns / ?1 * ?1 / 1000000 AS b, kind, {case} AS bi, count(*), total(max(end_ns - start_ns, 0)) / 1e9
         FROM spans GROUP BY b, kind, bi"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query([step_ns])?;
    while let Some(r) = rows.next()? {
        let (t, kind, bi, n, sum): (i64, i64, i64, i64, f64) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        let k = vec![(
            "kind".to_string(),
            SpanKind::from_i64(kind).as_str().to_string(),
        )];
        for (i, le) in DURATION_BUCKETS.iter().enumerate() {
            if (bi as usize) <= i {
                let mut l = k.clone();
                l.push(("le".into(), crate::promql::gofmt::format_g(*le)));
                c.add(t, "sightline_span_duration_seconds_bucket", l, n as f64);
            }
        }
        let mut l = k.clone();
        l.push(("le".into(), "+Inf".into()));
        c.add(t, "sightline_span_duration_seconds_bucket", l, n as f64);
        c.add(
            t,
            "sightline_span_duration_seconds_count",
            k.clone(),
            n as f64,
        );
        c.add(t, "sightline_span_duration_seconds_sum", k, sum);
    }
    // LLM calls, tokens, cost.
    let mut st = conn.prepare(
        "SELECT end_ns / ?1 * ?1 / 1000000 AS b, COALESCE(provider, 'unknown'), COALESCE(model, 'unknown'), status,
                count(*), total(input_tokens), total(output_tokens), total(cost),
                count(input_tokens), count(output_tokens), count(cost)
         FROM spans WHERE kind = ?2 GROUP BY b, 2, 3, status",
    )?;
    let mut rows = st.query(params![step_ns, SpanKind::Llm as i64])?;
    while let Some(r) = rows.next()? {
        let (t, provider, model, status): (i64, String, String, i64) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        let pm = || {
            vec![
                ("provider".to_string(), provider.clone()),
                ("model".to_string(), model.clone()),
            ]
        };
        let mut l = pm();
        l.push(("status".into(), status_s(status).into()));
        c.add(
            t,
            "sightline_llm_calls_total",
            l,
            r.get::<_, i64>(4)? as f64,
        );
        for (ty, sum_col, n_col) in [("input", 5, 8), ("output", 6, 9)] {
            if r.get::<_, i64>(n_col)? > 0 {
                let mut l = pm();
                l.push(("type".into(), ty.into()));
                c.add(
                    t,
                    "sightline_llm_tokens_total",
                    l,
                    r.get::<_, f64>(sum_col)?,
                );
            }
        }
        if r.get::<_, i64>(10)? > 0 {
            c.add(t, "sightline_llm_cost_usd_total", pm(), r.get::<_, f64>(7)?);
        }
    }
    // Tool calls.
    let mut st = conn.prepare(
        "SELECT end_ns / ?1 * ?1 / 1000000 AS b, COALESCE(tool_name, 'unknown'), status, count(*)
         FROM spans WHERE kind = ?2 GROUP BY b, 2, status",
    )?;
    let mut rows = st.query(params![step_ns, SpanKind::Tool as i64])?;
    while let Some(r) = rows.next()? {
        let (t, tool, status, n): (i64, String, i64, i64) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        c.add(
            t,
            "sightline_tool_calls_total",
            vec![
                ("tool".into(), tool),
                ("status".into(), status_s(status).into()),
            ],
            n as f64,
        );
    }
    Ok(c.samples())
}

/// Attributes that hold a tool call's arguments, in the order they are looked for.
const TOOL_ARG_ATTRS: &[&str] = &[
    "gen_ai.tool.call.arguments",
    "tool.arguments",
    "tool.args",
    "input.value",
    "tool_input",
    "arguments",
    "args",
    "input",
    "params",
];

/// `sightline_tool_call_streak{tool}`: the longest run of consecutive calls of the same tool
/// with the same arguments within one trace, per time step (the loop detector's input).
/// Calls whose arguments are unknown never extend a streak.
fn tool_streaks(conn: &Connection) -> Result<Derived> {
    let (lo, hi): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT min(end_ns), max(end_ns) FROM spans WHERE kind = ?1",
        [SpanKind::Tool as i64],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(Derived::default());
    };
    let step = step_for(lo / 1_000_000, hi / 1_000_000);
    let args_sql: Vec<String> = TOOL_ARG_ATTRS
        .iter()
        .flat_map(|a| {
            [
                format!("json_extract(attrs, '$.attributes.\"{a}\"')"),
                format!("json_extract(attrs, '$.\"{a}\"')"),
            ]
        })
        .collect();
    let sql = format!(
        "SELECT trace_ref, end_ns / 1000000, COALESCE(tool_name, name), COALESCE({}) \
         FROM spans WHERE kind = ?1 ORDER BY trace_ref, start_ns, end_ns",
        args_sql.join(", ")
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query([SpanKind::Tool as i64])?;
    let mut best: HashMap<(String, i64), f64> = HashMap::new();
    let mut prev: Option<(i64, String, String)> = None;
    let mut streak = 0f64;
    while let Some(r) = rows.next()? {
        let trace: i64 = r.get(0)?;
        let end_ms: i64 = r.get(1)?;
        let tool: String = r.get(2)?;
        let args: Option<String> = match r.get_ref(3)? {
            rusqlite::types::ValueRef::Null => None,
            rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
            other => Some(format!("{other:?}")),
        };
        let key = args.map(|a| (trace, tool.clone(), a));
        streak = match (&key, &prev) {
            (Some(k), Some(p)) if k == p => streak + 1.0,
            _ => 1.0,
        };
        prev = key;
        let bucket = end_ms.div_euclid(step) * step + step - 1;
        let e = best
            .entry((tool, bucket.min(hi / 1_000_000)))
            .or_insert(0.0);
        *e = e.max(streak);
    }
    let mut d = Derived::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut points: Vec<((String, i64), f64)> = best.into_iter().collect();
    points.sort_by(|a, b| a.0.1.cmp(&b.0.1).then_with(|| a.0.0.cmp(&b.0.0)));
    for ((tool, t), v) in points {
        let k = *index.entry(tool.clone()).or_insert_with(|| {
            d.keys.push((
                "sightline_tool_call_streak".into(),
                vec![("tool".into(), tool)],
            ));
            d.keys.len() - 1
        });
        d.samples.push((k, t, v));
    }
    Ok(d)
}

/// `sightline_last_activity_timestamp_seconds` (newest log record or span end) and
/// `sightline_runs_open` (runs whose root span has not ended yet: no root, or the topmost
/// span seen still names a parent that has not arrived, as while an OTLP run goes on), one
/// sample each at the newest activity: the stall detector's input.
fn activity(conn: &Connection) -> Result<Derived> {
    let logs: Option<i64> =
        conn.query_row("SELECT max(t) * 1000 FROM log_buckets", [], |r| r.get(0))?;
    let (spans, open): (Option<i64>, i64) = conn.query_row(
        "SELECT max(r.end_ns) / 1000000, \
                count(*) FILTER (WHERE r.root_span_id IS NULL OR NOT EXISTS ( \
                    SELECT 1 FROM spans s WHERE s.trace_ref = r.trace_ref \
                    AND s.span_id = r.root_span_id AND s.end_ns > s.start_ns \
                    AND COALESCE(s.parent_span_id, '') = '')) \
         FROM runs r",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let Some(t) = logs.into_iter().chain(spans).max() else {
        return Ok(Derived::default());
    };
    Ok(Derived {
        keys: vec![
            (
                "sightline_last_activity_timestamp_seconds".into(),
                Vec::new(),
            ),
            ("sightline_runs_open".into(), Vec::new()),
        ],
        samples: vec![(0, t, t as f64 / 1000.0), (1, t, open as f64)],
    })
}

/// Replaces the derived series of `metrics` (limited to `source` when given) by `samples`.
fn replace(
    tx: &rusqlite::Transaction<'_>,
    metrics: &[&str],
    source: Option<&str>,
    d: &Derived,
) -> Result<()> {
    for m in metrics {
        tx.execute(
            "DELETE FROM samples WHERE series_id IN (SELECT id FROM series WHERE metric = ?1
                 AND (?2 IS NULL OR json_extract(labels, '$.source') = ?2))",
            params![m, source],
        )?;
    }
    let fams = families();
    let mut cache: HashMap<(String, String), i64> = HashMap::new();
    let mut ids = Vec::with_capacity(d.keys.len());
    for (metric, labels) in &d.keys {
        let fam = fams
            .iter()
            .find(|f| f.metrics.contains(metric))
            .map(|f| f.family.as_str());
        ids.push(resolve_series(
            tx,
            &mut cache,
            metric,
            labels_json(labels),
            fam,
        )?);
    }
    let mut ins =
        tx.prepare_cached("INSERT OR REPLACE INTO samples (series_id, t, v) VALUES (?1, ?2, ?3)")?;
    for &(k, t, v) in &d.samples {
        ins.execute(params![ids[k], t, sample_value_sql(v)])?;
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
        let s = tool_streaks(&tx)?;
        n += s.len();
        replace(&tx, &["sightline_tool_call_streak"], None, &s)?;
    }
    let s = activity(&tx)?;
    n += s.len();
    replace(
        &tx,
        &[
            "sightline_last_activity_timestamp_seconds",
            "sightline_runs_open",
        ],
        None,
        &s,
    )?;
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
