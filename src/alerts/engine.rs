//! Rule evaluation: recording rules write series, alerting rules move each label set through
//! inactive → pending → firing → resolved, honouring `for` and `keep_firing_for`, exactly as
//! Prometheus' rule manager does, so a rule behaves the same here and on a server.

use std::collections::{BTreeMap, HashMap};

use super::rules::{Rule, RuleGroup, RuleKind};
use super::template::TemplateData;
use crate::promql::{
    CachedSource, Labels, MemSource, NAME, PromqlError, Sample, Series, SeriesSource, Value,
};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertPhase {
    Pending,
    Firing,
    /// Resolved: kept for a while so the resolution can be reported.
    Inactive,
}

/// One alert: a rule's label set that is (or recently was) active.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActiveAlert {
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub phase: AlertPhase,
    /// Unix ms.
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub keep_firing_since: Option<i64>,
    pub value: f64,
}

/// How long a resolved alert is kept (Prometheus keeps it 15 minutes).
const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// The state of every alerting rule of one group, by rule index.
#[derive(Debug, Default, Clone)]
pub struct GroupState {
    pub alerts: HashMap<usize, HashMap<Labels, ActiveAlert>>,
    /// How long the last cycle took, in microseconds (whether the next is worth threads).
    pub last_cycle_us: u64,
}

/// Fixed context of an evaluation.
#[derive(Debug, Default, Clone)]
pub struct EvalContext {
    pub external_labels: BTreeMap<String, String>,
    pub external_url: String,
    /// Whether rules that can go side by side are evaluated on several threads.
    pub parallel: Parallel,
}

/// When a cycle evaluates rules on several threads (rayon's pool, one per core).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Parallel {
    /// When the machine has more than one core and the group's last cycle took
    /// [`PARALLEL_FROM_US`] or more: handing rules to other threads costs more than a
    /// small group's whole cycle.
    #[default]
    Auto,
    Never,
    /// Whenever two rules can go side by side (tests).
    Always,
}

/// See [`Parallel::Auto`] (microseconds).
pub const PARALLEL_FROM_US: u64 = 2_000;

/// A source with series written during evaluation layered over another.
#[allow(missing_debug_implementations)]
pub struct Layered<'a, B: SeriesSource + ?Sized = dyn SeriesSource> {
    pub base: &'a B,
    pub top: &'a MemSource,
}

impl<B: SeriesSource + ?Sized> SeriesSource for Layered<'_, B> {
    fn select(
        &self,
        matchers: &[promql_parser::label::Matcher],
        lo: i64,
        hi: i64,
    ) -> Result<Vec<Series>, PromqlError> {
        let mut out = self.base.select(matchers, lo, hi)?;
        for s in self.top.select(matchers, lo, hi)? {
            match out.iter_mut().find(|o| o.labels == s.labels) {
                Some(o) => {
                    let v = o.samples.make_mut();
                    v.extend_from_slice(&s.samples);
                    v.sort_by_key(|p| p.0);
                    v.dedup_by_key(|p| p.0);
                }
                None => out.push(s),
            }
        }
        Ok(out)
    }
}

/// One rule's failure at one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    pub group: String,
    pub rule: String,
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "group {:?}, rule {:?}: {}",
            self.group, self.rule, self.message
        )
    }
}

