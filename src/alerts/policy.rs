//! Notification policy as Alertmanager does it: alerts are grouped by labels, a new group
//! waits `group_wait` before its first notification, groups are looked at every
//! `group_interval`, a notification goes out when a group gains a firing alert, when alerts
//! resolve (if resolved notifications are on), or when `repeat_interval` has passed since the
//! last one; silenced alerts are left out.

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::label::Matcher;

use super::engine::AlertPhase;
use super::live::GroupAlert;
use crate::promql::Labels;

/// Annotation that turns resolved notifications off for one rule (`"false"`).
pub const SEND_RESOLVED_ANNOTATION: &str = "sightline_send_resolved";

/// How alerts become notifications.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Labels alerts are grouped by; `["..."]` groups by all labels (one alert per group).
    pub group_by: Vec<String>,
    #[serde(rename = "group_wait", with = "duration_text")]
    pub group_wait_ms: i64,
    #[serde(rename = "group_interval", with = "duration_text")]
    pub group_interval_ms: i64,
    #[serde(rename = "repeat_interval", with = "duration_text")]
    pub repeat_interval_ms: i64,
    /// Notify when alerts resolve (a rule can turn it off with the annotation
    /// `sightline_send_resolved: "false"`).
    pub send_resolved: bool,
}

impl Default for Policy {
    /// Alertmanager's defaults scaled to agent runs that last seconds to minutes.
    fn default() -> Self {
        Policy {
            group_by: vec!["alertname".into()],
            group_wait_ms: 0,
            group_interval_ms: 5_000,
            repeat_interval_ms: 60 * 60 * 1000,
            send_resolved: true,
        }
    }
}

pub(crate) mod duration_text {
    use crate::promql::{format_duration_ms, parse_duration_ms};

    pub fn serialize<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration_ms(*v))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        parse_duration_ms(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a duration like 30s")))
    }
}

/// A silence: alerts whose labels satisfy every matcher are not notified until it ends.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Silence {
    pub id: String,
    /// The matchers as written, e.g. `{alertname="ToolFailingRepeatedly", tool=~"fetch.*"}`.
    pub matchers: String,
    #[serde(skip)]
    pub parsed: Vec<Matcher>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub comment: String,
    pub created_by: String,
}

impl Silence {
    pub fn active_at(&self, now_ms: i64) -> bool {
        self.starts_at <= now_ms && now_ms < self.ends_at
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        !self.parsed.is_empty() && labels.matches(&self.parsed)
    }
}

/// Parses silence matchers: `alertname="X", severity=~"crit.*"`, with or without braces.
pub fn parse_matchers(text: &str) -> Result<Vec<Matcher>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("a silence needs at least one matcher, like alertname=\"X\"".into());
    }
    let inner = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t);
    let every = || {
        format!(
            "{text:?} matches every alert; a silence needs a matcher that does not match the empty string"
        )
    };
    let expr = promql_parser::parser::parse(&format!("{{{inner}}}")).map_err(|e| {
        if e.contains("non-empty matcher") {
            every()
        } else {
            format!("cannot read the matchers {text:?}: {e}")
        }
    })?;
    match expr {
        promql_parser::parser::Expr::VectorSelector(vs) => {
            if !vs.matchers.or_matchers.is_empty() {
                return Err(format!("{text:?}: `or` is not allowed in silence matchers"));
            }
            let m = vs.matchers.matchers;
            if m.iter().all(|m| m.is_match("")) {
                return Err(every());
            }
            Ok(m)
        }
        _ => Err(format!("{text:?} is not a list of label matchers")),
    }
}

/// Whether a notification announces firing alerts or only resolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyStatus {
    Firing,
    Resolved,
}

/// How urgent a notification is, from the alerts' `severity` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    Normal,
    Critical,
}

fn urgency_of(labels: &Labels) -> Urgency {
    match labels
        .get("severity")
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "critical" | "page" | "error" | "high" => Urgency::Critical,
        "warning" | "warn" | "medium" => Urgency::Normal,
        "" => Urgency::Normal,
        _ => Urgency::Low,
    }
}

/// One notification for one group of alerts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Notification {
    /// The group's key: its group-by labels.
    pub group_key: String,
    pub group_labels: Labels,
    pub status: NotifyStatus,
    /// Firing alerts first, then the resolved ones being announced.
    pub alerts: Vec<GroupAlert>,
    pub summary: String,
    pub body: String,
    pub urgency: Urgency,
    /// Why it went out now: `new`, `repeat` or `resolved`.
    pub reason: &'static str,
    pub t_ms: i64,
}

#[derive(Debug, Clone)]
struct AggGroup {
    labels: Labels,
    next_flush_ms: i64,
    last_sent_ms: Option<i64>,
    /// Firing alerts that the last notification announced.
    notified: BTreeSet<Labels>,
}

