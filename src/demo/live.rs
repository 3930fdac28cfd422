//! The live demo: an agent service played in real time through all three ways Sightline
//! hears from a running agent at once: it appends JSON log lines to a file, serves its own
//! Prometheus `/metrics`, and sends its LLM and tool spans as OTLP/JSON to a receiver.
//!
//! Runs of five agents arrive every few seconds and take a few seconds each. Midway an
//! incident starts: the search backend times out and one model's provider rate-limits, so
//! tool and LLM calls fail; the default agent rules fire on it (`ToolFailingRepeatedly` on
//! the second failure, `LLMErrorRateHigh` ten seconds later). After it, the service recovers.
//!
//! The session is deterministic in everything but the wall clock it is played against.

use std::collections::{BTreeMap, BinaryHeap};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{AGENTS, MODELS, Rng, TOOLS};
use crate::error::{Error, Result};

/// Clears a previous session from `dir`: its log files and the workspace `db` (with its
/// journal and folder). Only the demo's own files are touched.
pub fn reset(dir: &Path, db: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Unwritable {
        path: dir.to_owned(),
        source,
    })?;
    let mut doomed = vec![dir.join("agent-runtime.log")];
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        doomed.push(PathBuf::from(p));
    }
    for p in doomed {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Unwritable { path: p, source }),
        }
    }
    let mut files = db.as_os_str().to_owned();
    files.push(".files");
    match std::fs::remove_dir_all(PathBuf::from(&files)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Unwritable {
            path: PathBuf::from(files),
            source,
        }),
    }
}

/// What to play and where.
#[derive(Debug, Clone)]
pub struct LiveDemoConfig {
    /// The log file lines are appended to (created, with its folder).
    pub log_path: PathBuf,
    /// Where `/metrics` is served (`127.0.0.1:0` picks a free port).
    pub metrics_addr: SocketAddr,
    /// The OTLP/HTTP receiver's base URL (`http://127.0.0.1:4318`); spans wait until set.
    pub otlp_url: Option<String>,
    /// When the incident starts, after the session starts.
    pub incident_at: Duration,
    /// How long it lasts.
    pub incident_for: Duration,
    /// Mean time between run arrivals.
    pub arrival_every: Duration,
    pub seed: u64,
}

impl LiveDemoConfig {
    pub fn new(log_path: PathBuf) -> LiveDemoConfig {
        LiveDemoConfig {
            log_path,
            metrics_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            otlp_url: None,
            incident_at: Duration::from_secs(20),
            incident_for: Duration::from_secs(30),
            arrival_every: Duration::from_millis(2500),
            seed: 0x4c69_7665_2026,
        }
    }
}

/// What has been played so far.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LiveDemoStats {
    pub runs_started: f64,
    pub runs_ended: f64,
    pub log_lines: f64,
    pub spans_sent: f64,
    /// Spans the receiver refused or could not be reached for (kept for the next send).
    pub send_failures: f64,
    pub incident: bool,
    pub metrics_url: String,
    pub log_path: String,
}

#[derive(Default)]
struct Counts {
    runs_started: AtomicU64,
    runs_ended: AtomicU64,
    log_lines: AtomicU64,
    spans_sent: AtomicU64,
    send_failures: AtomicU64,
    incident: AtomicBool,
}