/// Evaluates every rule of `group` at `ts` in order. Recorded series and the `ALERTS` /
/// `ALERTS_FOR_STATE` series go into `out` (which later rules see); alert state is updated in
/// `state`. Returns the rules that failed.
///
/// Rules that read nothing the group writes (no recorded metric, no `ALERTS`) can be
/// evaluated first, side by side on several threads (see [`EvalContext::parallel`]), like
/// Prometheus' concurrent rule evaluation, an expression several of them hold computed once;
/// their results are then taken in rule order, so alert state, `out` and errors are what one
/// rule after another gives.
pub fn eval_group(
    group: &RuleGroup,
    state: &mut GroupState,
    base: &dyn SeriesSource,
    out: &mut MemSource,
    ts: i64,
    ctx: &EvalContext,
) -> Vec<RuleError> {
    let started = std::time::Instant::now();
    let mut errors = Vec::new();
    let cached = CachedSource::new(base);
    let parallel = match ctx.parallel {
        Parallel::Auto => {
            state.last_cycle_us >= PARALLEL_FROM_US && rayon::current_num_threads() > 1
        }
        Parallel::Never => false,
        Parallel::Always => true,
    };
    let mut ahead = if parallel {
        eval_ahead(group, &cached, out, ts)
    } else {
        Vec::new()
    };
    let base: &dyn SeriesSource = &cached;
    for (i, rule) in group.rules.iter().enumerate() {
        let result = match ahead.get_mut(i).and_then(Option::take) {
            Some(v) => Ok(v),
            None => {
                let src = Layered { base, top: out };
                rule.expr.instant(&src, ts)
            }
        };
        let err = |message: String| RuleError {
            group: group.name.clone(),
            rule: rule.name().to_string(),
            message,
        };
        let vector = match result {
            Ok(Value::Vector(v)) => v,
            Ok(Value::Scalar(v)) => vec![Sample {
                labels: Labels::default(),
                value: v,
            }],
            Ok(other) => {
                errors.push(err(format!(
                    "the expression gives a {}, not a vector",
                    other.type_name()
                )));
                continue;
            }
            Err(e) => {
                errors.push(err(e.to_string()));
                continue;
            }
        };
        if let Some(limit) = group.limit.filter(|l| *l > 0)
            && vector.len() as u64 > limit
        {
            errors.push(err(format!(
                "{} results exceed the group's limit of {limit}",
                vector.len()
            )));
            continue;
        }
        match &rule.kind {
            RuleKind::Record { name } => {
                let mut seen = std::collections::HashSet::new();
                for s in vector {
                    let mut l = s.labels;
                    l.set(NAME, name);
                    for (k, t) in &rule.labels {
                        l.set(k, &t.expand(&TemplateData::default()));
                    }
                    if !seen.insert(l.clone()) {
                        errors.push(err(
                            "the result holds two series with the same labels".into()
                        ));
                        break;
                    }
                    out.add_labels(l, &[(ts, s.value)]);
                }
            }
            RuleKind::Alert { .. } => {
                let alerts = state.alerts.entry(i).or_default();
                match eval_alert(rule, alerts, vector, ts, ctx) {
                    Ok(series) => {
                        for (l, v) in series {
                            out.add_labels(l, &[(ts, v)]);
                        }
                    }
                    Err(m) => errors.push(err(m)),
                }
            }
        }
    }
    state.last_cycle_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    errors
}

/// Evaluates side by side (on rayon's pool) the rules of `group` that read only metrics
/// named with `__name__=` that the group does not write, after reading those metrics (on
/// this thread, through `cached`). Returns each rule's value by index; `None` for a rule left
/// to be evaluated in order (it reads what the group writes, it failed, or too few rules
/// qualify).
fn eval_ahead(
    group: &RuleGroup,
    cached: &CachedSource<'_>,
    top: &MemSource,
    ts: i64,
) -> Vec<Option<Value>> {
    let mut written: std::collections::HashSet<&str> = ["ALERTS", "ALERTS_FOR_STATE"].into();
    for r in &group.rules {
        if let RuleKind::Record { name } = &r.kind {
            written.insert(name);
        }
    }
    // With the first metric each reads: rules over the same metric go to the same thread,
    // which then finds its samples in its own cache.
    let mut picked: Vec<(String, usize)> = Vec::new();
    for (i, rule) in group.rules.iter().enumerate() {
        let Some(reads) = crate::promql::Evaluator::reads(&rule.expr.expr, ts) else {
            continue;
        };
        if reads.keys().any(|n| written.contains(n.as_str())) {
            continue;
        }
        // A read that fails is left for the rule's own evaluation to report.
        if reads
            .iter()
            .all(|(n, (lo, hi))| cached.hold(n, *lo, *hi).is_ok())
        {
            picked.push((reads.into_keys().min().unwrap_or_default(), i));
        }
    }
    let mut values: Vec<Option<Value>> = vec![None; group.rules.len()];
    if picked.len() < 2 {
        return values;
    }
    picked.sort();
    // Runs of one metric, cut so that every thread gets a few pieces of work.
    let most = (picked.len() / (rayon::current_num_threads() * 2)).max(1);
    let mut chunks: Vec<&[(String, usize)]> = Vec::new();
    for run in picked.chunk_by(|a, b| a.0 == b.0) {
        chunks.extend(run.chunks(most));
    }
    let held = cached.take_held();
    let src = Layered { base: &held, top };
    // Nothing changes what these rules read until they are all done.
    let memo = crate::promql::Memo::default();
    let done: Vec<(usize, Value)> = {
        use rayon::prelude::*;
        chunks
            .par_iter()
            .flat_map_iter(|chunk| {
                chunk.iter().filter_map(|(_, i)| {
                    let v = group.rules[*i].expr.instant_memo(&src, ts, &memo).ok()?;
                    Some((*i, v))
                })
            })
            .collect()
    };
    cached.give_back(held);
    for (i, v) in done {
        values[i] = Some(v);
    }
    values
}

