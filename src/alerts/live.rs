//! Live evaluation: rule groups evaluated on their intervals against the workspace while it
//! fills, with alert state, rule health and phase history kept in the workspace so that
//! `sightline alerts` (another process) and a restarted app see the same alerts.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::{Connection, params};

use super::engine::{ActiveAlert, AlertPhase, EvalContext, GroupState, RuleError, eval_group};
use super::rules::{RuleGroup, RuleKind};
use super::template::TemplateData;
use crate::error::Result;
use crate::model::MetricSample;
use crate::promql::{Labels, MemSource, NAME, stale_nan};
use crate::store::WriterHandle;

/// Group interval when a group sets none.
pub const DEFAULT_INTERVAL_MS: i64 = 5_000;

/// A phase change of one alert.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Transition {
    pub t_ms: i64,
    pub group: String,
    pub rule: String,
    pub labels: Labels,
    /// `pending`, `firing`, `resolved`, or `inactive` (pending that cleared before firing).
    pub phase: &'static str,
    pub value: f64,
}

/// A rule's outcome at its last evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleHealth {
    pub group: String,
    pub idx: usize,
    pub error: Option<String>,
    pub last_eval_ms: i64,
    pub eval_ms: f64,
}

/// What one round of due evaluations did.
#[derive(Debug, Default, Clone)]
pub struct EvalRound {
    pub transitions: Vec<Transition>,
    pub errors: Vec<RuleError>,
    /// Groups evaluated in this round.
    pub evaluated: usize,
}

/// An alert with the rule group it belongs to, as the notification policy sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupAlert {
    pub group: String,
    pub rule: String,
    #[serde(flatten)]
    pub alert: ActiveAlert,
}

struct LiveGroup {
    group: RuleGroup,
    state: GroupState,
    next_ms: i64,
    /// Series written at the last evaluation, to mark stale when they vanish.
    written: HashSet<Labels>,
}

/// Rule groups under live evaluation.
pub struct LiveRules {
    groups: Vec<LiveGroup>,
    ctx: EvalContext,
    /// When each alert (group, rule, labels) was last notified.
    sent: HashMap<(String, String, Labels), i64>,
    /// Recent samples kept between cycles.
    head: super::head::HeadCache,
}

impl std::fmt::Debug for LiveRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveRules")
            .field("groups", &self.groups.len())
            .finish()
    }
}

fn phase_name(p: AlertPhase) -> &'static str {
    match p {
        AlertPhase::Pending => "pending",
        AlertPhase::Firing => "firing",
        AlertPhase::Inactive => "inactive",
    }
}

fn parse_phase(s: &str) -> AlertPhase {
    match s {
        "pending" => AlertPhase::Pending,
        "firing" => AlertPhase::Firing,
        _ => AlertPhase::Inactive,
    }
}

/// Canonical JSON of a label set (sorted keys), the key alerts are stored under.
pub fn labels_to_json(l: &Labels) -> String {
    let pairs: Vec<(String, String)> = l
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    crate::store::writer::labels_json(&pairs)
}

/// A stored label set back.
pub fn labels_from_json(s: &str) -> Labels {
    let map: BTreeMap<String, String> = serde_json::from_str(s).unwrap_or_default();
    Labels::new(map)
}

impl LiveRules {
    /// Groups start evaluating at the next multiple of their interval after `now_ms`.
    pub fn new(groups: Vec<RuleGroup>, ctx: EvalContext, now_ms: i64) -> LiveRules {
        let groups = groups
            .into_iter()
            .map(|group| {
                let iv = group.interval_ms.unwrap_or(DEFAULT_INTERVAL_MS).max(1000);
                LiveGroup {
                    group,
                    state: GroupState::default(),
                    next_ms: now_ms - now_ms.rem_euclid(iv) + iv,
                    written: HashSet::new(),
                }
            })
            .collect();
        LiveRules {
            groups,
            ctx,
            sent: HashMap::new(),
            head: Default::default(),
        }
    }

