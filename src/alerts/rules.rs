//! Prometheus rule files: groups of recording and alerting rules.
//!
//! The format is Prometheus' own (`groups:` at the top, or under `spec:` as in a Kubernetes
//! `PrometheusRule`), read strictly like `promtool check rules`: an unknown key, a rule that is
//! both or neither `record` and `alert`, an expression that does not parse or a template that
//! does not parse is an error naming the file, the group and the rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::template::Template;
use crate::promql::{Query, parse_duration_ms};

/// A rule file that could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct RuleFileError {
    pub path: PathBuf,
    pub message: String,
}

#[derive(Debug, Deserialize)]
struct FileDef {
    #[serde(default)]
    groups: Option<Vec<GroupDef>>,
    #[serde(default)]
    spec: Option<SpecDef>,
}

#[derive(Debug, Deserialize)]
struct SpecDef {
    #[serde(default)]
    groups: Vec<GroupDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupDef {
    name: String,
    #[serde(default)]
    interval: Option<serde_yaml::Value>,
    #[serde(default)]
    query_offset: Option<serde_yaml::Value>,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    labels: Option<BTreeMap<String, serde_yaml::Value>>,
    #[serde(default)]
    rules: Vec<RuleDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    #[serde(default)]
    record: Option<String>,
    #[serde(default)]
    alert: Option<String>,
    expr: serde_yaml::Value,
    #[serde(default, rename = "for")]
    for_: Option<serde_yaml::Value>,
    #[serde(default)]
    keep_firing_for: Option<serde_yaml::Value>,
    #[serde(default)]
    labels: Option<BTreeMap<String, serde_yaml::Value>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, serde_yaml::Value>>,
}

impl RuleGroup {
    /// Template constructs the rules use that Sightline cannot expand, as readable warnings.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.rules {
            let mut ts: Vec<(&str, &Template)> =
                r.labels.iter().map(|(k, t)| (k.as_str(), t)).collect();
            if let RuleKind::Alert { annotations, .. } = &r.kind {
                ts.extend(annotations.iter().map(|(k, t)| (k.as_str(), t)));
            }
            for (k, t) in ts {
                for u in t.unsupported() {
                    out.push(format!(
                        "group {:?}, rule {:?}, {k}: {u}",
                        self.name,
                        r.name()
                    ));
                }
            }
        }
        out
    }
}

/// A group of rules evaluated together, in order.
#[derive(Debug, Clone)]
pub struct RuleGroup {
    pub name: String,
    pub file: PathBuf,
    /// The group's own interval, when it sets one.
    pub interval_ms: Option<i64>,
    pub limit: Option<u64>,
    pub rules: Vec<Rule>,
}

/// One rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub kind: RuleKind,
    pub expr: Query,
    /// Labels added to each result; for alerts, values are templates.
    pub labels: Vec<(String, Template)>,
}

#[derive(Debug, Clone)]
pub enum RuleKind {
    Record {
        name: String,
    },
    Alert {
        name: String,
        for_ms: i64,
        keep_firing_for_ms: i64,
        annotations: Vec<(String, Template)>,
    },
}

impl Rule {
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Record { name } | RuleKind::Alert { name, .. } => name,
        }
    }
}

/// The default rules shipped with Sightline (`rules/agent-defaults.yml`).
pub const DEFAULT_RULES: &str = include_str!("../../rules/agent-defaults.yml");

/// The default rules, parsed.
pub fn default_groups() -> Result<Vec<RuleGroup>, RuleFileError> {
    parse_rule_file(DEFAULT_RULES, Path::new("<built-in agent-defaults.yml>"))
}

