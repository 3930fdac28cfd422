//! Rule unit tests in promtool's format (`promtool test rules`).
//!
//! A test file names rule files and holds test groups: `input_series` in the expanding series
//! notation, then `alert_rule_test` (which alerts fire at an `eval_time`, with which labels and
//! annotations) and `promql_expr_test` (what an expression gives at an `eval_time`). Rules are
//! evaluated every `evaluation_interval` from time 0, as promtool does, and values are
//! compared exactly (or within a few ULPs under `fuzzy_compare`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::engine::{EvalContext, GroupState, Layered, eval_group};
use super::notation::expand_values;
use super::rules::{RuleGroup, RuleKind, duration_value, load_rule_file, scalar_text, yaml_error};
use crate::promql::gofmt::format_g;
use crate::promql::{Labels, MemSource, Query, Value, format_duration_ms, parse_series_labels};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default)]
    evaluation_interval: Option<serde_yaml::Value>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    fuzzy_compare: bool,
    #[serde(default)]
    tests: Vec<TestGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    interval: Option<serde_yaml::Value>,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    external_labels: BTreeMap<String, serde_yaml::Value>,
    #[serde(default)]
    external_url: Option<String>,
    #[serde(default)]
    start_timestamp: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    series: String,
    #[serde(default)]
    values: serde_yaml::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    eval_time: serde_yaml::Value,
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, serde_yaml::Value>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExprTest {
    expr: serde_yaml::Value,
    eval_time: serde_yaml::Value,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    #[serde(default)]
    labels: Option<String>,
    #[serde(default)]
    value: Option<serde_yaml::Value>,
    #[serde(default)]
    histogram: Option<serde_yaml::Value>,
}

/// The outcome of one test file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnitTestReport {
    pub file: PathBuf,
    /// The file could not be run at all (bad YAML, a rule file that does not load).
    pub error: Option<String>,
    pub groups: Vec<GroupOutcome>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupOutcome {
    pub name: String,
    pub failures: Vec<String>,
}

impl UnitTestReport {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.groups.iter().all(|g| g.failures.is_empty())
    }
}

/// Runs one promtool-format test file.
pub fn run_test_file(path: &Path) -> UnitTestReport {
    let mut report = UnitTestReport {
        file: path.to_path_buf(),
        error: None,
        groups: Vec::new(),
    };
    match run_inner(path) {
        Ok(groups) => report.groups = groups,
        Err(e) => report.error = Some(e),
    }
    report
}