/// The agent's own metrics, as its `/metrics` shows them.
#[derive(Default)]
struct AgentMetrics {
    runs: BTreeMap<(String, &'static str), u64>,
    tokens: BTreeMap<(String, &'static str), u64>,
    tool_calls: BTreeMap<(String, &'static str), u64>,
    active: i64,
}

impl AgentMetrics {
    fn exposition(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP agent_runs_total Agent runs finished, by agent and outcome.\n");
        s.push_str("# TYPE agent_runs_total counter\n");
        for ((agent, status), n) in &self.runs {
            s.push_str(&format!(
                "agent_runs_total{{agent=\"{agent}\",status=\"{status}\"}} {n}\n"
            ));
        }
        s.push_str("# HELP agent_llm_tokens_total Tokens used, by model and direction.\n");
        s.push_str("# TYPE agent_llm_tokens_total counter\n");
        for ((model, ty), n) in &self.tokens {
            s.push_str(&format!(
                "agent_llm_tokens_total{{model=\"{model}\",type=\"{ty}\"}} {n}\n"
            ));
        }
        s.push_str("# HELP agent_tool_calls_total Tool calls, by tool and outcome.\n");
        s.push_str("# TYPE agent_tool_calls_total counter\n");
        for ((tool, status), n) in &self.tool_calls {
            s.push_str(&format!(
                "agent_tool_calls_total{{tool=\"{tool}\",status=\"{status}\"}} {n}\n"
            ));
        }
        s.push_str("# HELP agent_active_runs Runs in progress.\n");
        s.push_str("# TYPE agent_active_runs gauge\n");
        s.push_str(&format!("agent_active_runs {}\n", self.active));
        s
    }
}

enum Action {
    /// Plans the next run and schedules the one after.
    NewRun,
    Log(String),
    Span(Value),
    Metric(Box<dyn FnOnce(&mut AgentMetrics) + Send>),
}

struct Event {
    at: Duration,
    seq: u64,
    action: Action,
}

impl PartialEq for Event {
    fn eq(&self, o: &Event) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, o: &Event) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Event {
    // Earliest first out of the max-heap.
    fn cmp(&self, o: &Event) -> std::cmp::Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// A live demo being played; stops when dropped or [`LiveDemo::stop`]ped.
pub struct LiveDemo {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    server: Arc<tiny_http::Server>,
    counts: Arc<Counts>,
    otlp_url: Arc<Mutex<Option<String>>>,
    metrics_url: String,
    log_path: PathBuf,
}

impl std::fmt::Debug for LiveDemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveDemo")
            .field("metrics_url", &self.metrics_url)
            .field("log_path", &self.log_path)
            .finish_non_exhaustive()
    }
}

impl LiveDemo {
    /// Starts serving `/metrics` and playing the session.
    pub fn start(cfg: LiveDemoConfig) -> Result<LiveDemo> {
        if let Some(dir) = cfg.log_path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Unwritable {
                path: dir.to_owned(),
                source,
            })?;
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&cfg.log_path)
            .map_err(|source| Error::Unwritable {
                path: cfg.log_path.clone(),
                source,
            })?;
        let listener =
            std::net::TcpListener::bind(cfg.metrics_addr).map_err(|e| Error::InvalidArgument {
                what: "live demo /metrics address",
                value: cfg.metrics_addr.to_string(),
                why: format!("cannot listen there: {e}"),
            })?;
        let addr = listener.local_addr()?;
        let server = Arc::new(
            tiny_http::Server::from_listener(listener, None)
                .map_err(|e| Error::Internal(format!("live demo /metrics: {e}")))?,
        );
        let stop = Arc::new(AtomicBool::new(false));
        let metrics = Arc::new(Mutex::new(AgentMetrics::default()));
        let counts = Arc::new(Counts::default());
        let otlp_url = Arc::new(Mutex::new(cfg.otlp_url.clone()));
        let mut threads = Vec::new();
        {
            let (server, stop, metrics) = (server.clone(), stop.clone(), metrics.clone());
            threads.push(std::thread::spawn(move || serve(&server, &stop, &metrics)));
        }
        {
            let player = Player {
                cfg: cfg.clone(),
                log,
                metrics,
                counts: counts.clone(),
                otlp_url: otlp_url.clone(),
                stop: stop.clone(),
            };
            threads.push(std::thread::spawn(move || player.play()));
        }
        Ok(LiveDemo {
            stop,
            threads,
            server,
            counts,
            otlp_url,
            metrics_url: format!("http://{addr}/metrics"),
            log_path: cfg.log_path,
        })
    }

    /// Where the agent's `/metrics` is served.
    pub fn metrics_url(&self) -> &str {
        &self.metrics_url
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Sets (or changes) where spans are sent; spans ended before are sent then.
    pub fn set_otlp_url(&self, url: &str) {
        if let Ok(mut u) = self.otlp_url.lock() {
            *u = Some(url.trim_end_matches('/').to_string());
        }
    }

    pub fn stats(&self) -> LiveDemoStats {
        let c = &self.counts;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        LiveDemoStats {
            runs_started: n(&c.runs_started),
            runs_ended: n(&c.runs_ended),
            log_lines: n(&c.log_lines),
            spans_sent: n(&c.spans_sent),
            send_failures: n(&c.send_failures),
            incident: c.incident.load(Ordering::Relaxed),
            metrics_url: self.metrics_url.clone(),
            log_path: self.log_path.display().to_string(),
        }
    }

    /// Stops playing and serving; what was played stays in the log file.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.server.unblock();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for LiveDemo {
    fn drop(&mut self) {
        self.halt();
    }
}

fn serve(server: &tiny_http::Server, stop: &AtomicBool, metrics: &Mutex<AgentMetrics>) {
    while !stop.load(Ordering::Relaxed) {
        let req = match server.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(_) => return,
        };
        let resp = if req.url() == "/metrics" {
            let body = metrics.lock().map(|m| m.exposition()).unwrap_or_default();
            let ctype = tiny_http::Header::from_bytes(
                &b"Content-Type"[..],
                &b"text/plain; version=0.0.4; charset=utf-8"[..],
            );
            let mut r = tiny_http::Response::from_string(body);
            if let Ok(h) = ctype {
                r = r.with_header(h);
            }
            r
        } else {
            tiny_http::Response::from_string("not found\n").with_status_code(404)
        };
        let _ = req.respond(resp);
    }
}

