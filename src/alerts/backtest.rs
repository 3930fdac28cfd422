//! Backtesting rules over recorded data: evaluate the groups at every interval of a time range
//! against the workspace and report when each alert was pending and when it was firing.

use std::collections::BTreeMap;

use super::engine::{AlertPhase, EvalContext, GroupState, eval_group};
use super::rules::{RuleGroup, RuleKind};
use crate::promql::{Labels, MemSource, SeriesSource};

/// One stretch of an alert in one phase, `[from, to)` in Unix ms (`to` is the evaluation at
/// which it left the phase, or the end of the range).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PhaseSpan {
    pub phase: AlertPhase,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// An alert (a rule's label set) over the range.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertHistory {
    pub group: String,
    pub alertname: String,
    pub labels: Labels,
    pub spans: Vec<PhaseSpan>,
    /// The expression's value at the first evaluation where it was active.
    pub first_value: f64,
}

/// What a backtest found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct BacktestReport {
    pub start_ms: i64,
    pub end_ms: i64,
    pub evaluations: u64,
    pub alerts: Vec<AlertHistory>,
    /// Rule failures, each once with its first time.
    pub errors: Vec<String>,
}

/// Most evaluations per group in one backtest.
pub const MAX_EVALUATIONS: i64 = 50_000;

/// Evaluates `groups` every `step_ms` (or each group's own interval when set) from `start_ms`
/// to `end_ms` over `src`.
pub fn backtest(
    src: &dyn SeriesSource,
    groups: &[RuleGroup],
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
) -> Result<BacktestReport, String> {
    if end_ms < start_ms {
        return Err("the end is before the start".into());
    }
    let mut report = BacktestReport {
        start_ms,
        end_ms,
        ..Default::default()
    };
    let ctx = EvalContext::default();
    let mut recorded = MemSource::default();
    let mut open: BTreeMap<(String, String, Labels), usize> = BTreeMap::new();
    let mut seen_errors: Vec<String> = Vec::new();
    // Groups run on their own intervals; step through the union of their times.
    let intervals: Vec<i64> = groups
        .iter()
        .map(|g| g.interval_ms.unwrap_or(step_ms).max(1000))
        .collect();
    if let Some(i) = intervals
        .iter()
        .find(|i| (end_ms - start_ms) / **i > MAX_EVALUATIONS)
    {
        return Err(format!(
            "{} evaluations is too many; use a shorter range or a larger step (at most {MAX_EVALUATIONS})",
            (end_ms - start_ms) / i
        ));
    }
    let mut states: Vec<GroupState> = vec![GroupState::default(); groups.len()];
    let mut next: Vec<i64> = vec![start_ms; groups.len()];
    while let Some(t) = next.iter().copied().filter(|t| *t <= end_ms).min() {
        for (gi, g) in groups.iter().enumerate() {
            if next[gi] != t {
                continue;
            }
            next[gi] += intervals[gi];
            report.evaluations += 1;
            for e in eval_group(g, &mut states[gi], src, &mut recorded, t, &ctx) {
                let m = e.to_string();
                if !seen_errors.contains(&m) {
                    seen_errors.push(m.clone());
                    report.errors.push(format!(
                        "{}: {m}",
                        crate::model::format_rfc3339_nanos(t * 1_000_000)
                    ));
                }
            }
            // Record phase changes of every alert of the group.
            let mut active_now: Vec<(String, String, Labels)> = Vec::new();
            for (ri, r) in g.rules.iter().enumerate() {
                let RuleKind::Alert { name, .. } = &r.kind else {
                    continue;
                };
                for a in states[gi]
                    .alerts
                    .get(&ri)
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    if a.phase == AlertPhase::Inactive {
                        continue;
                    }
                    let key = (g.name.clone(), name.clone(), a.labels.clone());
                    active_now.push(key.clone());
                    match open.get(&key) {
                        Some(&i) => {
                            let h = &mut report.alerts[i];
                            let last = h.spans.last_mut();
                            match last {
                                Some(s) if s.phase == a.phase && s.to_ms == -1 => {}
                                Some(s) if s.to_ms == -1 => {
                                    s.to_ms = t;
                                    h.spans.push(PhaseSpan {
                                        phase: a.phase,
                                        from_ms: t,
                                        to_ms: -1,
                                    });
                                }
                                _ => h.spans.push(PhaseSpan {
                                    phase: a.phase,
                                    from_ms: t,
                                    to_ms: -1,
                                }),
                            }
                        }
                        None => {
                            report.alerts.push(AlertHistory {
                                group: g.name.clone(),
                                alertname: name.clone(),
                                labels: a.labels.clone(),
                                spans: vec![PhaseSpan {
                                    phase: a.phase,
                                    from_ms: t,
                                    to_ms: -1,
                                }],
                                first_value: a.value,
                            });
                            open.insert(key, report.alerts.len() - 1);
                        }
                    }
                }
            }
            // Alerts of this group that are no longer active close their open span.
            for (key, &i) in open.iter() {
                if key.0 != g.name || active_now.contains(key) {
                    continue;
                }
                if let Some(s) = report.alerts[i].spans.last_mut()
                    && s.to_ms == -1
                {
                    s.to_ms = t;
                }
            }
        }
    }
    for h in &mut report.alerts {
        for s in &mut h.spans {
            if s.to_ms == -1 {
                s.to_ms = end_ms;
            }
        }
    }
    Ok(report)
}
