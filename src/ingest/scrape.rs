//! Scraping `/metrics` endpoints into the workspace.
//!
//! Each target runs on its own thread, so a slow or dead target never holds up another, the
//! app or the writer. One scrape: GET with content negotiation (OpenMetrics preferred, text
//! accepted, gzip), a timeout and a body cap; parse; write the samples at the scrape's time
//! (or their own), plus `up`, `scrape_duration_seconds` and `scrape_samples_scraped` as
//! Prometheus records them. Series that vanish from one scrape to the next get a staleness
//! marker, as do all of a target's series when a scrape fails. After failures the target
//! backs off (the interval doubles per failure, up to 8 intervals or a minute).

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::prom_text::{self, MetricKind};
use crate::model::now_ms;
use crate::model::{MetricMeta, MetricSample, canonical_labels};
use crate::promql::stale_nan;
use crate::store::writer::{SampleBatch, WriterHandle};

/// Default scrape interval.
pub const DEFAULT_INTERVAL_MS: i64 = 5_000;
/// Shortest interval allowed.
pub const MIN_INTERVAL_MS: i64 = 1_000;
/// Default body cap.
pub const DEFAULT_BODY_LIMIT: u64 = 16 << 20;

const ACCEPT: &str =
    "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// What to scrape and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeConfig {
    pub url: String,
    pub interval_ms: i64,
    pub timeout_ms: i64,
    /// Added to every series (a label the target also sets is overridden, as
    /// `honor_labels: false` does). `instance` defaults to the URL's host:port.
    pub labels: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub bearer_token: Option<String>,
    pub body_limit: u64,
}

impl ScrapeConfig {
    /// A target with defaults: 5 s interval, timeout = interval (at most 10 s), 16 MiB cap.
    pub fn new(url: &str) -> Result<ScrapeConfig, String> {
        let mut c = ScrapeConfig {
            url: url.trim().to_string(),
            interval_ms: DEFAULT_INTERVAL_MS,
            timeout_ms: 0,
            labels: BTreeMap::new(),
            headers: BTreeMap::new(),
            bearer_token: None,
            body_limit: DEFAULT_BODY_LIMIT,
        };
        c.validate()?;
        Ok(c)
    }

    /// Checks the URL and fills defaults; says what is wrong in plain words.
    pub fn validate(&mut self) -> Result<(), String> {
        let rest = self
            .url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{:?}: only http:// endpoints can be scraped", self.url))?;
        let host = rest.split('/').next().unwrap_or("");
        if host.is_empty() {
            return Err(format!("{:?}: no host in the URL", self.url));
        }
        if self.interval_ms < MIN_INTERVAL_MS {
            return Err(format!(
                "the interval must be at least {} s",
                MIN_INTERVAL_MS / 1000
            ));
        }
        if self.timeout_ms <= 0 {
            self.timeout_ms = self.interval_ms.min(10_000);
        }
        if self.body_limit == 0 {
            self.body_limit = DEFAULT_BODY_LIMIT;
        }
        for k in self.labels.keys() {
            if !crate::promql::valid_label_name(k) {
                return Err(format!("{k:?} is not a valid label name"));
            }
        }
        self.labels
            .entry("instance".into())
            .or_insert_with(|| host.to_string());
        self.labels
            .entry("job".into())
            .or_insert_with(|| "sightline".to_string());
        Ok(())
    }
}

/// The outcome of one scrape.
#[derive(Debug, Clone, Default)]
pub struct ScrapeOutcome {
    pub samples: Vec<MetricSample>,
    pub meta: Vec<MetricMeta>,
    pub error: Option<String>,
    /// Spec rules the body breaks although it was read (OpenMetrics read leniently).
    pub warning: Option<String>,
    pub duration_ms: f64,
    pub scraped: usize,
}

fn agent(cfg: &ScrapeConfig) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_millis(cfg.timeout_ms.max(1) as u64))
        .redirects(3)
        .build()
}