fn run_inner(path: &Path) -> Result<Vec<GroupOutcome>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let file: TestFile = serde_yaml::from_str(&text).map_err(|e| yaml_error(&e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut groups: Vec<RuleGroup> = Vec::new();
    for f in &file.rule_files {
        for p in expand_glob(dir, f)? {
            groups.extend(load_rule_file(&p).map_err(|e| e.to_string())?);
        }
    }
    if !file.group_eval_order.is_empty() {
        let mut ordered = Vec::new();
        for name in &file.group_eval_order {
            let i = groups.iter().position(|g| g.name == *name).ok_or_else(|| {
                format!("group_eval_order names {name:?}, which no rule file has")
            })?;
            ordered.push(groups.remove(i));
        }
        ordered.append(&mut groups);
        groups = ordered;
    }
    let eval_interval = match &file.evaluation_interval {
        Some(v) => duration_value(v)
            .filter(|d| *d > 0)
            .ok_or_else(|| format!("invalid evaluation_interval {:?}", scalar_text(v)))?,
        None => 60_000,
    };
    let mut out = Vec::new();
    for (gi, tg) in file.tests.iter().enumerate() {
        let name = tg
            .name
            .clone()
            .unwrap_or_else(|| format!("test group {}", gi + 1));
        let failures =
            run_group(tg, &groups, eval_interval, file.fuzzy_compare).unwrap_or_else(|e| vec![e]);
        out.push(GroupOutcome { name, failures });
    }
    Ok(out)
}

fn expand_glob(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = dir.join(pattern);
    let name = full.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.contains('*') && !name.contains('?') {
        return Ok(vec![full]);
    }
    let parent = full.parent().unwrap_or(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(parent)
        .map_err(|e| format!("{}: {e}", parent.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| wildcard(name, n))
        })
        .collect();
    out.sort();
    Ok(out)
}

fn wildcard(p: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (p.chars().collect(), s.chars().collect());
    fn m(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('*'), _) => m(&p[1..], s) || (!s.is_empty() && m(p, &s[1..])),
            (Some('?'), Some(_)) => m(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    m(&p, &s)
}

fn run_group(
    tg: &TestGroup,
    groups: &[RuleGroup],
    eval_interval: i64,
    fuzzy: bool,
) -> Result<Vec<String>, String> {
    let interval = match &tg.interval {
        Some(v) => duration_value(v)
            .filter(|d| *d > 0)
            .ok_or_else(|| format!("invalid interval {:?}", scalar_text(v)))?,
        None => eval_interval,
    };
    let mint: i64 = match &tg.start_timestamp {
        Some(v) => parse_start(&scalar_text(v))?,
        None => 0,
    };
    let mut input = MemSource::default();
    for s in &tg.input_series {
        let labels = parse_series_labels(&s.series)
            .map_err(|e| format!("input series {:?}: {e}", s.series))?;
        let steps = expand_values(&scalar_text(&s.values))
            .map_err(|e| format!("input series {:?}: {e}", s.series))?;
        let samples: Vec<(i64, f64)> = steps
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (mint + i as i64 * interval, v)))
            .collect();
        input.add_labels(labels, &samples);
    }
    let ctx = EvalContext {
        external_labels: tg
            .external_labels
            .iter()
            .map(|(k, v)| (k.clone(), scalar_text(v)))
            .collect(),
        external_url: tg.external_url.clone().unwrap_or_default(),
        parallel: Default::default(),
    };
    let time_of = |v: &serde_yaml::Value| -> Result<i64, String> {
        duration_value(v).ok_or_else(|| format!("invalid eval_time {:?}", scalar_text(v)))
    };
    let mut alert_times: Vec<i64> = Vec::new();
    for a in &tg.alert_rule_test {
        alert_times.push(time_of(&a.eval_time)?);
    }
    let mut max_t = alert_times.iter().copied().max().unwrap_or(0);
    for e in &tg.promql_expr_test {
        max_t = max_t.max(time_of(&e.eval_time)?);
    }
    let mut sorted_times = alert_times.clone();
    sorted_times.sort();
    sorted_times.dedup();

    let mut failures = Vec::new();
    let mut recorded = MemSource::default();
    let mut states: Vec<GroupState> = vec![GroupState::default(); groups.len()];
    let mut next = 0usize;
    let mut ts = 0i64;
    while ts <= max_t {
        for (g, st) in groups.iter().zip(states.iter_mut()) {
            for e in eval_group(g, st, &input, &mut recorded, mint + ts, &ctx) {
                failures.push(format!("    {e}"));
            }
        }
        // Alert tests whose eval_time falls in [ts, ts + interval) compare with this evaluation.
        while next < sorted_times.len()
            && sorted_times[next] >= ts
            && sorted_times[next] < ts + eval_interval
        {
            let t = sorted_times[next];
            for at in tg
                .alert_rule_test
                .iter()
                .filter(|a| time_of(&a.eval_time).ok() == Some(t))
            {
                let mut got: Vec<(Labels, BTreeMap<String, String>)> = Vec::new();
                for (g, st) in groups.iter().zip(states.iter()) {
                    for (ri, r) in g.rules.iter().enumerate() {
                        if !matches!(&r.kind, RuleKind::Alert { name, .. } if *name == at.alertname)
                        {
                            continue;
                        }
                        for a in st.alerts.get(&ri).into_iter().flat_map(|m| m.values()) {
                            if a.phase == super::engine::AlertPhase::Firing {
                                got.push((a.labels.clone(), a.annotations.clone()));
                            }
                        }
                    }
                }
                let mut exp: Vec<(Labels, BTreeMap<String, String>)> = at
                    .exp_alerts
                    .iter()
                    .map(|e| {
                        let mut pairs: Vec<(String, String)> = e
                            .exp_labels
                            .iter()
                            .map(|(k, v)| (k.clone(), scalar_text(v)))
                            .collect();
                        pairs.push(("alertname".into(), at.alertname.clone()));
                        (
                            Labels::new(pairs),
                            e.exp_annotations
                                .iter()
                                .map(|(k, v)| (k.clone(), scalar_text(v)))
                                .collect(),
                        )
                    })
                    .collect();
                got.sort();
                exp.sort();
                if got != exp {
                    failures.push(format!(
                        "    alertname: {}, time: {},\n        exp:{},\n        got:{}",
                        at.alertname,
                        format_duration_ms(t),
                        show_alerts(&exp),
                        show_alerts(&got)
                    ));
                }
            }
            next += 1;
        }
        ts += eval_interval;
    }

    for et in &tg.promql_expr_test {
        let t = time_of(&et.eval_time)?;
        let expr = scalar_text(&et.expr);
        let head = format!("    expr: {expr:?}, time: {}", format_duration_ms(t));
        let src = Layered {
            base: &input,
            top: &recorded,
        };
        let got = match Query::parse(&expr).and_then(|q| q.instant(&src, mint + t)) {
            Ok(Value::Vector(v)) => v
                .into_iter()
                .map(|s| (s.labels, s.value))
                .collect::<Vec<_>>(),
            Ok(Value::Scalar(v)) => vec![(Labels::default(), v)],
            Ok(other) => {
                failures.push(format!(
                    "{head}, err: the expression gives a {}",
                    other.type_name()
                ));
                continue;
            }
            Err(e) => {
                failures.push(format!("{head}, err: {e}"));
                continue;
            }
        };
        let mut exp = Vec::new();
        let mut bad = None;
        for s in &et.exp_samples {
            if s.histogram.is_some() {
                bad = Some("native histograms in exp_samples are not supported".to_string());
                break;
            }
            let labels = match parse_series_labels(s.labels.as_deref().unwrap_or("")) {
                Ok(l) => l,
                Err(e) => {
                    bad = Some(format!("exp_samples labels: {e}"));
                    break;
                }
            };
            let text = s
                .value
                .as_ref()
                .map(scalar_text)
                .unwrap_or_else(|| "0".into());
            match parse_value(&text) {
                Some(v) => exp.push((labels, v)),
                None => {
                    bad = Some(format!("exp_samples value {text:?} is not a number"));
                    break;
                }
            }
        }
        if let Some(b) = bad {
            failures.push(format!("{head}, err: {b}"));
            continue;
        }
        let mut got = got;
        got.sort_by(|a, b| a.0.cmp(&b.0));
        exp.sort_by(|a, b| a.0.cmp(&b.0));
        let same = got.len() == exp.len()
            && got
                .iter()
                .zip(&exp)
                .all(|(g, e)| g.0 == e.0 && values_equal(g.1, e.1, fuzzy));
        if !same {
            failures.push(format!(
                "{head},\n        exp: {}\n        got: {}",
                show_samples(&exp),
                show_samples(&got)
            ));
        }
    }
    Ok(failures)
}

