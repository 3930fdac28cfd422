//! Receivers: native desktop notifications (notify-rust over D-Bus) and webhooks
//! (Alertmanager's JSON). Each receiver has its own thread, so a slow webhook or a
//! notification server that never answers cannot hold up evaluation or the other receivers.
//!
//! notify-rust's `show()` blocks forever when a server owns `org.freedesktop.Notifications`
//! but never replies, so it runs on a worker thread that the receiver waits on with a timeout;
//! a worker that timed out is abandoned (it exits if the call ever returns) and desktop
//! delivery pauses for a while before a new worker is tried.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::policy::{Notification, NotifyStatus, Urgency, webhook_payload};
use crate::model::now_ms;
use crate::promql::Labels;

/// Desktop notification settings.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DesktopConfig {
    pub enabled: bool,
    /// Say nothing while the app window is focused (the app sets that state).
    pub quiet_when_focused: bool,
    /// How long to wait for the notification server.
    #[serde(rename = "timeout", with = "super::policy::duration_text")]
    pub timeout_ms: i64,
    /// After a server failed to answer in time, how long to stop trying.
    #[serde(rename = "pause_after_timeout", with = "super::policy::duration_text")]
    pub pause_after_timeout_ms: i64,
}

impl Default for DesktopConfig {
    fn default() -> Self {
        DesktopConfig {
            enabled: true,
            quiet_when_focused: true,
            timeout_ms: 3_000,
            pause_after_timeout_ms: 30_000,
        }
    }
}

/// A webhook receiver.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(
        default = "webhook_timeout",
        rename = "timeout",
        with = "super::policy::duration_text"
    )]
    pub timeout_ms: i64,
}

fn yes() -> bool {
    true
}

fn webhook_timeout() -> i64 {
    5_000
}

/// What happened to one notification at one receiver.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Delivery {
    pub t_ms: i64,
    pub receiver: String,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub notification: Notification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Sent,
    Failed,
    /// Not shown because the app window had focus.
    Suppressed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Failed => "failed",
            Outcome::Suppressed => "suppressed",
        }
    }
}

/// What the user did with a desktop notification.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum UserAction {
    /// Clicked it: show the alerts (and the run) in the app.
    Open {
        group_key: String,
        alerts: Vec<Labels>,
    },
    /// Pressed "Silence 1 h".
    Silence {
        group_key: String,
        group_labels: Labels,
    },
}

/// How long the "Silence" action silences.
pub const ACTION_SILENCE_MS: i64 = 60 * 60 * 1000;

/// At most this many notifications are watched for clicks at once.
const MAX_ACTION_WATCHERS: usize = 16;

/// The receivers, each behind its own thread.
#[derive(Debug)]
pub struct Deliverer {
    desktop: Option<Sender<Notification>>,
    webhooks: Vec<(WebhookConfig, Sender<Notification>)>,
    results: Receiver<Delivery>,
    actions: Receiver<UserAction>,
}

impl Deliverer {
    /// `focused` is set by the app while its window has focus.
    pub fn new(
        desktop: Option<DesktopConfig>,
        webhooks: Vec<WebhookConfig>,
        focused: Arc<AtomicBool>,
    ) -> Deliverer {
        let (rtx, results) = channel();
        let (atx, actions) = channel();
        let desktop = desktop.filter(|d| d.enabled).map(|cfg| {
            let (tx, rx) = channel();
            let rtx = rtx.clone();
            let _ = std::thread::Builder::new()
                .name("notify-desktop".into())
                .spawn(move || desktop_loop(cfg, rx, rtx, atx, focused));
            tx
        });
        let webhooks = webhooks
            .into_iter()
            .map(|cfg| {
                let (tx, rx) = channel();
                let rtx = rtx.clone();
                let c = cfg.clone();
                let _ = std::thread::Builder::new()
                    .name("notify-webhook".into())
                    .spawn(move || webhook_loop(c, rx, rtx));
                (cfg, tx)
            })
            .collect();
        Deliverer {
            desktop,
            webhooks,
            results,
            actions,
        }
    }