/// Scrapes once, at `t_ms`. Never panics; every failure is in `error`.
pub fn scrape_once(cfg: &ScrapeConfig, t_ms: i64) -> ScrapeOutcome {
    let started = Instant::now();
    let mut out = ScrapeOutcome::default();
    let mut req = agent(cfg).get(&cfg.url).set("Accept", ACCEPT);
    for (k, v) in &cfg.headers {
        req = req.set(k, v);
    }
    if let Some(t) = &cfg.bearer_token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let result = match req.call() {
        Ok(resp) => {
            let ct = resp.header("Content-Type").map(str::to_string);
            let mut body = Vec::new();
            match resp
                .into_reader()
                .take(cfg.body_limit + 1)
                .read_to_end(&mut body)
            {
                Err(e) => Err(format!("reading the body: {e}")),
                Ok(_) if body.len() as u64 > cfg.body_limit => Err(format!(
                    "the body is over the {} MiB limit",
                    cfg.body_limit >> 20
                )),
                Ok(_) => Ok((ct, body)),
            }
        }
        Err(ureq::Error::Status(code, resp)) => Err(format!(
            "HTTP {code} {}",
            resp.status_text().chars().take(80).collect::<String>()
        )),
        Err(ureq::Error::Transport(t)) => Err(transport_message(&t)),
    };
    match result {
        Err(e) => out.error = Some(e),
        Ok((ct, body)) => match prom_text::parse_exposition(&body, ct.as_deref()) {
            Err(e) => out.error = Some(format!("not a metrics exposition: {e}")),
            Ok(expo) => {
                if let Some(p) = expo.problems.first() {
                    // Prometheus drops a scrape with any bad line; so do we, saying where.
                    out.error = Some(format!(
                        "not a metrics exposition: {p}{}",
                        if expo.problems.len() > 1 {
                            format!(" (and {} more bad lines)", expo.problems.len() - 1)
                        } else {
                            String::new()
                        }
                    ));
                } else {
                    out.warning = expo.notes.first().map(|n| n.to_string());
                    let (mut samples, meta) = prom_text::to_samples(&expo, t_ms);
                    for s in &mut samples {
                        for (k, v) in &cfg.labels {
                            match s.labels.binary_search_by(|(n, _)| n.as_str().cmp(k)) {
                                Ok(i) => s.labels[i].1 = v.clone(),
                                Err(i) => s.labels.insert(i, (k.clone(), v.clone())),
                            }
                        }
                    }
                    out.scraped = samples.len();
                    out.samples = samples;
                    out.meta = meta;
                }
            }
        },
    }
    out.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    out
}

fn transport_message(t: &ureq::Transport) -> String {
    let s = t.to_string();
    if s.contains("timed out") || s.contains("Timeout") {
        "timed out".into()
    } else if s.contains("Connection refused") {
        "connection refused".into()
    } else {
        s
    }
}

/// The synthetic series a scrape adds, as Prometheus names them.
fn scrape_series(
    cfg: &ScrapeConfig,
    t_ms: i64,
    up: bool,
    duration_ms: f64,
    scraped: usize,
) -> (Vec<MetricSample>, Vec<MetricMeta>) {
    let labels: Vec<(String, String)> = canonical_labels(cfg.labels.clone().into_iter().collect());
    let mk = |metric: &str, value: f64| MetricSample {
        metric: metric.into(),
        labels: labels.clone(),
        t_ms,
        value,
    };
    let samples = vec![
        mk("up", if up { 1.0 } else { 0.0 }),
        mk("scrape_duration_seconds", duration_ms / 1000.0),
        mk("scrape_samples_scraped", scraped as f64),
    ];
    let meta = [
        (
            "up",
            "1 if the last scrape of the target succeeded, 0 if it failed.",
        ),
        (
            "scrape_duration_seconds",
            "How long the last scrape of the target took.",
        ),
        (
            "scrape_samples_scraped",
            "How many samples the last scrape of the target returned.",
        ),
    ]
    .into_iter()
    .map(|(n, h)| MetricMeta {
        family: n.into(),
        metrics: vec![n.into()],
        kind: MetricKind::Gauge.as_str(),
        help: h.into(),
        unit: String::new(),
        derived: false,
    })
    .collect();
    (samples, meta)
}

/// A target's health, as the Sources view and the CLI show it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TargetHealth {
    /// up, down, unknown (not scraped yet) or paused.
    pub state: String,
    pub last_scrape_ms: Option<i64>,
    pub last_duration_ms: Option<f64>,
    pub last_error: Option<String>,
    pub last_warning: Option<String>,
    pub samples: Option<u32>,
    pub consecutive_failures: u32,
    pub next_scrape_ms: Option<i64>,
    pub scrapes: u64,
}

