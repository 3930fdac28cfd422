//! `sightline scrape URL`: scrape a /metrics endpoint into the workspace, headless.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use sightline::ingest::scrape::{ScrapeConfig, Scraper, TargetHealth};
use sightline::model::format_rfc3339_nanos;
use sightline::promql::parse_duration_ms;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The endpoint, like http://127.0.0.1:9100/metrics
    url: String,
    /// Time between scrapes (1s at least)
    #[arg(long, default_value = "5s")]
    interval: String,
    /// Give up on a scrape after this long [default: the interval, at most 10s]
    #[arg(long)]
    timeout: Option<String>,
    /// Stop after this long (10m, 1h) [default: run until interrupted]
    #[arg(long)]
    duration: Option<String>,
    /// A label added to every series (repeatable): --label job=agent
    #[arg(long = "label", value_name = "NAME=VALUE")]
    labels: Vec<String>,
    /// An HTTP header sent with each scrape (repeatable): --header 'X-Token: abc'
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Sent as `Authorization: Bearer TOKEN`
    #[arg(long, env = "SIGHTLINE_BEARER_TOKEN", hide_env_values = true)]
    bearer_token: Option<String>,
    /// Largest body accepted, in MiB
    #[arg(long, default_value_t = 16)]
    body_limit_mib: u64,
    /// Print nothing per scrape
    #[arg(long)]
    quiet: bool,
}

fn dur(what: &str, v: &str) -> anyhow::Result<i64> {
    parse_duration_ms(v).ok_or_else(|| anyhow::anyhow!("invalid {what} {v:?} (like 5s, 1m)"))
}

fn line(h: &TargetHealth) -> String {
    let t = h
        .last_scrape_ms
        .map(|t| format_rfc3339_nanos(t * 1_000_000))
        .unwrap_or_default();
    let d = h
        .last_duration_ms
        .map(|d| format!("{d:.0} ms"))
        .unwrap_or_default();
    match &h.last_error {
        Some(e) => format!(
            "{t}  down  {d}  {e} (failure {} in a row, next try at {})",
            h.consecutive_failures,
            h.next_scrape_ms
                .map(|n| format_rfc3339_nanos(n * 1_000_000))
                .unwrap_or_default()
        ),
        None => format!(
            "{t}  up    {d}  {} samples{}",
            h.samples.unwrap_or(0),
            h.last_warning
                .as_deref()
                .map(|w| format!("  warning: {w}"))
                .unwrap_or_default()
        ),
    }
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let mut cfg = ScrapeConfig::new(&self.url).map_err(anyhow::Error::msg)?;
        cfg.interval_ms = dur("--interval", &self.interval)?;
        cfg.timeout_ms = match &self.timeout {
            Some(t) => dur("--timeout", t)?,
            None => 0,
        };
        cfg.body_limit = self.body_limit_mib << 20;
        cfg.bearer_token = self.bearer_token.clone();
        for l in &self.labels {
            let (k, v) = l
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--label {l:?}: expected NAME=VALUE"))?;
            cfg.labels
                .insert(k.trim().to_string(), v.trim().to_string());
        }
        for h in &self.headers {
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| anyhow::anyhow!("--header {h:?}: expected 'Name: value'"))?;
            cfg.headers
                .insert(k.trim().to_string(), v.trim().to_string());
        }
        cfg.validate().map_err(anyhow::Error::msg)?;
        let until = match &self.duration {
            Some(d) => Some(
                std::time::Instant::now()
                    + std::time::Duration::from_millis(dur("--duration", d)? as u64),
            ),
            None => None,
        };
        let (store, writer) = super::open_writable(db)?;
        let quiet = self.quiet;
        let on = Arc::new(move |h: &TargetHealth| {
            if !quiet {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", line(h));
            }
        });
        eprintln!(
            "scraping {} every {} ms into {} (Ctrl+C stops)",
            cfg.url,
            cfg.interval_ms,
            db.display()
        );
        let scraper = Scraper::start(cfg, writer, false, Some(on));
        loop {
            std::thread::sleep(std::time::Duration::from_millis(200));
            if until.is_some_and(|u| std::time::Instant::now() >= u) {
                break;
            }
        }
        let h = scraper.health();
        scraper.stop();
        store.close();
        eprintln!(
            "{} scrape(s); last: {}",
            h.scrapes,
            if h.last_error.is_some() { "down" } else { "up" }
        );
        Ok(ExitCode::SUCCESS)
    }
}