struct Player {
    cfg: LiveDemoConfig,
    log: std::fs::File,
    metrics: Arc<Mutex<AgentMetrics>>,
    counts: Arc<Counts>,
    otlp_url: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
}

/// Spans are sent at most this often (an SDK's batch span processor does the same).
const SEND_EVERY: Duration = Duration::from_millis(250);
/// Spans kept while the receiver cannot be reached; older ones are dropped.
const MAX_PENDING: usize = 20_000;

impl Player {
    fn play(mut self) {
        let started = Instant::now();
        let epoch_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        let mut plan = Plan {
            rng: Rng(self.cfg.seed | 1),
            heap: BinaryHeap::new(),
            seq: 0,
            epoch_ns,
            run: 0,
            cfg: self.cfg.clone(),
        };
        plan.push(Duration::ZERO, Action::NewRun);
        let mut pending: Vec<Value> = Vec::new();
        let mut last_send = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            let now = started.elapsed();
            let in_incident =
                now >= self.cfg.incident_at && now < self.cfg.incident_at + self.cfg.incident_for;
            self.counts.incident.store(in_incident, Ordering::Relaxed);
            let mut wrote = false;
            while plan.heap.peek().is_some_and(|e| e.at <= now) {
                let Some(ev) = plan.heap.pop() else { break };
                match ev.action {
                    Action::NewRun => plan.new_run(ev.at),
                    Action::Log(line) => {
                        let _ = self.log.write_all(line.as_bytes());
                        let _ = self.log.write_all(b"\n");
                        self.counts.log_lines.fetch_add(1, Ordering::Relaxed);
                        wrote = true;
                        if line.contains("\"agent run started\"") {
                            self.counts.runs_started.fetch_add(1, Ordering::Relaxed);
                        } else if line.contains("\"agent run completed\"")
                            || line.contains("\"agent run failed\"")
                        {
                            self.counts.runs_ended.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Action::Span(s) => pending.push(s),
                    Action::Metric(f) => {
                        if let Ok(mut m) = self.metrics.lock() {
                            f(&mut m);
                        }
                    }
                }
            }
            if wrote {
                let _ = self.log.flush();
            }
            if !pending.is_empty() && last_send.elapsed() >= SEND_EVERY {
                last_send = Instant::now();
                self.send(&mut pending);
            }
            let next = plan
                .heap
                .peek()
                .map_or(Duration::from_millis(50), |e| e.at.saturating_sub(now));
            std::thread::sleep(next.clamp(Duration::from_millis(5), Duration::from_millis(50)));
        }
        if !pending.is_empty() {
            self.send(&mut pending);
        }
    }

    /// POSTs the pending spans as one OTLP/JSON request; keeps them when that fails.
    fn send(&self, pending: &mut Vec<Value>) {
        let Some(url) = self.otlp_url.lock().ok().and_then(|u| u.clone()) else {
            let excess = pending.len().saturating_sub(MAX_PENDING);
            pending.drain(..excess);
            return;
        };
        let body = json!({"resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "demo-agent"}},
                {"key": "service.instance.id", "value": {"stringValue": "demo-agent-0"}},
            ]},
            "scopeSpans": [{"scope": {"name": "sightline.demo", "version": env!("CARGO_PKG_VERSION")},
                            "spans": &*pending}],
        }]});
        let r = ureq::post(&format!("{url}/v1/traces"))
            .timeout(Duration::from_secs(5))
            .set("Content-Type", "application/json")
            .send_string(&body.to_string());
        match r {
            Ok(_) => {
                self.counts
                    .spans_sent
                    .fetch_add(pending.len() as u64, Ordering::Relaxed);
                pending.clear();
            }
            Err(_) => {
                self.counts
                    .send_failures
                    .fetch_add(pending.len() as u64, Ordering::Relaxed);
                let excess = pending.len().saturating_sub(MAX_PENDING);
                pending.drain(..excess);
            }
        }
    }
}