/// Called after every scrape (the CLI prints a line; the app refreshes).
pub type OnScrape = Arc<dyn Fn(&TargetHealth) + Send + Sync>;

/// A running target.
pub struct Scraper {
    cfg: ScrapeConfig,
    health: Arc<Mutex<TargetHealth>>,
    paused: Arc<AtomicBool>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    join: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Scraper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scraper")
            .field("url", &self.cfg.url)
            .finish_non_exhaustive()
    }
}

impl Scraper {
    /// Starts scraping `cfg` every interval, writing through `writer`.
    pub fn start(
        cfg: ScrapeConfig,
        writer: WriterHandle,
        paused: bool,
        on_scrape: Option<OnScrape>,
    ) -> Scraper {
        let health = Arc::new(Mutex::new(TargetHealth {
            state: if paused { "paused" } else { "unknown" }.into(),
            ..Default::default()
        }));
        let paused = Arc::new(AtomicBool::new(paused));
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let (c, h, p, s) = (cfg.clone(), health.clone(), paused.clone(), stop.clone());
        let join = std::thread::Builder::new()
            .name("sightline-scrape".into())
            .spawn(move || scrape_loop(c, writer, h, p, s, on_scrape))
            .ok();
        Scraper {
            cfg,
            health,
            paused,
            stop,
            join,
        }
    }

    pub fn config(&self) -> &ScrapeConfig {
        &self.cfg
    }

    pub fn health(&self) -> TargetHealth {
        self.health.lock().map(|h| h.clone()).unwrap_or_default()
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
        if let Ok(mut h) = self.health.lock() {
            h.state = if paused {
                "paused".into()
            } else if h.scrapes == 0 {
                "unknown".into()
            } else if h.consecutive_failures > 0 {
                "down".into()
            } else {
                "up".into()
            };
        }
        self.wake();
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    fn wake(&self) {
        let (_, cv) = &*self.stop;
        cv.notify_all();
    }

    /// Stops the thread (after the scrape in flight, if any) and waits for it.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Ok(mut s) = self.stop.0.lock() {
            *s = true;
        }
        self.wake();
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

impl Drop for Scraper {
    fn drop(&mut self) {
        self.halt();
    }
}

fn scrape_loop(
    cfg: ScrapeConfig,
    writer: WriterHandle,
    health: Arc<Mutex<TargetHealth>>,
    paused: Arc<AtomicBool>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    on_scrape: Option<OnScrape>,
) {
    let mut previous: HashSet<(String, Vec<(String, String)>)> = HashSet::new();
    let mut failures: u32 = 0;
    let mut next = Instant::now();
    loop {
        // Wait until the next scrape (or a stop).
        {
            let (lock, cv) = &*stop;
            let Ok(mut stopped) = lock.lock() else { return };
            loop {
                if *stopped {
                    return;
                }
                let now = Instant::now();
                if now >= next && !paused.load(Ordering::SeqCst) {
                    break;
                }
                let wait = if paused.load(Ordering::SeqCst) {
                    Duration::from_millis(500)
                } else {
                    next - now
                };
                match cv.wait_timeout(stopped, wait) {
                    Ok((s, _)) => stopped = s,
                    Err(_) => return,
                }
            }
        }
        let t = now_ms();
        let o = scrape_once(&cfg, t);
        let up = o.error.is_none();
        let (mut samples, mut meta) = (o.samples, o.meta);
        let now_seen: HashSet<(String, Vec<(String, String)>)> = samples
            .iter()
            .map(|s| (s.metric.clone(), s.labels.clone()))
            .collect();
        // Series gone since the last scrape (all of them, when it failed) end now.
        for (metric, labels) in previous.difference(&now_seen) {
            samples.push(MetricSample {
                metric: metric.clone(),
                labels: labels.clone(),
                t_ms: t,
                value: stale_nan(),
            });
        }
        previous = now_seen;
        let (extra, extra_meta) = scrape_series(&cfg, t, up, o.duration_ms, o.scraped);
        samples.extend(extra);
        meta.extend(extra_meta);
        let write_err = writer
            .write_samples(SampleBatch {
                samples,
                metric_meta: meta,
            })
            .err()
            .map(|e| format!("writing to the workspace: {e}"));
        failures = if up { 0 } else { failures.saturating_add(1) };
        let interval = cfg.interval_ms.max(MIN_INTERVAL_MS);
        let delay = if failures == 0 {
            interval
        } else {
            let backoff = interval.saturating_mul(1 << (failures - 1).min(3));
            backoff.min(interval.max(60_000))
        };
        // Keep the schedule: the next scrape is one interval after this one started.
        next += Duration::from_millis(delay as u64);
        if next < Instant::now() {
            next = Instant::now();
        }
        let snapshot = {
            let Ok(mut h) = health.lock() else { return };
            h.last_scrape_ms = Some(t);
            h.last_duration_ms = Some(o.duration_ms);
            h.last_error = o.error.clone().or(write_err);
            h.last_warning = o.warning.clone();
            h.samples = Some(o.scraped as u32);
            h.consecutive_failures = failures;
            h.scrapes += 1;
            h.next_scrape_ms = Some(t + delay);
            h.state = if paused.load(Ordering::SeqCst) {
                "paused"
            } else if up {
                "up"
            } else {
                "down"
            }
            .into();
            h.clone()
        };
        if let Some(f) = &on_scrape {
            f(&snapshot);
        }
    }
}

/// A target as stored and shown.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScrapeTargetInfo {
    pub id: i64,
    pub url: String,
    pub interval_ms: i64,
    pub timeout_ms: i64,
    pub labels: BTreeMap<String, String>,
    pub paused: bool,
    pub health: TargetHealth,
}

