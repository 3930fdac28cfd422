//! The `sightline` CLI: one file per subcommand, each a clap `Cmd` with `run()`.
//! `anyhow` lives here only; the engine's typed errors are turned into exit codes here.

mod alerts;
mod chart;
mod compact;
mod cost;
mod demo;
mod export;
mod ingest;
mod latency;
mod logs;
mod query;
mod report;
mod rules;
mod runs;
mod scrape;
mod silence;
mod stats;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Local-first observability workbench for AI agents.
#[derive(Debug, Parser)]
#[command(name = "sightline", version, about, propagate_version = true)]
struct Cli {
    /// Workspace database [default: $XDG_DATA_HOME/sightline/workspace.db]
    #[arg(long, global = true, env = "SIGHTLINE_DB", value_name = "PATH")]
    db: Option<PathBuf>,

    #[command(subcommand)]
    cmd: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read JSON log files, .gz files and folders into the workspace
    /// Write a bundle (.zip): logs, OTLP traces, metrics, rules, fired alerts, manifest
    Export(export::Cmd),
    Ingest(ingest::Cmd),
    /// List log records in time order
    Logs(logs::Cmd),
    /// List agent runs (one per trace) with filters
    Runs(runs::RunsCmd),
    /// Show one run with all its spans
    Run(runs::RunCmd),
    /// Show what the workspace holds
    Stats(stats::Cmd),
    /// Latency percentiles per operation, model, tool or run (and per hour/day)
    Latency(latency::Cmd),
    /// Cost and tokens per model, provider, tool, agent, run or hour/day; reprice history
    Cost(cost::Cmd),
    /// Draw the cost, tokens, latency or errors chart to a PNG or SVG file
    Chart(chart::Cmd),
    /// Write a self-contained HTML report: summary, charts, top runs, alerts that fired
    Report(report::Cmd),
    /// Alerting rules and alerts (from the workspace); backtest rules over recorded data
    Alerts(alerts::Cmd),
    /// Scrape, follow logs, evaluate alert rules and notify, headless
    Watch(watch::Cmd),
    /// Add, list and expire alert silences
    Silence(silence::Cmd),
    /// Downsample and expire old metric samples
    Compact(compact::Cmd),
    /// Scrape a Prometheus /metrics endpoint into the workspace
    Scrape(scrape::Cmd),
    /// Evaluate PromQL over the workspace's metric series
    Query(query::Cmd),
    /// Check rule files and run rule unit tests (promtool's format)
    Rules(rules::Cmd),
    /// Write the demo agent session (three services, three log dialects), or play one live
    /// (--live: a log file, /metrics and OTLP at once, with an incident that fires alerts)
    Demo(demo::Cmd),
}

/// Exit status when a path is missing, unreadable or holds no JSON.
pub const EXIT_INPUT: u8 = 2;

/// Opens the workspace for writing: the store and a handle to its writer.
pub fn open_writable(
    db: &std::path::Path,
) -> anyhow::Result<(
    sightline::store::Store,
    sightline::store::writer::WriterHandle,
)> {
    use anyhow::Context as _;
    let store = sightline::store::Store::open(db)
        .with_context(|| format!("opening workspace {}", db.display()))?;
    let writer = store
        .writer()
        .context("the workspace is read-only")?
        .clone();
    Ok((store, writer))
}

/// `--since` / `--until` as Unix ns: RFC 3339, or a span back from now (15m, 2h, 7d).
pub fn time_range(
    since: Option<&str>,
    until: Option<&str>,
) -> anyhow::Result<(Option<i64>, Option<i64>)> {
    let now = sightline::model::now_ns();
    let at = |t: Option<&str>| {
        t.map(|t| sightline::time_arg::parse_time_arg(t, now))
            .transpose()
    };
    Ok((at(since)?, at(until)?))
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let db = match cli.db.or_else(sightline::store::default_db_path) {
        Some(p) => p,
        None => {
            eprintln!(
                "sightline: no workspace: pass --db PATH or set SIGHTLINE_DB (no HOME or XDG_DATA_HOME to default to)"
            );
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let result = match cli.cmd {
        Command::Export(c) => c.run(&db),
        Command::Ingest(c) => c.run(&db),
        Command::Chart(c) => c.run(&db),
        Command::Report(c) => c.run(&db),
        Command::Logs(c) => c.run(&db),
        Command::Runs(c) => c.run(&db),
        Command::Run(c) => c.run(&db),
        Command::Stats(c) => c.run(&db),
        Command::Latency(c) => c.run(&db),
        Command::Cost(c) => c.run(&db),
        Command::Demo(c) => c.run(&db),
        Command::Rules(c) => c.run(&db),
        Command::Query(c) => c.run(&db),
        Command::Watch(c) => c.run(&db),
        Command::Silence(c) => c.run(&db),
        Command::Scrape(c) => c.run(&db),
        Command::Compact(c) => c.run(&db),
        Command::Alerts(c) => c.run(&db),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`sightline logs | head`) is not an error.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("sightline: {e:#}");
            let input_error = matches!(
                e.downcast_ref::<sightline::Error>(),
                Some(
                    sightline::Error::NotFound { .. }
                        | sightline::Error::Unreadable { .. }
                        | sightline::Error::NotJson { .. }
                        | sightline::Error::InvalidArgument { .. }
                )
            );
            ExitCode::from(if input_error { EXIT_INPUT } else { 1 })
        }
    }
}

pub use sightline::model::now_ns;

/// A duration flag (`200ms`, `5s`, `1m`) as a [`std::time::Duration`].
pub fn duration_arg(flag: &str, v: &str) -> anyhow::Result<std::time::Duration> {
    match sightline::promql::parse_duration_ms(v) {
        Some(ms) if ms > 0 => Ok(std::time::Duration::from_millis(ms as u64)),
        _ => anyhow::bail!("{flag} {v:?}: not a duration like 200ms or 5s"),
    }
}
