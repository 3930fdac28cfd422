//! `sightline alerts`: rules and alerts as the workspace has them (`--json` for scripts), and
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
    action: Option<Action>,
    /// Print rules, alerts, history, silences and notifications as JSON
    #[arg(long)]
    json: bool,
    /// How many history entries and notifications to show
    #[arg(long, default_value_t = 20)]
    limit: u64,
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
        let Some(Action::Backtest {
            rules,
            start,
            end,
            step,
            json,
        }) = self.action
        else {
            return list(db, self.json, self.limit);
        };
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

fn age(now: i64, ms: f64) -> String {
    let s = ((now as f64 - ms) / 1000.0).max(0.0) as i64;
    if s < 120 {
        format!("{s}s ago")
    } else if s < 7200 {
        format!("{}m ago", s / 60)
    } else {
        format!("{}h ago", s / 3600)
    }
}

fn labels_text(l: &std::collections::BTreeMap<String, String>) -> String {
    let parts: Vec<String> = l
        .iter()
        .filter(|(k, _)| *k != "alertname")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn list(db: &Path, json: bool, limit: u64) -> anyhow::Result<ExitCode> {
    let store =
        Store::open_read_only(db).with_context(|| format!("opening workspace {}", db.display()))?;
    let conn = store.reader()?;
    let now = sightline::model::now_ms();
    let o = sightline::alerts::status::overview(&conn, limit, now)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &o)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if o.rules.is_empty() {
        writeln!(
            out,
            "no rules have been evaluated in this workspace; start `sightline watch` or the app"
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "RULES")?;
    for r in &o.rules {
        let state = if r.kind == "alert" {
            r.state.as_str()
        } else {
            "record"
        };
        let eval = match r.last_eval_ms {
            Some(t) => age(now, t),
            None => "never".into(),
        };
        writeln!(
            out,
            "  {:<9} {:<28} {:<16} health={} last eval {}{}",
            state,
            r.name,
            r.group,
            r.health,
            eval,
            r.last_error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        )?;
    }
    let active: Vec<_> = o.alerts.iter().filter(|a| a.state != "resolved").collect();
    writeln!(out, "\nALERTS ({} pending or firing)", active.len())?;
    for a in &o.alerts {
        let since = a
            .fired_at_ms
            .filter(|_| a.state == "firing")
            .unwrap_or(a.active_at_ms);
        writeln!(
            out,
            "  {:<9} {} {} value={} since {} ({})",
            a.state,
            a.rule,
            labels_text(&a.labels),
            a.value
                .map(|v| v.to_string())
                .unwrap_or_else(|| "NaN".into()),
            ts(since as i64),
            age(now, since)
        )?;
    }
    let live: Vec<_> = o.silences.iter().filter(|s| s.state != "expired").collect();
    if !live.is_empty() {
        writeln!(out, "\nSILENCES")?;
        for s in live {
            writeln!(
                out,
                "  {} {} until {} {}",
                s.id,
                s.matchers,
                ts(s.ends_at_ms as i64),
                s.comment
            )?;
        }
    }
    if !o.notifications.is_empty() {
        writeln!(out, "\nNOTIFICATIONS (newest first)")?;
        for n in o.notifications.iter().take(limit as usize) {
            writeln!(
                out,
                "  {} {} {} {}: {}{}",
                ts(n.t_ms as i64),
                n.receiver,
                n.status,
                n.outcome,
                n.summary,
                n.error
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