/// The workspace's scrape targets: kept in its `scrape_targets` table, each running while the
/// workspace is open (and not paused).
pub struct ScrapeManager {
    writer: WriterHandle,
    db: std::path::PathBuf,
    targets: Mutex<BTreeMap<i64, Scraper>>,
    on_scrape: Option<OnScrape>,
    /// Downsamples and expires old samples every ten minutes while targets run.
    compactor: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

/// How often the scrape manager compacts the workspace's samples.
const COMPACT_EVERY: Duration = Duration::from_secs(600);

fn spawn_compactor(writer: WriterHandle) -> Option<(Arc<AtomicBool>, JoinHandle<()>)> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let j = std::thread::Builder::new()
        .name("sightline-compact".into())
        .spawn(move || {
            let mut last = Instant::now();
            while !s.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(250));
                if last.elapsed() >= COMPACT_EVERY {
                    last = Instant::now();
                    let _ = writer.exec(|conn| {
                        crate::metrics::retention::compact(
                            conn,
                            &crate::metrics::retention::Retention::default(),
                        )
                        .map(|_| ())
                    });
                }
            }
        })
        .ok()?;
    Some((stop, j))
}

impl std::fmt::Debug for ScrapeManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeManager")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

fn map_err(e: impl std::fmt::Display) -> crate::Error {
    crate::Error::Internal(e.to_string())
}