/// Moves one alerting rule's alerts forward to `ts` given its expression's result; returns the
/// `ALERTS` and `ALERTS_FOR_STATE` samples to write.
pub fn eval_alert(
    rule: &Rule,
    active: &mut HashMap<Labels, ActiveAlert>,
    vector: Vec<Sample>,
    ts: i64,
    ctx: &EvalContext,
) -> Result<Vec<(Labels, f64)>, String> {
    let RuleKind::Alert {
        name,
        for_ms,
        keep_firing_for_ms,
        annotations,
    } = &rule.kind
    else {
        return Ok(Vec::new());
    };
    let mut current: HashMap<Labels, ActiveAlert> = HashMap::new();
    for s in vector {
        let data = TemplateData {
            labels: s
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value: s.value,
            external_labels: ctx.external_labels.clone(),
            external_url: ctx.external_url.clone(),
        };
        let mut l = s.labels.without_name();
        for (k, t) in &rule.labels {
            l.set(k, &t.expand(&data));
        }
        l.set("alertname", name);
        let ann: BTreeMap<String, String> = annotations
            .iter()
            .map(|(k, t)| (k.clone(), t.expand(&data)))
            .collect();
        if current.contains_key(&l) {
            return Err("the result holds two series with the same labels after applying the alert's labels".into());
        }
        current.insert(
            l.clone(),
            ActiveAlert {
                labels: l,
                annotations: ann,
                phase: AlertPhase::Pending,
                active_at: ts,
                fired_at: None,
                resolved_at: None,
                keep_firing_since: None,
                value: s.value,
            },
        );
    }
    for (l, a) in current.iter() {
        match active.get_mut(l) {
            Some(old) if old.phase != AlertPhase::Inactive => {
                old.value = a.value;
                old.annotations = a.annotations.clone();
                old.keep_firing_since = None;
            }
            _ => {
                active.insert(l.clone(), a.clone());
            }
        }
    }
    let mut series = Vec::new();
    let mut gone = Vec::new();
    for (l, a) in active.iter_mut() {
        if !current.contains_key(l) {
            let mut keep_firing = false;
            if a.phase == AlertPhase::Firing && *keep_firing_for_ms > 0 {
                let since = *a.keep_firing_since.get_or_insert(ts);
                keep_firing = ts - since < *keep_firing_for_ms;
            }
            if !keep_firing {
                if a.phase == AlertPhase::Pending
                    || a.resolved_at
                        .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS)
                {
                    gone.push(l.clone());
                }
                if a.phase != AlertPhase::Inactive {
                    a.phase = AlertPhase::Inactive;
                    a.resolved_at = Some(ts);
                }
                continue;
            }
        }
        if a.phase == AlertPhase::Pending && ts - a.active_at >= *for_ms {
            a.phase = AlertPhase::Firing;
            a.fired_at = Some(ts);
        }
        let state = match a.phase {
            AlertPhase::Pending => "pending",
            AlertPhase::Firing => "firing",
            AlertPhase::Inactive => continue,
        };
        let mut al = a.labels.clone();
        al.set(NAME, "ALERTS");
        al.set("alertstate", state);
        series.push((al, 1.0));
        let mut fl = a.labels.clone();
        fl.set(NAME, "ALERTS_FOR_STATE");
        series.push((fl, (a.active_at / 1000) as f64));
    }
    for l in gone {
        active.remove(&l);
    }
    Ok(series)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::alerts::rules::parse_rule_file;

    /// One alerting rule over `x`, evaluated every second from 0 over the given values of x.
    fn run(rule: &str, xs: &[Option<f64>]) -> Vec<Option<AlertPhase>> {
        let text = format!("groups:\n  - name: g\n    rules:\n{rule}");
        let groups = parse_rule_file(&text, std::path::Path::new("t.yml")).unwrap();
        let mut src = MemSource::default();
        for (i, v) in xs.iter().enumerate() {
            if let Some(v) = v {
                src.add(&[("__name__", "x")], &[(i as i64 * 1000, *v)]);
            } else {
                src.add(
                    &[("__name__", "x")],
                    &[(i as i64 * 1000, crate::promql::stale_nan())],
                );
            }
        }
        let mut state = GroupState::default();
        let mut out = Vec::new();
        for i in 0..xs.len() {
            let mut o = MemSource::default();
            let errors = eval_group(
                &groups[0],
                &mut state,
                &src,
                &mut o,
                i as i64 * 1000,
                &EvalContext::default(),
            );
            assert!(errors.is_empty(), "{errors:?}");
            out.push(
                state
                    .alerts
                    .get(&0)
                    .and_then(|m| m.values().next())
                    .map(|a| a.phase),
            );
        }
        out
    }

    use AlertPhase::{Firing as F, Inactive as I, Pending as P};

    /// Rules of every kind the parallel path must tell apart: ones that read only scraped
    /// metrics (side by side), ones that read a recorded metric, `ALERTS`, or a metric not
    /// named by `__name__=` (in order), and one that fails.
    const MIXED: &str = r#"groups:
  - name: g
    rules:
      - record: job:a:rate1m
        expr: sum by (job) (rate(a[1m]))
      - alert: HighRate
        expr: job:a:rate1m > 0.5
        for: 10s
      - alert: AHigh
        expr: a > 20
        for: 5s
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} at {{ $value }}"
      - alert: Ratio
        expr: sum by (job) (rate(a{instance="x"}[30s])) / sum by (job) (rate(a[30s])) > 0.4
      - alert: BLow
        expr: min_over_time(b[20s]) < 3 or b offset 10s < 2
        keep_firing_for: 10s
      - alert: AnyName
        expr: count({__name__=~"a|b"}) > 3
      - alert: OnAlerts
        expr: count(ALERTS{alertstate="firing"}) > 0
      - alert: Absent
        expr: absent(c)
      - alert: Clash
        expr: a + on() b
      - record: b:max
        expr: max(b)
      - alert: Topk
        expr: topk(1, a) > 0
      - alert: RateAgain
        expr: sum by (job) (rate(a[1m])) > 0.1
      - alert: SubMax
        expr: max_over_time(sum(b)[30s:5s]) > 9
      - alert: SubMin
        expr: min_over_time(sum(b)[30s:5s]) < 6
