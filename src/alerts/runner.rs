//! The live alerting loop: evaluate rule groups on their intervals, apply the notification
//! policy and silences, hand notifications to the receivers, and log every outcome in the
//! workspace. One thread; delivery happens on the receivers' own threads.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, params};

use super::deliver::{
    ACTION_SILENCE_MS, Deliverer, Delivery, DesktopConfig, UserAction, WebhookConfig,
};
use super::engine::{AlertPhase, EvalContext, RuleError};
use super::live::{LiveRules, Transition, labels_from_json, labels_to_json};
use super::policy::{Dispatcher, NotifyStatus, Policy, Silence, parse_matchers};
use super::rules::RuleGroup;
use crate::error::{Error, Result};
use crate::model::now_ms;
use crate::promql::Labels;
use crate::store::WriterHandle;

/// Everything the loop needs besides the workspace.
#[derive(Debug, Clone, Default)]
pub struct RunnerConfig {
    pub groups: Vec<RuleGroup>,
    pub policy: Policy,
    /// `None`: no desktop notifications.
    pub desktop: Option<DesktopConfig>,
    pub webhooks: Vec<WebhookConfig>,
    pub context: EvalContext,
}

/// What the loop reports as it goes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunnerEvent {
    /// The loop runs: how many groups, and how many alerts it restored from the workspace.
    Started {
        groups: usize,
        restored: usize,
    },
    Transition(Transition),
    Delivery(Delivery),
    Action(UserAction),
    /// Rules that failed at an evaluation (each distinct message once until it changes).
    RuleError {
        group: String,
        rule: String,
        message: String,
    },
    /// How many alerts fire changed (also sent once at the start).
    Firing {
        count: usize,
    },
    /// The loop could not go on (the workspace went away).
    Stopped {
        error: Option<String>,
    },
}

/// A running alert loop; stops when dropped.
#[derive(Debug)]
pub struct AlertRunner {
    stop: Arc<AtomicBool>,
    focused: Arc<AtomicBool>,
    firing: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

/// How often the policy looks at the alerts between evaluations.
const TICK_MS: i64 = 200;

impl AlertRunner {
    /// Starts the loop over the workspace at `db`, writing through `writer`. `on_event` runs
    /// on the loop's thread and must not block for long.
    pub fn start(
        db: &Path,
        writer: WriterHandle,
        cfg: RunnerConfig,
        on_event: Box<dyn FnMut(RunnerEvent) + Send>,
    ) -> Result<AlertRunner> {
        let conn = crate::store::open::open_reader(db)?;
        let stop = Arc::new(AtomicBool::new(false));
        let focused = Arc::new(AtomicBool::new(false));
        let firing = Arc::new(AtomicUsize::new(0));
        let (s, f, n) = (stop.clone(), focused.clone(), firing.clone());
        let thread = std::thread::Builder::new()
            .name("alerts".into())
            .spawn(move || run(conn, writer, cfg, on_event, s, f, n))
            .map_err(|e| Error::Internal(format!("cannot start the alert thread: {e}")))?;
        Ok(AlertRunner {
            stop,
            focused,
            firing,
            thread: Some(thread),
        })
    }

    /// Tells the desktop receiver whether the app window has focus (quiet when it does).
    pub fn set_focused(&self, focused: bool) {
        self.focused.store(focused, Ordering::Relaxed);
    }

