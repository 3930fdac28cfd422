//! Spans and runs: the corpus' OTLP and GenAI / OpenInference fixtures, agentgen's OTLP and
//! logs (every style) against its `.truth.json`, bad trace input, and the `runs` / `run` CLI.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sightline::ingest::SkipReason;
use sightline::ingest::genai::Semantics;
use sightline::model::SpanKind;
use sightline::traces::detail::read_span;

use crate::util::{Dir, agentgen, corpus, stdout};

fn db(d: &Dir) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(d.db(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
}

fn count(c: &rusqlite::Connection, sql: &str) -> u64 {
    c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 + 1e-6 * b.abs()
}

/// model, calls, input tokens, output tokens, cost, errors, provider
type ModelRow = (String, u64, u64, u64, f64, u64, Option<String>);
/// spans, llm calls, tool calls, errors, input tokens, output tokens, cost, status, duration
type RunTuple = (u64, u64, u64, u64, u64, u64, f64, i64, i64);

/// Everything the truth file says about spans and runs, checked against the workspace.
fn check_against_truth(d: &Dir, t: &Value, what: &str) {
    let c = db(d);
    assert_eq!(
        count(&c, "SELECT count(*) FROM runs"),
        n(&t["runs"]),
        "{what}: runs"
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM runs WHERE status = 2"),
        n(&t["runs_failed"]),
        "{what}: failed runs"
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM spans"),
        n(&t["spans"]["total"]),
        "{what}: spans"
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM spans WHERE status = 2"),
        n(&t["spans"]["errors"]),
        "{what}: error spans"
    );
    for (k, kind) in [("AGENT", 1), ("LLM", 2), ("TOOL", 3), ("CHAIN", 4)] {
        let want = t["spans"]["by_kind"].get(k).map_or(0, n);
        let got = count(
            &c,
            &format!("SELECT count(*) FROM spans WHERE kind = {kind}"),
        );
        assert_eq!(got, want, "{what}: {k} spans");
    }
    assert_eq!(
        count(&c, "SELECT count(*) FROM spans WHERE kind = 2"),
        n(&t["llm_calls"]),
        "{what}"
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM spans WHERE kind = 3"),
        n(&t["tool_calls"]),
        "{what}"
    );
    // Calls and errors per tool.
    let mut st = c
        .prepare("SELECT tool_name, count(*), total(status = 2) FROM spans WHERE kind = 3 GROUP BY tool_name")
        .unwrap();
    let tools: BTreeMap<String, (u64, u64)> = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (r.get::<_, i64>(1)? as u64, r.get::<_, f64>(2)? as u64),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let want_tools: BTreeMap<String, (u64, u64)> = t["tools"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| n(&v["calls"]) > 0)
        .map(|(k, v)| (k.clone(), (n(&v["calls"]), n(&v["errors"]))))
        .collect();
    assert_eq!(tools, want_tools, "{what}: calls and errors per tool");
    // Calls, tokens and cost per model.
    let mut st = c
        .prepare(
            "SELECT model, count(*), total(input_tokens), total(output_tokens), total(cost),
                    total(status = 2), min(provider)
             FROM spans WHERE kind = 2 GROUP BY model",
        )
        .unwrap();
    let models: Vec<ModelRow> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, f64>(2)? as u64,
                r.get::<_, f64>(3)? as u64,
                r.get(4)?,
                r.get::<_, f64>(5)? as u64,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let want_models = t["models"].as_object().unwrap();
    assert_eq!(
        models.len(),
        want_models.values().filter(|m| n(&m["calls"]) > 0).count(),
        "{what}: models {models:?}"
    );
    for (model, calls, itok, otok, cost, errors, provider) in &models {
        let m = &want_models[model];
        assert_eq!(*calls, n(&m["calls"]), "{what}: {model} calls");
        assert_eq!(*errors, n(&m["errors"]), "{what}: {model} errors");
        assert_eq!(*itok, n(&m["input_tokens"]), "{what}: {model} input tokens");
        assert_eq!(
            *otok,
            n(&m["output_tokens"]),
            "{what}: {model} output tokens"
        );
        assert!(
            close(*cost, m["cost_usd"].as_f64().unwrap()),
            "{what}: {model} cost {cost} vs {}",
            m["cost_usd"]
        );
        assert_eq!(
            provider.as_deref(),
            m["provider"].as_str(),
            "{what}: {model} provider"
        );
    }
    // Every run, from the per-run table.
    let cols: Vec<&str> = t["per_run"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let col = |name: &str| cols.iter().position(|c| *c == name).unwrap();
    let mut st = c
        .prepare(
            "SELECT t.trace_id, r.spans, r.llm_calls, r.tool_calls, r.errors, r.input_tokens,
                    r.output_tokens, r.cost, r.status, r.end_ns - r.start_ns
             FROM runs r JOIN traces t ON t.id = r.trace_ref",
        )
        .unwrap();
    let runs: BTreeMap<String, RunTuple> = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                    r.get::<_, i64>(3)? as u64,
                    r.get::<_, i64>(4)? as u64,
                    r.get::<_, i64>(5)? as u64,
                    r.get::<_, i64>(6)? as u64,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for row in t["per_run"]["rows"].as_array().unwrap() {
        let id = row[col("trace_id")].as_str().unwrap();
        let got = runs
            .get(id)
            .unwrap_or_else(|| panic!("{what}: run {id} missing"));
        assert_eq!(got.0, n(&row[col("spans")]), "{what}: {id} spans");
        assert_eq!(got.1, n(&row[col("llm_calls")]), "{what}: {id} llm calls");
        assert_eq!(got.2, n(&row[col("tool_calls")]), "{what}: {id} tool calls");
        assert_eq!(
            got.3,
            n(&row[col("error_spans")]),
            "{what}: {id} error spans"
        );
        assert_eq!(
            got.4,
            n(&row[col("input_tokens")]),
            "{what}: {id} input tokens"
        );
        assert_eq!(
            got.5,
            n(&row[col("output_tokens")]),
            "{what}: {id} output tokens"
        );
        assert!(
            close(got.6, row[col("cost_usd")].as_f64().unwrap()),
            "{what}: {id} cost"
        );
        assert_eq!(
            got.7 == 2,
            !row[col("ok")].as_bool().unwrap(),
            "{what}: {id} status"
        );
        // Millisecond loggers (pino) lose sub-millisecond digits of both ends.
        let want_ns = (row[col("duration_s")].as_f64().unwrap() * 1e9).round() as i64;
        assert!(
            (got.8 - want_ns).abs() <= 2_000_000,
            "{what}: {id} duration {} vs {want_ns}",
            got.8
        );
    }
}

#[test]
fn agentgen_otlp_matches_truth_as_one_request_and_as_json_lines() {
    for jsonl in [false, true] {
        let d = Dir::new();
        let f = d.path("traces.json");
        let mut args = vec![
            "otlp",
            "--runs",
            "120",
            "--seed",
            "11",
            "--error-burst-at",
            "60",
        ];
        if jsonl {
            args.push("--jsonl");
        }
        let t = agentgen(&args, &f);
        assert!(n(&t["runs_failed"]) > 0, "the burst should fail some runs");
        let r = d.ingest(&[f]);
        assert_eq!(r.files[0].format.as_deref(), Some("otlp-traces"));
        assert_eq!(r.files[0].spans_added, n(&t["spans"]["total"]));
        assert_eq!(r.skipped, 0, "{:?}", r.files[0].skipped_lines);
        check_against_truth(&d, &t, if jsonl { "otlp --jsonl" } else { "otlp" });
    }
}

#[test]
fn agentgen_logs_every_style_give_the_runs_of_the_truth() {
    for style in ["zap", "loguru", "structlog", "pino", "events"] {
        let d = Dir::new();
        let f = d.path(&format!("{style}.jsonl"));
        let t = agentgen(
            &[
                "logs",
                "--style",
                style,
                "--runs",
                "80",
                "--seed",
                "5",
                "--noise-rate",
                "0.01",
                "--error-burst-at",
                "30",
            ],
            &f,
        );
        d.ingest(&[f]);
        check_against_truth(&d, &t, style);
    }
}

#[test]
fn the_same_run_from_otlp_and_from_logs_is_one_run() {
    let d = Dir::new();
    let t = agentgen(&["otlp", "--runs", "20", "--seed", "3"], &d.path("t.json"));
    agentgen(
        &["logs", "--style", "zap", "--runs", "20", "--seed", "3"],
        &d.path("l.jsonl"),
    );
    d.ingest(&[d.path("l.jsonl"), d.path("t.json")]);
    check_against_truth(&d, &t, "otlp + logs");
    // The OTLP names win over the names made up from log lines.
    let c = db(&d);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM spans WHERE name LIKE 'iteration %'"
        ),
        0
    );
    // And the log lines stay linked to their spans.
    let linked = count(
        &c,
        "SELECT count(*) FROM logs l JOIN spans s ON s.trace_ref = l.trace_ref AND s.span_id = l.span_id",
    );
    assert_eq!(
        linked,
        count(&c, "SELECT count(*) FROM logs WHERE span_id IS NOT NULL")
    );
}

