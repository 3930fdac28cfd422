//! What the workspace says about alerting right now: rules with their health and state, the
//! pending and firing alerts, recent history, silences and notifications. Read from the
//! workspace, so it works from any process while a `sightline watch` or the app evaluates.

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::live::labels_from_json;
use super::runner::{LoggedNotification, all_silences, notification_log};
use crate::error::Result;
use crate::promql::Labels;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RuleStatus {
    pub group: String,
    pub file: String,
    pub name: String,
    /// `alert` or `record`.
    pub kind: String,
    pub expr: String,
    pub for_ms: f64,
    pub interval_ms: f64,
    pub labels: BTreeMap<String, String>,
    /// `ok`, `err` or `unknown` (not evaluated yet).
    pub health: String,
    pub last_error: Option<String>,
    pub last_eval_ms: Option<f64>,
    pub eval_duration_ms: Option<f64>,
    /// For alerting rules: `firing`, `pending` or `inactive`.
    pub state: String,
    pub firing: u32,
    pub pending: u32,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AlertStatus {
    pub group: String,
    pub rule: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `pending`, `firing` or `resolved`.
    pub state: String,
    /// Unix ms when the condition became true.
    pub active_at_ms: f64,
    pub fired_at_ms: Option<f64>,
    pub resolved_at_ms: Option<f64>,
    pub value: Option<f64>,
    pub last_notified_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HistoryEntry {
    pub t_ms: f64,
    pub group: String,
    pub rule: String,
    pub labels: BTreeMap<String, String>,
    /// The phase entered: `pending`, `firing`, `resolved` or `inactive`.
    pub phase: String,
    pub value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SilenceStatus {
    pub id: String,
    pub matchers: String,
    pub starts_at_ms: f64,
    pub ends_at_ms: f64,
    pub comment: String,
    pub created_by: String,
    /// `active`, `pending` (starts later) or `expired`.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NotificationEntry {
    pub t_ms: f64,
    pub receiver: String,
    pub status: String,
    pub summary: String,
    pub body: String,
    /// `sent`, `failed` or `suppressed`.
    pub outcome: String,
    pub error: Option<String>,
}

impl From<LoggedNotification> for NotificationEntry {
    fn from(n: LoggedNotification) -> Self {
        NotificationEntry {
            t_ms: n.t_ms as f64,
            receiver: n.receiver,
            status: n.status,
            summary: n.summary,
            body: n.body,
            outcome: n.outcome,
            error: n.error,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AlertsOverview {
    pub rules: Vec<RuleStatus>,
    pub alerts: Vec<AlertStatus>,
    pub history: Vec<HistoryEntry>,
    pub silences: Vec<SilenceStatus>,
    pub notifications: Vec<NotificationEntry>,
}

fn map(l: Labels) -> BTreeMap<String, String> {
    l.into()
}

/// Reads the overview; `limit` caps history and notifications (newest first).
pub fn overview(conn: &Connection, limit: u64, now_ms: i64) -> Result<AlertsOverview> {
    let mut alerts = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT group_name, rule_name, labels, annotations, phase, active_at, fired_at, \
             resolved_at, value, last_sent_at FROM alerts ORDER BY active_at, labels",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let phase: String = r.get(4)?;
            alerts.push(AlertStatus {
                group: r.get(0)?,
                rule: r.get(1)?,
                labels: map(labels_from_json(&r.get::<_, String>(2)?)),
                annotations: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
                state: if phase == "inactive" {
                    "resolved".into()
                } else {
                    phase
                },
                active_at_ms: r.get::<_, i64>(5)? as f64,
                fired_at_ms: r.get::<_, Option<i64>>(6)?.map(|v| v as f64),
                resolved_at_ms: r.get::<_, Option<i64>>(7)?.map(|v| v as f64),
                value: r.get(8)?,
                last_notified_ms: r.get::<_, Option<i64>>(9)?.map(|v| v as f64),
            });
        }
    }
    let mut rules = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT group_name, file, name, kind, expr, for_ms, interval_ms, labels, health, \
             last_error, last_eval, eval_ms FROM alert_rules ORDER BY group_name, idx",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let group: String = r.get(0)?;
            let name: String = r.get(2)?;
            let kind: String = r.get(3)?;
            let mine = alerts.iter().filter(|a| a.group == group && a.rule == name);
            let firing = mine.clone().filter(|a| a.state == "firing").count() as u32;
            let pending = mine.filter(|a| a.state == "pending").count() as u32;
            let state = if kind != "alert" {
                String::new()
            } else if firing > 0 {
                "firing".into()
            } else if pending > 0 {
                "pending".into()
            } else {
                "inactive".into()
            };
            rules.push(RuleStatus {
                group,
                file: r.get(1)?,
                name,
                kind,
                expr: r.get(4)?,
                for_ms: r.get::<_, i64>(5)? as f64,
                interval_ms: r.get::<_, i64>(6)? as f64,
                labels: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
                health: r.get(8)?,
                last_error: r.get(9)?,
                last_eval_ms: r.get::<_, Option<i64>>(10)?.map(|v| v as f64),
                eval_duration_ms: r.get(11)?,
                state,
                firing,
                pending,
            });
        }
    }
    let mut history = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT t, group_name, rule_name, labels, phase, value FROM alert_history \
             ORDER BY id DESC LIMIT ?1",
        )?;
        let mut rows = stmt.query([limit as i64])?;
        while let Some(r) = rows.next()? {
            history.push(history_entry(r)?);
        }
    }
    let mut silences: Vec<SilenceStatus> = all_silences(conn)?
        .into_iter()
        .map(|s| SilenceStatus {
            state: if s.ends_at <= now_ms {
                "expired"
            } else if s.starts_at > now_ms {
                "pending"
            } else {
                "active"
            }
            .into(),
            id: s.id,
            matchers: s.matchers,
            starts_at_ms: s.starts_at as f64,
            ends_at_ms: s.ends_at as f64,
            comment: s.comment,
            created_by: s.created_by,
        })
        .collect();
    silences.sort_by(|a, b| b.starts_at_ms.total_cmp(&a.starts_at_ms));
    let notifications = notification_log(conn, limit)?
        .into_iter()
        .map(NotificationEntry::from)
        .collect();
    Ok(AlertsOverview {
        rules,
        alerts,
        history,
        silences,
        notifications,
    })
}

