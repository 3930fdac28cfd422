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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::alerts::engine::ActiveAlert;

    fn alert(
        name: &str,
        extra: &[(&str, &str)],
        phase: AlertPhase,
        fired: Option<i64>,
    ) -> GroupAlert {
        let mut l = Labels::new(extra.iter().copied());
        l.set("alertname", name);
        GroupAlert {
            group: "g".into(),
            rule: name.into(),
            alert: ActiveAlert {
                labels: l,
                annotations: BTreeMap::new(),
                phase,
                active_at: 0,
                fired_at: fired,
                resolved_at: (phase == AlertPhase::Inactive).then_some(50_000),
                keep_firing_since: None,
                value: 1.0,
            },
        }
    }

    fn policy() -> Policy {
        Policy {
            group_by: vec!["alertname".into()],
            group_wait_ms: 2_000,
            group_interval_ms: 1_000,
            repeat_interval_ms: 10_000,
            send_resolved: true,
        }
    }

    #[test]
    fn group_wait_then_once_then_repeat_then_resolved() {
        let mut d = Dispatcher::new(policy());
        let a = alert(
            "A",
            &[("severity", "critical")],
            AlertPhase::Firing,
            Some(0),
        );
        assert!(
            d.tick(0, std::slice::from_ref(&a), &[]).is_empty(),
            "group_wait holds the first"
        );
        assert!(d.tick(1_000, std::slice::from_ref(&a), &[]).is_empty());
        let n = d.tick(2_000, std::slice::from_ref(&a), &[]);
        assert_eq!(n.len(), 1);
        assert_eq!((n[0].reason, n[0].urgency), ("new", Urgency::Critical));
        for t in (3_000..12_000).step_by(1_000) {
            assert!(
                d.tick(t, std::slice::from_ref(&a), &[]).is_empty(),
                "no repeat at {t}"
            );
        }
        let n = d.tick(12_000, std::slice::from_ref(&a), &[]);
        assert_eq!(n[0].reason, "repeat");
        let r = alert(
            "A",
            &[("severity", "critical")],
            AlertPhase::Inactive,
            Some(0),
        );
        let n = d.tick(13_000, std::slice::from_ref(&r), &[]);
        assert_eq!(n.len(), 1);
        assert_eq!(
            (n[0].status, n[0].urgency, n[0].summary.as_str()),
            (NotifyStatus::Resolved, Urgency::Low, "Resolved: A")
        );
        assert!(d.tick(14_000, &[r], &[]).is_empty(), "resolved once");
    }

    #[test]
    fn alerts_are_grouped_by_labels_and_a_new_member_notifies_the_group() {
        let mut p = policy();
        p.group_wait_ms = 0;
        let mut d = Dispatcher::new(p);
        let a1 = alert(
            "ToolErr",
            &[("tool", "search")],
            AlertPhase::Firing,
            Some(0),
        );
        let a2 = alert("ToolErr", &[("tool", "fetch")], AlertPhase::Firing, Some(0));
        let b = alert(
            "Other",
            &[("severity", "info")],
            AlertPhase::Firing,
            Some(0),
        );
        let n = d.tick(0, &[a1.clone(), b.clone()], &[]);
        assert_eq!(n.len(), 2, "one per alertname");
        let n = d.tick(1_000, &[a1.clone(), a2.clone(), b.clone()], &[]);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].summary, "2 alerts firing: ToolErr");
        assert_eq!(n[0].alerts.len(), 2);
        assert_eq!(
            n.iter()
                .find(|x| x.group_key.contains("Other"))
                .map(|x| x.urgency),
            None
        );
        // By every label: one group per alert.
        let mut p = policy();
        p.group_by = vec!["...".into()];
        p.group_wait_ms = 0;
        let mut d = Dispatcher::new(p);
        assert_eq!(d.tick(0, &[a1, a2], &[]).len(), 2);
    }

    #[test]
    fn silences_match_labels_until_they_end() {
        let mut p = policy();
        p.group_wait_ms = 0;
        let mut d = Dispatcher::new(p);
        let a = alert("A", &[("tool", "search")], AlertPhase::Firing, Some(0));
        let s = Silence {
            id: "s".into(),
            matchers: "tool=~\"sea.*\"".into(),
            parsed: parse_matchers("tool=~\"sea.*\"").unwrap(),
            starts_at: 0,
            ends_at: 5_000,
            comment: String::new(),
            created_by: String::new(),
        };
        assert!(
            d.tick(0, std::slice::from_ref(&a), std::slice::from_ref(&s))
                .is_empty()
        );
        assert!(
            d.tick(4_000, std::slice::from_ref(&a), std::slice::from_ref(&s))
                .is_empty()
        );
        assert_eq!(d.tick(5_000, &[a], &[s]).len(), 1, "the silence ended");
    }

    #[test]
    fn resolved_notifications_can_be_turned_off_per_rule_and_globally() {
        let mut p = policy();
        p.group_wait_ms = 0;
        let mut d = Dispatcher::new(p.clone());
        let mut a = alert("A", &[], AlertPhase::Firing, Some(0));
        a.alert
            .annotations
            .insert(SEND_RESOLVED_ANNOTATION.into(), "false".into());
        assert_eq!(d.tick(0, std::slice::from_ref(&a), &[]).len(), 1);
        a.alert.phase = AlertPhase::Inactive;
        assert!(d.tick(1_000, &[a], &[]).is_empty());
        p.send_resolved = false;
        let mut d = Dispatcher::new(p);
        let b = alert("B", &[], AlertPhase::Firing, Some(0));
        assert_eq!(d.tick(0, &[b], &[]).len(), 1);
        let b = alert("B", &[], AlertPhase::Inactive, Some(0));
        assert!(d.tick(1_000, &[b], &[]).is_empty());
    }

    #[test]
    fn restored_alerts_are_not_notified_again() {
        let mut p = policy();
        p.group_wait_ms = 0;
        let mut d = Dispatcher::new(p);
        let a = alert("A", &[], AlertPhase::Firing, Some(0));
        d.restore_sent(&[(a.alert.labels.clone(), 1_000)]);
        assert!(d.tick(2_000, std::slice::from_ref(&a), &[]).is_empty());
        assert_eq!(d.tick(11_000, &[a], &[])[0].reason, "repeat");
    }

    #[test]
    fn matchers_parse_with_or_without_braces_and_reject_match_all() {
        assert_eq!(parse_matchers("a=\"1\", b!~\"x.*\"").unwrap().len(), 2);
        assert_eq!(parse_matchers("{a=\"1\"}").unwrap().len(), 1);
        assert!(parse_matchers("").is_err());
        assert!(
            parse_matchers("a=~\".*\"")
                .unwrap_err()
                .contains("matches every alert")
        );
        assert!(parse_matchers("a=").unwrap_err().contains("cannot read"));
    }

    #[test]
    fn webhook_payload_is_alertmanager_v4() {
        let a = alert("A", &[("severity", "warning")], AlertPhase::Firing, Some(0));
        let n = build(
            "{alertname=\"A\"}",
            &a.alert.labels.keep(&["alertname".into()]),
            vec![a],
            "new",
            0,
        );
        let p = webhook_payload(&n, "r", "");
        assert_eq!(p["version"], "4");
        assert_eq!(p["status"], "firing");
        assert_eq!(p["alerts"][0]["startsAt"], "1970-01-01T00:00:00.000000000Z");
        assert_eq!(p["commonLabels"]["severity"], "warning");
    }
}
