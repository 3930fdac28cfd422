//! Live alerting end to end: `sightline watch` scraping a real endpoint and following real
//! files, evaluating rules, and notifying a real notification server on a private session
//! D-Bus (a recorder that owns org.freedesktop.Notifications) and a real webhook receiver.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::scrape::serve;
use crate::util::{Dir, sightline, stderr, stdout};

fn support(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// A private session bus that starts no services on demand.
pub(crate) struct Bus {
    child: Child,
    pub(crate) address: String,
}

impl Bus {
    pub(crate) fn start() -> Bus {
        let mut child = Command::new("dbus-daemon")
            .arg(format!(
                "--config-file={}",
                support("session-bus.conf").display()
            ))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (Debian package dbus)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("unix:"), "dbus-daemon said {line:?}");
        Bus {
            child,
            address: line.trim().to_string(),
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The notification recorder (tests/support/notify_recorder.py) on a bus.
pub(crate) struct Recorder {
    child: Child,
    log: PathBuf,
}

impl Recorder {
    pub(crate) fn start(bus: &Bus, dir: &Dir, extra: &[&str]) -> Recorder {
        let log = dir.path("notifications.jsonl");
        let mut child = Command::new("/usr/bin/python3")
            .arg(support("notify_recorder.py"))
            .args(["--address", &bus.address, "--log"])
            .arg(&log)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the recorder did not start (python3-jeepney?)"
        );
        Recorder { child, log }
    }

    pub(crate) fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `sightline watch --rules RULES ARGS` with the given session bus address (None: no
/// bus at all), waits for it and checks it succeeded; fails if it is still running a minute
/// later (every test's --duration is far shorter). Returns its output and how long it took.
fn watch(dir: &Dir, bus: Option<&str>, rules: &Path, args: &[&str]) -> (Output, Duration) {
    let limit = Duration::from_secs(60);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sightline"));
    cmd.arg("--db")
        .arg(dir.db())
        .arg("watch")
        .arg("--rules")
        .arg(rules)
        .args(args)
        .env_remove("SIGHTLINE_DB")
        .env("XDG_CACHE_HOME", dir.path("cache"))
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            bus.unwrap_or("unix:path=/nonexistent/sightline-test-bus"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let t0 = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut b = Vec::new();
        out.read_to_end(&mut b).unwrap();
        b
    });
    let e = std::thread::spawn(move || {
        let mut b = Vec::new();
        err.read_to_end(&mut b).unwrap();
        b
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("sightline watch {args:?} still ran after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = t0.elapsed();
    let o = Output {
        status,
        stdout: o.join().unwrap(),
        stderr: e.join().unwrap(),
    };
    assert!(o.status.success(), "{}", stderr(&o));
    (o, took)
}

fn alerts_json(dir: &Dir) -> Value {
    let o = sightline(&dir.db(), &["alerts", "--json", "--limit", "200"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A webhook receiver: every POST body, parsed, with its Content-Type.
struct Hook {
    port: u16,
    got: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Hook {
    fn start() -> Hook {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut len = 0usize;
                let mut ctype = String::new();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                    if let Some(v) = lower.strip_prefix("content-type:") {
                        ctype = v.trim().to_string();
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                g.lock()
                    .unwrap()
                    .push((ctype, serde_json::from_slice(&body).unwrap()));
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Hook { port, got }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn payloads(&self) -> Vec<(String, Value)> {
        self.got.lock().unwrap().clone()
    }
}

const ALWAYS: &str = r#"
groups:
  - name: g
    interval: 1s
    rules:
      - record: test:tick
        expr: vector(time())
      - alert: Always
        expr: vector(3)
        labels:
          severity: critical
        annotations:
          summary: "always {{ $value }}"
          description: "it is always on"
"#;

#[test]
fn error_burst_goes_pending_fires_notifies_once_repeats_and_resolves_on_the_desktop() {
    let dir = Dir::new();
    let rules = dir.write(
        "burst.yml",
        r#"
groups:
  - name: burst
    interval: 1s
    rules:
      - alert: LLMErrorBurst
        expr: sum(agent_llm_errors_total) - sum(agent_llm_errors_total offset 3s) >= 6
        for: 2s
        keep_firing_for: 2s
        labels:
          severity: critical
        annotations:
          summary: "{{ $value }} LLM errors in 3 s"
          description: "LLM calls are failing: rate limits, 5xx, timeouts."
"#,
    );
    let bus = Bus::start();
    let rec = Recorder::start(&bus, &dir, &[]);
    let served = serve(
        "none",
        &[
            "--speed",
            "10",
            "--error-burst-at",
            "6",
            "--burst-duration",
            "8",
        ],
    );
    let url = format!("http://127.0.0.1:{}/metrics", served.1);
    let (o, _) = watch(
        &dir,
        Some(&bus.address),
        &rules,
        &[
            "--scrape",
            &url,
            "--scrape-interval",
            "1s",
            "--repeat-interval",
            "3s",
            "--duration",
            "27s",
        ],
    );
    let text = stdout(&o);
    let pending = text.find("PENDING  {alertname=\"LLMErrorBurst\"");
    let firing = text.find("FIRING   {alertname=\"LLMErrorBurst\"");
    assert!(
        pending.is_some() && firing.is_some() && pending < firing,
        "the alert must go pending, then fire:\n{text}"
    );
    assert!(
        text.contains("RESOLVED {alertname=\"LLMErrorBurst\""),
        "{text}"
    );

    let notes = rec.records();
    assert!(!notes.is_empty(), "no notification arrived:\n{text}");
    for n in &notes {
        assert_eq!(n["app_name"], "Sightline");
        assert!(n["app_icon"].as_str().unwrap().ends_with("icon.png"));
    }
    let (firing, resolved): (Vec<&Value>, Vec<&Value>) = notes
        .iter()
        .partition(|n| !n["summary"].as_str().unwrap().starts_with("Resolved"));
    let first = firing[0];
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .starts_with("LLMErrorBurst: "),
        "{first}"
    );
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .ends_with("LLM errors in 3 s")
    );
    assert_eq!(
        first["body"],
        "LLM calls are failing: rate limits, 5xx, timeouts."
    );
    assert_eq!(first["urgency"], 2, "severity critical is urgency critical");
    assert_eq!(
        first["actions"],
        serde_json::json!(["default", "Show in Sightline", "silence", "Silence 1 h"])
    );
    // Once, then again only after the repeat interval: not once per 1 s evaluation.
    assert!(
        firing.len() >= 2,
        "a repeat after 3 s was expected: {notes:?}"
    );
    for w in firing.windows(2) {
        let gap = w[1]["t"].as_f64().unwrap() - w[0]["t"].as_f64().unwrap();
        assert!(gap >= 2.7, "notified again after {gap:.2} s: {notes:?}");
    }
    let fired_for = resolved
        .last()
        .map(|r| r["t"].as_f64().unwrap() - first["t"].as_f64().unwrap())
        .unwrap_or(0.0);
    assert!(
        (firing.len() as f64) <= fired_for / 3.0 + 1.5,
        "{} firing notifications over {fired_for:.1} s",
        firing.len()
    );
    assert_eq!(resolved.len(), 1, "exactly one resolution: {notes:?}");
    let last = notes.last().unwrap();
    assert_eq!(last["summary"], "Resolved: LLMErrorBurst");
    assert_eq!(last["urgency"], 0);

    // The workspace knows it all: state, history, the notification log, and ALERTS.
    let a = alerts_json(&dir);
    let rule = &a["rules"][0];
    assert_eq!(rule["name"], "LLMErrorBurst");
    assert_eq!(rule["health"], "ok");
    let phases: Vec<&str> = a["history"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|h| h["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases.first(), Some(&"pending"), "{phases:?}");
    assert!(
        phases.contains(&"firing") && phases.last() == Some(&"resolved"),
        "{phases:?}"
    );
    let sent = a["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["outcome"] == "sent")
        .count();
    assert_eq!(sent, notes.len(), "the log records every notification sent");
    let q = sightline(
        &dir.db(),
        &[
            "query",
            "count_over_time(ALERTS{alertname=\"LLMErrorBurst\"}[10m])",
            "--json",
        ],
    );
    assert!(
        stdout(&q).contains("\"alertstate\":\"firing\""),
        "{}",
        stdout(&q)
    );
}

#[test]
fn a_notification_server_that_never_answers_does_not_stall_evaluation() {
    let dir = Dir::new();
    let rules = dir.write("always.yml", ALWAYS);
    let bus = Bus::start();
    let rec = Recorder::start(&bus, &dir, &["--never-answer"]);
    let (o, took) = watch(
        &dir,
        Some(&bus.address),
        &rules,
        &[
            "--desktop-timeout",
            "1s",
            "--repeat-interval",
            "1s",
            "--duration",
            "7s",
        ],
    );
    assert!(took < Duration::from_secs(15), "watch took {took:?}");
    assert!(
        stderr(&o).contains("did not answer within 1000 ms"),
        "{}",
        stderr(&o)
    );
    // The server got the call (and never answered it).
    let notes = rec.records();
    assert_eq!(
        notes.len(),
        1,
        "desktop delivery pauses after a timeout: {notes:?}"
    );
    assert_eq!(notes[0]["answered"], false);
    // Evaluation kept going: a recorded sample per second.
    let q = sightline(
        &dir.db(),
        &["query", "count_over_time(test:tick[1m])", "--json"],
    );
    let v: Value = serde_json::from_slice(&q.stdout).unwrap();
    let n: f64 = v["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 5.0, "only {n} evaluations in 7 s");
    let a = alerts_json(&dir);
    let failed: Vec<&Value> = a["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["outcome"] == "failed")
        .collect();
    assert!(
        failed.len() >= 2,
        "repeats are recorded as failed: {failed:?}"
    );
}

#[test]
fn no_session_bus_is_one_clear_error_and_evaluation_goes_on() {
    let dir = Dir::new();
    let rules = dir.write("always.yml", ALWAYS);
    let (o, _) = watch(
        &dir,
        None,
        &rules,
        &[
            "--repeat-interval",
            "1s",
            "--group-interval",
            "1s",
            "--duration",
            "4s",
        ],
    );
    let err = stderr(&o);
    assert_eq!(
        err.matches("no D-Bus session bus").count(),
        1,
        "said once, not per notification:\n{err}"
    );
    let a = alerts_json(&dir);
    let n = a["notifications"].as_array().unwrap();
    assert!(n.len() >= 2, "{n:?}");
    assert!(n.iter().all(|n| {
        n["outcome"] == "failed"
            && n["error"]
                .as_str()
                .unwrap()
                .contains("no D-Bus session bus")
    }));
    assert_eq!(a["alerts"][0]["state"], "firing");
}

#[test]
fn webhook_gets_alertmanager_json_when_firing_and_when_resolved() {
    let dir = Dir::new();
    let rules = dir.write(
        "flap.yml",
        r#"
groups:
  - name: flap
    interval: 1s
    rules:
      - alert: Flapping
        expr: vector(1) and on() (vector(time()) % 6 < 3)
        labels:
          severity: warning
        annotations:
          summary: "flapping"
"#,
    );
    let hook = Hook::start();
    watch(
        &dir,
        None,
        &rules,
        &[
            "--no-desktop",
            "--webhook",
            &hook.url(),
            // Looked at every second: with the default 5 s the group could be looked at only
            // while the alert fires again, and the resolution would (rightly) not be sent.
            "--group-interval",
            "1s",
            "--duration",
            "9s",
        ],
    );
    let got = hook.payloads();
    let firing = got
        .iter()
        .find(|(_, p)| p["status"] == "firing")
        .expect("a firing payload");
    assert_eq!(firing.0, "application/json");
    let p = &firing.1;
    assert_eq!(p["version"], "4");
    assert_eq!(
        p["groupLabels"],
        serde_json::json!({"alertname": "Flapping"})
    );
    assert_eq!(p["commonLabels"]["severity"], "warning");
    assert_eq!(p["commonAnnotations"]["summary"], "flapping");
    let a = &p["alerts"][0];
    assert_eq!(a["status"], "firing");
    assert_eq!(a["labels"]["alertname"], "Flapping");
    assert_eq!(a["endsAt"], "0001-01-01T00:00:00Z");
    assert!(a["startsAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(a["fingerprint"].as_str().unwrap().len(), 16);
    let resolved = got
        .iter()
        .find(|(_, p)| p["status"] == "resolved")
        .expect("a resolved payload");
    let r = &resolved.1["alerts"][0];
    assert_eq!(r["status"], "resolved");
    assert_ne!(r["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(r["fingerprint"], a["fingerprint"]);
    let a = alerts_json(&dir);
    assert!(a["notifications"].as_array().unwrap().iter().any(|n| {
        n["receiver"]
            .as_str()
            .unwrap()
            .starts_with("webhook http://127.0.0.1")
            && n["outcome"] == "sent"
    }));
}

fn now_rfc3339() -> String {
    sightline::model::format_rfc3339_nanos(sightline::model::now_ns())
}

#[test]
fn error_lines_appended_to_a_followed_log_fire_an_alert() {
    let dir = Dir::new();
    let rules = dir.write(
        "logs.yml",
        r#"
groups:
  - name: logs
    interval: 1s
    rules:
      - alert: ErrorsLogged
        expr: sum(sightline_log_records_total{level="error"}) >= 3
        annotations:
          summary: "{{ $value }} errors logged"
"#,
    );
    let log = dir.write(
        "agent.jsonl",
        format!(
            "{{\"time\":\"{}\",\"level\":\"info\",\"msg\":\"start\"}}\n",
            now_rfc3339()
        ),
    );
    let hook = Hook::start();
    let d2 = dir.path("agent.jsonl");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        for i in 0..3 {
            let mut f = std::fs::OpenOptions::new().append(true).open(&d2).unwrap();
            writeln!(
                f,
                "{{\"time\":\"{}\",\"level\":\"error\",\"msg\":\"tool failed {i}\"}}",
                now_rfc3339()
            )
            .unwrap();
        }
        Instant::now()
    });
    let (o, _) = watch(
        &dir,
        None,
        &rules,
        &[
            "--follow",
            log.to_str().unwrap(),
            "--no-desktop",
            "--webhook",
            &hook.url(),
            "--duration",
            "9s",
        ],
    );
    writer.join().unwrap();
    let got = hook.payloads();
    assert!(
        got.iter().any(|(_, p)| p["status"] == "firing"
            && p["alerts"][0]["annotations"]["summary"] == "3 errors logged"),
        "{got:?}\n{}",
        stdout(&o)
    );
}

#[test]
fn alert_state_and_notifications_survive_a_restart() {
    let dir = Dir::new();
    let rules = dir.write(
        "slow.yml",
        r#"
groups:
  - name: g
    interval: 1s
    rules:
      - alert: SlowToFire
        expr: vector(1)
        for: 6s
      - alert: Always
        expr: vector(1)
"#,
    );
    let hook = Hook::start();
    let url = hook.url();
    let args = |d: &'static str| ["--no-desktop", "--webhook", url.as_str(), "--duration", d];
    watch(&dir, None, &rules, &args("3s"));
    let first = alerts_json(&dir);
    let slow = |v: &Value| -> Value {
        v["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["rule"] == "SlowToFire")
            .cloned()
            .unwrap()
    };
    assert_eq!(slow(&first)["state"], "pending");
    let active_at = slow(&first)["active_at_ms"].as_f64().unwrap();
    let sent_before = hook.payloads().len();
    assert_eq!(sent_before, 1, "Always notified once");

    let (o, _) = watch(&dir, None, &rules, &args("7s"));
    assert!(stdout(&o).contains("2 alert(s) restored"), "{}", stdout(&o));
    let second = alerts_json(&dir);
    let s = slow(&second);
    assert_eq!(s["state"], "firing");
    assert_eq!(
        s["active_at_ms"].as_f64().unwrap(),
        active_at,
        "pending since the first run"
    );
    let fired = s["fired_at_ms"].as_f64().unwrap() - active_at;
    assert!(
        (6000.0..8000.0).contains(&fired),
        "fired {fired} ms after it became active"
    );
    let payloads = hook.payloads();
    let always: Vec<_> = payloads
        .iter()
        .filter(|(_, p)| p["groupLabels"]["alertname"] == "Always")
        .collect();
    assert_eq!(always.len(), 1, "a restart does not notify Always again");
    assert!(
        payloads
            .iter()
            .any(|(_, p)| p["groupLabels"]["alertname"] == "SlowToFire")
    );
}

#[test]
fn silences_from_the_cli_and_from_the_notification_action_keep_alerts_quiet() {
    let dir = Dir::new();
    let rules = dir.write("always.yml", ALWAYS);
    // Bad matchers say what is wrong.
    let bad = sightline(&dir.db(), &["silence", "add", "alertname=~\".*\""]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("matches every alert"),
        "{}",
        stderr(&bad)
    );
    let ok = sightline(
        &dir.db(),
        &[
            "silence",
            "add",
            "alertname=\"Always\"",
            "--for",
            "1h",
            "--comment",
            "known",
        ],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let id = stdout(&ok).trim().to_string();
    let hook = Hook::start();
    watch(
        &dir,
        None,
        &rules,
        &["--no-desktop", "--webhook", &hook.url(), "--duration", "3s"],
    );
    assert!(
        hook.payloads().is_empty(),
        "silenced: {:?}",
        hook.payloads()
    );
    let list = sightline(&dir.db(), &["silence", "list", "--json"]);
    let l: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(l[0]["id"], id.as_str());
    assert_eq!(l[0]["state"], "active");
    assert_eq!(l[0]["comment"], "known");
    let ex = sightline(&dir.db(), &["silence", "expire", &id]);
    assert!(ex.status.success(), "{}", stderr(&ex));
    let list = sightline(&dir.db(), &["silence", "list", "--json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&list.stdout).unwrap(),
        serde_json::json!([])
    );

    // The desktop notification's "Silence 1 h" action adds a silence for the group.
    let bus = Bus::start();
    let rec = Recorder::start(&bus, &dir, &["--invoke-action", "silence"]);
    let (o, _) = watch(
        &dir,
        Some(&bus.address),
        &rules,
        &[
            "--repeat-interval",
            "1s",
            "--group-interval",
            "1s",
            "--duration",
            "4s",
        ],
    );
    assert!(
        stdout(&o).contains("\"action\":\"silence\""),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        rec.records().len(),
        1,
        "silenced after the first: {:?}",
        rec.records()
    );
    let list = sightline(&dir.db(), &["silence", "list", "--json"]);
    let l: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(l[0]["matchers"], "{alertname=\"Always\"}");
    assert_eq!(l[0]["created_by"], "notification");
}