fn parse_start(s: &str) -> Result<i64, String> {
    if let Ok(n) = s.trim().parse::<f64>() {
        return Ok((n * 1000.0) as i64);
    }
    crate::time_arg::parse_time_arg(s.trim(), 0)
        .map(|ns| ns / 1_000_000)
        .map_err(|_| format!("invalid start_timestamp {s:?}"))
}

fn parse_value(s: &str) -> Option<f64> {
    match s.trim() {
        "Inf" | "+Inf" | ".inf" | "+.inf" => Some(f64::INFINITY),
        "-Inf" | "-.inf" => Some(f64::NEG_INFINITY),
        "NaN" | ".nan" => Some(f64::NAN),
        t => t.parse().ok(),
    }
}

fn values_equal(a: f64, b: f64, fuzzy: bool) -> bool {
    if a == b {
        return true;
    }
    if fuzzy && a.is_finite() && b.is_finite() {
        let (x, y) = (a.to_bits() as i64, b.to_bits() as i64);
        return (a > 0.0) == (b > 0.0) && (x - y).abs() <= 2;
    }
    false
}

fn show_samples(s: &[(Labels, f64)]) -> String {
    let parts: Vec<String> = s
        .iter()
        .map(|(l, v)| format!("{{Labels:{l} Value:{}}}", format_g(*v)))
        .collect();
    format!("[{}]", parts.join(" "))
}

fn show_alerts(a: &[(Labels, BTreeMap<String, String>)]) -> String {
    if a.is_empty() {
        return "[]".into();
    }
    let parts: Vec<String> = a
        .iter()
        .enumerate()
        .map(|(i, (l, ann))| {
            let ann: Vec<String> = ann.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            format!(
                "\n        {i}:\n          Labels:{l}\n          Annotations:{{{}}}",
                ann.join(", ")
            )
        })
        .collect();
    parts.join("")
}
