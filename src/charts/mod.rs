//! The cost, tokens, latency and error charts: their data, built once from the workspace
//! and then drawn either by the app (uPlot, from [`Chart`] over IPC) or by plotters in the
//! engine ([`render`]: PNG and SVG for `sightline chart`, SVG inside `sightline report`), so
//! both show the same numbers.

pub mod render;
pub mod report;

use std::collections::{BTreeMap, HashMap};

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::store::queries::cost::{CostBy, CostQuery, CostRow, cost_per_bucket};
use crate::store::queries::latency::{LatencyBy, LatencyQuery, latency};

/// Which chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    /// Cost per bucket, stacked by model, provider, tool, agent or trigger.
    Cost,
    /// Tokens per bucket, stacked by kind of token (input, output, cache) or by model.
    Tokens,
    /// A latency percentile per bucket, one line per model, tool, kind, operation or runs.
    Latency,
    /// The share of failed calls per bucket, one line per kind, model, tool or operation.
    Errors,
}

impl ChartKind {
    pub fn parse(s: &str) -> Option<ChartKind> {
        Some(match s {
            "cost" => ChartKind::Cost,
            "tokens" => ChartKind::Tokens,
            "latency" => ChartKind::Latency,
            "errors" => ChartKind::Errors,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChartKind::Cost => "cost",
            ChartKind::Tokens => "tokens",
            ChartKind::Latency => "latency",
            ChartKind::Errors => "errors",
        }
    }

    /// The groupings this chart accepts; the first is the default.
    pub fn groupings(self) -> &'static [&'static str] {
        match self {
            ChartKind::Cost => &["model", "provider", "tool", "agent", "trigger"],
            ChartKind::Tokens => &["type", "model", "provider", "agent", "trigger"],
            ChartKind::Latency | ChartKind::Errors => {
                &["kind", "model", "tool", "operation", "run"]
            }
        }
    }
}

/// What to chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRequest {
    pub kind: ChartKind,
    /// One of [`ChartKind::groupings`]; `None` for the default.
    pub by: Option<String>,
    /// `[since, until)` in Unix ns; `None` for the data's own extent.
    pub since_ns: Option<i64>,
    pub until_ns: Option<i64>,
    /// Only this run (its `traces.id`).
    pub trace_ref: Option<i64>,
    /// The bucket size; `None` picks one that gives at most [`MAX_BUCKETS`] buckets.
    pub bucket_ns: Option<i64>,
    /// For latency: the percentile drawn: 50, 90, 95, 99 or 100 (the maximum).
    pub percentile: f64,
    /// At most this many series; the rest are summed into "other" (cost, tokens) or left
    /// out (latency, errors: the busiest are kept).
    pub top: usize,
}

impl ChartRequest {
    pub fn new(kind: ChartKind) -> ChartRequest {
        ChartRequest {
            kind,
            by: None,
            since_ns: None,
            until_ns: None,
            trace_ref: None,
            bucket_ns: None,
            percentile: 95.0,
            top: 8,
        }
    }
}

/// A chart ready to draw: one x (bucket starts) and any number of series over it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Chart {
    pub kind: ChartKind,
    /// The grouping used.
    pub by: String,
    pub title: String,
    /// The y axis, with its unit: "Cost (USD per hour)".
    pub y_label: String,
    /// The unit of the values: "USD", "tokens", "s" or "%".
    pub unit: String,
    /// Series are stacked (cost, tokens) rather than drawn on their own (latency, errors).
    pub stacked: bool,
    pub bucket_ms: i64,
    /// The start of each bucket, Unix ms (milliseconds so the numbers cross IPC exactly).
    pub x_ms: Vec<i64>,
    /// Largest first (by total, or by count for latency and errors).
    pub series: Vec<ChartSeries>,
    /// What was left out, when anything was ("3 more operations not shown").
    pub note: Option<String>,
}

/// One series: a label and a value per bucket (`None`: nothing in that bucket).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChartSeries {
    pub label: String,
    pub values: Vec<Option<f64>>,
    /// The series' total over the chart (cost, tokens), or its number of spans (latency,
    /// errors).
    pub total: f64,
}

