//! PromQL and rule unit tests against the reference: promtool (Debian's `prometheus` package).
//!
//! - Every rule unit-test file in the corpus that the installed promtool can run gives the
//!   same verdict with `sightline rules test`.
//! - A differential suite: generated series (counters with resets, gauges, histograms, gaps,
//!   a staleness marker) and ~70 expressions at several instants are evaluated by Sightline;
//!   its answers are written as a promtool test file's expected samples, and promtool must
//!   accept every one of them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use sightline::alerts::notation::expand_values;
use sightline::promql::{MemSource, Query, Value, parse_series_labels};

use crate::util::{Dir, corpus, sightline, stdout};

fn promtool() -> PathBuf {
    let p = std::env::var_os("PROMTOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/promtool"));
    assert!(
        p.exists(),
        "promtool not found at {} (apt-get install prometheus, or set PROMTOOL)",
        p.display()
    );
    p
}

/// promtool's verdict on a test file, or None when this promtool cannot read the file
/// (newer syntax than it knows).
fn promtool_verdict(file: &Path) -> (Option<bool>, String) {
    let out = Command::new(promtool())
        .args(["test", "rules"])
        .arg(file.file_name().unwrap())
        .current_dir(file.parent().unwrap())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if text.contains("unmarshal errors") || text.contains("not found in type") {
        return (None, text);
    }
    (Some(out.status.success()), text)
}

#[test]
fn corpus_rule_unit_tests_give_promtools_verdict() {
    let dir = corpus("rules");
    let mut files = Vec::new();
    for sub in std::fs::read_dir(&dir).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).unwrap() {
            let f = f.unwrap().path();
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            if text.contains("tests:") && text.contains("rule_files") || text.starts_with("tests:")
            {
                files.push(f);
            }
        }
    }
    files.sort();
    let scratch = Dir::new();
    let mut compared = 0;
    for f in &files {
        let (verdict, text) = promtool_verdict(f);
        let ours = sightline(&scratch.db(), &["rules", "test", f.to_str().unwrap()]);
        let Some(expected) = verdict else {
            eprintln!(
                "promtool cannot read {} (newer syntax); ours: {}",
                f.display(),
                ours.status
            );
            continue;
        };
        assert_eq!(
            ours.status.success(),
            expected,
            "{}: promtool says {}, Sightline says {}\npromtool:\n{text}\nsightline:\n{}",
            f.display(),
            expected,
            ours.status.success(),
            stdout(&ours)
        );
        compared += 1;
    }
    // docs example (pass), thanos mixin (pass), failing.yml (fail) at least.
    assert!(compared >= 3, "only {compared} files compared: {files:?}");
}

