//! `sightline latency`: latency percentiles per operation (and per time bucket).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use sightline::model::format_rfc3339_nanos;
use sightline::store::Store;
use sightline::store::queries::latency::{LatencyBy, LatencyQuery, latency};
use sightline::time_arg::parse_duration_ns;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Group by: kind, operation (span name), model (LLM calls), tool (tool calls), run (whole runs)
    #[arg(long, default_value = "operation", value_name = "WHAT")]
    by: String,
    /// Also split by time: hour, day, or a duration like 15m
    #[arg(long, value_name = "BUCKET")]
    per: Option<String>,
    /// Spans that ended from this time: RFC 3339, or a span back from now (15m, 2h, 7d)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Up to this time (exclusive)
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// One JSON object per group
    #[arg(long)]
    json: bool,
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let by = LatencyBy::parse(&self.by).ok_or_else(|| {
            anyhow::anyhow!(
                "--by {:?}: use kind, operation, model, tool or run",
                self.by
            )
        })?;
        let (since_ns, until_ns) = super::time_range(self.since.as_deref(), self.until.as_deref())?;
        let bucket_ns = match self.per.as_deref() {
            None => None,
            Some("hour") => Some(3_600_000_000_000),
            Some("day") => Some(86_400_000_000_000),
            Some(d) => Some(parse_duration_ns(d).filter(|n| *n > 0).ok_or_else(|| {
                anyhow::anyhow!("--per {d:?}: use hour, day or a duration like 15m")
            })?),
        };
        let q = LatencyQuery {
            by,
            since_ns,
            until_ns,
            bucket_ns,
            trace_ref: None,
        };
        let store = Store::open_read_only(db)
            .with_context(|| format!("opening workspace {}", db.display()))?;
        let rows = latency(&store.reader()?, &q)?;
        let mut out = std::io::stdout().lock();
        if self.json {
            for r in &rows {
                serde_json::to_writer(&mut out, r)?;
                writeln!(out)?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        if rows.is_empty() {
            writeln!(out, "no spans in that range")?;
            return Ok(ExitCode::SUCCESS);
        }
        let width = rows.iter().map(|r| r.key.len()).max().unwrap_or(0).max(9);
        writeln!(
            out,
            "{}{:<width$} {:>7} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
            if bucket_ns.is_some() {
                format!("{:<31}", "BUCKET")
            } else {
                String::new()
            },
            "OPERATION",
            "COUNT",
            "ERRORS",
            "P50 s",
            "P90 s",
            "P95 s",
            "P99 s",
            "MAX s"
        )?;
        for r in &rows {
            writeln!(
                out,
                "{}{:<width$} {:>7} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                r.bucket_ns
                    .map(|b| format!("{:<31}", format_rfc3339_nanos(b)))
                    .unwrap_or_default(),
                r.key,
                r.count,
                r.errors,
                r.p50,
                r.p90,
                r.p95,
                r.p99,
                r.max
            )?;
        }
        Ok(ExitCode::SUCCESS)
    }
}