impl ScrapeManager {
    /// Starts every stored target of the workspace.
    pub fn start(
        store: &crate::store::Store,
        on_scrape: Option<OnScrape>,
    ) -> crate::Result<ScrapeManager> {
        let writer = store.writer().cloned().ok_or(crate::Error::WriterGone)?;
        let compactor = spawn_compactor(writer.clone());
        let m = ScrapeManager {
            writer,
            db: store.path().to_owned(),
            targets: Mutex::new(BTreeMap::new()),
            on_scrape,
            compactor,
        };
        let conn = store.reader()?;
        let mut st = conn.prepare(
            "SELECT id, url, interval_ms, timeout_ms, labels, headers, bearer_token, paused FROM scrape_targets ORDER BY id",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                ScrapeConfig {
                    url: r.get(1)?,
                    interval_ms: r.get(2)?,
                    timeout_ms: r.get(3)?,
                    labels: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
                    headers: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
                    bearer_token: r.get(6)?,
                    body_limit: DEFAULT_BODY_LIMIT,
                },
                r.get::<_, i64>(7)? != 0,
            ))
        })?;
        let mut map = m.targets.lock().map_err(map_err)?;
        for row in rows {
            let (id, cfg, paused) = row?;
            map.insert(
                id,
                Scraper::start(cfg, m.writer.clone(), paused, m.on_scrape.clone()),
            );
        }
        drop(map);
        Ok(m)
    }

    /// Adds a target (or updates the one with the same URL) and starts it.
    pub fn add(&self, mut cfg: ScrapeConfig) -> crate::Result<ScrapeTargetInfo> {
        cfg.validate()
            .map_err(|why| crate::Error::InvalidArgument {
                what: "scrape target",
                value: cfg.url.clone(),
                why,
            })?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let c = cfg.clone();
        self.writer.exec(move |conn| {
            let now = crate::model::now_ns();
            conn.execute(
                "INSERT INTO scrape_targets (url, interval_ms, timeout_ms, labels, headers, bearer_token, paused, created_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)
                 ON CONFLICT (url) DO UPDATE SET interval_ms = excluded.interval_ms, timeout_ms = excluded.timeout_ms,
                     labels = excluded.labels, headers = excluded.headers, bearer_token = excluded.bearer_token, paused = 0",
                rusqlite::params![
                    c.url,
                    c.interval_ms,
                    c.timeout_ms,
                    serde_json::to_string(&c.labels).unwrap_or_else(|_| "{}".into()),
                    serde_json::to_string(&c.headers).unwrap_or_else(|_| "{}".into()),
                    c.bearer_token,
                    now
                ],
            )?;
            let id: i64 = conn.query_row("SELECT id FROM scrape_targets WHERE url = ?1", [&c.url], |r| r.get(0))?;
            let _ = tx.send(id);
            Ok(())
        })?;
        let id = rx.recv().map_err(map_err)?;
        let mut map = self.targets.lock().map_err(map_err)?;
        if let Some(old) = map.remove(&id) {
            old.stop();
        }
        map.insert(
            id,
            Scraper::start(cfg, self.writer.clone(), false, self.on_scrape.clone()),
        );
        drop(map);
        self.get(id)
    }

    pub fn set_paused(&self, id: i64, paused: bool) -> crate::Result<ScrapeTargetInfo> {
        self.writer.exec(move |conn| {
            conn.execute(
                "UPDATE scrape_targets SET paused = ?1 WHERE id = ?2",
                rusqlite::params![paused, id],
            )?;
            Ok(())
        })?;
        {
            let map = self.targets.lock().map_err(map_err)?;
            map.get(&id)
                .ok_or_else(|| not_found(id))?
                .set_paused(paused);
        }
        self.get(id)
    }

    /// Stops and forgets a target; its samples stay.
    pub fn remove(&self, id: i64) -> crate::Result<()> {
        let s = self
            .targets
            .lock()
            .map_err(map_err)?
            .remove(&id)
            .ok_or_else(|| not_found(id))?;
        s.stop();
        self.writer.exec(move |conn| {
            conn.execute("DELETE FROM scrape_targets WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    pub fn get(&self, id: i64) -> crate::Result<ScrapeTargetInfo> {
        self.list()?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| not_found(id))
    }

    pub fn list(&self) -> crate::Result<Vec<ScrapeTargetInfo>> {
        let map = self.targets.lock().map_err(map_err)?;
        Ok(map
            .iter()
            .map(|(id, s)| {
                let c = s.config();
                ScrapeTargetInfo {
                    id: *id,
                    url: c.url.clone(),
                    interval_ms: c.interval_ms,
                    timeout_ms: c.timeout_ms,
                    labels: c.labels.clone(),
                    paused: s.is_paused(),
                    health: s.health(),
                }
            })
            .collect())
    }

    /// Targets being scraped now (not paused).
    pub fn active(&self) -> usize {
        self.targets
            .lock()
            .map(|m| m.values().filter(|s| !s.is_paused()).count())
            .unwrap_or(0)
    }

    /// Stops every target (the workspace closes).
    pub fn stop_all(&self) {
        if let Ok(mut m) = self.targets.lock() {
            for (_, s) in std::mem::take(&mut *m) {
                s.stop();
            }
        }
    }
}

impl Drop for ScrapeManager {
    fn drop(&mut self) {
        self.stop_all();
        if let Some((stop, j)) = self.compactor.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = j.join();
        }
    }
}

fn not_found(id: i64) -> crate::Error {
    crate::Error::InvalidArgument {
        what: "scrape target",
        value: id.to_string(),
        why: "no such target".into(),
    }
}
