//! `sightline cost` against agentgen's truth (cost and tokens per model, per agent, per run),
//! unknown models listed, and a workspace price file with an alias, effective dates and a
//! tier applied by `--recompute`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::util::{Dir, agentgen, sightline, stderr};

fn cost(dir: &Dir, args: &[&str]) -> Value {
    let mut a = vec!["cost", "--json"];
    a.extend_from_slice(args);
    let o = sightline(&dir.db(), &a);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn rows(v: &Value) -> BTreeMap<String, Value> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

/// The truth rounds each cost to 1e-8 USD; a sum of `n` rounded costs is within n x 5e-9.
fn close_n(a: f64, b: f64, n: usize, what: &str) {
    assert!(
        (a - b).abs() <= 5e-9 * n.max(1) as f64 + 1e-12 * b.abs(),
        "{what}: {a} != {b}"
    );
}

fn close(a: f64, b: f64, what: &str) {
    close_n(a, b, 1, what);
}

fn ingest(dir: &Dir, path: &Path) {
    let o = sightline(&dir.db(), &["ingest", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Per-run truth rows as maps of column name to value.
fn per_run(truth: &Value) -> Vec<BTreeMap<String, Value>> {
    let cols: Vec<String> = truth["per_run"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    truth["per_run"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            cols.iter()
                .cloned()
                .zip(r.as_array().unwrap().iter().cloned())
                .collect()
        })
        .collect()
}

/// Cost and tokens per model, per agent and per run are the truth's, from OTLP and from
/// JSON logs, at two sizes.
#[test]
fn cost_per_model_agent_and_run_match_the_truth() {
    for (kind, runs, seed) in [("otlp", "40", "11"), ("logs", "250", "12")] {
        let dir = Dir::new();
        let file = dir.path(if kind == "otlp" {
            "runs.json"
        } else {
            "runs.log"
        });
        let truth = agentgen(&[kind, "--runs", runs, "--seed", seed], &file);
        ingest(&dir, &file);
        let what = format!("{kind} {runs}");

        let by_model = cost(&dir, &["--by", "model"]);
        let got = rows(&by_model);
        let want = truth["models"].as_object().unwrap();
        assert_eq!(got.len(), want.len(), "{what}: {got:?}");
        for (m, w) in want {
            let g = &got[m];
            close(
                g["cost_usd"].as_f64().unwrap(),
                w["cost_usd"].as_f64().unwrap(),
                &format!("{what} {m} cost"),
            );
            assert_eq!(g["input_tokens"], w["input_tokens"], "{what} {m}");
            assert_eq!(g["output_tokens"], w["output_tokens"], "{what} {m}");
            assert_eq!(g["calls"], w["calls"], "{what} {m}");
            assert_eq!(g["errors"], w["errors"], "{what} {m}");
            assert_eq!(g["unpriced"], 0, "{what} {m}");
        }
        close_n(
            by_model["total_usd"].as_f64().unwrap(),
            truth["cost_usd"]["total"].as_f64().unwrap(),
            want.len(),
            &format!("{what} total"),
        );
        assert_eq!(by_model["unpriced"], Value::Array(vec![]));

        // Per agent and per run, from the truth's per-run table.
        let mut agents: BTreeMap<String, (f64, usize)> = BTreeMap::new();
        let mut by_trace: BTreeMap<String, f64> = BTreeMap::new();
        for r in per_run(&truth) {
            let a = agents
                .entry(r["agent"].as_str().unwrap().to_string())
                .or_default();
            a.0 += r["cost_usd"].as_f64().unwrap();
            a.1 += 1;
            by_trace.insert(
                r["trace_id"].as_str().unwrap().to_string(),
                r["cost_usd"].as_f64().unwrap(),
            );
        }
        let got = rows(&cost(&dir, &["--by", "agent"]));
        assert_eq!(got.len(), agents.len(), "{what}: {got:?}");
        for (a, (c, n)) in &agents {
            close_n(
                got[a]["cost_usd"].as_f64().unwrap(),
                *c,
                *n,
                &format!("{what} agent {a}"),
            );
        }
        let got = rows(&cost(&dir, &["--by", "run"]));
        assert_eq!(got.len(), by_trace.len(), "{what}");
        for (t, c) in &by_trace {
            close(
                got[t]["cost_usd"].as_f64().unwrap(),
                *c,
                &format!("{what} run {t}"),
            );
        }
        // Hours add up to the total.
        let hours: f64 = rows(&cost(&dir, &["--by", "hour"]))
            .values()
            .map(|r| r["cost_usd"].as_f64().unwrap())
            .sum();
        close_n(
            hours,
            truth["cost_usd"]["total"].as_f64().unwrap(),
            by_trace.len(),
            &what,
        );
    }
}

/// One LLM call as the OTLP file has it: start (ns), input and output tokens.
fn calls_of(otlp: &Path, model: &str) -> Vec<(i64, f64, f64)> {
    let v: Value = serde_json::from_slice(&std::fs::read(otlp).unwrap()).unwrap();
    let mut out = Vec::new();
    for rs in v["resourceSpans"].as_array().unwrap() {
        for ss in rs["scopeSpans"].as_array().unwrap() {
            for s in ss["spans"].as_array().unwrap() {
                let attr = |k: &str| {
                    s["attributes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|a| a["key"] == k)
                        .map(|a| a["value"].clone())
                };
                let is_model = attr("gen_ai.request.model")
                    .is_some_and(|m| m["stringValue"].as_str() == Some(model));
                let tok =
                    |k: &str| attr(k).and_then(|v| v["intValue"].as_str()?.parse::<f64>().ok());
                if let (true, Some(i), Some(o)) = (
                    is_model,
                    tok("gen_ai.usage.input_tokens"),
                    tok("gen_ai.usage.output_tokens"),
                ) {
                    let start: i64 = s["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
                    out.push((start, i, o));
                }
            }
        }
    }
    out
}

/// A model the prices do not know is listed, not costed at zero; a workspace price file then
/// prices it "as if" another model, repricing history with an effective date and a tier; the
/// report says what changed.
#[test]
fn unknown_models_are_listed_and_recompute_applies_alias_dates_and_tiers() {
    let dir = Dir::new();
    let generated = dir.path("gen.json");
    let truth = agentgen(&["otlp", "--runs", "60", "--seed", "21"], &generated);
    // The same runs, with gpt-4o-mini renamed to a fine-tune no price knows.
    let text = std::fs::read_to_string(&generated)
        .unwrap()
        .replace("gpt-4o-mini", "my-finetune-v3");
    let otlp = dir.write("runs.json", text);
    ingest(&dir, &otlp);
    let mini = &truth["models"]["gpt-4o-mini"];
    let v = cost(&dir, &["--by", "model"]);
    let missing = v["unpriced"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["model"], "my-finetune-v3");
    assert_eq!(
        missing[0]["calls"], mini["ok"],
        "successful calls carry tokens"
    );
    assert_eq!(missing[0]["input_tokens"], mini["input_tokens"]);
    let got = rows(&v);
    assert_eq!(got["my-finetune-v3"]["cost_usd"], 0.0);
    assert_eq!(got["my-finetune-v3"]["unpriced"], mini["ok"]);
    let text = sightline(&dir.db(), &["cost"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains(&format!(
            "{} calls to `my-finetune-v3` have no price",
            mini["ok"]
        )),
        "{text}"
    );

    // A workspace price file: the fine-tune as gpt-4o-mini; gpt-4o at 5/15 until the middle of
    // the data and 2.5/10 after; gemini-1.5-pro dearer above 2,000 prompt tokens.
    let calls = calls_of(&otlp, "gpt-4o");
    let mut starts: Vec<i64> = calls.iter().map(|c| c.0).collect();
    starts.sort_unstable();
    let cut_ns = starts[starts.len() / 2];
    let cut = sightline::model::format_rfc3339_nanos(cut_ns);
    let prices = format!(
        r#"
[[model]]
name = "my-finetune-v3"
as = "gpt-4o-mini"

[[model]]
name = "gpt-4o"
input = 5.0
output = 15.0

[[model]]
name = "gpt-4o"
effective_from = "{cut}"
input = 2.5
output = 10.0

[[model]]
name = "gemini-1.5-pro"
input = 1.25
output = 5.0
tiers = [{{ above = 2000, input = 2.5, output = 10.0 }}]
"#
    );
    dir.write("workspace.prices.toml", prices);
    assert_eq!(
        dir.db().file_name().unwrap(),
        "workspace.db",
        "price file name"
    );
    let o = sightline(&dir.db(), &["cost", "--recompute", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();

    let want_4o: f64 = calls
        .iter()
        .map(|&(t, i, o)| {
            if t >= cut_ns {
                (i * 2.5 + o * 10.0) / 1e6
            } else {
                (i * 5.0 + o * 15.0) / 1e6
            }
        })
        .sum();
    let want_pro: f64 = calls_of(&otlp, "gemini-1.5-pro")
        .iter()
        .map(|&(_, i, o)| {
            if i > 2000.0 {
                (i * 2.5 + o * 10.0) / 1e6
            } else {
                (i * 1.25 + o * 5.0) / 1e6
            }
        })
        .sum();
    let got = rows(&cost(&dir, &["--by", "model"]));
    close(
        got["my-finetune-v3"]["cost_usd"].as_f64().unwrap(),
        mini["cost_usd"].as_f64().unwrap(),
        "alias",
    );
    close(
        got["gpt-4o"]["cost_usd"].as_f64().unwrap(),
        want_4o,
        "dated gpt-4o",
    );
    close(
        got["gemini-1.5-pro"]["cost_usd"].as_f64().unwrap(),
        want_pro,
        "tiered gemini-1.5-pro",
    );
    // Untouched models keep the truth's cost.
    close(
        got["claude-3-5-sonnet"]["cost_usd"].as_f64().unwrap(),
        truth["models"]["claude-3-5-sonnet"]["cost_usd"]
            .as_f64()
            .unwrap(),
        "unchanged",
    );
    assert_eq!(cost(&dir, &[])["unpriced"], Value::Array(vec![]));

    // The report: before and after, per model that changed.
    let by: BTreeMap<String, Value> = report["by_model"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["model"].as_str().unwrap().to_string(), m.clone()))
        .collect();
    assert_eq!(by["my-finetune-v3"]["before_usd"], 0.0);
    close(
        by["my-finetune-v3"]["after_usd"].as_f64().unwrap(),
        mini["cost_usd"].as_f64().unwrap(),
        "report alias",
    );
    close(
        by["gpt-4o"]["before_usd"].as_f64().unwrap(),
        truth["models"]["gpt-4o"]["cost_usd"].as_f64().unwrap(),
        "report before",
    );
    close(
        by["gpt-4o"]["after_usd"].as_f64().unwrap(),
        want_4o,
        "report after",
    );
    assert!(!by.contains_key("claude-3-5-sonnet"), "{by:?}");
    // Every call here was costed from a price: the report's totals are the workspace's
    // before and after.
    close(
        report["before_usd"].as_f64().unwrap(),
        v["total_usd"].as_f64().unwrap(),
        "before total",
    );
    let after = cost(&dir, &[])["total_usd"].as_f64().unwrap();
    close(report["after_usd"].as_f64().unwrap(), after, "after total");
    // The runs' roll-ups follow: the run list's costs add up to the new total.
    let o = sightline(&dir.db(), &["cost", "--by", "run", "--json"]);
    let runs: Value = serde_json::from_slice(&o.stdout).unwrap();
    close(runs["total_usd"].as_f64().unwrap(), after, "runs after");

    // Recomputing again changes nothing.
    let o = sightline(&dir.db(), &["cost", "--recompute", "--json"]);
    let again: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(again["changed"], 0, "{again}");

    // A broken price file is refused with where and why, and nothing changes.
    dir.write(
        "workspace.prices.toml",
        "[[model]]\nname = \"x\"\ninput = -1\noutput = 1\n",
    );
    let o = sightline(&dir.db(), &["cost", "--recompute"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("workspace.prices.toml") && e.contains("input"),
        "{e}"
    );
    close(
        cost(&dir, &[])["total_usd"].as_f64().unwrap(),
        after,
        "unchanged after a refused file",
    );
}
