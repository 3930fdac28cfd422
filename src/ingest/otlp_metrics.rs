//! OTLP metrics (`ExportMetricsServiceRequest`, JSON form) to Prometheus-style series, the
//! way Prometheus' own OTLP receiver names them, so one rule language covers them too:
//!
//! - the name keeps letters, digits, `_` and `:` (anything else becomes `_`);
//! - a monotonic cumulative sum is a counter, named with `_total`;
//! - a histogram becomes `_bucket{le}` (cumulative, `+Inf` last), `_sum` and `_count`;
//!   a summary becomes `{quantile}`, `_sum` and `_count`;
//! - the data point's attributes are labels, `service.name` (with `service.namespace`) is
//!   `job` and `service.instance.id` is `instance`.
//!
//! What cannot be represented is reported, not guessed: an exponential histogram keeps its
//! `_count` and `_sum`, a delta sum is kept as a gauge of its deltas.

use serde_json::Value;

use crate::model::{MetricMeta, MetricSample, canonical_labels};

/// A metric or data point left out (or kept only in part), and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub detail: String,
    /// Data was left out (else it was kept in another form).
    pub dropped: bool,
}

/// The samples, family metadata and problems of one request.
#[derive(Debug, Default)]
pub struct Mapped {
    pub samples: Vec<MetricSample>,
    pub meta: Vec<MetricMeta>,
    pub problems: Vec<Problem>,
}

fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

fn label_name(k: &str) -> String {
    let s = sanitize(k).replace(':', "_");
    if s.starts_with("__") && !k.starts_with("__") {
        s.trim_start_matches('_').to_string()
    } else {
        s
    }
}