impl Chart {
    /// No series, or none with a value.
    pub fn is_empty(&self) -> bool {
        self.series
            .iter()
            .all(|s| s.values.iter().all(Option::is_none))
    }
}

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it, then a rename,
/// so a failed or interrupted export never leaves half a file where the user looks.
pub fn save(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let err = |source| Error::Unwritable {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}

/// Reads one kind of token count from a cost row.
type TokenField = fn(&CostRow) -> u64;

/// A bucket size given by the user may make at most this many buckets.
pub const MAX_ASKED_BUCKETS: i64 = 10_000;

/// Charts never have more buckets than this when the size is picked for them.
pub const MAX_BUCKETS: i64 = 120;

const MINUTE: i64 = 60_000_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The smallest round bucket size that splits `span_ns` into at most [`MAX_BUCKETS`].
pub fn pick_bucket(span_ns: i64) -> i64 {
    const SIZES: [i64; 14] = [
        1_000_000_000,
        5_000_000_000,
        15_000_000_000,
        30_000_000_000,
        MINUTE,
        5 * MINUTE,
        15 * MINUTE,
        30 * MINUTE,
        HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY,
        7 * DAY,
    ];
    SIZES
        .iter()
        .copied()
        .find(|s| span_ns / s < MAX_BUCKETS)
        .unwrap_or_else(|| (span_ns / MAX_BUCKETS).max(7 * DAY))
}

/// "hour", "15 min", "6 h": a bucket size in words for titles and axis labels.
pub fn bucket_words(ns: i64) -> String {
    match ns {
        DAY => "day".into(),
        HOUR => "hour".into(),
        MINUTE => "minute".into(),
        n if n % DAY == 0 => format!("{} days", n / DAY),
        n if n % HOUR == 0 => format!("{} h", n / HOUR),
        n if n % MINUTE == 0 => format!("{} min", n / MINUTE),
        n if n % 1_000_000_000 == 0 => format!("{} s", n / 1_000_000_000),
        n => format!("{} ms", n / 1_000_000),
    }
}

/// Builds the chart `req` asks for from the workspace.
pub fn build(conn: &Connection, req: &ChartRequest) -> Result<Chart> {
    let groupings = req.kind.groupings();
    let by =
        match req.by.as_deref() {
            None => groupings[0],
            Some(b) => groupings.iter().copied().find(|g| *g == b).ok_or_else(|| {
                Error::InvalidArgument {
                    what: "grouping",
                    value: b.to_string(),
                    why: format!(
                        "a {} chart groups by {}",
                        req.kind.as_str(),
                        groupings.join(", ")
                    ),
                }
            })?,
        };
    if ![50.0, 90.0, 95.0, 99.0, 100.0].contains(&req.percentile) {
        return Err(Error::InvalidArgument {
            what: "percentile",
            value: req.percentile.to_string(),
            why: "use 50, 90, 95, 99 or 100 (the maximum)".into(),
        });
    }
    if let (Some(lo), Some(hi)) = (req.since_ns, req.until_ns)
        && hi <= lo
    {
        return Err(Error::InvalidArgument {
            what: "time range",
            value: format!(
                "{} .. {}",
                crate::model::format_rfc3339_nanos(lo),
                crate::model::format_rfc3339_nanos(hi)
            ),
            why: "the end is not after the start".into(),
        });
    }
    // The range: what was asked, else the data's own extent.
    let data = crate::store::queries::cost::extent(
        conn,
        matches!(req.kind, ChartKind::Latency | ChartKind::Errors),
        req.trace_ref,
    )?;
    let lo = req.since_ns.or(data.map(|d| d.0));
    let hi = req.until_ns.or(data.map(|d| d.1 + 1));
    let bucket = match req.bucket_ns {
        Some(b) if b > 0 => b,
        Some(b) => {
            return Err(Error::InvalidArgument {
                what: "bucket size",
                value: b.to_string(),
                why: "must be positive".into(),
            });
        }
        None => pick_bucket(match (lo, hi) {
            (Some(lo), Some(hi)) => hi.saturating_sub(lo),
            _ => HOUR,
        }),
    };
    let x: Vec<i64> = match (lo, hi) {
        (Some(lo), Some(hi)) => {
            let first = lo.div_euclid(bucket) * bucket;
            let n = ((hi - first + bucket - 1) / bucket).max(1);
            if n > MAX_ASKED_BUCKETS {
                return Err(Error::InvalidArgument {
                    what: "bucket size",
                    value: bucket_words(bucket),
                    why: format!(
                        "{n} buckets over this range; a chart holds at most {MAX_ASKED_BUCKETS}: use a larger bucket or a shorter range"
                    ),
                });
            }
            (0..n).map(|i| first + i * bucket).collect()
        }
        _ => Vec::new(),
    };
    let per = bucket_words(bucket);
    let mut chart = Chart {
        kind: req.kind,
        by: by.to_string(),
        title: String::new(),
        y_label: String::new(),
        unit: String::new(),
        stacked: matches!(req.kind, ChartKind::Cost | ChartKind::Tokens),
        bucket_ms: bucket / 1_000_000,
        x_ms: x.iter().map(|t| t.div_euclid(1_000_000)).collect(),
        series: Vec::new(),
        note: None,
    };
    let q = |by: CostBy| CostQuery {
        by,
        since_ns: req.since_ns,
        until_ns: req.until_ns,
        trace_ref: req.trace_ref,
    };
    match req.kind {
        ChartKind::Cost => {
            chart.title = format!("Cost by {by}");
            chart.y_label = format!("Cost (USD per {per})");
            chart.unit = "USD".into();
            let rows = cost_per_bucket(conn, &q(cost_by(by)), bucket)?;
            chart.series = stack(&x, bucket, rows, |r| r.cost_usd);
        }
        ChartKind::Tokens if by == "type" => {
            chart.title = "Tokens by type".into();
            chart.y_label = format!("Tokens (per {per})");
            chart.unit = "tokens".into();
            let rows = cost_per_bucket(conn, &q(CostBy::Model), bucket)?;
            let kinds: [(&str, TokenField); 4] = [
                ("input", |r| r.input_tokens),
                ("output", |r| r.output_tokens),
                ("cache read", |r| r.cache_read_tokens),
                ("cache write", |r| r.cache_write_tokens),
            ];
            chart.series = kinds
                .iter()
                .filter_map(|(label, f)| {
                    let mut values = vec![None; x.len()];
                    for (b, r) in &rows {
                        if let Some(i) = slot(&x, bucket, *b) {
                            *values[i].get_or_insert(0.0) += f(r) as f64;
                        }
                    }
                    let total: f64 = values.iter().flatten().sum();
                    (total > 0.0).then(|| ChartSeries {
                        label: (*label).to_string(),
                        values,
                        total,
                    })
                })
                .collect();
        }
        ChartKind::Tokens => {
            chart.title = format!("Tokens by {by}");
            chart.y_label = format!("Tokens (per {per})");
            chart.unit = "tokens".into();
            let rows = cost_per_bucket(conn, &q(cost_by(by)), bucket)?;
            chart.series = stack(&x, bucket, rows, |r| {
                (r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens)
                    as f64
            });
        }
        ChartKind::Latency | ChartKind::Errors => {
            let rows = latency(
                conn,
                &LatencyQuery {
                    by: latency_by(by),
                    since_ns: req.since_ns,
                    until_ns: req.until_ns,
                    bucket_ns: Some(bucket),
                    trace_ref: req.trace_ref,
                },
            )?;
            let p = req.percentile;
            if req.kind == ChartKind::Latency {
                let p = if p == 100.0 {
                    "max".to_string()
                } else {
                    format!("p{p:.0}")
                };
                chart.title = format!("{p} latency by {by}");
                chart.y_label = format!("{p} latency (s, per {per})");
                chart.unit = "s".into();
            } else {
                chart.title = format!("Errors by {by}");
                chart.y_label = format!("Failed (% of spans, per {per})");
                chart.unit = "%".into();
            }
            let mut groups: BTreeMap<String, ChartSeries> = BTreeMap::new();
            for r in &rows {
                let Some(i) = r.bucket_ns.and_then(|b| slot(&x, bucket, b)) else {
                    continue;
                };
                let g = groups.entry(r.key.clone()).or_insert_with(|| ChartSeries {
                    label: r.key.clone(),
                    values: vec![None; x.len()],
                    total: 0.0,
                });
                g.total += r.count as f64;
                g.values[i] = Some(if req.kind == ChartKind::Latency {
                    match p as u32 {
                        50 => r.p50,
                        90 => r.p90,
                        99 => r.p99,
                        100 => r.max,
                        _ => r.p95,
                    }
                } else {
                    100.0 * r.errors as f64 / r.count.max(1) as f64
                });
            }
            let mut series: Vec<ChartSeries> = groups.into_values().collect();
            if req.kind == ChartKind::Errors && by == "kind" {
                // Chains and plain spans rarely fail on their own: their errors are their
                // children's. Keep what a developer reads an error rate of.
                series.retain(|s| matches!(s.label.as_str(), "llm" | "tool" | "agent"));
            }
            series.sort_by(|a, b| b.total.total_cmp(&a.total).then(a.label.cmp(&b.label)));
            let top = req.top.max(1);
            if series.len() > top {
                chart.note = Some(format!(
                    "{} more {} not shown (the {top} with the most spans are)",
                    series.len() - top,
                    plural_of(by)
                ));
                series.truncate(top);
            }
            chart.series = series;
            return Ok(chart);
        }
    }
    let top = req.top.max(1);
    if chart.series.len() > top {
        let rest = chart.series.split_off(top - 1);
        let mut other = ChartSeries {
            label: format!("other ({})", rest.len()),
            values: vec![None; x.len()],
            total: 0.0,
        };
        for s in rest {
            other.total += s.total;
            for (o, v) in other.values.iter_mut().zip(s.values) {
                if let Some(v) = v {
                    *o.get_or_insert(0.0) += v;
                }
            }
        }
        chart.series.push(other);
    }
    Ok(chart)
}

fn plural_of(by: &str) -> &'static str {
    match by {
        "model" => "models",
        "tool" => "tools",
        "kind" => "kinds",
        "run" => "run groups",
        _ => "operations",
    }
}

