//! `sightline watch`: the whole alerting path headless: scrape, follow log files, evaluate
//! rules on their intervals, notify on the desktop and webhooks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sightline::alerts::deliver::{DesktopConfig, Outcome, WebhookConfig};
use sightline::alerts::engine::EvalContext;
use sightline::alerts::policy::Policy;
use sightline::alerts::rules::{RuleGroup, default_groups, load_rule_file};
use sightline::alerts::runner::{AlertRunner, RunnerConfig, RunnerEvent};
use sightline::ingest::IngestOptions;
use sightline::ingest::scrape::{ScrapeConfig, Scraper};
use sightline::model::format_rfc3339_nanos;
use sightline::promql::parse_duration_ms;
use sightline::store::Store;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Rule files (Prometheus format) [default: the built-in agent rules]
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Scrape this /metrics URL (repeatable)
    #[arg(long = "scrape", value_name = "URL")]
    scrape: Vec<String>,
    /// Scrape interval
    #[arg(long, default_value = "1s", value_name = "DURATION")]
    scrape_interval: String,
    /// Follow these log files or folders as they grow (repeatable)
    #[arg(long = "follow", value_name = "PATH")]
    follow: Vec<PathBuf>,
    /// Receive OTLP/HTTP (JSON and protobuf traces, logs, metrics) on this address
    /// [default when given without a value: 127.0.0.1:4318]
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:4318")]
    otlp: Option<String>,
    /// Largest OTLP request body accepted, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 32 << 20)]
    otlp_max_body: usize,
    /// Alerting settings (YAML: route, desktop, webhooks, external_labels)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Evaluation interval of groups that set none
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    eval_interval: String,
    /// POST Alertmanager-format JSON to this URL (repeatable)
    #[arg(long = "webhook", value_name = "URL")]
    webhook: Vec<String>,
    /// Labels alerts are grouped by ("..." for every label)
    #[arg(long, value_delimiter = ',', value_name = "LABELS")]
    group_by: Option<Vec<String>>,
    #[arg(long, value_name = "DURATION")]
    group_wait: Option<String>,
    #[arg(long, value_name = "DURATION")]
    group_interval: Option<String>,
    #[arg(long, value_name = "DURATION")]
    repeat_interval: Option<String>,
    /// Do not notify when alerts resolve
    #[arg(long)]
    no_resolved: bool,
    /// No desktop notifications (webhooks and the log only)
    #[arg(long)]
    no_desktop: bool,
    /// How long to wait for the desktop notification server
    #[arg(long, value_name = "DURATION")]
    desktop_timeout: Option<String>,
    /// Stop after this long [default: run until killed]
    #[arg(long, value_name = "DURATION")]
    duration: Option<String>,
    /// One JSON object per event instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ConfigFile {
    route: Option<Policy>,
    desktop: Option<DesktopConfig>,
    webhooks: Vec<WebhookConfig>,
    external_labels: std::collections::BTreeMap<String, String>,
    external_url: String,
}

fn dur(flag: &str, v: &str) -> anyhow::Result<i64> {
    parse_duration_ms(v).ok_or_else(|| anyhow::anyhow!("{flag} {v:?}: not a duration like 5s"))
}

fn ts(ms: i64) -> String {
    format_rfc3339_nanos(ms * 1_000_000)
}

/// Loads rule files (or the built-in defaults) and applies the default interval.
pub fn load_groups(files: &[PathBuf], default_interval_ms: i64) -> anyhow::Result<Vec<RuleGroup>> {
    let mut groups = Vec::new();
    if files.is_empty() {
        groups = default_groups()?;
    }
    for f in files {
        groups.extend(load_rule_file(f)?);
    }
    for g in &mut groups {
        g.interval_ms.get_or_insert(default_interval_ms);
    }
    Ok(groups)
}