/// An AnyValue as label text.
fn any_text(v: &Value) -> String {
    if let Some(s) = v.get("stringValue").and_then(Value::as_str) {
        return s.to_string();
    }
    if let Some(b) = v.get("boolValue").and_then(Value::as_bool) {
        return b.to_string();
    }
    if let Some(i) = v.get("intValue") {
        return match i {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
    }
    if let Some(d) = v.get("doubleValue") {
        return match d {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
    }
    for k in ["arrayValue", "kvlistValue", "bytesValue"] {
        if let Some(x) = v.get(k) {
            return x.to_string();
        }
    }
    String::new()
}

fn attrs(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|kv| {
                    let k = kv.get("key")?.as_str()?;
                    let val = kv.get("value").map(any_text).unwrap_or_default();
                    Some((k.to_string(), val))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A 64-bit integer as OTLP/JSON writes it (a string) or as a number.
fn int(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::String(s) => s.parse::<i128>().ok().map(|n| n as f64),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn float(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" | "+Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            other => other.parse().ok(),
        },
        _ => None,
    }
}

fn time_ms(p: &Value) -> Option<i64> {
    let ns = match p.get("timeUnixNano")? {
        Value::String(s) => s.parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    (ns > 0).then_some(ns / 1_000_000)
}

/// The data points of a gauge, sum, histogram or summary.
fn points(d: &Value) -> impl Iterator<Item = &Value> {
    d.get("dataPoints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn fmt_le(b: f64) -> String {
    if b == f64::INFINITY {
        "+Inf".into()
    } else {
        format!("{b}")
    }
}

/// Maps one request (JSON form).
pub fn map_metrics_request(req: &Value) -> Mapped {
    let mut out = Mapped::default();
    let empty = Vec::new();
    let rms = req
        .get("resourceMetrics")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for rm in rms {
        let res = attrs(rm.get("resource").and_then(|r| r.get("attributes")));
        let get = |k: &str| res.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
        let mut base: Vec<(String, String)> = Vec::new();
        if let Some(name) = get("service.name") {
            let job = match get("service.namespace") {
                Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
                _ => name,
            };
            base.push(("job".into(), job));
        }
        if let Some(i) = get("service.instance.id") {
            base.push(("instance".into(), i));
        }
        let sms = rm
            .get("scopeMetrics")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        for sm in sms {
            let ms = sm
                .get("metrics")
                .and_then(Value::as_array)
                .unwrap_or(&empty);
            for m in ms {
                map_metric(m, &base, &mut out);
            }
        }
    }
    out
}

fn map_metric(m: &Value, base: &[(String, String)], out: &mut Mapped) {
    let Some(raw) = m
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        out.problems.push(Problem {
            detail: "a metric without a name".into(),
            dropped: true,
        });
        return;
    };
    let name = sanitize(raw);
    let help = m
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let unit = m
        .get("unit")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let empty = Vec::new();
    let labels_of = |p: &Value| -> Vec<(String, String)> {
        let mut l: Vec<(String, String)> = base.to_vec();
        for (k, v) in attrs(p.get("attributes")) {
            let k = label_name(&k);
            l.retain(|(a, _)| *a != k);
            l.push((k, v));
        }
        l
    };
    let push = |out: &mut Mapped, metric: &str, labels: Vec<(String, String)>, t: i64, v: f64| {
        out.samples.push(MetricSample {
            metric: metric.to_string(),
            labels: canonical_labels(labels),
            t_ms: t,
            value: v,
        });
    };
    // Histograms, exponential histograms and summaries all end in `_sum` and `_count`.
    let sum_count = |out: &mut Mapped, p: &Value, labels: Vec<(String, String)>, t: i64| {
        if let Some(s) = float(p.get("sum")) {
            push(out, &format!("{name}_sum"), labels.clone(), t, s);
        }
        let count = int(p.get("count")).unwrap_or(0.0);
        push(out, &format!("{name}_count"), labels, t, count);
    };
    let mut bad_points = 0u64;
    let (kind, metrics): (&'static str, Vec<String>);
    let family;
    if let Some(d) = m.get("gauge").or_else(|| m.get("sum")) {
        let is_sum = m.get("sum").is_some();
        let monotonic = d
            .get("isMonotonic")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let temporality = d
            .get("aggregationTemporality")
            .and_then(Value::as_i64)
            .unwrap_or(2);
        let counter = is_sum && monotonic && temporality != 1;
        if is_sum && temporality == 1 {
            out.problems.push(Problem {
                detail: format!("{raw}: a delta sum; kept as a gauge of its deltas"),
                dropped: false,
            });
        }
        let metric = if counter && !name.ends_with("_total") {
            format!("{name}_total")
        } else {
            name.clone()
        };
        for p in points(d) {
            let v = float(p.get("asDouble")).or_else(|| int(p.get("asInt")));
            match (time_ms(p), v) {
                (Some(t), Some(v)) => push(out, &metric, labels_of(p), t, v),
                _ => bad_points += 1,
            }
        }
        family = if counter {
            metric.strip_suffix("_total").unwrap_or(&metric).to_string()
        } else {
            metric.clone()
        };
        kind = if counter { "counter" } else { "gauge" };
        metrics = vec![metric];
    } else if let Some(d) = m.get("histogram") {
        if d.get("aggregationTemporality").and_then(Value::as_i64) == Some(1) {
            out.problems.push(Problem {
                detail: format!("{raw}: a delta histogram; kept as its per-interval counts"),
                dropped: false,
            });
        }
        for p in points(d) {
            let Some(t) = time_ms(p) else {
                bad_points += 1;
                continue;
            };
            let labels = labels_of(p);
            let bounds: Vec<f64> = p
                .get("explicitBounds")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| float(Some(x))).collect())
                .unwrap_or_default();
            let counts: Vec<f64> = p
                .get("bucketCounts")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| int(Some(x))).collect())
                .unwrap_or_default();
            let count = int(p.get("count")).unwrap_or(0.0);
            if !counts.is_empty() {
                let mut acc = 0.0;
                for (i, c) in counts.iter().enumerate() {
                    acc += c;
                    let le = bounds.get(i).copied().unwrap_or(f64::INFINITY);
                    let mut l = labels.clone();
                    l.push(("le".into(), fmt_le(le)));
                    push(out, &format!("{name}_bucket"), l, t, acc);
                }
                if bounds.len() >= counts.len() {
                    let mut l = labels.clone();
                    l.push(("le".into(), "+Inf".into()));
                    push(out, &format!("{name}_bucket"), l, t, count);
                }
            }
            sum_count(out, p, labels, t);
        }
        family = name.clone();
        kind = "histogram";
        metrics = vec![
            format!("{name}_bucket"),
            format!("{name}_sum"),
            format!("{name}_count"),
        ];
    } else if let Some(d) = m.get("exponentialHistogram") {
        out.problems.push(Problem {
            detail: format!(
                "{raw}: an exponential histogram; its count and sum are kept, not its buckets"
            ),
            dropped: false,
        });
        for p in points(d) {
            let Some(t) = time_ms(p) else {
                bad_points += 1;
                continue;
            };
            let labels = labels_of(p);
            sum_count(out, p, labels, t);
        }
        family = name.clone();
        kind = "histogram";
        metrics = vec![format!("{name}_sum"), format!("{name}_count")];
    } else if let Some(d) = m.get("summary") {
        for p in points(d) {
            let Some(t) = time_ms(p) else {
                bad_points += 1;
                continue;
            };
            let labels = labels_of(p);
            for q in p
                .get("quantileValues")
                .and_then(Value::as_array)
                .unwrap_or(&empty)
            {
                // proto3 leaves zero values out: a missing quantile or value is 0.
                let qq = float(q.get("quantile")).unwrap_or(0.0);
                let v = float(q.get("value")).unwrap_or(0.0);
                let mut l = labels.clone();
                l.push(("quantile".into(), format!("{qq}")));
                push(out, &name, l, t, v);
            }
            sum_count(out, p, labels, t);
        }
        family = name.clone();
        kind = "summary";
        metrics = vec![name.clone(), format!("{name}_sum"), format!("{name}_count")];
    } else {
        out.problems.push(Problem {
            detail: format!("{raw}: no gauge, sum, histogram or summary data"),
            dropped: true,
        });
        return;
    }
    if bad_points > 0 {
        out.problems.push(Problem {
            detail: format!("{raw}: {bad_points} data point(s) without a time or value"),
            dropped: true,
        });
    }
    out.meta.push(MetricMeta {
        family,
        metrics,
        kind,
        help,
        unit,
        derived: false,
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sums_histograms_and_labels() {
        let req: Value = serde_json::from_str(
            r#"{"resourceMetrics":[{"resource":{"attributes":[
                {"key":"service.name","value":{"stringValue":"agent"}},
                {"key":"service.instance.id","value":{"stringValue":"pod-1"}}]},
              "scopeMetrics":[{"metrics":[
                {"name":"llm.tokens","sum":{"isMonotonic":true,"aggregationTemporality":2,
                  "dataPoints":[{"timeUnixNano":"1717243200000000000","asInt":"42",
                    "attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}}]}]}},
                {"name":"latency","histogram":{"aggregationTemporality":2,"dataPoints":[
                  {"timeUnixNano":"1717243200000000000","count":"3","sum":1.5,
                   "bucketCounts":["1","2","0"],"explicitBounds":[0.1,1]}]}},
                {"name":"queue","gauge":{"dataPoints":[{"timeUnixNano":"1717243200000000000","asDouble":2.5}]}}
              ]}]}]}"#,
        )
        .unwrap();
        let m = map_metrics_request(&req);
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let find = |name: &str, le: Option<&str>| {
            m.samples
                .iter()
                .find(|s| {
                    s.metric == name
                        && le.is_none_or(|le| s.labels.iter().any(|(k, v)| k == "le" && v == le))
                })
                .unwrap()
                .clone()
        };
        let c = find("llm_tokens_total", None);
        assert_eq!(c.value, 42.0);
        assert_eq!(c.t_ms, 1_717_243_200_000);
        assert!(c.labels.contains(&("job".into(), "agent".into())));
        assert!(c.labels.contains(&("instance".into(), "pod-1".into())));
        assert!(
            c.labels
                .contains(&("gen_ai_request_model".into(), "gpt-4o".into()))
        );
        assert_eq!(find("latency_bucket", Some("0.1")).value, 1.0);
        assert_eq!(find("latency_bucket", Some("1")).value, 3.0);
        assert_eq!(find("latency_bucket", Some("+Inf")).value, 3.0);
        assert_eq!(find("latency_count", None).value, 3.0);
        assert_eq!(find("latency_sum", None).value, 1.5);
        assert_eq!(find("queue", None).value, 2.5);
        assert_eq!(m.meta.len(), 3);
        assert_eq!(m.meta[0].kind, "counter");
        assert_eq!(m.meta[0].family, "llm_tokens");
    }

    #[test]
    fn bad_points_are_reported() {
        let req: Value = serde_json::from_str(
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
                {"name":"x","gauge":{"dataPoints":[{"asDouble":1}]}},
                {"unit":"s"}]}]}]}"#,
        )
        .unwrap();
        let m = map_metrics_request(&req);
        assert!(m.samples.is_empty());
        assert_eq!(m.problems.len(), 2);
    }
}