    /// Hands the notification to every receiver; never blocks.
    pub fn send(&self, n: &Notification) {
        if let Some(d) = &self.desktop {
            let _ = d.send(n.clone());
        }
        for (cfg, tx) in &self.webhooks {
            if n.status == NotifyStatus::Resolved && !cfg.send_resolved {
                continue;
            }
            let _ = tx.send(n.clone());
        }
    }

    /// Outcomes reported since the last call.
    pub fn results(&self) -> Vec<Delivery> {
        self.results.try_iter().collect()
    }

    /// Clicks and actions since the last call.
    pub fn actions(&self) -> Vec<UserAction> {
        self.actions.try_iter().collect()
    }
}

type ShowJob = (Notification, SyncSender<Result<(), String>>);

fn desktop_loop(
    cfg: DesktopConfig,
    rx: Receiver<Notification>,
    results: Sender<Delivery>,
    actions: Sender<UserAction>,
    focused: Arc<AtomicBool>,
) {
    let mut worker: Option<SyncSender<ShowJob>> = None;
    let mut paused_until: Option<(Instant, String)> = None;
    let watchers = Arc::new(AtomicUsize::new(0));
    let caps: Arc<Mutex<Option<bool>>> = Arc::new(Mutex::new(None));
    for n in rx {
        let report = |outcome: Outcome, error: Option<String>| {
            let _ = results.send(Delivery {
                t_ms: now_ms(),
                receiver: "desktop".into(),
                outcome,
                error,
                notification: n.clone(),
            });
        };
        if cfg.quiet_when_focused && focused.load(Ordering::Relaxed) {
            report(Outcome::Suppressed, None);
            continue;
        }
        if let Some((until, why)) = &paused_until {
            if Instant::now() < *until {
                report(Outcome::Failed, Some(why.clone()));
                continue;
            }
            paused_until = None;
        }
        let w = match &worker {
            Some(w) => w.clone(),
            None => {
                let (tx, jobs) = sync_channel::<ShowJob>(1);
                let a = actions.clone();
                let wt = watchers.clone();
                let c = caps.clone();
                let spawned = std::thread::Builder::new()
                    .name("notify-show".into())
                    .spawn(move || {
                        for (n, reply) in jobs {
                            let _ = reply.send(show(&n, &a, &wt, &c));
                        }
                    });
                if let Err(e) = spawned {
                    report(Outcome::Failed, Some(format!("cannot start a thread: {e}")));
                    continue;
                }
                worker = Some(tx.clone());
                tx
            }
        };
        let (rtx, rrx) = sync_channel(1);
        if w.send((n.clone(), rtx)).is_err() {
            worker = None;
            report(
                Outcome::Failed,
                Some("the notification worker stopped".into()),
            );
            continue;
        }
        match rrx.recv_timeout(Duration::from_millis(cfg.timeout_ms.max(1) as u64)) {
            Ok(Ok(())) => report(Outcome::Sent, None),
            Ok(Err(e)) => report(Outcome::Failed, Some(e)),
            Err(RecvTimeoutError::Timeout) => {
                // The worker is stuck inside notify-rust; leave it and pause.
                worker = None;
                let why = format!(
                    "the desktop notification server did not answer within {} ms; desktop notifications pause for {} s",
                    cfg.timeout_ms,
                    cfg.pause_after_timeout_ms / 1000
                );
                paused_until = Some((
                    Instant::now()
                        + Duration::from_millis(cfg.pause_after_timeout_ms.max(0) as u64),
                    why.clone(),
                ));
                report(Outcome::Failed, Some(why));
            }
            Err(RecvTimeoutError::Disconnected) => {
                worker = None;
                report(
                    Outcome::Failed,
                    Some("the notification worker stopped".into()),
                );
            }
        }
    }
}

/// The app's icon, written once to the cache folder so the notification server can load it.
fn icon_path() -> Option<String> {
    static ICON: &[u8] = include_bytes!("../../icons/icon.png");
    let dir = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("sightline");
    let path = dir.join("icon.png");
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(ICON.len() as u64) {
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::write(&path, ICON).ok()?;
    }
    Some(path.display().to_string())
}