/// The schedule: runs are planned whole when they arrive.
struct Plan {
    rng: Rng,
    heap: BinaryHeap<Event>,
    seq: u64,
    epoch_ns: i64,
    run: u64,
    cfg: LiveDemoConfig,
}

fn attr(key: &str, v: Value) -> Value {
    let value = match v {
        Value::String(s) => json!({ "stringValue": s }),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({ "intValue": n.to_string() }),
        Value::Number(n) => json!({ "doubleValue": n }),
        Value::Bool(b) => json!({ "boolValue": b }),
        other => json!({ "stringValue": other.to_string() }),
    };
    json!({ "key": key, "value": value })
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl Plan {
    fn push(&mut self, at: Duration, action: Action) {
        self.seq += 1;
        self.heap.push(Event {
            at,
            seq: self.seq,
            action,
        });
    }

    fn ns(&self, at: Duration) -> i64 {
        self.epoch_ns + at.as_nanos() as i64
    }

    fn in_incident(&self, at: Duration) -> bool {
        at >= self.cfg.incident_at && at < self.cfg.incident_at + self.cfg.incident_for
    }

    fn zap(&self, at: Duration, level: &str, msg: &str, fields: &str) -> String {
        format!(
            "{{\"level\":\"{level}\",\"ts\":{:.6},\"logger\":\"agent.runtime\",\"msg\":{},{fields}}}",
            self.ns(at) as f64 / 1e9,
            super::esc(msg)
        )
    }

    /// Plans one run starting at `t0` and schedules the next arrival.
    fn new_run(&mut self, t0: Duration) {
        self.run += 1;
        let mean = self.cfg.arrival_every.as_millis().max(100) as u64;
        let gap = Duration::from_millis(mean / 2 + self.rng.below(mean));
        self.push(t0 + gap, Action::NewRun);

        let trace = self.rng.hex(32);
        let root = self.rng.hex(16);
        let (agent, query) = *self.rng.pick(AGENTS);
        // Mostly the small model: a demo should not look like it burns money by default.
        let (provider, model, pin, pout) = if self.rng.chance(0.7) {
            MODELS[1]
        } else {
            *self.rng.pick(MODELS)
        };
        let ids = format!("\"trace_id\":\"{trace}\",\"span_id\":\"{root}\"");
        let start = self.zap(
            t0,
            "info",
            "agent run started",
            &format!(
                "{ids},\"agent\":\"{agent}\",\"model\":\"{model}\",\"query\":{}",
                super::esc(query)
            ),
        );
        self.push(t0, Action::Log(start));
        self.push(t0, Action::Metric(Box::new(|m| m.active += 1)));

        let iterations = 1 + self.rng.below(3) + u64::from(self.in_incident(t0));
        let mut now = t0 + Duration::from_millis(50 + self.rng.below(200));
        let mut cost = 0.0;
        let mut failed = false;
        for it in 1..=iterations {
            // The LLM call; during the incident the provider rate-limits one model.
            let span = self.rng.hex(16);
            let took = Duration::from_millis(400 + self.rng.below(2200));
            let limited = self.in_incident(now) && model == "gpt-4o-mini" && self.rng.chance(0.5);
            let (input, output) = if limited {
                (0, 0)
            } else {
                (300 + self.rng.below(1800), 30 + self.rng.below(400))
            };
            let end = now + if limited { took / 4 } else { took };
            cost += (input as f64 * pin + output as f64 * pout) / 1e6;
            let mut attrs = vec![
                attr("gen_ai.operation.name", json!("chat")),
                attr("gen_ai.system", json!(provider)),
                attr("gen_ai.request.model", json!(model)),
                attr("gen_ai.agent.name", json!(agent)),
            ];
            if !limited {
                attrs.push(attr("gen_ai.usage.input_tokens", json!(input)));
                attrs.push(attr("gen_ai.usage.output_tokens", json!(output)));
            } else {
                attrs.push(attr("http.response.status_code", json!(429)));
                attrs.push(attr("error.type", json!("RateLimitError")));
            }
            let status = if limited {
                json!({"code": 2, "message": "RateLimitError: 429 Too Many Requests"})
            } else {
                json!({"code": 1})
            };
            let s = json!({
                "traceId": trace, "spanId": span, "parentSpanId": root,
                "name": format!("chat {model}"), "kind": 3,
                "startTimeUnixNano": self.ns(now).to_string(),
                "endTimeUnixNano": self.ns(end).to_string(),
                "attributes": attrs, "status": status,
            });
            self.push(end, Action::Span(s));
            let model_s = model.to_string();
            self.push(
                end,
                Action::Metric(Box::new(move |m| {
                    *m.tokens.entry((model_s.clone(), "input")).or_default() += input;
                    *m.tokens.entry((model_s, "output")).or_default() += output;
                })),
            );
            now = end + Duration::from_millis(20 + self.rng.below(80));
            if limited {
                let line = self.zap(
                    now,
                    "warn",
                    "llm call failed, retrying",
                    &format!(
                        "\"trace_id\":\"{trace}\",\"model\":\"{model}\",\"error\":\"RateLimitError: 429 Too Many Requests\""
                    ),
                );
                self.push(now, Action::Log(line));
                now += Duration::from_millis(500);
                continue;
            }
            if it == iterations {
                break;
            }
            // A tool call; during the incident the search backend times out.
            let incident = self.in_incident(now);
            let tool = if incident && self.rng.chance(0.85) {
                "search_web"
            } else {
                *self.rng.pick(TOOLS)
            };
            let span = self.rng.hex(16);
            let times_out = incident && tool == "search_web" && self.rng.chance(0.8);
            let took = if times_out {
                Duration::from_millis(3000)
            } else {
                Duration::from_millis(60 + self.rng.below(1200))
            };
            let end = now + took;
            let error = if times_out {
                Some("TimeoutError: search backend did not answer in 3s")
            } else if self.rng.chance(0.03) {
                Some("ConnectionError: connection reset by peer")
            } else {
                None
            };
            let mut attrs = vec![
                attr("gen_ai.operation.name", json!("execute_tool")),
                attr("gen_ai.tool.name", json!(tool)),
                attr("gen_ai.agent.name", json!(agent)),
            ];
            if let Some(e) = error {
                attrs.push(attr("error.type", json!(e.split(':').next().unwrap_or(e))));
            }
            let s = json!({
                "traceId": trace, "spanId": span, "parentSpanId": root,
                "name": format!("execute_tool {tool}"), "kind": 1,
                "startTimeUnixNano": self.ns(now).to_string(),
                "endTimeUnixNano": self.ns(end).to_string(),
                "attributes": attrs,
                "status": match error { Some(e) => json!({"code": 2, "message": e}), None => json!({"code": 1}) },
            });
            self.push(end, Action::Span(s));
            let status = if error.is_some() { "error" } else { "ok" };
            self.push(
                end,
                Action::Metric(Box::new(move |m| {
                    *m.tool_calls.entry((tool.to_string(), status)).or_default() += 1;
                })),
            );
            if let Some(e) = error {
                let line = self.zap(
                    end,
                    "error",
                    "tool call failed",
                    &format!(
                        "\"trace_id\":\"{trace}\",\"tool\":\"{tool}\",\"error\":{}",
                        super::esc(e)
                    ),
                );
                self.push(end, Action::Log(line));
                if times_out && it + 1 == iterations {
                    failed = true;
                }
            }
            now = end + Duration::from_millis(20 + self.rng.below(80));
        }
        let dur = now.saturating_sub(t0);
        let (level, msg, extra, outcome) = if failed {
            (
                "error",
                "agent run failed",
                ",\"error\":\"ToolError: search_web kept timing out\"",
                "error",
            )
        } else {
            ("info", "agent run completed", "", "ok")
        };
        let end = self.zap(
            now,
            level,
            msg,
            &format!(
                "{ids},\"agent\":\"{agent}\",\"duration\":{:.3},\"cost_usd\":{cost:.6}{extra}",
                secs(dur)
            ),
        );
        self.push(now, Action::Log(end));
        let agent_s = agent.to_string();
        self.push(
            now,
            Action::Metric(Box::new(move |m| {
                m.active -= 1;
                *m.runs.entry((agent_s, outcome)).or_default() += 1;
            })),
        );
    }
}