#[test]
fn corpus_otlp_examples_load() {
    let d = Dir::new();
    let r = d.ingest(&[corpus("otlp/otlp-proto_examples_trace.json")]);
    assert_eq!(r.files[0].spans_added, 1);
    assert_eq!(r.skipped, 0);
    let out = d.cli(&["run", "5b8efff798038103d269b633813fc60c", "--json"]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["spans"][0];
    assert_eq!(s["name"], "I'm a server span");
    assert_eq!(s["span_id"], "eee19b7ec3c1b174");
    // Its parent is not in the file: still shown, flagged.
    assert_eq!(s["orphan"], true);
    assert_eq!(s["attrs"]["attributes"]["my.span.attr"], "some value");
    assert_eq!(s["attrs"]["resource"]["service.name"], "my.service");
    assert_eq!(s["attrs"]["scope"]["name"], "my.library");
    assert_eq!(s["attrs"]["span_kind"], "server");
    assert_eq!(v["run"]["duration_ns"], 1_000_000_000i64);
}

#[test]
fn corpus_genai_agent_trace_loads_with_kinds_models_tokens_and_the_exception() {
    let d = Dir::new();
    let r = d.ingest(&[corpus("otlp/generated_otlp-json_genai-agent-trace.json")]);
    assert_eq!(r.skipped, 0, "{:?}", r.files[0].skipped_lines);
    assert_eq!(r.files[0].spans_added, 4);
    let out = d.cli(&["runs", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &v["runs"][0];
    let id = run["trace_id"].as_str().unwrap();
    let out = d.cli(&["run", id, "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let spans = v["spans"].as_array().unwrap();
    let kinds: Vec<&str> = spans.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["agent", "llm", "tool", "llm"]);
    let tool = &spans[2];
    assert_eq!(tool["status"], "error");
    let llm: Vec<&Value> = spans.iter().filter(|s| s["kind"] == "llm").collect();
    for s in &llm {
        assert!(s["model"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(s["input_tokens"].as_i64().unwrap() > 0);
        assert!(s["output_tokens"].as_i64().unwrap() > 0);
    }
    let tin: i64 = llm
        .iter()
        .map(|s| s["input_tokens"].as_i64().unwrap())
        .sum();
    assert_eq!(v["run"]["input_tokens"], tin);
    assert_eq!(v["spans"][0]["subtree_input_tokens"], tin);
    assert_eq!(v["run"]["errors"], 1);
    // The exception event is read for the detail pane.
    let reading = read_span(&tool["attrs"].to_string(), SpanKind::Tool);
    assert_eq!(reading.exceptions.len(), 1, "{:?}", tool["attrs"]);
    // The conversation of the second LLM call (the first ran with content capture off).
    let reading = read_span(&llm[1]["attrs"].to_string(), SpanKind::Llm);
    assert!(!reading.input_messages.is_empty());
    assert!(!reading.output_messages.is_empty());
}

fn attrs_file(name: &str) -> Map<String, Value> {
    let v: Value =
        serde_json::from_slice(&std::fs::read(corpus(&format!("otlp/genai/{name}"))).unwrap())
            .unwrap();
    v.as_object().unwrap().clone()
}

#[test]
fn genai_and_openinference_fixtures_map_to_the_same_span() {
    let oi = attrs_file("openinference_client_span_tool_calls.attrs.json");
    let ga = attrs_file("otel_genai_client_span_tool_calls.attrs.json");
    let old = attrs_file("otel_genai_deprecated_client_span_tool_calls.attrs.json");
    let (a, b, c) = (
        Semantics::from_attrs(&oi),
        Semantics::from_attrs(&ga),
        Semantics::from_attrs(&old),
    );
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_eq!(a.kind, Some(SpanKind::Llm));
    assert_eq!(a.model.as_deref(), Some("gpt-4-0613"));
    assert_eq!(a.provider.as_deref(), Some("openai"));
    assert_eq!((a.input_tokens, a.output_tokens), (Some(97), Some(52)));
    // The same conversation, both ways: roles, text, the tool call and its result.
    let wrap = |m: &Map<String, Value>| json!({ "attributes": m }).to_string();
    let ra = read_span(&wrap(&oi), SpanKind::Llm);
    let rb = read_span(&wrap(&ga), SpanKind::Llm);
    let roles = |r: &sightline::traces::detail::SpanReading| {
        r.input_messages
            .iter()
            .map(|m| m.role.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(roles(&ra), ["user", "assistant", "tool"]);
    assert_eq!(roles(&ra), roles(&rb));
    assert_eq!(ra.input_messages[1].tool_calls[0].name, "get_weather");
    assert_eq!(
        ra.input_messages[1].tool_calls,
        rb.input_messages[1].tool_calls
    );
    assert_eq!(ra.input_messages[2].content, rb.input_messages[2].content);
    assert_eq!(ra.output_messages[0].content, rb.output_messages[0].content);
    assert!(ra.output_messages[0].content.contains("rainy"));

    let only = Semantics::from_attrs(&attrs_file(
        "openinference_client_span_input_output_only.attrs.json",
    ));
    assert_eq!(only.kind, Some(SpanKind::Llm));
    assert_eq!(only.input_tokens, Some(97));
    let tool = Semantics::from_attrs(&attrs_file("otel_genai_tool_execution_span.attrs.json"));
    assert_eq!(tool.kind, Some(SpanKind::Tool));
    assert_eq!(tool.tool_name.as_deref(), Some("get_weather"));
    let r = read_span(
        &wrap(&attrs_file("otel_genai_tool_execution_span.attrs.json")),
        SpanKind::Tool,
    );
    assert!(r.tool_arguments.unwrap_or_default().contains("New York"));
    assert!(r.tool_result.unwrap_or_default().contains("sunny"));
}

fn span(id: &str, parent: Option<&str>, start: &str, end: &str) -> Value {
    let mut s = json!({
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": id, "name": format!("op {id}"),
        "startTimeUnixNano": start, "endTimeUnixNano": end,
    });
    if let Some(p) = parent {
        s["parentSpanId"] = json!(p);
    }
    s
}

#[test]
fn bad_spans_are_reported_with_reasons_and_the_good_ones_load() {
    let d = Dir::new();
    let mut weird = span("00f067aa0ba902b7", Some("00f067aa0ba902b1"), "100", "200");
    weird["attributes"] = json!([{"key": "odd", "value": {"mysteryValue": 3}}, {"key": "ok", "value": {"intValue": 7}}]);
    let req = json!({"resourceSpans": [{"scopeSpans": [{"spans": [
        span("00f067aa0ba902b1", None, "100", "900"),
        weird,
        span("00f067aa0ba902b3", Some("00f067aa0ba902b1"), "500", "400"),
        span("not-hex", Some("00f067aa0ba902b1"), "100", "200"),
        json!({"traceId": "0af7651916cd43dd8448eb211c80319c", "name": "no id", "startTimeUnixNano": "1", "endTimeUnixNano": "2"}),
        span("00f067aa0ba902b1", None, "100", "900"),
        span("00f067aa0ba902b5", Some("ffffffffffffffff"), "300", "350"),
    ]}]}]});
    let good = req.to_string();
    // A second request cut off in the middle.
    let cut = &good[..good.len() / 2];
    let f = d.write("bad.jsonl", format!("{good}\n{cut}\n"));
    let r = d.ingest(&[f]);
    let fr = &r.files[0];
    let by = &fr.skipped_by_reason;
    assert_eq!(
        by.get(&SkipReason::InvalidSpan),
        Some(&3),
        "{:?}",
        fr.skipped_lines
    );
    assert_eq!(by.get(&SkipReason::DuplicateSpan), Some(&1));
    assert_eq!(by.get(&SkipReason::UnknownAttributeType), Some(&1));
    assert_eq!(by.get(&SkipReason::TruncatedJson), Some(&1));
    let details: Vec<&str> = fr.skipped_lines.iter().map(|s| s.detail.as_str()).collect();
    assert!(
        details.iter().any(|d| d.contains("before it starts")),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.contains("spanId") && d.contains("not-hex")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("no spanId")),
        "{details:?}"
    );
    assert!(details.iter().any(|d| d.contains("\"odd\"")), "{details:?}");
    assert!(fr.skipped_lines.iter().all(|s| s.line == 1 || s.line == 2));
    assert_eq!(fr.spans_added, 3);
    let c = db(&d);
    assert_eq!(count(&c, "SELECT count(*) FROM spans"), 3);
    let out = d.cli(&["run", "0af7651916cd43dd", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["orphans"], 1);
    assert_eq!(v["spans"][1]["attrs"]["attributes"]["ok"], 7);
}

#[test]
fn runs_cli_filters_sorts_and_prints_a_tree() {
    let d = Dir::new();
    let t = agentgen(
        &[
            "otlp",
            "--runs",
            "40",
            "--seed",
            "9",
            "--error-burst-at",
            "20",
        ],
        &d.path("t.json"),
    );
    d.ingest(&[d.path("t.json")]);
    let runs = |args: &[&str]| -> Value {
        let mut a = vec!["runs", "--json", "--limit", "1000"];
        a.extend_from_slice(args);
        let out = d.cli(&a);
        assert!(out.status.success(), "{}", crate::util::stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(runs(&[])["total"], t["runs"]);
    assert_eq!(runs(&["--status", "error"])["total"], t["runs_failed"]);
    assert_eq!(n(&runs(&["--status", "ok"])["total"]), n(&t["runs_ok"]));
    let by_cost = runs(&["--sort", "cost", "--desc"]);
    let costs: Vec<f64> = by_cost["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cost"].as_f64().unwrap())
        .collect();
    assert!(costs.windows(2).all(|w| w[0] >= w[1]));
    let min = costs[costs.len() / 2];
    assert_eq!(
        n(&runs(&["--min-cost", &min.to_string()])["total"]),
        costs.iter().filter(|c| **c >= min).count() as u64
    );
    let long = runs(&["--min-duration", "20s"]);
    assert!(
        long["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["duration_ns"].as_i64().unwrap() >= 20_000_000_000)
    );
    let model = t["models"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let with_model = runs(&["--model", &model]);
    assert!(n(&with_model["total"]) > 0);
    let with_tool = runs(&["--tool", "search_web"]);
    let agents_with_tool = n(&with_tool["total"]);
    assert!(agents_with_tool > 0 && agents_with_tool < n(&t["runs"]));
    assert_eq!(
        n(&runs(&["--text", "agent.research"])["total"]),
        n(&t["agents"]["research"]["runs"])
    );
    // One run as a tree, by a prefix of its id.
    let id = by_cost["runs"][0]["trace_id"].as_str().unwrap();
    let out = d.cli(&["run", &id[..8], "--tree"]);
    let text = stdout(&out);
    assert!(text.contains("agent."), "{text}");
    assert!(text.lines().any(|l| l.contains("    chat ")), "{text}");
    // Errors say what is wrong.
    let out = d.cli(&["run", "zz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::util::stderr(&out).contains("run id"));
}

#[test]
fn demo_has_runs() {
    let d = Dir::new();
    let out = d.cli(&["demo", "-o", d.path("demo").to_str().unwrap(), "--ingest"]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let c = db(&d);
    assert!(count(&c, "SELECT count(*) FROM runs") >= 5);
    assert!(count(&c, "SELECT count(*) FROM spans WHERE kind = 2 AND cost > 0") > 0);
}

#[test]
fn langfuse_exports_load_with_their_observations_usage_and_cost() {
    for name in [
        "langfuse_export_langgraph-2025-08-22.json",
        "langfuse_export_openai-agents-2025-09-30.json",
        "langfuse_export_pydantic-ai-tools-2025-12-04.json",
    ] {
        let path = corpus(&format!("agent_traces/{name}"));
        let src: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let obs = src["observations"].as_array().unwrap();
        let of_type = |t: &str| obs.iter().filter(|o| o["type"] == t).count() as u64;
        let usage = |k: &str| -> u64 {
            obs.iter()
                .filter(|o| o["type"] == "GENERATION")
                .map(|o| o["usageDetails"][k].as_u64().unwrap_or(0))
                .sum()
        };
        let cost: f64 = obs
            .iter()
            .map(|o| o["totalCost"].as_f64().unwrap_or(0.0))
            .sum();
        let d = Dir::new();
        let r = d.ingest(&[path]);
        assert_eq!(r.files[0].format.as_deref(), Some("langfuse"), "{name}");
        assert_eq!(r.skipped, 0, "{name}: {:?}", r.files[0].skipped_lines);
        let c = db(&d);
        assert_eq!(count(&c, "SELECT count(*) FROM runs"), 1, "{name}");
        assert_eq!(
            count(&c, "SELECT spans FROM runs"),
            obs.len() as u64,
            "{name}"
        );
        assert_eq!(
            count(&c, "SELECT llm_calls FROM runs"),
            of_type("GENERATION"),
            "{name}"
        );
        assert_eq!(
            count(&c, "SELECT tool_calls FROM runs"),
            of_type("TOOL"),
            "{name}"
        );
        assert_eq!(
            count(&c, "SELECT input_tokens FROM runs"),
            usage("input"),
            "{name}"
        );
        assert_eq!(
            count(&c, "SELECT output_tokens FROM runs"),
            usage("output"),
            "{name}"
        );
        let got: f64 = c
            .query_row("SELECT cost FROM runs", [], |r| r.get(0))
            .unwrap();
        assert!(close(got, cost), "{name}: cost {got} vs {cost}");
        assert_eq!(
            count(
                &c,
                "SELECT count(*) FROM spans WHERE kind = 2 AND (model IS NULL OR model = '')"
            ),
            0,
            "{name}: every generation has its model"
        );
        // The generations read as conversations.
        let out = d.cli(&["runs", "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let id = v["runs"][0]["trace_id"].as_str().unwrap().to_owned();
        let out = d.cli(&["run", &id, "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let llm = v["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "llm")
            .unwrap();
        let reading = read_span(&llm["attrs"].to_string(), SpanKind::Llm);
        assert!(
            !reading.input_messages.is_empty(),
            "{name}: {}",
            llm["attrs"]
        );
    }
}

#[test]
fn langsmith_payloads_load_post_and_patch_as_one_run() {
    for name in [
        "langsmith_js_wrap_openai_default.json",
        "langsmith_py_wrap_openai_reasoning.json",
    ] {
        let path = corpus(&format!("agent_traces/{name}"));
        let src: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let patch = &src["patch"][0];
        let usage = &patch["outputs"]["usage_metadata"];
        let d = Dir::new();
        let r = d.ingest(&[path]);
        assert_eq!(r.files[0].format.as_deref(), Some("langsmith"), "{name}");
        assert_eq!(r.skipped, 0, "{name}: {:?}", r.files[0].skipped_lines);
        let out = d.cli(&["runs", "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let run = &v["runs"][0];
        assert_eq!(v["total"], 1);
        assert_eq!(run["llm_calls"], 1);
        assert_eq!(run["input_tokens"], usage["input_tokens"], "{name}");
        assert_eq!(run["output_tokens"], usage["output_tokens"], "{name}");
        assert!(
            run["duration_ns"].as_i64().unwrap() > 0,
            "{name}: the patch's end time counts"
        );
        assert!(
            run["cost"].as_f64().unwrap() > 0.0,
            "{name}: priced from the table"
        );
        let out = d.cli(&["run", run["trace_id"].as_str().unwrap(), "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let reading = read_span(&v["spans"][0]["attrs"].to_string(), SpanKind::Llm);
        assert_eq!(reading.input_messages[0].role, "user");
        assert_eq!(reading.output_messages[0].role, "assistant");
        assert!(!reading.output_messages[0].content.is_empty());
    }
}