/// A value of the app's alerting configuration (`rules`, `settings`).
pub fn config_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT value FROM alert_config WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?)
}

/// Stores a value of the app's alerting configuration.
pub fn config_set(writer: &crate::store::WriterHandle, key: &str, value: &str) -> Result<()> {
    let (k, v) = (key.to_string(), value.to_string());
    writer.exec(move |c| {
        c.execute(
            "INSERT INTO alert_config (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [k, v],
        )?;
        Ok(())
    })
}

/// The app's alerting settings (stored in the workspace under `settings`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct AlertSettings {
    /// Evaluate the built-in agent rules.
    pub builtin_rules: bool,
    pub desktop: bool,
    /// No desktop notification while the Alerts view is on screen in the focused window.
    pub quiet_when_focused: bool,
    pub send_resolved: bool,
    pub group_wait_ms: f64,
    pub repeat_interval_ms: f64,
    /// POST Alertmanager JSON here when set (http:// only).
    pub webhook_url: String,
}

impl Default for AlertSettings {
    fn default() -> Self {
        let p = super::policy::Policy::default();
        AlertSettings {
            builtin_rules: true,
            desktop: true,
            quiet_when_focused: true,
            send_resolved: p.send_resolved,
            group_wait_ms: p.group_wait_ms as f64,
            repeat_interval_ms: p.repeat_interval_ms as f64,
            webhook_url: String::new(),
        }
    }
}

/// Where the workspace's own rules are reported from in errors.
pub const WORKSPACE_RULES_NAME: &str = "<workspace rules>";

/// Parses the workspace's own rule text (empty text is no rules).
pub fn parse_workspace_rules(
    text: &str,
) -> std::result::Result<Vec<super::rules::RuleGroup>, super::rules::RuleFileError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    super::rules::parse_rule_file(text, std::path::Path::new(WORKSPACE_RULES_NAME))
}

/// The app's settings, its rule text, and the runner configuration they make. Rule text that
/// does not parse is reported and left out (the built-in rules still run).
pub fn app_runner_config(
    conn: &Connection,
) -> Result<(
    AlertSettings,
    String,
    super::runner::RunnerConfig,
    Option<String>,
)> {
    let settings: AlertSettings = config_get(conn, "settings")?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let text = config_get(conn, "rules")?.unwrap_or_default();
    let mut groups = Vec::new();
    let mut problem = None;
    if settings.builtin_rules {
        match super::rules::default_groups() {
            Ok(g) => groups.extend(g),
            Err(e) => problem = Some(e.to_string()),
        }
    }
    match parse_workspace_rules(&text) {
        Ok(g) => groups.extend(g),
        Err(e) => problem = Some(e.to_string()),
    }
    let policy = super::policy::Policy {
        group_wait_ms: settings.group_wait_ms.max(0.0) as i64,
        repeat_interval_ms: settings.repeat_interval_ms.max(1000.0) as i64,
        send_resolved: settings.send_resolved,
        ..Default::default()
    };
    let desktop = settings.desktop.then(|| super::deliver::DesktopConfig {
        quiet_when_focused: settings.quiet_when_focused,
        ..Default::default()
    });
    let webhooks = if settings.webhook_url.trim().is_empty() {
        Vec::new()
    } else {
        vec![super::deliver::WebhookConfig {
            url: settings.webhook_url.trim().to_string(),
            send_resolved: settings.send_resolved,
            timeout_ms: 5_000,
        }]
    };
    let cfg = super::runner::RunnerConfig {
        groups,
        policy,
        desktop,
        webhooks,
        context: Default::default(),
    };
    Ok((settings, text, cfg, problem))
}