/// Reads one rule file.
pub fn load_rule_file(path: &Path) -> Result<Vec<RuleGroup>, RuleFileError> {
    let err = |message: String| RuleFileError {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    parse_rule_file(&text, path)
}

/// Parses rule-file text; `path` names it in errors.
pub fn parse_rule_file(text: &str, path: &Path) -> Result<Vec<RuleGroup>, RuleFileError> {
    let err = |message: String| RuleFileError {
        path: path.to_path_buf(),
        message,
    };
    let def: FileDef = serde_yaml::from_str(text).map_err(|e| err(yaml_error(&e)))?;
    let groups = match (def.groups, def.spec) {
        (Some(g), _) => g,
        (None, Some(s)) => s.groups,
        (None, None) => return Err(err("no `groups:` (nor `spec.groups:`) in this file".into())),
    };
    let mut out = Vec::new();
    let mut names = std::collections::HashSet::new();
    for g in groups {
        if g.name.is_empty() {
            return Err(err("a group has no name".into()));
        }
        if !names.insert(g.name.clone()) {
            return Err(err(format!(
                "group {:?}: repeated in the same file",
                g.name
            )));
        }
        let gerr = |m: String| err(format!("group {:?}: {m}", g.name));
        let interval_ms = match &g.interval {
            Some(v) => Some(
                duration_value(v).ok_or_else(|| gerr(format!("invalid interval {}", show(v))))?,
            ),
            None => None,
        };
        if let Some(v) = &g.query_offset {
            duration_value(v).ok_or_else(|| gerr(format!("invalid query_offset {}", show(v))))?;
        }
        let group_labels: Vec<(String, String)> = g
            .labels
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), scalar_text(v)))
            .collect();
        let mut rules = Vec::new();
        for (i, r) in g.rules.iter().enumerate() {
            let label = r
                .alert
                .as_deref()
                .or(r.record.as_deref())
                .map(|n| format!("rule {} ({n})", i + 1))
                .unwrap_or_else(|| format!("rule {}", i + 1));
            let rerr = |m: String| gerr(format!("{label}: {m}"));
            let expr_text = scalar_text(&r.expr);
            if expr_text.trim().is_empty() {
                return Err(rerr("the expression is empty".into()));
            }
            let expr = Query::parse(expr_text.trim()).map_err(|e| rerr(e.to_string()))?;
            let mut labels = Vec::new();
            for (k, v) in group_labels.iter().cloned().chain(
                r.labels
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), scalar_text(v))),
            ) {
                if !crate::promql::valid_label_name(&k) {
                    return Err(rerr(format!("invalid label name {k:?}")));
                }
                let t = Template::parse(&v).map_err(|e| rerr(format!("label {k}: {e}")))?;
                labels.retain(|(n, _): &(String, Template)| *n != k);
                labels.push((k, t));
            }
            let kind = match (&r.record, &r.alert) {
                (Some(_), Some(_)) => {
                    return Err(rerr("a rule sets both `record` and `alert`".into()));
                }
                (None, None) => return Err(rerr("a rule needs `record` or `alert`".into())),
                (Some(name), None) => {
                    if !valid_metric_name(name) {
                        return Err(rerr(format!("invalid recording rule name {name:?}")));
                    }
                    if r.for_.is_some() || r.keep_firing_for.is_some() {
                        return Err(rerr(
                            "`for` and `keep_firing_for` are for alerting rules only".into(),
                        ));
                    }
                    if r.annotations.is_some() {
                        return Err(rerr("`annotations` are for alerting rules only".into()));
                    }
                    RuleKind::Record { name: name.clone() }
                }
                (None, Some(name)) => {
                    if name.is_empty() {
                        return Err(rerr("the alert name is empty".into()));
                    }
                    let dur =
                        |v: &Option<serde_yaml::Value>, what: &str| -> Result<i64, RuleFileError> {
                            match v {
                                Some(v) => duration_value(v)
                                    .ok_or_else(|| rerr(format!("invalid {what} {}", show(v)))),
                                None => Ok(0),
                            }
                        };
                    let mut annotations = Vec::new();
                    for (k, v) in r.annotations.iter().flatten() {
                        let t = Template::parse(&scalar_text(v))
                            .map_err(|e| rerr(format!("annotation {k}: {e}")))?;
                        annotations.push((k.clone(), t));
                    }
                    RuleKind::Alert {
                        name: name.clone(),
                        for_ms: dur(&r.for_, "for")?,
                        keep_firing_for_ms: dur(&r.keep_firing_for, "keep_firing_for")?,
                        annotations,
                    }
                }
            };
            rules.push(Rule { kind, expr, labels });
        }
        out.push(RuleGroup {
            name: g.name.clone(),
            file: path.to_path_buf(),
            interval_ms,
            limit: g.limit,
            rules,
        });
    }
    Ok(out)
}

fn valid_metric_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_' || ch == ':')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':')
}

/// A YAML scalar as text (`expr: 1` and `value: "1"` alike).
pub(crate) fn scalar_text(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Null => String::new(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// A duration written as `5m`, `1h30m`, or a number of seconds.
pub(crate) fn duration_value(v: &serde_yaml::Value) -> Option<i64> {
    parse_duration_ms(&scalar_text(v))
}

fn show(v: &serde_yaml::Value) -> String {
    format!("{:?}", scalar_text(v))
}

pub(crate) fn yaml_error(e: &serde_yaml::Error) -> String {
    match e.location() {
        Some(l) => format!("line {}, column {}: {e}", l.line(), l.column()),
        None => e.to_string(),
    }
}