fn cost_by(by: &str) -> CostBy {
    CostBy::parse(by).unwrap_or(CostBy::Model)
}

fn latency_by(by: &str) -> LatencyBy {
    LatencyBy::parse(by).unwrap_or(LatencyBy::Kind)
}

/// The index of the bucket starting at `b`.
fn slot(x: &[i64], bucket: i64, b: i64) -> Option<usize> {
    let first = *x.first()?;
    let i = (b - first).div_euclid(bucket);
    (i >= 0 && (i as usize) < x.len()).then_some(i as usize)
}

/// One series per key, largest total first.
fn stack(
    x: &[i64],
    bucket: i64,
    rows: Vec<(i64, CostRow)>,
    value: impl Fn(&CostRow) -> f64,
) -> Vec<ChartSeries> {
    let mut by_key: HashMap<String, ChartSeries> = HashMap::new();
    for (b, r) in rows {
        let Some(i) = slot(x, bucket, b) else {
            continue;
        };
        let v = value(&r);
        let s = by_key.entry(r.key.clone()).or_insert_with(|| ChartSeries {
            label: r.key.clone(),
            values: vec![None; x.len()],
            total: 0.0,
        });
        *s.values[i].get_or_insert(0.0) += v;
        s.total += v;
    }
    let mut series: Vec<ChartSeries> = by_key.into_values().collect();
    series.sort_by(|a, b| b.total.total_cmp(&a.total).then(a.label.cmp(&b.label)));
    series
}