"#;

    fn mixed_source() -> MemSource {
        let mut src = MemSource::default();
        for (job, inst, slope) in [("j1", "x", 1.0), ("j1", "y", 0.2), ("j2", "x", 0.6)] {
            let pts: Vec<(i64, f64)> = (0..=40)
                .map(|k| (k * 5_000, (k as f64 * 5.0 * slope).floor() % 70.0))
                .collect();
            src.add(&[("__name__", "a"), ("job", job), ("instance", inst)], &pts);
        }
        for (inst, phase) in [("x", 0), ("y", 3)] {
            let mut pts: Vec<(i64, f64)> = (0..=40)
                .map(|k| (k * 5_000, ((k + phase) % 9) as f64))
                .collect();
            if inst == "y" {
                pts[20].1 = crate::promql::stale_nan();
            }
            src.add(&[("__name__", "b"), ("instance", inst)], &pts);
        }
        src
    }

    /// What one cycle leaves, comparable: errors, written series (values as bits), alerts.
    type Left = (Vec<RuleError>, Vec<(String, Vec<(i64, u64)>)>, Vec<String>);

    fn outcome(parallel: Parallel) -> Vec<Left> {
        let groups = parse_rule_file(MIXED, std::path::Path::new("t.yml")).unwrap();
        let src = mixed_source();
        let ctx = EvalContext {
            parallel,
            ..EvalContext::default()
        };
        let mut state = GroupState::default();
        let mut steps = Vec::new();
        for k in 0..=44 {
            let mut out = MemSource::default();
            let errors = eval_group(&groups[0], &mut state, &src, &mut out, k * 5_000, &ctx);
            let written = out
                .iter()
                .map(|(l, s)| {
                    let s = s.iter().map(|p| (p.0, p.1.to_bits())).collect();
                    (l.to_string(), s)
                })
                .collect();
            let mut alerts: Vec<String> = state
                .alerts
                .iter()
                .flat_map(|(i, m)| m.values().map(move |a| format!("{i} {a:?}")))
                .collect();
            alerts.sort();
            steps.push((errors, written, alerts));
        }
        steps
    }

    #[test]
    fn rules_evaluated_side_by_side_leave_what_one_after_another_leaves() {
        let serial = outcome(Parallel::Never);
        let parallel = outcome(Parallel::Always);
        assert_eq!(serial.len(), parallel.len());
        for (k, (a, b)) in serial.iter().zip(&parallel).enumerate() {
            assert_eq!(a, b, "cycle {k}");
        }
        // The rules really did something: alerts fired, the failing rule failed.
        assert!(
            serial
                .iter()
                .any(|s| s.2.iter().any(|a| a.contains("Firing")))
        );
        assert!(serial.iter().all(|s| s.0.iter().any(|e| e.rule == "Clash")));
    }

    #[test]
    fn only_rules_that_read_nothing_the_group_writes_go_ahead() {
        let groups = parse_rule_file(MIXED, std::path::Path::new("t.yml")).unwrap();
        let src = mixed_source();
        let cached = CachedSource::new(&src);
        let ahead = eval_ahead(&groups[0], &cached, &MemSource::default(), 100_000);
        let went: Vec<&str> = ahead
            .iter()
            .zip(&groups[0].rules)
            .filter(|(v, _)| v.is_some())
            .map(|(_, r)| r.name())
            .collect();
        // Not: HighRate (reads a recorded metric), AnyName (no `__name__=`), OnAlerts
        // (reads ALERTS), Clash (fails, so it is evaluated again in order to report it).
        assert_eq!(
            went,
            [
                "job:a:rate1m",
                "AHigh",
                "Ratio",
                "BLow",
                "Absent",
                "b:max",
                "Topk",
                "RateAgain",
                "SubMax",
                "SubMin"
            ]
        );
        // What was read ahead is back in the cache for the rules evaluated in order.
        let m = promql_parser::label::Matcher::new(promql_parser::label::MatchOp::Equal, NAME, "a");
        assert_eq!(
            cached
                .take_held()
                .select(&[m], 40_000, 100_000)
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn for_holds_an_alert_pending_until_it_has_been_true_long_enough() {
        let r = "      - alert: A\n        expr: x > 0\n        for: 2s\n";
        let xs = [
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(0.0),
            Some(0.0),
        ];
        assert_eq!(
            run(r, &xs),
            vec![Some(P), Some(P), Some(F), Some(F), Some(I), Some(I)]
        );
    }

    #[test]
    fn a_pending_alert_that_clears_is_dropped_without_firing() {
        let r = "      - alert: A\n        expr: x > 0\n        for: 5s\n";
        let xs = [Some(1.0), Some(1.0), Some(0.0), Some(1.0)];
        assert_eq!(run(r, &xs), vec![Some(P), Some(P), None, Some(P)]);
    }

    #[test]
    fn for_zero_fires_at_once_and_keep_firing_for_holds_it() {
        let r = "      - alert: A\n        expr: x > 0\n        keep_firing_for: 2s\n";
        let xs = [Some(1.0), Some(0.0), Some(0.0), Some(0.0), Some(1.0)];
        assert_eq!(
            run(r, &xs),
            vec![Some(F), Some(F), Some(F), Some(I), Some(F)]
        );
    }

    #[test]
    fn alerts_write_alerts_and_for_state_series() {
        let text = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x > 0\n        for: 1s\n        labels:\n          severity: page\n";
        let groups = parse_rule_file(text, std::path::Path::new("t.yml")).unwrap();
        let mut src = MemSource::default();
        src.add(&[("__name__", "x"), ("job", "j")], &[(0, 1.0), (1000, 1.0)]);
        let mut state = GroupState::default();
        let mut o = MemSource::default();
        eval_group(
            &groups[0],
            &mut state,
            &src,
            &mut o,
            0,
            &EvalContext::default(),
        );
        let names: Vec<String> = o.iter().map(|(l, _)| l.to_string()).collect();
        assert_eq!(
            names,
            vec![
                "ALERTS{alertname=\"A\", alertstate=\"pending\", job=\"j\", severity=\"page\"}",
                "ALERTS_FOR_STATE{alertname=\"A\", job=\"j\", severity=\"page\"}",
            ]
        );
    }
}