impl Cmd {
    fn runner_config(&self) -> anyhow::Result<RunnerConfig> {
        let file: ConfigFile = match &self.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                serde_yaml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
            }
            None => ConfigFile::default(),
        };
        let mut policy = file.route.unwrap_or_default();
        if let Some(g) = &self.group_by {
            policy.group_by = g.clone();
        }
        if let Some(v) = &self.group_wait {
            policy.group_wait_ms = dur("--group-wait", v)?;
        }
        if let Some(v) = &self.group_interval {
            policy.group_interval_ms = dur("--group-interval", v)?;
        }
        if let Some(v) = &self.repeat_interval {
            policy.repeat_interval_ms = dur("--repeat-interval", v)?;
        }
        if self.no_resolved {
            policy.send_resolved = false;
        }
        let mut desktop = file.desktop.unwrap_or_default();
        if let Some(t) = &self.desktop_timeout {
            desktop.timeout_ms = dur("--desktop-timeout", t)?;
        }
        // Headless: there is no window to be focused.
        desktop.quiet_when_focused = false;
        let mut webhooks = file.webhooks;
        for url in &self.webhook {
            webhooks.push(WebhookConfig {
                url: url.clone(),
                send_resolved: !self.no_resolved,
                timeout_ms: 5_000,
            });
        }
        for w in &webhooks {
            if !w.url.starts_with("http://") {
                anyhow::bail!(
                    "webhook {:?}: only http:// URLs are supported (no TLS built in)",
                    w.url
                );
            }
        }
        let eval = dur("--eval-interval", &self.eval_interval)?;
        if eval < 1000 {
            anyhow::bail!("--eval-interval must be 1s or more");
        }
        Ok(RunnerConfig {
            groups: load_groups(&self.rules, eval)?,
            policy,
            desktop: (!self.no_desktop && desktop.enabled).then_some(desktop),
            webhooks,
            context: EvalContext {
                external_labels: file.external_labels,
                external_url: file.external_url,
                parallel: Default::default(),
            },
        })
    }

    /// The watch behind `sightline demo --live`: the built-in rules over a log file, a
    /// `/metrics` URL and an OTLP receiver on a free port.
    pub fn for_live_demo(
        log: PathBuf,
        metrics_url: String,
        duration: Option<String>,
        no_desktop: bool,
        json: bool,
    ) -> Cmd {
        Cmd {
            rules: Vec::new(),
            scrape: vec![metrics_url],
            scrape_interval: "1s".into(),
            follow: vec![log],
            otlp: Some("127.0.0.1:0".into()),
            otlp_max_body: 32 << 20,
            config: None,
            eval_interval: "5s".into(),
            webhook: Vec::new(),
            group_by: None,
            group_wait: None,
            group_interval: None,
            repeat_interval: None,
            no_resolved: false,
            no_desktop,
            desktop_timeout: None,
            duration,
            json,
        }
    }

    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        self.run_with(db, |_| {})
    }

    /// Runs the watch; `on_ready` gets the OTLP receiver's address once it listens.
    pub fn run_with(
        self,
        db: &Path,
        on_ready: impl FnOnce(Option<std::net::SocketAddr>),
    ) -> anyhow::Result<ExitCode> {
        let cfg = self.runner_config()?;
        let scrape_every = dur("--scrape-interval", &self.scrape_interval)?;
        let mut scrapes = Vec::new();
        for url in &self.scrape {
            let mut c = ScrapeConfig::new(url).map_err(anyhow::Error::msg)?;
            c.interval_ms = scrape_every;
            c.timeout_ms = 0;
            c.validate().map_err(anyhow::Error::msg)?;
            scrapes.push(c);
        }
        let until = match &self.duration {
            Some(d) => Some(Instant::now() + Duration::from_millis(dur("--duration", d)? as u64)),
            None => None,
        };
        let otlp_addr = match &self.otlp {
            Some(a) => Some(a.parse::<std::net::SocketAddr>().map_err(|e| {
                anyhow::anyhow!("--otlp {a:?}: not an address like 127.0.0.1:4318 ({e})")
            })?),
            None => None,
        };
        let (store, writer) = super::open_writable(db)?;
        let store = Arc::new(store);
        let receiver = match otlp_addr {
            Some(addr) => {
                let r = sightline::ingest::otlp_http::Receiver::start(
                    store.clone(),
                    sightline::ingest::otlp_http::ReceiverConfig {
                        addr,
                        max_body_bytes: self.otlp_max_body,
                        ..Default::default()
                    },
                )?;
                eprintln!(
                    "receiving OTLP/HTTP on http://{}/v1/{{traces,logs,metrics}}",
                    r.addr()
                );
                Some(r)
            }
            None => None,
        };
        on_ready(receiver.as_ref().map(|r| r.addr()));
        let json = self.json;
        let failed_once = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        let on_event = Box::new(move |ev: RunnerEvent| {
            let mut out = std::io::stdout().lock();
            if json {
                let _ = serde_json::to_writer(&mut out, &ev);
                let _ = writeln!(out);
                let _ = out.flush();
                return;
            }
            match &ev {
                RunnerEvent::Started { groups, restored } => {
                    let _ = writeln!(
                        out,
                        "evaluating {groups} rule group(s); {restored} alert(s) restored from the workspace"
                    );
                }
                RunnerEvent::Transition(t) => {
                    let _ = writeln!(
                        out,
                        "{} {:<8} {} value={}",
                        ts(t.t_ms),
                        t.phase.to_uppercase(),
                        t.labels,
                        t.value
                    );
                }
                RunnerEvent::Delivery(d) => match d.outcome {
                    Outcome::Failed => {
                        let e = d.error.clone().unwrap_or_default();
                        if let Ok(mut seen) = failed_once.lock()
                            && seen.insert(e.clone())
                        {
                            eprintln!("sightline: {}: {e}", d.receiver);
                        }
                    }
                    o => {
                        let _ = writeln!(
                            out,
                            "{} NOTIFY   {} {}: {}",
                            ts(d.t_ms),
                            d.receiver,
                            o.as_str(),
                            d.notification.summary
                        );
                    }
                },
                RunnerEvent::Action(a) => {
                    let _ = writeln!(
                        out,
                        "action: {}",
                        serde_json::to_string(a).unwrap_or_default()
                    );
                }
                RunnerEvent::RuleError {
                    group,
                    rule,
                    message,
                } => eprintln!("sightline: group {group:?}, rule {rule:?}: {message}"),
                RunnerEvent::Firing { .. } => {}
                RunnerEvent::Stopped { error } => {
                    if let Some(e) = error {
                        eprintln!("sightline: alert evaluation stopped: {e}");
                    }
                }
            }
            let _ = out.flush();
        });
        eprintln!(
            "watching {} (rules: {}; {} scrape target(s), {} followed path(s){}){}",
            db.display(),
            if self.rules.is_empty() {
                "built-in agent defaults".to_string()
            } else {
                self.rules
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            scrapes.len(),
            self.follow.len(),
            if self.otlp.is_some() {
                ", OTLP/HTTP"
            } else {
                ""
            },
            if until.is_none() {
                "; Ctrl+C stops"
            } else {
                ""
            }
        );
        let scrapers: Vec<Scraper> = scrapes
            .into_iter()
            .map(|c| Scraper::start(c, writer.clone(), false, None))
            .collect();
        let runner = AlertRunner::start(db, writer.clone(), cfg, on_event)?;
        drop(writer);
        let stop = Arc::new(AtomicBool::new(false));
        std::thread::scope(|s| {
            if !self.follow.is_empty() {
                let st = &store;
                let paths = &self.follow;
                let stop = stop.clone();
                s.spawn(move || follow(st, paths, &stop));
            }
            while until.is_none_or(|u| Instant::now() < u) {
                std::thread::sleep(Duration::from_millis(100));
            }
            stop.store(true, Ordering::Relaxed);
        });
        for sc in scrapers {
            sc.stop();
        }
        if let Some(r) = receiver {
            r.stop();
        }
        runner.stop();
        if let Ok(store) = Arc::try_unwrap(store) {
            store.close();
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// How often followed paths are read for new lines.
const FOLLOW_EVERY: Duration = Duration::from_millis(200);

/// Reads new lines of `paths` until `stop`; each pass resumes where the last one ended.
fn follow(store: &Store, paths: &[PathBuf], stop: &AtomicBool) {
    let mut reported = std::collections::HashSet::new();
    sightline::ingest::tail::follow(
        store,
        paths.to_vec(),
        IngestOptions::default(),
        FOLLOW_EVERY,
        stop,
        |report| {
            for e in &report.errors {
                let line = format!("{}: {}", e.path, e.error);
                if reported.insert(line.clone()) {
                    eprintln!("sightline: {line}");
                }
            }
        },
    );
}
