//! `sightline query EXPR`: PromQL over the workspace's series, at one instant or over a range.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;
use sightline::model::format_rfc3339_nanos;
use sightline::model::now_ms;
use sightline::promql::gofmt::format_g;
use sightline::promql::{Query, Value, parse_duration_ms};
use sightline::store::Store;
use sightline::store::queries::series::{StoreSource, sample_stats};
use sightline::time_arg::parse_time_arg;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The PromQL expression
    #[arg(allow_hyphen_values = true)]
    expr: String,
    /// Evaluate at this instant: RFC 3339, Unix seconds, or a span back from now (15m) [default: now]
    #[arg(long, conflicts_with_all = ["start", "end"])]
    at: Option<String>,
    /// Range query start (same forms as --at)
    #[arg(long, requires = "end")]
    start: Option<String>,
    /// Range query end
    #[arg(long, requires = "start")]
    end: Option<String>,
    /// Range query step (15s, 1m) [default: range / 250]
    #[arg(long)]
    step: Option<String>,
    /// Print JSON shaped like Prometheus' HTTP API (`resultType`, `result`)
    #[arg(long)]
    json: bool,
}

/// An instant as users write it: Unix seconds, RFC 3339, a date, `now`, or a span back.
pub(crate) fn time_ms(v: &str) -> anyhow::Result<i64> {
    if let Ok(secs) = v.trim().parse::<f64>() {
        return Ok((secs * 1000.0).round() as i64);
    }
    Ok(parse_time_arg(v, now_ms() * 1_000_000)? / 1_000_000)
}

fn value_json(v: f64) -> String {
    format_g(v)
}

fn metric_json(l: &sightline::promql::Labels) -> serde_json::Value {
    serde_json::Value::Object(l.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let store =
            Store::open(db).with_context(|| format!("opening workspace {}", db.display()))?;
        let conn = store.reader()?;
        let src = StoreSource::new(&conn);
        let q = Query::parse(&self.expr)?;
        let mut out = std::io::stdout().lock();
        if let (Some(s), Some(e)) = (&self.start, &self.end) {
            let (start, end) = (time_ms(s)?, time_ms(e)?);
            let step = match &self.step {
                Some(st) => parse_duration_ms(st)
                    .filter(|d| *d > 0)
                    .ok_or_else(|| anyhow::anyhow!("invalid --step {st:?} (like 15s, 1m)"))?,
                None => ((end - start) / 250).max(1000),
            };
            let r = q.range(&src, start, end, step)?;
            if self.json {
                let result: Vec<_> = r
                    .series
                    .iter()
                    .map(|s| {
                        json!({
                            "metric": metric_json(&s.labels),
                            "values": s.samples.iter().map(|(t, v)| json!([*t as f64 / 1000.0, value_json(*v)])).collect::<Vec<_>>()
                        })
                    })
                    .collect();
                serde_json::to_writer(
                    &mut out,
                    &json!({"resultType": "matrix", "result": result}),
                )?;
                writeln!(out)?;
            } else {
                for s in &r.series {
                    writeln!(
                        out,
                        "{}",
                        if s.labels.is_empty() {
                            "{}".to_string()
                        } else {
                            s.labels.to_string()
                        }
                    )?;
                    for (t, v) in &s.samples {
                        writeln!(
                            out,
                            "  {}  {}",
                            format_rfc3339_nanos(t * 1_000_000),
                            format_g(*v)
                        )?;
                    }
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        let at = match &self.at {
            Some(a) => time_ms(a)?,
            None => now_ms(),
        };
        let v = q.instant(&src, at)?;
        if self.json {
            let body = match &v {
                Value::Scalar(x) => {
                    json!({"resultType": "scalar", "result": [at as f64 / 1000.0, value_json(*x)]})
                }
                Value::String(s) => {
                    json!({"resultType": "string", "result": [at as f64 / 1000.0, s]})
                }
                Value::Vector(vs) => {
                    json!({"resultType": "vector", "result": vs.iter().map(|s| json!({
                    "metric": metric_json(&s.labels),
                    "value": [at as f64 / 1000.0, value_json(s.value)]
                })).collect::<Vec<_>>()})
                }
                Value::Matrix(ms) => {
                    json!({"resultType": "matrix", "result": ms.iter().map(|s| json!({
                    "metric": metric_json(&s.labels),
                    "values": s.samples.iter().map(|(t, v)| json!([*t as f64 / 1000.0, value_json(*v)])).collect::<Vec<_>>()
                })).collect::<Vec<_>>()})
                }
            };
            serde_json::to_writer(&mut out, &body)?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        match &v {
            Value::Scalar(x) => writeln!(out, "scalar: {}", format_g(*x))?,
            Value::String(s) => writeln!(out, "string: {s}")?,
            Value::Vector(vs) => {
                let mut vs = vs.clone();
                vs.sort_by(|a, b| a.labels.cmp(&b.labels));
                for s in &vs {
                    let l = if s.labels.is_empty() {
                        "{}".to_string()
                    } else {
                        s.labels.to_string()
                    };
                    writeln!(out, "{l} => {}", format_g(s.value))?;
                }
                if vs.is_empty() {
                    let (series, _, _, _) = sample_stats(&conn)?;
                    let newest: Option<i64> =
                        conn.query_row("SELECT max(t) FROM samples WHERE t <= ?1", [at], |r| {
                            r.get(0)
                        })?;
                    match newest {
                        Some(n) if n < at - 5 * 60_000 => eprintln!(
                            "no result at {}; the newest sample is at {} (try --at {})",
                            format_rfc3339_nanos(at * 1_000_000),
                            format_rfc3339_nanos(n * 1_000_000),
                            n / 1000
                        ),
                        None if series == 0 => {
                            eprintln!("no result: the workspace holds no metric series yet")
                        }
                        _ => {}
                    }
                }
            }
            Value::Matrix(ms) => {
                for s in ms {
                    writeln!(out, "{}", s.labels)?;
                    for (t, v) in &s.samples {
                        writeln!(
                            out,
                            "  {}  {}",
                            format_rfc3339_nanos(t * 1_000_000),
                            format_g(*v)
                        )?;
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