    /// How many alerts fire right now.
    pub fn firing(&self) -> usize {
        self.firing.load(Ordering::Relaxed)
    }

    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for AlertRunner {
    fn drop(&mut self) {
        self.halt();
    }
}

fn run(
    conn: Connection,
    writer: WriterHandle,
    cfg: RunnerConfig,
    mut on_event: Box<dyn FnMut(RunnerEvent) + Send>,
    stop: Arc<AtomicBool>,
    focused: Arc<AtomicBool>,
    firing: Arc<AtomicUsize>,
) {
    let result = (|| -> Result<()> {
        let mut live = LiveRules::new(cfg.groups.clone(), cfg.context.clone(), now_ms());
        live.use_feed(writer.feed().clone());
        live.register(&writer)?;
        let restored = live.restore(&conn)?;
        if restored > 0 {
            live.due_now(now_ms());
        }
        let mut dispatcher = Dispatcher::new(cfg.policy.clone());
        dispatcher.restore_sent(&load_sent(&conn)?);
        let deliverer = Deliverer::new(cfg.desktop.clone(), cfg.webhooks.clone(), focused);
        on_event(RunnerEvent::Started {
            groups: cfg.groups.len(),
            restored,
        });
        let mut last_count = None;
        let mut last_errors: std::collections::HashMap<(String, String), String> =
            Default::default();
        while !stop.load(Ordering::Relaxed) {
            let now = now_ms();
            if live.next_due().is_some_and(|d| d <= now) {
                let round = live.eval_due(&conn, &writer, now)?;
                for t in round.transitions {
                    on_event(RunnerEvent::Transition(t));
                }
                report_errors(&round.errors, &mut last_errors, &mut on_event);
            }
            let alerts = live.alerts();
            let count = alerts
                .iter()
                .filter(|a| a.alert.phase == AlertPhase::Firing)
                .count();
            if last_count != Some(count) {
                last_count = Some(count);
                firing.store(count, Ordering::Relaxed);
                on_event(RunnerEvent::Firing { count });
            }
            let silences = load_silences(&conn, now)?;
            for n in dispatcher.tick(now, &alerts, &silences) {
                deliverer.send(&n);
                if n.status == NotifyStatus::Firing {
                    let sent: Vec<(String, String, String)> = n
                        .alerts
                        .iter()
                        .filter(|a| a.alert.phase == AlertPhase::Firing)
                        .map(|a| {
                            (
                                a.group.clone(),
                                a.rule.clone(),
                                labels_to_json(&a.alert.labels),
                            )
                        })
                        .collect();
                    live.mark_sent(&n.alerts, now);
                    writer.exec(move |c| {
                        for (g, r, l) in &sent {
                            c.execute(
                                "UPDATE alerts SET last_sent_at = ?4 WHERE group_name = ?1 \
                                 AND rule_name = ?2 AND labels = ?3",
                                params![g, r, l, now],
                            )?;
                        }
                        Ok(())
                    })?;
                }
            }
            for d in deliverer.results() {
                log_delivery(&writer, &d)?;
                on_event(RunnerEvent::Delivery(d));
            }
            for a in deliverer.actions() {
                if let UserAction::Silence { group_labels, .. } = &a {
                    let matchers = matchers_text(group_labels);
                    add_silence(
                        &writer,
                        &matchers,
                        now,
                        now + ACTION_SILENCE_MS,
                        "silenced from the desktop notification",
                        "notification",
                    )?;
                }
                on_event(RunnerEvent::Action(a));
            }
            let next = live.next_due().unwrap_or(now + TICK_MS);
            let wait = (next - now_ms()).clamp(1, TICK_MS);
            std::thread::sleep(Duration::from_millis(wait as u64));
        }
        // Deliveries still in flight get a moment to finish, so the log is complete.
        std::thread::sleep(Duration::from_millis(50));
        for d in deliverer.results() {
            log_delivery(&writer, &d)?;
            on_event(RunnerEvent::Delivery(d));
        }
        Ok(())
    })();
    on_event(RunnerEvent::Stopped {
        error: result.err().map(|e| e.to_string()),
    });
}

fn report_errors(
    errors: &[RuleError],
    last: &mut std::collections::HashMap<(String, String), String>,
    on_event: &mut Box<dyn FnMut(RunnerEvent) + Send>,
) {
    for e in errors {
        let key = (e.group.clone(), e.rule.clone());
        if last.get(&key) != Some(&e.message) {
            last.insert(key, e.message.clone());
            on_event(RunnerEvent::RuleError {
                group: e.group.clone(),
                rule: e.rule.clone(),
                message: e.message.clone(),
            });
        }
    }
}

fn load_sent(conn: &Connection) -> Result<Vec<(Labels, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT labels, last_sent_at FROM alerts WHERE last_sent_at IS NOT NULL AND phase = 'firing'",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((labels_from_json(&r.get::<_, String>(0)?), r.get(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn log_delivery(writer: &WriterHandle, d: &Delivery) -> Result<()> {
    let n = &d.notification;
    let alerts: Vec<&Labels> = n.alerts.iter().map(|a| &a.alert.labels).collect();
    let row = (
        d.t_ms,
        d.receiver.clone(),
        match n.status {
            NotifyStatus::Firing => "firing",
            NotifyStatus::Resolved => "resolved",
        },
        n.group_key.clone(),
        n.summary.clone(),
        n.body.clone(),
        serde_json::to_string(&alerts).unwrap_or_default(),
        d.outcome.as_str(),
        d.error.clone(),
    );
    writer.exec(move |c| {
        c.execute(
            "INSERT INTO notifications (t, receiver, status, group_key, summary, body, alerts, \
             outcome, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8
            ],
        )?;
        Ok(())
    })
}

/// Silences in force or still to come.
pub fn load_silences(conn: &Connection, now_ms: i64) -> Result<Vec<Silence>> {
    let mut stmt = conn.prepare(
        "SELECT id, matchers, starts_at, ends_at, comment, created_by FROM silences \
         WHERE ends_at > ?1 ORDER BY starts_at",
    )?;
    let rows = stmt
        .query_map([now_ms], |r| {
            Ok(Silence {
                id: r.get(0)?,
                matchers: r.get(1)?,
                parsed: Vec::new(),
                starts_at: r.get(2)?,
                ends_at: r.get(3)?,
                comment: r.get(4)?,
                created_by: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .map(|mut s| {
            s.parsed = parse_matchers(&s.matchers).unwrap_or_default();
            s
        })
        .collect())
}

/// Every silence, expired ones included (newest first), for listing.
pub fn all_silences(conn: &Connection) -> Result<Vec<Silence>> {
    load_silences(conn, i64::MIN)
}

/// Matchers that select exactly a label set.
pub fn matchers_text(l: &Labels) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", crate::promql::escape_label_value(v)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Adds a silence (the matchers are checked first) and returns its id.
pub fn add_silence(
    writer: &WriterHandle,
    matchers: &str,
    starts_at: i64,
    ends_at: i64,
    comment: &str,
    created_by: &str,
) -> Result<String> {
    parse_matchers(matchers).map_err(Error::Internal)?;
    if ends_at <= starts_at {
        return Err(Error::Internal("a silence must end after it starts".into()));
    }
    let created = now_ms();
    let id = format!(
        "{:x}-{:04x}",
        created,
        (crate::model::now_ns() as u64 ^ std::process::id() as u64) & 0xffff
    );
    let row = (
        id.clone(),
        matchers.trim().to_string(),
        starts_at,
        ends_at,
        comment.to_string(),
        created_by.to_string(),
    );
    writer.exec(move |c| {
        c.execute(
            "INSERT INTO silences (id, matchers, starts_at, ends_at, comment, created_by, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![row.0, row.1, row.2, row.3, row.4, row.5, created],
        )?;
        Ok(())
    })?;
    Ok(id)
}

/// Ends a silence now. Returns false when there is no silence with that id (or a prefix of it).
pub fn expire_silence(writer: &WriterHandle, id: &str) -> Result<bool> {
    let now = now_ms();
    let id = id.to_string();
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    writer.exec(move |c| {
        let n = c.execute(
            "UPDATE silences SET ends_at = min(ends_at, ?2) WHERE id = ?1 OR \
             (length(?1) >= 4 AND substr(id, 1, length(?1)) = ?1)",
            params![id, now],
        )?;
        let _ = tx.send(n);
        Ok(())
    })?;
    Ok(rx.recv().unwrap_or(0) > 0)
}

/// The notification receivers' outcomes, for the log view and `--json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoggedNotification {
    pub t_ms: i64,
    pub receiver: String,
    pub status: String,
    pub group_key: String,
    pub summary: String,
    pub body: String,
    pub outcome: String,
    pub error: Option<String>,
}

/// The newest notifications, newest first.
pub fn notification_log(conn: &Connection, limit: u64) -> Result<Vec<LoggedNotification>> {
    let mut stmt = conn.prepare(
        "SELECT t, receiver, status, group_key, summary, body, outcome, error FROM notifications \
         ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit as i64], |r| {
            Ok(LoggedNotification {
                t_ms: r.get(0)?,
                receiver: r.get(1)?,
                status: r.get(2)?,
                group_key: r.get(3)?,
                summary: r.get(4)?,
                body: r.get(5)?,
                outcome: r.get(6)?,
                error: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