    /// Takes what the process' own writer commits from its feed instead of reading it back.
    pub fn use_feed(&mut self, feed: std::sync::Arc<crate::store::writer::SampleFeed>) {
        self.head = super::head::HeadCache::with_feed(feed);
    }

    pub fn groups(&self) -> impl Iterator<Item = &RuleGroup> {
        self.groups.iter().map(|g| &g.group)
    }

    /// Evaluates every group at once on the next round (after a restore, say).
    pub fn due_now(&mut self, now_ms: i64) {
        for g in &mut self.groups {
            let iv = interval(&g.group);
            g.next_ms = now_ms - now_ms.rem_euclid(iv);
        }
    }

    /// When the next group is due (Unix ms).
    pub fn next_due(&self) -> Option<i64> {
        self.groups.iter().map(|g| g.next_ms).min()
    }

    /// Every current alert (pending, firing, or resolved and still kept).
    pub fn alerts(&self) -> Vec<GroupAlert> {
        let mut out = Vec::new();
        for g in &self.groups {
            for (idx, alerts) in &g.state.alerts {
                let Some(rule) = g.group.rules.get(*idx) else {
                    continue;
                };
                for a in alerts.values() {
                    out.push(GroupAlert {
                        group: g.group.name.clone(),
                        rule: rule.name().to_string(),
                        alert: a.clone(),
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            (a.alert.active_at, &a.alert.labels).cmp(&(b.alert.active_at, &b.alert.labels))
        });
        out
    }

    /// Notes that these alerts were just notified (kept with their state).
    pub fn mark_sent(&mut self, alerts: &[GroupAlert], t_ms: i64) {
        for a in alerts {
            self.sent.insert(
                (a.group.clone(), a.rule.clone(), a.alert.labels.clone()),
                t_ms,
            );
        }
    }

    /// Loads the alert state a previous process left in the workspace, for rules that still
    /// exist under the same group and name.
    pub fn restore(&mut self, conn: &Connection) -> Result<usize> {
        let mut stmt = conn.prepare(
            "SELECT group_name, rule_name, labels, annotations, phase, active_at, fired_at, \
             resolved_at, keep_firing_since, value, last_sent_at FROM alerts",
        )?;
        let mut rows = stmt.query([])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            let group: String = r.get(0)?;
            let rule: String = r.get(1)?;
            let Some(g) = self.groups.iter_mut().find(|g| g.group.name == group) else {
                continue;
            };
            let Some(idx) = g
                .group
                .rules
                .iter()
                .position(|x| x.name() == rule && matches!(x.kind, RuleKind::Alert { .. }))
            else {
                continue;
            };
            let labels = labels_from_json(&r.get::<_, String>(2)?);
            let annotations: BTreeMap<String, String> =
                serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default();
            let alert = ActiveAlert {
                labels: labels.clone(),
                annotations,
                phase: parse_phase(&r.get::<_, String>(4)?),
                active_at: r.get(5)?,
                fired_at: r.get(6)?,
                resolved_at: r.get(7)?,
                keep_firing_since: r.get(8)?,
                value: r.get::<_, Option<f64>>(9)?.unwrap_or(f64::NAN),
            };
            if let Some(sent) = r.get::<_, Option<i64>>(10)? {
                self.sent
                    .insert((group.clone(), rule.clone(), labels.clone()), sent);
            }
            g.state.alerts.entry(idx).or_default().insert(labels, alert);
            n += 1;
        }
        Ok(n)
    }

    /// Evaluates every group due at `now_ms` against the workspace (each at its scheduled
    /// time), writes recorded series and `ALERTS` / `ALERTS_FOR_STATE` through `writer`, and
    /// stores alert state, rule health and history. Groups that fell more than one interval
    /// behind skip the missed evaluations, as Prometheus does.
    pub fn eval_due(
        &mut self,
        conn: &Connection,
        writer: &WriterHandle,
        now_ms: i64,
    ) -> Result<EvalRound> {
        let mut round = EvalRound::default();
        let mut health = Vec::new();
        let src = self.head.cycle(conn)?;
        for g in &mut self.groups {
            if g.next_ms > now_ms {
                continue;
            }
            let iv = interval(&g.group);
            let ts = g.next_ms;
            let before = phases(&g.state);
            let mut out = MemSource::default();
            let started = std::time::Instant::now();
            let errors = eval_group(&g.group, &mut g.state, &src, &mut out, ts, &self.ctx);
            let took = started.elapsed().as_secs_f64() * 1000.0;
            round.evaluated += 1;
            for (idx, rule) in g.group.rules.iter().enumerate() {
                let error = errors
                    .iter()
                    .find(|e| e.rule == rule.name())
                    .map(|e| e.message.clone());
                health.push(RuleHealth {
                    group: g.group.name.clone(),
                    idx,
                    error,
                    last_eval_ms: ts,
                    eval_ms: took,
                });
            }
            round.errors.extend(errors);
            // Transitions.
            let after = phases(&g.state);
            for ((idx, labels), (phase, value)) in &after {
                let old = before.get(&(*idx, labels.clone())).map(|p| p.0);
                let entered = match (old, phase) {
                    (o, AlertPhase::Pending) if o != Some(AlertPhase::Pending) => "pending",
                    (o, AlertPhase::Firing) if o != Some(AlertPhase::Firing) => "firing",
                    (Some(AlertPhase::Firing), AlertPhase::Inactive) => "resolved",
                    (Some(AlertPhase::Pending), AlertPhase::Inactive) => "inactive",
                    _ => continue,
                };
                round.transitions.push(Transition {
                    t_ms: ts,
                    group: g.group.name.clone(),
                    rule: rule_name(&g.group, *idx),
                    labels: labels.clone(),
                    phase: entered,
                    value: *value,
                });
            }
            for ((idx, labels), (phase, value)) in &before {
                if *phase == AlertPhase::Pending && !after.contains_key(&(*idx, labels.clone())) {
                    round.transitions.push(Transition {
                        t_ms: ts,
                        group: g.group.name.clone(),
                        rule: rule_name(&g.group, *idx),
                        labels: labels.clone(),
                        phase: "inactive",
                        value: *value,
                    });
                }
            }
            // Series: what the rules produced now, and stale markers for what vanished.
            let mut samples = Vec::new();
            let mut now_written = HashSet::new();
            for (labels, points) in out.iter() {
                for &(t, v) in points {
                    samples.push(to_sample(labels, t, v));
                }
                now_written.insert(labels.clone());
            }
            for gone in g.written.difference(&now_written) {
                samples.push(to_sample(gone, ts, stale_nan()));
            }
            g.written = now_written;
            if !samples.is_empty() {
                writer.write_samples(crate::store::writer::SampleBatch {
                    samples,
                    metric_meta: Vec::new(),
                })?;
            }
            let sent = &self.sent;
            let gname = &g.group.name;
            let alerts: Vec<(String, ActiveAlert, Option<i64>)> = g
                .state
                .alerts
                .iter()
                .flat_map(|(idx, m)| {
                    let name = rule_name(&g.group, *idx);
                    m.values().map(move |a| {
                        let at = sent
                            .get(&(gname.clone(), name.clone(), a.labels.clone()))
                            .copied();
                        (name.clone(), a.clone(), at)
                    })
                })
                .collect();
            let group_name = g.group.name.clone();
            let transitions: Vec<Transition> = round
                .transitions
                .iter()
                .filter(|t| t.group == group_name)
                .cloned()
                .collect();
            writer.exec(move |c| {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM alerts WHERE group_name = ?1", [&group_name])?;
                {
                    let mut ins = tx.prepare(
                        "INSERT OR REPLACE INTO alerts (group_name, rule_name, labels, annotations, \
                         phase, active_at, fired_at, resolved_at, keep_firing_since, value, \
                         last_sent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    )?;
                    for (rule, a, sent_at) in &alerts {
                        ins.execute(params![
                            group_name,
                            rule,
                            labels_to_json(&a.labels),
                            serde_json::to_string(&a.annotations).unwrap_or_default(),
                            phase_name(a.phase),
                            a.active_at,
                            a.fired_at,
                            a.resolved_at,
                            a.keep_firing_since,
                            finite(a.value),
                            sent_at,
                        ])?;
                    }
                    let mut hist = tx.prepare(
                        "INSERT INTO alert_history (t, group_name, rule_name, labels, phase, value) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?;
                    for t in &transitions {
                        hist.execute(params![
                            t.t_ms,
                            t.group,
                            t.rule,
                            labels_to_json(&t.labels),
                            t.phase,
                            finite(t.value),
                        ])?;
                    }
                }
                tx.commit()?;
                Ok(())
            })?;
            g.next_ms = if now_ms - ts >= iv {
                now_ms - now_ms.rem_euclid(iv) + iv
            } else {
                ts + iv
            };
        }
        if !health.is_empty() {
            writer.exec(move |c| {
                let tx = c.transaction()?;
                {
                    let mut up = tx.prepare(
                        "UPDATE alert_rules SET health = ?3, last_error = ?4, last_eval = ?5, \
                         eval_ms = ?6 WHERE group_name = ?1 AND idx = ?2",
                    )?;
                    for h in &health {
                        up.execute(params![
                            h.group,
                            h.idx as i64,
                            if h.error.is_some() { "err" } else { "ok" },
                            h.error,
                            h.last_eval_ms,
                            h.eval_ms,
                        ])?;
                    }
                }
                tx.commit()?;
                Ok(())
            })?;
        }
        Ok(round)
    }

    /// Records the rules in force in the workspace (replacing what was there), so that
    /// `sightline alerts` can list them; alerts of rules that no longer exist are dropped.
    pub fn register(&self, writer: &WriterHandle) -> Result<()> {
        let mut rows = Vec::new();
        for g in &self.groups {
            for (idx, r) in g.group.rules.iter().enumerate() {
                let (kind, for_ms) = match &r.kind {
                    RuleKind::Alert { for_ms, .. } => ("alert", *for_ms),
                    RuleKind::Record { .. } => ("record", 0),
                };
                let labels: BTreeMap<&str, String> = r
                    .labels
                    .iter()
                    .map(|(k, t)| (k.as_str(), t.expand(&TemplateData::default())))
                    .collect();
                rows.push((
                    g.group.name.clone(),
                    idx as i64,
                    g.group.file.display().to_string(),
                    r.name().to_string(),
                    kind,
                    r.expr.text.clone(),
                    for_ms,
                    serde_json::to_string(&labels).unwrap_or_default(),
                    interval(&g.group),
                ));
            }
        }
        writer.exec(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM alert_rules", [])?;
            {
                let mut ins = tx.prepare(
                    "INSERT OR REPLACE INTO alert_rules (group_name, idx, file, name, kind, expr, \
                     for_ms, labels, interval_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                for r in &rows {
                    ins.execute(params![r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8])?;
                }
            }
            tx.execute(
                "DELETE FROM alerts WHERE NOT EXISTS (SELECT 1 FROM alert_rules r \
                 WHERE r.group_name = alerts.group_name AND r.name = alerts.rule_name)",
                [],
            )?;
            tx.commit()?;
            Ok(())
        })
    }
}

fn interval(g: &RuleGroup) -> i64 {
    g.interval_ms.unwrap_or(DEFAULT_INTERVAL_MS).max(1000)
}

fn rule_name(g: &RuleGroup, idx: usize) -> String {
    g.rules
        .get(idx)
        .map(|r| r.name().to_string())
        .unwrap_or_default()
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn phases(s: &GroupState) -> HashMap<(usize, Labels), (AlertPhase, f64)> {
    s.alerts
        .iter()
        .flat_map(|(idx, m)| {
            m.iter()
                .map(move |(l, a)| ((*idx, l.clone()), (a.phase, a.value)))
        })
        .collect()
}

fn to_sample(labels: &Labels, t: i64, v: f64) -> MetricSample {
    MetricSample {
        metric: labels.name().unwrap_or_default().to_string(),
        labels: labels
            .iter()
            .filter(|(k, _)| *k != NAME)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        t_ms: t,
        value: v,
    }
}