/// Turns the stream of alert states into notifications.
#[derive(Debug, Clone, Default)]
pub struct Dispatcher {
    pub policy: Policy,
    groups: BTreeMap<String, AggGroup>,
}

impl Dispatcher {
    pub fn new(policy: Policy) -> Dispatcher {
        Dispatcher {
            policy,
            groups: BTreeMap::new(),
        }
    }

    fn group_labels(&self, l: &Labels) -> Labels {
        if self.policy.group_by.iter().any(|g| g == "...") {
            return l.clone();
        }
        l.keep(&self.policy.group_by)
    }

    /// Marks alerts a previous process already notified (from the workspace), so a restart does
    /// not notify them again.
    pub fn restore_sent(&mut self, sent: &[(Labels, i64)]) {
        for (labels, at) in sent {
            let gl = self.group_labels(labels);
            let key = gl.to_string();
            let g = self.groups.entry(key).or_insert_with(|| AggGroup {
                labels: gl,
                next_flush_ms: *at,
                last_sent_ms: None,
                notified: BTreeSet::new(),
            });
            g.notified.insert(labels.clone());
            g.last_sent_ms = Some(g.last_sent_ms.map_or(*at, |l| l.max(*at)));
        }
    }

    /// Looks at the alerts at `now_ms` and returns the notifications due.
    pub fn tick(
        &mut self,
        now_ms: i64,
        alerts: &[GroupAlert],
        silences: &[Silence],
    ) -> Vec<Notification> {
        let live_silences: Vec<&Silence> =
            silences.iter().filter(|s| s.active_at(now_ms)).collect();
        let mut buckets: BTreeMap<String, (Labels, Vec<&GroupAlert>)> = BTreeMap::new();
        for a in alerts {
            let relevant = a.alert.phase == AlertPhase::Firing
                || (a.alert.phase == AlertPhase::Inactive && a.alert.fired_at.is_some());
            if !relevant || live_silences.iter().any(|s| s.matches(&a.alert.labels)) {
                continue;
            }
            let gl = self.group_labels(&a.alert.labels);
            buckets
                .entry(gl.to_string())
                .or_insert_with(|| (gl, Vec::new()))
                .1
                .push(a);
        }
        for (key, (gl, members)) in &buckets {
            if !self.groups.contains_key(key)
                && members.iter().any(|a| a.alert.phase == AlertPhase::Firing)
            {
                self.groups.insert(
                    key.clone(),
                    AggGroup {
                        labels: gl.clone(),
                        next_flush_ms: now_ms + self.policy.group_wait_ms,
                        last_sent_ms: None,
                        notified: BTreeSet::new(),
                    },
                );
            }
        }
        let mut out = Vec::new();
        let mut drop_groups = Vec::new();
        for (key, g) in self.groups.iter_mut() {
            if now_ms < g.next_flush_ms {
                continue;
            }
            let members: &[&GroupAlert] = buckets.get(key).map(|b| b.1.as_slice()).unwrap_or(&[]);
            let firing: Vec<&GroupAlert> = members
                .iter()
                .copied()
                .filter(|a| a.alert.phase == AlertPhase::Firing)
                .collect();
            let firing_set: BTreeSet<Labels> =
                firing.iter().map(|a| a.alert.labels.clone()).collect();
            let resolved: Vec<&GroupAlert> = members
                .iter()
                .copied()
                .filter(|a| {
                    a.alert.phase == AlertPhase::Inactive
                        && g.notified.contains(&a.alert.labels)
                        && self.policy.send_resolved
                        && a.alert
                            .annotations
                            .get(SEND_RESOLVED_ANNOTATION)
                            .is_none_or(|v| v != "false")
                })
                .collect();
            let new_firing = firing_set.difference(&g.notified).next().is_some();
            let repeat = !firing.is_empty()
                && g.last_sent_ms
                    .is_none_or(|l| now_ms - l >= self.policy.repeat_interval_ms);
            let reason = if new_firing {
                Some("new")
            } else if !resolved.is_empty() {
                Some("resolved")
            } else if repeat {
                Some("repeat")
            } else {
                None
            };
            if let Some(reason) = reason {
                let mut list: Vec<GroupAlert> = firing.iter().map(|a| (*a).clone()).collect();
                list.extend(resolved.iter().map(|a| (*a).clone()));
                out.push(build(key, &g.labels, list, reason, now_ms));
                g.last_sent_ms = Some(now_ms);
            }
            g.notified = firing_set;
            g.next_flush_ms = now_ms + self.policy.group_interval_ms.max(1);
            if firing.is_empty() {
                drop_groups.push(key.clone());
            }
        }
        for k in drop_groups {
            self.groups.remove(&k);
        }
        out
    }
}

fn alert_line(a: &GroupAlert) -> String {
    if let Some(s) = a.alert.annotations.get("summary").filter(|s| !s.is_empty()) {
        return s.clone();
    }
    let name = a.alert.labels.get("alertname").unwrap_or(&a.rule);
    let rest = a
        .alert
        .labels
        .drop_with_name(&["alertname".into(), "severity".into()]);
    if rest.is_empty() {
        name.to_string()
    } else {
        format!("{name} {rest}")
    }
}