/// A [`HistoryEntry`] from `t, group_name, rule_name, labels, phase, value`.
fn history_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryEntry> {
    Ok(HistoryEntry {
        t_ms: r.get::<_, i64>(0)? as f64,
        group: r.get(1)?,
        rule: r.get(2)?,
        labels: map(labels_from_json(&r.get::<_, String>(3)?)),
        phase: r.get(4)?,
        value: r.get(5)?,
    })
}

/// The alerts that started firing in `[lo_ms, hi_ms)`, oldest first, at most `limit`.
pub fn fired_between(
    conn: &Connection,
    lo_ms: i64,
    hi_ms: i64,
    limit: usize,
) -> Result<Vec<HistoryEntry>> {
    let mut stmt = conn.prepare(
        "SELECT t, group_name, rule_name, labels, phase, value FROM alert_history
         WHERE phase = 'firing' AND t >= ?1 AND t < ?2 ORDER BY t, id LIMIT ?3",
    )?;
    let mut rows = stmt.query(rusqlite::params![lo_ms, hi_ms, limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(history_entry(r)?);
    }
    Ok(out)
}

/// What adding a rule file to the workspace's rules did.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, serde::Serialize, Default)]
pub struct RuleFileReport {
    pub path: String,
    /// Groups added to the workspace's rules.
    pub groups_added: u32,
    /// Groups the workspace already had, identical (opening a bundle twice adds nothing).
    pub groups_present: u32,
    /// Rules in the file.
    pub rules: u32,
    /// Why the file was not added (it names the group and rule, as `promtool` would).
    pub error: Option<String>,
}

/// Adds the groups of a Prometheus rule file (from a bundle or a folder) to the workspace's
/// own rules. A group already there unchanged is not added again; a different group with the
/// same name is added under the name suffixed with the file's name. A file that does not load
/// adds nothing and says why.
pub fn add_rule_file(store: &crate::store::Store, path: &std::path::Path) -> RuleFileReport {
    let mut rep = RuleFileReport {
        path: path.display().to_string(),
        ..RuleFileReport::default()
    };
    if let Err(e) = add_rule_file_inner(store, path, &mut rep) {
        rep.error = Some(e);
    }
    rep
}

fn add_rule_file_inner(
    store: &crate::store::Store,
    path: &std::path::Path,
    rep: &mut RuleFileReport,
) -> std::result::Result<(), String> {
    use serde_yaml::Value;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let parsed = super::rules::parse_rule_file(&text, path).map_err(|e| e.message)?;
    rep.rules = parsed.iter().map(|g| g.rules.len() as u32).sum();
    let doc: Value = serde_yaml::from_str(&text).map_err(|e| e.to_string())?;
    let new_groups = doc
        .get("groups")
        .or_else(|| doc.get("spec").and_then(|s| s.get("groups")))
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let writer = store
        .writer()
        .ok_or_else(|| "the workspace is read-only".to_string())?;
    let conn = store.reader().map_err(|e| e.to_string())?;
    let existing = config_get(&conn, "rules")
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let mut root: Value = if existing.trim().is_empty() {
        Value::Mapping(Default::default())
    } else {
        serde_yaml::from_str(&existing)
            .map_err(|e| format!("the workspace's own rules do not parse: {e}"))?
    };
    let Some(map) = root.as_mapping_mut() else {
        return Err("the workspace's own rules are not a YAML mapping".into());
    };
    let groups = map
        .entry(Value::String("groups".into()))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    let Some(groups) = groups.as_sequence_mut() else {
        return Err("the workspace's own rules have no group list".into());
    };
    let origin = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for g in new_groups {
        let name = g
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut candidate = g.clone();
        let mut suffix = 1;
        loop {
            let cname = candidate
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            match groups
                .iter()
                .find(|x| x.get("name").and_then(Value::as_str) == Some(cname.as_str()))
            {
                Some(same) if *same == candidate => {
                    rep.groups_present += 1;
                    break;
                }
                Some(_) => {
                    let renamed = if suffix == 1 {
                        format!("{name} ({origin})")
                    } else {
                        format!("{name} ({origin} {suffix})")
                    };
                    suffix += 1;
                    if let Some(m) = candidate.as_mapping_mut() {
                        m.insert(Value::String("name".into()), Value::String(renamed));
                    }
                }
                None => {
                    groups.push(candidate);
                    rep.groups_added += 1;
                    break;
                }
            }
        }
    }
    if rep.groups_added == 0 {
        return Ok(());
    }
    let merged = serde_yaml::to_string(&root).map_err(|e| e.to_string())?;
    parse_workspace_rules(&merged).map_err(|e| e.message)?;
    config_set(writer, "rules", &merged).map_err(|e| e.to_string())
}