fn show(
    n: &Notification,
    actions: &Sender<UserAction>,
    watchers: &Arc<AtomicUsize>,
    caps: &Arc<Mutex<Option<bool>>>,
) -> Result<(), String> {
    let has_actions = {
        let mut c = caps
            .lock()
            .map_err(|_| "capabilities lock poisoned".to_string())?;
        match *c {
            Some(v) => v,
            None => {
                let v = notify_rust::get_capabilities()
                    .map_err(describe)?
                    .iter()
                    .any(|c| c == "actions");
                *c = Some(v);
                v
            }
        }
    };
    let mut note = notify_rust::Notification::new();
    note.appname("Sightline")
        .summary(&n.summary)
        .body(&n.body)
        .urgency(match n.urgency {
            Urgency::Low => notify_rust::Urgency::Low,
            Urgency::Normal => notify_rust::Urgency::Normal,
            Urgency::Critical => notify_rust::Urgency::Critical,
        })
        .hint(notify_rust::Hint::Category(match n.status {
            NotifyStatus::Firing => "sightline.alert.firing".into(),
            NotifyStatus::Resolved => "sightline.alert.resolved".into(),
        }))
        .hint(notify_rust::Hint::DesktopEntry("sightline".into()));
    if let Some(icon) = icon_path() {
        note.icon(&icon);
    }
    if has_actions && n.status == NotifyStatus::Firing {
        note.action("default", "Show in Sightline")
            .action("silence", "Silence 1 h");
    }
    let handle = note.show().map_err(describe)?;
    if has_actions
        && n.status == NotifyStatus::Firing
        && watchers.load(Ordering::Relaxed) < MAX_ACTION_WATCHERS
    {
        watchers.fetch_add(1, Ordering::Relaxed);
        let a = actions.clone();
        let w = watchers.clone();
        let group_key = n.group_key.clone();
        let group_labels = n.group_labels.clone();
        let alerts: Vec<Labels> = n.alerts.iter().map(|x| x.alert.labels.clone()).collect();
        let _ = std::thread::Builder::new()
            .name("notify-action".into())
            .spawn(move || {
                handle.wait_for_action(|action| {
                    let ev = match action {
                        "default" => Some(UserAction::Open { group_key, alerts }),
                        "silence" => Some(UserAction::Silence {
                            group_key,
                            group_labels,
                        }),
                        _ => None,
                    };
                    if let Some(ev) = ev {
                        let _ = a.send(ev);
                    }
                });
                w.fetch_sub(1, Ordering::Relaxed);
            });
    }
    Ok(())
}

fn describe(e: notify_rust::error::Error) -> String {
    let text = e.to_string();
    if text.contains("ServiceUnknown") || text.contains("not provided by any .service") {
        format!("no desktop notification server is running on the session bus ({text})")
    } else if text.contains("connect") || text.contains("DBUS_SESSION_BUS_ADDRESS") {
        format!("no D-Bus session bus to send desktop notifications on ({text})")
    } else {
        format!("desktop notification failed: {text}")
    }
}

fn webhook_loop(cfg: WebhookConfig, rx: Receiver<Notification>, results: Sender<Delivery>) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_millis(cfg.timeout_ms.max(1) as u64))
        .build();
    let receiver = format!("webhook {}", cfg.url);
    for n in rx {
        let payload = webhook_payload(&n, "sightline-webhook", "");
        let (outcome, error) = match agent
            .post(&cfg.url)
            .set("Content-Type", "application/json")
            .set(
                "User-Agent",
                concat!("Sightline/", env!("CARGO_PKG_VERSION")),
            )
            .send_string(&payload.to_string())
        {
            Ok(_) => (Outcome::Sent, None),
            Err(ureq::Error::Status(code, _)) => (
                Outcome::Failed,
                Some(format!("{} answered HTTP {code}", cfg.url)),
            ),
            Err(e) => (Outcome::Failed, Some(format!("{}: {e}", cfg.url))),
        };
        let _ = results.send(Delivery {
            t_ms: now_ms(),
            receiver: receiver.clone(),
            outcome,
            error,
            notification: n,
        });
    }
}
