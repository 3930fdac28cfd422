//! `sightline alerts backtest`: when would these rules have fired on the recorded data?

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use sightline::alerts::backtest::backtest;
use sightline::alerts::engine::AlertPhase;
use sightline::alerts::rules::load_rule_file;
use sightline::model::format_rfc3339_nanos;
use sightline::promql::parse_duration_ms;
use sightline::store::Store;
use sightline::store::queries::series::{StoreSource, sample_stats};

use super::query::time_ms;

#[derive(Debug, Args)]
pub struct Cmd {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Evaluate rules over recorded data and show when each alert was pending and firing
    Backtest {
        /// Rule files (Prometheus format)
        #[arg(long = "rules", required = true, value_name = "FILE")]
        rules: Vec<PathBuf>,
        /// From this time (RFC 3339, Unix seconds, or a span back like 2h) [default: the oldest sample]
        #[arg(long)]
        start: Option<String>,
        /// Until this time [default: the newest sample]
        #[arg(long)]
        end: Option<String>,
        /// Evaluation interval for groups that set none
        #[arg(long, default_value = "5s")]
        step: String,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
}

fn ts(ms: i64) -> String {
    format_rfc3339_nanos(ms * 1_000_000)
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let Action::Backtest {
            rules,
            start,
            end,
            step,
            json,
        } = self.action;
        let mut groups = Vec::new();
        for f in &rules {
            groups.extend(load_rule_file(f)?);
        }
        let step = parse_duration_ms(&step)
            .filter(|s| *s >= 1000)
            .ok_or_else(|| anyhow::anyhow!("invalid --step {step:?} (1s at least)"))?;
        let store =
            Store::open(db).with_context(|| format!("opening workspace {}", db.display()))?;
        let conn = store.reader()?;
        let (_, _, lo, hi) = sample_stats(&conn)?;
        let start = match start {
            Some(s) => time_ms(&s)?,
            None => lo.ok_or_else(|| {
                anyhow::anyhow!("the workspace holds no metric samples; give --start and --end")
            })?,
        };
        let end = match end {
            Some(e) => time_ms(&e)?,
            None => hi.unwrap_or(start),
        };
        let src = StoreSource::new(&conn);
        let report = backtest(&src, &groups, start, end, step).map_err(anyhow::Error::msg)?;
        let mut out = std::io::stdout().lock();
        if json {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        writeln!(
            out,
            "{} rule group(s) evaluated {} time(s) from {} to {}",
            groups.len(),
            report.evaluations,
            ts(start),
            ts(end)
        )?;
        if report.alerts.is_empty() {
            writeln!(out, "no alert was pending or firing")?;
        }
        for a in &report.alerts {
            writeln!(out, "{} {}", a.alertname, a.labels)?;
            for s in &a.spans {
                let phase = match s.phase {
                    AlertPhase::Pending => "pending",
                    AlertPhase::Firing => "firing",
                    AlertPhase::Inactive => "resolved",
                };
                writeln!(out, "  {phase:<8} {} .. {}", ts(s.from_ms), ts(s.to_ms))?;
            }
        }
        for e in &report.errors {
            writeln!(out, "error: {e}")?;
        }
        Ok(ExitCode::SUCCESS)
    }
}