#[test]
fn newer_promtool_files_run_where_their_syntax_is_supported() {
    let scratch = Dir::new();
    // start_timestamp and fuzzy_compare are Prometheus 3 syntax; Sightline reads both.
    let o = sightline(
        &scratch.db(),
        &[
            "rules",
            "test",
            corpus("rules/promtool-unittest/start-time-test.yml")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stdout(&o));
    // The file's second group is meant to fail (differences beyond a few ULPs).
    let o = sightline(
        &scratch.db(),
        &[
            "rules",
            "test",
            "--json",
            corpus("rules/promtool-unittest/rules_run_fuzzy.yml")
                .to_str()
                .unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let groups = v[0]["groups"].as_array().unwrap();
    assert!(groups[0]["failures"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(groups[1]["failures"].as_array().unwrap().len(), 2, "{v}");
    // Native histograms are refused by name, not misread.
    let o = sightline(
        &scratch.db(),
        &[
            "rules",
            "test",
            corpus("rules/promtool-unittest/unittest.yml")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(stdout(&o).contains("native histograms"), "{}", stdout(&o));
}

#[test]
fn rule_files_in_the_corpus_load_and_bad_ones_say_where() {
    let scratch = Dir::new();
    for f in [
        "awesome-prometheus-alerts_node-exporter.yml",
        "awesome-prometheus-alerts_prometheus-self-monitoring.yml",
        "awesome-prometheus-alerts_litellm.yml",
        "awesome-prometheus-alerts_kubestate-exporter.yml",
        "awesome-prometheus-alerts_speedtest.yml",
        "kube-prometheus_nodeExporter-prometheusRule.yaml",
        "kube-prometheus_prometheus-prometheusRule.yaml",
        "prometheus_rulefmt_test.yaml",
        "thanos-mixin/alerts.yaml",
        "thanos-mixin/rules.yaml",
    ] {
        let o = sightline(
            &scratch.db(),
            &[
                "rules",
                "check",
                corpus(&format!("rules/{f}")).to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{f}: {}", stdout(&o));
    }
    let bad = scratch.write(
        "bad.yml",
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(x[5m] > 1\n",
    );
    let o = sightline(&scratch.db(), &["rules", "check", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    let text = stdout(&o);
    assert!(
        text.contains("bad.yml") && text.contains("group \"g\"") && text.contains("rule 1 (A)"),
        "{text}"
    );
    let unknown = scratch.write(
        "u.yml",
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        fro: 5m\n",
    );
    let o = sightline(
        &scratch.db(),
        &["rules", "check", unknown.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(stdout(&o).contains("fro"), "{}", stdout(&o));
}

/// A tiny deterministic generator (no dependency, same numbers everywhere).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Series in promtool notation: (series, values).
pub fn generated_series(seed: u64) -> Vec<(String, String)> {
    let mut r = Lcg(seed);
    let steps = 61;
    let mut out = Vec::new();
    let targets = [("api", "a"), ("api", "b"), ("db", "c")];
    for (job, inst) in targets {
        // up: mostly 1, a few 0s.
        let vals: Vec<String> = (0..steps)
            .map(|_| {
                if r.below(7) == 0 {
                    "0".into()
                } else {
                    "1".into()
                }
            })
            .collect();
        out.push((
            format!(r#"up{{job="{job}", instance="{inst}"}}"#),
            vals.join(" "),
        ));
        // A counter with one reset and a gap.
        let mut v = r.below(50);
        let reset_at = 10 + r.below(40);
        let vals: Vec<String> = (0..steps)
            .map(|i| {
                if i == reset_at {
                    v = r.below(3);
                } else {
                    v += r.below(20);
                }
                if i == reset_at + 5 {
                    "_".to_string()
                } else {
                    v.to_string()
                }
            })
            .collect();
        out.push((
            format!(r#"reqs_total{{job="{job}", instance="{inst}", code="200"}}"#),
            vals.join(" "),
        ));
        let vals: Vec<String> = (0..steps)
            .map(|_| {
                v += r.below(3);
                v.to_string()
            })
            .collect();
        out.push((
            format!(r#"reqs_total{{job="{job}", instance="{inst}", code="500"}}"#),
            vals.join(" "),
        ));
        // A gauge in quarter steps.
        let mut g = 80 + r.below(10) as i64;
        let vals: Vec<String> = (0..steps)
            .map(|_| {
                g += r.below(9) as i64 - 4;
                format!("{}", g as f64 / 4.0)
            })
            .collect();
        out.push((
            format!(r#"temp{{job="{job}", instance="{inst}"}}"#),
            vals.join(" "),
        ));
        // Histogram buckets, cumulative and monotonic.
        let bounds = ["0.1", "0.5", "1", "+Inf"];
        let mut counts = [0u64; 4];
        let mut rows: Vec<Vec<String>> = vec![Vec::new(); 4];
        for _ in 0..steps {
            let mut acc = 0;
            for (bi, c) in counts.iter_mut().enumerate() {
                acc += r.below(5);
                *c = (*c).max(acc + *c / 2);
                let _ = bi;
            }
            for bi in 1..4 {
                counts[bi] = counts[bi].max(counts[bi - 1]);
            }
            for bi in 0..4 {
                rows[bi].push(counts[bi].to_string());
            }
        }
        for (bi, le) in bounds.iter().enumerate() {
            out.push((
                format!(r#"lat_bucket{{job="{job}", instance="{inst}", le="{le}"}}"#),
                rows[bi].join(" "),
            ));
        }
    }
    // A series that goes stale, and one that stops.
    out.push(("flappy".into(), "1 2 3 stale _ _ 7 8".into()));
    out.push(("ends".into(), "5x20".into()));
    out
}

pub const EXPRESSIONS: &[&str] = &[
    "up",
    "up == 0",
    "up != bool 0",
    "rate(reqs_total[5m])",
    "irate(reqs_total[5m])",
    "increase(reqs_total[10m])",
    "delta(temp[5m])",
    "idelta(temp[5m])",
    "deriv(temp[10m])",
    "changes(temp[10m])",
    "resets(reqs_total[30m])",
    "predict_linear(temp[10m], 600)",
    "absent(nope)",
    "absent(nope{job=\"x\", instance=~\"y\"})",
    "absent_over_time(nope[5m])",
    "absent(up)",
    "time()",
    "vector(time())",
    "scalar(sum(up))",
    "clamp_min(temp, 20.5)",
    "clamp_max(temp, 21)",
    "clamp(temp, 20, 21)",
    "round(temp)",
    "round(temp, 0.5)",
    "abs(temp - 21)",
    "avg_over_time(temp[5m])",
    "sum_over_time(temp[5m])",
    "min_over_time(temp[10m])",
    "max_over_time(temp[10m])",
    "count_over_time(temp[10m])",
    "last_over_time(temp[10m])",
    "quantile_over_time(0.9, temp[10m])",
    "histogram_quantile(0.9, sum by (le) (rate(lat_bucket[5m])))",
    "histogram_quantile(0.5, rate(lat_bucket[5m]))",
    "histogram_quantile(0.99, sum by (job, le) (increase(lat_bucket[10m])))",
    "sum(rate(reqs_total[5m])) by (job)",
    "sum without (instance) (rate(reqs_total[5m]))",
    "avg without (instance) (temp)",
    "avg(temp)",
    "min by (job) (temp)",
    "max(temp)",
    "count(up)",
    "count by (job) (up == 1)",
    "topk(2, temp)",
    "bottomk(1, temp)",
    "quantile(0.5, temp)",
    "quantile by (job) (0.25, temp)",
    "count_values(\"v\", up)",
    "sum by (code) (reqs_total) / ignoring(code) group_left sum(reqs_total)",
    "rate(reqs_total[5m]) * on(job, instance) group_left() up",
    "up * on(job, instance) group_right reqs_total",
    "temp - on(instance) up",
    "temp > 21",
    "temp > bool 21",
    "21 < temp",
    "temp and on(instance) up == 1",
    "temp or nope",
    "temp unless on(job, instance) up == 0",
    "reqs_total{code=\"500\"} / ignoring(code) reqs_total{code=\"200\"}",
    "temp offset 5m",
    "rate(reqs_total[5m] offset 2m)",
    "temp @ 600",
    "max_over_time(rate(reqs_total[2m])[10m:1m])",
    "avg_over_time(temp[10m:])",
    "flappy",
    "ends",
    "timestamp(ends)",
    "-temp",
    "2 * temp + 1",
    "temp ^ 2 % 7",
    "up{instance=~\"a|b\", job!=\"db\"}",
    "reqs_total{code!~\"5..\"}",
    "label_replace(up, \"host\", \"$1\", \"instance\", \"(.*)\")",
    "sort_desc(sum by (instance) (temp))",
];

pub const EVAL_TIMES: &[&str] = &["0s", "2m30s", "10m", "17m30s", "30m"];

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        // Rust's shortest round-trip digits: promtool parses them back to the same f64.
        format!("{v:?}")
    }
}

/// Loads the promtool-notation series into memory the way promtool does (30 s steps from 0).
fn load(series: &[(String, String)], interval_ms: i64) -> MemSource {
    let mut src = MemSource::default();
    for (s, v) in series {
        let labels = parse_series_labels(s).unwrap();
        let samples: Vec<(i64, f64)> = expand_values(v)
            .unwrap()
            .into_iter()
            .enumerate()
            .filter_map(|(i, x)| x.map(|x| (i as i64 * interval_ms, x)))
            .collect();
        src.add_labels(labels, &samples);
    }
    src
}

/// One expression at one instant and Sightline's samples (labels as text, value).
pub type Answer = (String, String, Vec<(String, f64)>);

/// Writes a promtool test file whose expected samples are Sightline's answers.
pub fn differential_test_file(series: &[(String, String)], answers: &[Answer]) -> String {
    let mut y =
        String::from("evaluation_interval: 1m\ntests:\n  - interval: 30s\n    input_series:\n");
    for (s, v) in series {
        writeln!(y, "      - series: '{s}'\n        values: '{v}'").unwrap();
    }
    y.push_str("    promql_expr_test:\n");
    for (expr, at, samples) in answers {
        writeln!(
            y,
            "      - expr: '{}'\n        eval_time: {at}",
            expr.replace('\'', "''")
        )
        .unwrap();
        if samples.is_empty() {
            y.push_str("        exp_samples: []\n");
            continue;
        }
        y.push_str("        exp_samples:\n");
        for (l, v) in samples {
            writeln!(
                y,
                "          - labels: '{}'\n            value: {}",
                l.replace('\'', "''"),
                fmt_value(*v)
            )
            .unwrap();
        }
    }
    y
}

#[test]
fn promql_answers_match_promtool_on_generated_series() {
    let dir = Dir::new();
    let mut total = 0;
    for seed in [1u64, 7, 42] {
        let series = generated_series(seed);
        let src = load(&series, 30_000);
        let mut answers = Vec::new();
        let mut skipped = Vec::new();
        for expr in EXPRESSIONS {
            let q = Query::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
            for at in EVAL_TIMES {
                let t = sightline::promql::parse_duration_ms(at).unwrap();
                let samples: Vec<(String, f64)> = match q
                    .instant(&src, t)
                    .unwrap_or_else(|e| panic!("{expr} at {at}: {e}"))
                {
                    Value::Scalar(v) => vec![(String::new(), v)],
                    Value::Vector(v) => v
                        .into_iter()
                        .map(|s| (s.labels.to_string(), s.value))
                        .collect(),
                    other => panic!("{expr}: {other:?}"),
                };
                // promtool compares with ==, and NaN never equals NaN: leave those out.
                if samples.iter().any(|s| s.1.is_nan()) {
                    skipped.push(format!("{expr} @ {at}"));
                    continue;
                }
                answers.push((expr.to_string(), at.to_string(), samples));
            }
        }
        total += answers.len();
        let file = dir.write(
            &format!("diff_{seed}.yml"),
            differential_test_file(&series, &answers),
        );
        let (verdict, text) = promtool_verdict(&file);
        assert!(
            verdict.is_some(),
            "promtool cannot read the generated file:\n{text}"
        );
        if verdict != Some(true) {
            // promtool sums series in the order its test storage happens to hold them (a Go
            // map), so a sum or mean over several series can differ from run to run in the
            // last bits. Those, and only those, are accepted within 1e-12 relative.
            let ulps = differences_beyond_rounding(&text);
            assert!(
                ulps.is_empty(),
                "seed {seed}: promtool disagrees with Sightline:\n{}",
                ulps.join("\n")
            );
        }
        assert!(
            skipped.len() < answers.len() / 10,
            "too many NaN answers skipped: {skipped:?}"
        );
    }
    assert!(total > 900, "{total}");
}

#[test]
fn unsupported_functions_are_named() {
    let src = MemSource::default();
    let e = Query::parse("holt_winters(up[5m], 0.5, 0.5)")
        .and_then(|q| q.instant(&src, 0))
        .unwrap_err();
    assert!(e.to_string().contains("holt_winters"), "{e}");
    let e = Query::parse("rate(up[5m]").unwrap_err();
    assert!(e.to_string().contains("rate(up[5m]"), "{e}");
}

/// From promtool's failure report, the expressions whose expected (Sightline's) and actual
/// (promtool's) samples differ in labels, count, or by more than rounding.
fn differences_beyond_rounding(report: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"(\S*\{[^}]*\}) (\S+?)(?:,|$)"#).unwrap();
    let parse = |line: &str| -> Vec<(String, f64)> {
        re.captures_iter(line)
            .map(|c| (c[1].to_string(), c[2].parse::<f64>().unwrap_or(f64::NAN)))
            .collect()
    };
    let lines: Vec<&str> = report.lines().collect();
    let mut bad = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim();
        if l.starts_with("expr:") && l.contains(", err:") {
            bad.push(l.to_string());
        } else if l.starts_with("expr:") {
            let exp = lines.get(i + 1).map(|s| s.trim()).unwrap_or("");
            let got = lines.get(i + 2).map(|s| s.trim()).unwrap_or("");
            let (e, g) = (
                parse(exp.trim_start_matches("exp:")),
                parse(got.trim_start_matches("got:")),
            );
            let close = e.len() == g.len()
                && e.iter().zip(&g).all(|(a, b)| {
                    a.0 == b.0
                        && (a.1 == b.1 || ((a.1 - b.1).abs() <= 1e-12 * a.1.abs().max(b.1.abs())))
                });
            if !close {
                bad.push(format!("{l}\n  {exp}\n  {got}"));
            }
            i += 2;
        } else if l.starts_with("alertname:") || l.contains("could not") {
            bad.push(l.to_string());
        }
        i += 1;
    }
    bad
}