/// Summary, body and urgency of a group's notification.
fn build(
    key: &str,
    group_labels: &Labels,
    alerts: Vec<GroupAlert>,
    reason: &'static str,
    now_ms: i64,
) -> Notification {
    let firing: Vec<&GroupAlert> = alerts
        .iter()
        .filter(|a| a.alert.phase == AlertPhase::Firing)
        .collect();
    let resolved: Vec<&GroupAlert> = alerts
        .iter()
        .filter(|a| a.alert.phase != AlertPhase::Firing)
        .collect();
    let status = if firing.is_empty() {
        NotifyStatus::Resolved
    } else {
        NotifyStatus::Firing
    };
    let (summary, mut body) = if let [one] = firing.as_slice() {
        let name = one.alert.labels.get("alertname").unwrap_or(&one.rule);
        let desc = one
            .alert
            .annotations
            .get("description")
            .cloned()
            .unwrap_or_else(|| one.alert.labels.to_string());
        (format!("{name}: {}", alert_line(one)), desc)
    } else if !firing.is_empty() {
        let names: BTreeSet<&str> = firing
            .iter()
            .map(|a| a.alert.labels.get("alertname").unwrap_or(&a.rule))
            .collect();
        let names: Vec<&str> = names.into_iter().collect();
        let lines: Vec<String> = firing.iter().take(5).map(|a| alert_line(a)).collect();
        let mut body = lines.join("\n");
        if firing.len() > 5 {
            body.push_str(&format!("\n…and {} more", firing.len() - 5));
        }
        (
            format!("{} alerts firing: {}", firing.len(), names.join(", ")),
            body,
        )
    } else if let [one] = resolved.as_slice() {
        let name = one.alert.labels.get("alertname").unwrap_or(&one.rule);
        (
            format!("Resolved: {name}"),
            format!("{} is no longer firing", alert_line(one)),
        )
    } else {
        (
            format!("Resolved: {} alerts", resolved.len()),
            resolved
                .iter()
                .take(5)
                .map(|a| alert_line(a))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    if status == NotifyStatus::Firing && !resolved.is_empty() {
        body.push_str(&format!("\n({} resolved)", resolved.len()));
    }
    let urgency = match status {
        NotifyStatus::Resolved => Urgency::Low,
        NotifyStatus::Firing => firing
            .iter()
            .map(|a| urgency_of(&a.alert.labels))
            .max()
            .unwrap_or(Urgency::Normal),
    };
    Notification {
        group_key: key.to_string(),
        group_labels: group_labels.clone(),
        status,
        alerts,
        summary,
        body,
        urgency,
        reason,
        t_ms: now_ms,
    }
}

/// A stable fingerprint of a label set (FNV-1a, hex), as Alertmanager gives each alert one.
pub fn fingerprint(l: &Labels) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in l.iter() {
        for b in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn rfc3339(ms: i64) -> String {
    crate::model::format_rfc3339_nanos(ms.saturating_mul(1_000_000))
}

/// Alertmanager's webhook payload (version 4) for a notification, so existing receivers work.
pub fn webhook_payload(n: &Notification, receiver: &str, external_url: &str) -> serde_json::Value {
    use serde_json::json;
    let alerts: Vec<serde_json::Value> = n
        .alerts
        .iter()
        .map(|a| {
            let firing = a.alert.phase == AlertPhase::Firing;
            json!({
                "status": if firing { "firing" } else { "resolved" },
                "labels": a.alert.labels,
                "annotations": a.alert.annotations,
                "startsAt": rfc3339(a.alert.active_at),
                "endsAt": match a.alert.resolved_at {
                    Some(r) if !firing => rfc3339(r),
                    _ => "0001-01-01T00:00:00Z".to_string(),
                },
                "generatorURL": external_url,
                "fingerprint": fingerprint(&a.alert.labels),
            })
        })
        .collect();
    let common = |f: &dyn Fn(&GroupAlert) -> BTreeMap<String, String>| {
        let mut it = n.alerts.iter().map(f);
        let first = it.next().unwrap_or_default();
        it.fold(first, |acc, m| {
            acc.into_iter()
                .filter(|(k, v)| m.get(k) == Some(v))
                .collect()
        })
    };
    let common_labels = common(&|a| {
        a.alert
            .labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    let common_annotations = common(&|a| a.alert.annotations.clone());
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{}", n.group_key),
        "truncatedAlerts": 0,
        "status": match n.status { NotifyStatus::Firing => "firing", NotifyStatus::Resolved => "resolved" },
        "receiver": receiver,
        "groupLabels": n.group_labels,
        "commonLabels": common_labels,
        "commonAnnotations": common_annotations,
        "externalURL": external_url,
        "alerts": alerts,
    })
}
