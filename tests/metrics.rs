//! Metric series in the workspace: exposition files in, `sightline query` out.

use std::fmt::Write as _;

use serde_json::Value;

use crate::promql::{EVAL_TIMES, EXPRESSIONS, generated_series};
use crate::util::{Dir, agentgen, sightline, stdout};

fn query_json(dir: &Dir, args: &[&str]) -> Value {
    let mut a = vec!["query"];
    a.extend_from_slice(args);
    a.push("--json");
    let o = sightline(&dir.db(), &a);
    assert!(o.status.success(), "{args:?}: {}", crate::util::stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `sightline alerts backtest --rules FILE --json [ARGS]`, which must succeed without rule
/// errors.
fn backtest(dir: &Dir, rules: &std::path::Path, args: &[&str]) -> Value {
    let mut a = vec![
        "alerts",
        "backtest",
        "--rules",
        rules.to_str().unwrap(),
        "--json",
    ];
    a.extend_from_slice(args);
    let o = sightline(&dir.db(), &a);
    assert!(o.status.success(), "{}", crate::util::stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(r["errors"].as_array().unwrap().is_empty(), "{r}");
    r
}

fn f(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn agentgen_prom_snapshots_answer_queries_with_the_truth() {
    let dir = Dir::new();
    let out = dir.path("prom");
    let truth = agentgen(
        &["prom", "--runs", "30", "--interval", "15", "--seed", "5"],
        &out,
    );
    let o = sightline(&dir.db(), &["ingest", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    let snapshots = truth["prom"]["snapshots"].as_u64().unwrap();
    let last = truth["prom"]["last_snapshot"].as_str().unwrap();
    // 20240601T120100Z.prom -> 2024-06-01T12:01:00Z
    let at = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &last[0..4],
        &last[4..6],
        &last[6..8],
        &last[9..11],
        &last[11..13],
        &last[13..15]
    );

    // Tokens per model at the last scrape.
    let v = query_json(
        &dir,
        &["sum by (model) (agent_llm_tokens_total)", "--at", &at],
    );
    let result = v["result"].as_array().unwrap();
    let models = truth["models"].as_object().unwrap();
    let with_calls = models
        .values()
        .filter(|m| m["ok"].as_u64().unwrap() > 0)
        .count();
    assert_eq!(result.len(), with_calls, "{v}");
    for r in result {
        let m = r["metric"]["model"].as_str().unwrap();
        let t = &models[m];
        assert_eq!(
            f(&r["value"][1]),
            (t["input_tokens"].as_u64().unwrap() + t["output_tokens"].as_u64().unwrap()) as f64,
            "{m}"
        );
    }
    // Cost, rounded as the exposition writes it.
    let v = query_json(&dir, &["sum(agent_api_cost_dollars)", "--at", &at]);
    let cost = f(&v["result"][0]["value"][1]);
    let want = truth["cost_usd"]["total"].as_f64().unwrap();
    assert!((cost - want).abs() < 1e-4, "{cost} vs {want}");
    // One sample per snapshot, at the time in its file name.
    let v = query_json(
        &dir,
        &["count_over_time(agent_active_sessions[1h])", "--at", &at],
    );
    assert_eq!(f(&v["result"][0]["value"][1]) as u64, snapshots, "{v}");
    // A range query over the snapshots.
    let v = query_json(
        &dir,
        &[
            "sum(agent_llm_tokens_total)",
            "--start",
            "2024-06-01T12:00:00Z",
            "--end",
            &at,
            "--step",
            "15s",
        ],
    );
    let values = v["result"][0]["values"].as_array().unwrap();
    assert!(values.len() as u64 >= snapshots, "{v}");
    let first = f(&values[0][1]);
    let lastv = f(&values[values.len() - 1][1]);
    assert!(first <= lastv);
    assert_eq!(lastv, truth["tokens"]["total"].as_f64().unwrap());

    // Reading the same folder again adds nothing.
    let o = sightline(&dir.db(), &["ingest", out.to_str().unwrap(), "--json"]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["samples_added"].as_u64().unwrap(), 0, "{r}");
}

#[test]
fn bad_queries_and_empty_workspaces_say_what_is_wrong() {
    let dir = Dir::new();
    let o = sightline(&dir.db(), &["query", "rate(up[5m]"]);
    assert!(!o.status.success());
    assert!(
        crate::util::stderr(&o).contains("rate(up[5m]"),
        "{}",
        crate::util::stderr(&o)
    );
    let o = sightline(&dir.db(), &["query", "up"]);
    assert!(o.status.success());
    assert!(
        crate::util::stderr(&o).contains("no metric series"),
        "{}",
        crate::util::stderr(&o)
    );
    let o = sightline(&dir.db(), &["query", "holt_winters(up[5m], 0.1, 0.1)"]);
    assert!(!o.status.success());
    assert!(crate::util::stderr(&o).contains("holt_winters"));
}

/// The generated series of the differential suite, as one exposition file with a timestamp
/// on every sample (the text format's milliseconds).
fn exposition_of(series: &[(String, String)]) -> String {
    let mut out = String::new();
    for (s, values) in series {
        let labels = sightline::promql::parse_series_labels(s).unwrap();
        let steps = sightline::alerts::notation::expand_values(values).unwrap();
        for (i, v) in steps.iter().enumerate() {
            let Some(v) = v else { continue };
            let name = labels.name().unwrap();
            let rest: Vec<String> = labels
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect();
            writeln!(
                out,
                "{name}{{{}}} {v:?} {}",
                rest.join(","),
                i as i64 * 30_000
            )
            .unwrap();
        }
    }
    out
}

#[test]
fn sightline_query_on_a_workspace_agrees_with_the_promtool_checked_engine() {
    let dir = Dir::new();
    // Staleness markers cannot be written in an exposition: leave that series out.
    let series: Vec<_> = generated_series(7)
        .into_iter()
        .filter(|(s, _)| s != "flappy")
        .collect();
    let file = dir.write("generated.prom", exposition_of(&series));
    let o = sightline(&dir.db(), &["ingest", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    let mut mem = sightline::promql::MemSource::default();
    for (s, v) in &series {
        let l = sightline::promql::parse_series_labels(s).unwrap();
        let samples: Vec<(i64, f64)> = sightline::alerts::notation::expand_values(v)
            .unwrap()
            .into_iter()
            .enumerate()
            .filter_map(|(i, x)| x.map(|x| (i as i64 * 30_000, x)))
            .collect();
        mem.add_labels(l, &samples);
    }
    let mut compared = 0;
    for expr in EXPRESSIONS.iter().filter(|e| !e.contains("flappy")) {
        for at in [EVAL_TIMES[2], EVAL_TIMES[4]] {
            let t = sightline::promql::parse_duration_ms(at).unwrap();
            let want = sightline::promql::Query::parse(expr)
                .unwrap()
                .instant(&mem, t)
                .unwrap();
            let got = query_json(&dir, &[expr, "--at", &format!("{}", t as f64 / 1000.0)]);
            let mut want_pairs: Vec<(String, String)> = match want {
                sightline::promql::Value::Vector(v) => v
                    .iter()
                    .map(|s| {
                        (
                            serde_json::to_string(&s.labels).unwrap(),
                            sightline::promql::gofmt::format_g(s.value),
                        )
                    })
                    .collect(),
                sightline::promql::Value::Scalar(x) => {
                    vec![("scalar".into(), sightline::promql::gofmt::format_g(x))]
                }
                other => panic!("{other:?}"),
            };
            let mut got_pairs: Vec<(String, String)> = if got["resultType"] == "scalar" {
                vec![(
                    "scalar".into(),
                    got["result"][1].as_str().unwrap().to_string(),
                )]
            } else {
                got["result"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        let m: std::collections::BTreeMap<String, String> =
                            serde_json::from_value(r["metric"].clone()).unwrap();
                        (
                            serde_json::to_string(&m).unwrap(),
                            r["value"][1].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            };
            want_pairs.sort();
            got_pairs.sort();
            assert_eq!(got_pairs, want_pairs, "{expr} at {at}");
            compared += 1;
        }
    }
    assert!(compared > 130, "{compared}");
}

#[test]
fn derived_series_from_spans_and_logs_match_the_truth() {
    let dir = Dir::new();
    let otlp = dir.path("run.json");
    let truth = agentgen(&["otlp", "--runs", "25", "--seed", "11"], &otlp);
    let logs = dir.path("app.jsonl");
    agentgen(
        &["logs", "--runs", "25", "--seed", "11", "--style", "zap"],
        &logs,
    );
    let o = sightline(
        &dir.db(),
        &["ingest", otlp.to_str().unwrap(), logs.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stdout(&o));
    // A minute after the last span ends, every counter holds its final value.
    let end_us = truth["time_range"]["end_unix_us"].as_i64().unwrap();
    let at = format!("{}", (end_us / 1000 + 60_000) as f64 / 1000.0);
    let v = query_json(
        &dir,
        &["sum by (model) (sightline_llm_tokens_total)", "--at", &at],
    );
    for r in v["result"].as_array().unwrap() {
        let m = &truth["models"][r["metric"]["model"].as_str().unwrap()];
        assert_eq!(
            f(&r["value"][1]),
            (m["input_tokens"].as_u64().unwrap() + m["output_tokens"].as_u64().unwrap()) as f64
        );
    }
    let v = query_json(&dir, &["sum(sightline_llm_cost_usd_total)", "--at", &at]);
    assert!(
        (f(&v["result"][0]["value"][1]) - truth["cost_usd"]["total"].as_f64().unwrap()).abs()
            < 1e-9
    );
    let v = query_json(
        &dir,
        &[
            "sum by (tool) (sightline_tool_calls_total{status=\"error\"})",
            "--at",
            &at,
        ],
    );
    for r in v["result"].as_array().unwrap() {
        let t = r["metric"]["tool"].as_str().unwrap();
        assert_eq!(
            f(&r["value"][1]) as u64,
            truth["tools"][t]["errors"].as_u64().unwrap(),
            "{t}"
        );
    }
    let v = query_json(
        &dir,
        &["sum by (kind) (sightline_spans_total)", "--at", &at],
    );
    let llm = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"]["kind"] == "llm")
        .unwrap();
    assert_eq!(
        f(&llm["value"][1]) as u64,
        truth["spans"]["by_kind"]["LLM"].as_u64().unwrap()
    );
    let v = query_json(
        &dir,
        &[
            "sum(sightline_span_duration_seconds_count{kind=\"llm\"})",
            "--at",
            &at,
        ],
    );
    assert_eq!(
        f(&v["result"][0]["value"][1]) as u64,
        truth["spans"]["by_kind"]["LLM"].as_u64().unwrap()
    );
    // Log records by level add up to what the workspace holds, under the file's name.
    let stats = dir.stats();
    let records = stats["records"]
        .as_u64()
        .unwrap_or_else(|| stats["logs"].as_u64().unwrap_or(0));
    let store = sightline::store::Store::open(&dir.db()).unwrap();
    let conn = store.reader().unwrap();
    let last_log: i64 = conn
        .query_row("SELECT max(ts) / 1000000 FROM logs", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    store.close();
    let at = format!("{}", (last_log + 1000) as f64 / 1000.0);
    let v = query_json(
        &dir,
        &[
            "sum(sightline_log_records_total{source=\"app.jsonl\"})",
            "--at",
            &at,
        ],
    );
    assert_eq!(
        f(&v["result"][0]["value"][1]) as u64,
        records,
        "{v} {stats}"
    );
    // increase() over the run counts every error span, the first one included.
    let v = query_json(
        &dir,
        &[
            "sum(increase(sightline_spans_total{status=\"error\"}[1d]))",
            "--at",
            &at,
        ],
    );
    assert!(
        f(&v["result"][0]["value"][1]) >= truth["spans"]["errors"].as_f64().unwrap() - 0.5,
        "{v}"
    );
}

#[test]
fn backtesting_rules_over_a_recorded_run_shows_when_alerts_were_pending_and_firing() {
    let dir = Dir::new();
    let otlp = dir.path("run.json");
    let truth = agentgen(&["otlp", "--runs", "25", "--seed", "11"], &otlp);
    let o = sightline(&dir.db(), &["ingest", otlp.to_str().unwrap()]);
    assert!(o.status.success());
    let rules = dir.write(
        "rules.yml",
        "groups:\n  - name: agent\n    interval: 5s\n    rules:\n      - alert: ToolErrors\n        expr: sum by (tool) (increase(sightline_tool_calls_total{status=\"error\"}[30s])) > 0\n      - alert: Spending\n        expr: sum(increase(sightline_llm_cost_usd_total[1m])) > 0\n        for: 10s\n",
    );
    let r = backtest(&dir, &rules, &[]);
    // One ToolErrors alert per tool that failed, and none for the others.
    let mut alerted: Vec<String> = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["alertname"] == "ToolErrors")
        .map(|a| a["labels"]["tool"].as_str().unwrap().to_string())
        .collect();
    alerted.sort();
    alerted.dedup();
    let mut failed: Vec<String> = truth["tools"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, t)| t["errors"].as_u64().unwrap() > 0)
        .map(|(k, _)| k.clone())
        .collect();
    failed.sort();
    assert_eq!(alerted, failed, "{r}");
    // `for: 10s`: pending for at least 10 s before firing.
    let spending = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alertname"] == "Spending")
        .unwrap();
    let spans = spending["spans"].as_array().unwrap();
    assert_eq!(spans[0]["phase"], "pending", "{spending}");
    assert_eq!(spans[1]["phase"], "firing", "{spending}");
    assert!(
        spans[1]["from_ms"].as_i64().unwrap() - spans[0]["from_ms"].as_i64().unwrap() >= 10_000
    );
}

#[test]
fn the_default_agent_rules_check_clean_and_backtest_on_a_recorded_run() {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/agent-defaults.yml");
    let dir = Dir::new();
    let o = sightline(&dir.db(), &["rules", "check", rules.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(!stdout(&o).contains("warning"), "{}", stdout(&o));
    let otlp = dir.path("run.json");
    let truth = agentgen(&["otlp", "--runs", "40", "--seed", "21"], &otlp);
    assert!(
        sightline(&dir.db(), &["ingest", otlp.to_str().unwrap()])
            .status
            .success()
    );
    let r = backtest(&dir, &rules, &[]);
    // A tool "failing repeatedly" really failed at least twice.
    for a in r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["alertname"] == "ToolFailingRepeatedly")
    {
        let tool = a["labels"]["tool"].as_str().unwrap();
        assert!(
            truth["tools"][tool]["errors"].as_u64().unwrap() >= 2,
            "{tool}: {a}"
        );
    }
    // Tools that failed raise the error-rate alert; annotations are expanded.
    let rate: Vec<&Value> = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["alertname"] == "ToolErrorRateHigh")
        .collect();
    for a in &rate {
        let tool = a["labels"]["tool"].as_str().unwrap();
        assert!(
            truth["tools"][tool]["errors"].as_u64().unwrap() >= 1,
            "{tool}"
        );
    }
    assert!(
        truth["tool_errors"].as_u64().unwrap() == 0 || !rate.is_empty(),
        "{r}"
    );
}

/// An OTLP/JSON request with one trace: `calls` tool spans (name, arguments) one after the
/// other from `t0_ns`, each 1 s, under a root span that is absent (the run still goes on).
fn otlp_tool_calls(t0_ns: i64, calls: &[(&str, &str)]) -> String {
    let spans: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (tool, args))| {
            let s = t0_ns + i as i64 * 1_000_000_000;
            serde_json::json!({
                "traceId": "0af7651916cd43dd8448eb211c80319c",
                "spanId": format!("{:016x}", i + 1),
                "parentSpanId": "00000000000000aa",
                "name": format!("execute_tool {tool}"),
                "startTimeUnixNano": s.to_string(),
                "endTimeUnixNano": (s + 900_000_000).to_string(),
                "attributes": [
                    {"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
                    {"key": "gen_ai.tool.name", "value": {"stringValue": tool}},
                    {"key": "gen_ai.tool.call.arguments", "value": {"stringValue": args}}
                ]
            })
        })
        .collect();
    serde_json::json!({"resourceSpans": [{"resource": {"attributes": []},
        "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]})
    .to_string()
}

#[test]
fn the_default_loop_and_stall_rules_fire_on_a_looping_run_that_then_goes_quiet() {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/agent-defaults.yml");
    let dir = Dir::new();
    let t0: i64 = 1_717_243_200_000_000_000; // 2024-06-01T12:00:00Z
    // search x2 with different arguments, then fetch six times with the same ones.
    let mut calls = vec![("search", "{\"q\":\"a\"}"), ("search", "{\"q\":\"b\"}")];
    calls.extend(std::iter::repeat_n(
        ("fetch", "{\"url\":\"https://x.test\"}"),
        6,
    ));
    let f = dir.write("loop.json", otlp_tool_calls(t0, &calls));
    assert!(
        sightline(&dir.db(), &["ingest", f.to_str().unwrap()])
            .status
            .success()
    );
    let r = backtest(
        &dir,
        &rules,
        &[
            "--start",
            "2024-06-01T12:00:00Z",
            "--end",
            "2024-06-01T12:04:00Z",
        ],
    );
    let alerts = r["alerts"].as_array().unwrap();
    let looped: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["alertname"] == "ToolCallLoop")
        .collect();
    assert_eq!(looped.len(), 1, "{r}");
    assert_eq!(looped[0]["labels"]["tool"], "fetch");
    assert_eq!(looped[0]["first_value"], 6.0);
    // The run's root never ended and nothing came for more than a minute: stalled, from
    // about 60 s after the last span ended (12:00:07.9).
    let stalled: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["alertname"] == "RunStalled")
        .collect();
    assert_eq!(stalled.len(), 1, "{r}");
    let from = stalled[0]["spans"][0]["from_ms"].as_f64().unwrap();
    let last_end_ms = (t0 / 1_000_000 + 7_900) as f64;
    assert!(
        (last_end_ms + 60_000.0..=last_end_ms + 66_000.0).contains(&from),
        "stalled from {from}, last activity {last_end_ms}"
    );
}
