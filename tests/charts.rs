//! `sightline chart` and `sightline report`: chart data against agentgen's truth (cost and
//! tokens per model, latency percentiles and error rates per operation), LLM spend by
//! trigger against the runs' own structure, PNG and SVG drawn headless and checked, and a
//! self-contained HTML report.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util::{Dir, agentgen, sightline, stderr};

fn ingest(dir: &Dir, path: &Path) {
    let o = sightline(&dir.db(), &["ingest", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `sightline chart ARGS -o chart.json`: the chart's data.
fn chart(dir: &Dir, args: &[&str]) -> Value {
    let out = dir.path("chart.json");
    let mut a = vec!["chart"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", out.to_str().unwrap()]);
    let o = sightline(&dir.db(), &a);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

/// Each series' values summed, by label.
fn sums(c: &Value) -> BTreeMap<String, f64> {
    c["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let sum: f64 = s["values"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_f64)
                .sum();
            let total = s["total"].as_f64().unwrap();
            assert!((sum - total).abs() <= 1e-9 * total.abs().max(1.0), "{s}");
            (s["label"].as_str().unwrap().to_string(), sum)
        })
        .collect()
}

/// The one value of each series of a one-bucket chart, by label.
fn single(c: &Value) -> BTreeMap<String, f64> {
    assert_eq!(c["x_ms"].as_array().unwrap().len(), 1, "{c}");
    c["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["label"].as_str().unwrap().to_string(),
                s["values"][0].as_f64().unwrap(),
            )
        })
        .collect()
}

fn otlp_dir(runs: &str, seed: &str) -> (Dir, Value) {
    let dir = Dir::new();
    let file = dir.path("runs.json");
    let truth = agentgen(&["otlp", "--runs", runs, "--seed", seed], &file);
    ingest(&dir, &file);
    (dir, truth)
}

/// Cost per model and tokens per type, summed over the chart's buckets, are the truth's, and
/// every bucket's cost adds up across the groupings.
#[test]
fn cost_and_token_charts_add_up_to_the_truth() {
    for (runs, seed) in [("60", "21"), ("400", "22")] {
        let (dir, truth) = otlp_dir(runs, seed);
        let c = chart(&dir, &["cost", "--top", "50"]);
        assert_eq!(c["stacked"], true);
        assert_eq!(c["unit"], "USD");
        assert!(c["x_ms"].as_array().unwrap().len() <= 120);
        let got = sums(&c);
        let want = truth["models"].as_object().unwrap();
        assert_eq!(
            got.keys().collect::<BTreeSet<_>>(),
            want.keys().collect::<BTreeSet<_>>()
        );
        for (m, w) in want {
            let calls = w["calls"].as_u64().unwrap() as f64;
            let w = w["cost_usd"].as_f64().unwrap();
            assert!(
                (got[m] - w).abs() <= 5e-9 * calls,
                "{runs} {m}: {} != {w}",
                got[m]
            );
        }

        let total = truth["cost_usd"]["total"].as_f64().unwrap();
        let llm = truth["llm_calls"].as_f64().unwrap();
        for by in ["provider", "agent", "trigger"] {
            let s: f64 = sums(&chart(&dir, &["cost", "--by", by, "--top", "50"]))
                .values()
                .sum();
            assert!((s - total).abs() <= 5e-9 * llm, "{by}: {s} != {total}");
        }
        // At most --top series: the rest are summed into "other".
        let top = chart(&dir, &["cost", "--by", "trigger", "--top", "3"]);
        let labels: Vec<&str> = top["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["label"].as_str().unwrap())
            .collect();
        assert_eq!(labels.len(), 3, "{labels:?}");
        assert!(labels[2].starts_with("other ("), "{labels:?}");
        let s: f64 = sums(&top).values().sum();
        assert!((s - total).abs() <= 5e-9 * llm);

        let t = sums(&chart(&dir, &["tokens"]));
        assert_eq!(t["input"], truth["tokens"]["input"].as_f64().unwrap());
        assert_eq!(t["output"], truth["tokens"]["output"].as_f64().unwrap());
        let t: f64 = sums(&chart(&dir, &["tokens", "--by", "model"]))
            .values()
            .sum();
        assert_eq!(t, truth["tokens"]["total"].as_f64().unwrap());
    }
}

/// In one bucket, the latency chart's p50/p95/p99/max per operation and the error chart's
/// failed share per kind are the truth's.
#[test]
fn latency_and_error_charts_match_the_truth() {
    let (dir, truth) = otlp_dir("300", "23");
    let ops = truth["latency_seconds"]["by_operation"]
        .as_object()
        .unwrap();
    for (p, field) in [("50", "p50"), ("95", "p95"), ("99", "p99"), ("100", "max")] {
        let c = chart(
            &dir,
            &[
                "latency",
                "--by",
                "operation",
                "--per",
                "3650d",
                "--top",
                "100",
                "--percentile",
                p,
            ],
        );
        assert_eq!(c["unit"], "s");
        let got = single(&c);
        assert_eq!(got.len(), ops.len(), "{got:?}");
        for (op, w) in ops {
            let w = w[field].as_f64().unwrap();
            // The truth is rounded to the microsecond.
            assert!(
                (got[op] - w).abs() <= 1e-6,
                "{op} {field}: {} != {w}",
                got[op]
            );
        }
    }
    let c = chart(&dir, &["errors", "--per", "3650d"]);
    let got = single(&c);
    let rate = |e: &str, n: &str| 100.0 * truth[e].as_f64().unwrap() / truth[n].as_f64().unwrap();
    assert!((got["llm"] - rate("llm_errors", "llm_calls")).abs() < 1e-9);
    assert!((got["tool"] - rate("tool_errors", "tool_calls")).abs() < 1e-9);
    let failed = 100.0 * truth["runs_failed"].as_f64().unwrap() / truth["runs"].as_f64().unwrap();
    assert!((got["agent"] - failed).abs() < 1e-9, "{got:?}");
    // A percentile the chart does not draw is refused with what it accepts.
    let o = sightline(
        &dir.db(),
        &[
            "chart",
            "latency",
            "--percentile",
            "97",
            "-o",
            dir.path("x.png").to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("50, 90, 95, 99 or 100"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path("x.png").exists());
}

/// LLM spend by trigger: recomputed here from the OTLP file's own structure (an agentgen run
/// is a chain of ReAct iterations; the LLM calls of iteration k went on from the results of
/// the tools of iteration k-1; those of the first iteration from the run's input).
#[test]
fn spend_by_trigger_follows_the_tool_results() {
    let dir = Dir::new();
    let file = dir.path("runs.json");
    let truth = agentgen(&["otlp", "--runs", "150", "--seed", "24"], &file);
    ingest(&dir, &file);
    let prices = &truth["cost_usd"]["prices_usd_per_1m_tokens"];
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let attr = |s: &Value, key: &str| -> Option<Value> {
        s["attributes"]
            .as_array()?
            .iter()
            .find(|a| a["key"] == key)
            .and_then(|a| a["value"].as_object()?.values().next().cloned())
    };
    let num = |v: Option<Value>| -> f64 {
        match v {
            Some(Value::String(s)) => s.parse().unwrap(),
            Some(v) => v.as_f64().unwrap(),
            None => 0.0,
        }
    };
    let mut want: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    for rs in doc["resourceSpans"].as_array().unwrap() {
        let spans: Vec<&Value> = rs["scopeSpans"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|ss| ss["spans"].as_array().unwrap())
            .collect();
        let start = |s: &Value| {
            s["startTimeUnixNano"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
        };
        let mut chains: Vec<&Value> = spans
            .iter()
            .copied()
            .filter(|s| s["name"] == "react.iteration")
            .collect();
        chains.sort_by_key(|s| start(s));
        let iteration: HashMap<&str, usize> = chains
            .iter()
            .enumerate()
            .map(|(i, c)| (c["spanId"].as_str().unwrap(), i))
            .collect();
        let mut tools: HashMap<usize, BTreeSet<String>> = HashMap::new();
        for s in &spans {
            if let Some(t) = s["name"].as_str().unwrap().strip_prefix("execute_tool ") {
                let k = iteration[s["parentSpanId"].as_str().unwrap()];
                tools.entry(k).or_default().insert(format!("tool:{t}"));
            }
        }
        for s in &spans {
            if !s["name"].as_str().unwrap().starts_with("chat ") {
                continue;
            }
            let model = attr(s, "gen_ai.request.model").unwrap();
            let p = &prices[model.as_str().unwrap()];
            let cost = (num(attr(s, "gen_ai.usage.input_tokens")) * p["input"].as_f64().unwrap()
                + num(attr(s, "gen_ai.usage.output_tokens")) * p["output"].as_f64().unwrap())
                / 1e6;
            let k = iteration[s["parentSpanId"].as_str().unwrap()];
            let keys: Vec<String> = match k {
                0 => vec!["(input)".into()],
                k => tools[&(k - 1)].iter().cloned().collect(),
            };
            for key in &keys {
                let e = want.entry(key.clone()).or_default();
                e.0 += cost / keys.len() as f64;
                e.1 += 1;
            }
        }
    }
    let o = sightline(&dir.db(), &["cost", "--by", "trigger", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: BTreeMap<String, (f64, u64)> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                (
                    r["cost_usd"].as_f64().unwrap(),
                    r["calls"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (k, (cost, calls)) in &want {
        assert_eq!(got[k].1, *calls, "{k} calls");
        assert!(
            (got[k].0 - cost).abs() < 1e-9,
            "{k}: {} != {cost}",
            got[k].0
        );
    }
    assert!(want.len() > 3, "{want:?}");
}

/// The text of every `<text>` element of an SVG.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        rest = &rest[i..];
        let open = rest.find('>').unwrap();
        let close = rest.find("</text>").unwrap();
        out.push(
            rest[open + 1..close]
                .trim()
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">"),
        );
        rest = &rest[close..];
    }
    out
}

/// Every chart draws to PNG and SVG with no display and no font configuration: the PNG has
/// the size asked for and is not blank, the SVG's text holds the title, axis labels and
/// legend entries.
#[test]
fn charts_render_to_png_and_svg_headless() {
    let (dir, truth) = otlp_dir("120", "25");
    let models: Vec<String> = truth["models"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_sightline"))
            .arg("--db")
            .arg(dir.db())
            .args(args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env("FONTCONFIG_FILE", "/nonexistent/fonts.conf")
            .env("XDG_DATA_DIRS", "/nonexistent")
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    for kind in ["cost", "tokens", "latency", "errors"] {
        let png = dir.path(&format!("{kind}.png"));
        run(&[
            "chart",
            kind,
            "--width",
            "900",
            "--height",
            "450",
            "-o",
            png.to_str().unwrap(),
        ]);
        let bytes = std::fs::read(&png).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (900, 450), "{kind}");
        let colors: BTreeSet<&[u8]> = buf[..info.buffer_size()].chunks(3).collect();
        assert!(
            colors.len() > 20,
            "{kind}: {} colours, blank?",
            colors.len()
        );
        assert!(bytes.len() > 10_000, "{kind}: {} bytes", bytes.len());

        let svg = dir.path(&format!("{kind}.svg"));
        run(&[
            "chart",
            kind,
            "--theme",
            "dark",
            "-o",
            svg.to_str().unwrap(),
        ]);
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("<svg") && text.contains("width=\"1000\""));
        let texts = svg_texts(&text);
        assert!(texts.iter().any(|t| t == "Time (UTC)"), "{kind}: {texts:?}");
        let y = match kind {
            "cost" => "Cost (USD per",
            "tokens" => "Tokens (per",
            "latency" => "p95 latency (s, per",
            _ => "Failed (% of spans, per",
        };
        assert!(texts.iter().any(|t| t.starts_with(y)), "{kind}: {texts:?}");
        let legend: Vec<&String> = texts.iter().filter(|t| t.contains("  ")).collect();
        match kind {
            "cost" => {
                assert!(texts.iter().any(|t| t == "Cost by model"));
                for m in &models {
                    assert!(
                        legend.iter().any(|t| t.starts_with(&format!("{m}  $"))),
                        "{m}: {legend:?}"
                    );
                }
            }
            "tokens" => {
                assert!(
                    legend.iter().any(|t| t.starts_with("input  ")),
                    "{legend:?}"
                );
                assert!(
                    legend.iter().any(|t| t.starts_with("output  ")),
                    "{legend:?}"
                );
            }
            _ => {
                for k in ["llm", "tool", "agent"] {
                    assert!(
                        legend.iter().any(|t| t.starts_with(&format!("{k}  "))),
                        "{legend:?}"
                    );
                }
            }
        }
    }
    // A name that says no format is refused before anything is drawn.
    let o = sightline(
        &dir.db(),
        &["chart", "cost", "-o", dir.path("c.gif").to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains(".png, .svg or .json"), "{}", stderr(&o));
    // A bucket so small that the range would need too many is refused, not cut short.
    let o = sightline(
        &dir.db(),
        &[
            "chart",
            "cost",
            "--per",
            "1ms",
            "-o",
            dir.path("c.png").to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("a chart holds at most 10000"),
        "{}",
        stderr(&o)
    );
    // An empty range draws an empty chart that says so.
    let svg = dir.path("empty.svg");
    let o = sightline(
        &dir.db(),
        &[
            "chart",
            "cost",
            "--since",
            "2001-01-01T00:00:00Z",
            "--until",
            "2001-01-02T00:00:00Z",
            "-o",
            svg.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        svg_texts(&std::fs::read_to_string(&svg).unwrap())
            .contains(&"No data in this range".to_string())
    );
}

/// The report is one HTML file with nothing fetched from elsewhere, and holds the summary,
/// the four charts, the top runs, cost per model and trigger, and the alerts that fired.
#[test]
fn report_is_self_contained_and_complete() {
    let (dir, truth) = otlp_dir("80", "26");
    // An alert that fired during the data, recorded as the alert runner records it.
    let start_ms = truth["time_range"]["start_unix_us"].as_i64().unwrap() / 1000;
    {
        let c = rusqlite::Connection::open(dir.db()).unwrap();
        c.execute(
            "INSERT INTO alert_history (t, group_name, rule_name, labels, phase, value)
             VALUES (?1, 'agents', 'LLMErrorRateHigh', '{\"alertname\":\"LLMErrorRateHigh\",\"model\":\"gpt-4o\"}', 'firing', 0.25)",
            [start_ms + 30_000],
        )
        .unwrap();
    }
    let out = dir.path("report.html");
    let o = sightline(&dir.db(), &["report", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 4);
    for banned in ["<script", " src=", "<link", "@import", "url(", "https://"] {
        assert!(!html.contains(banned), "{banned}");
    }
    assert_eq!(
        html.matches("http://").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "only the SVG namespace is a URL"
    );
    let rows = truth["per_run"]["rows"].as_array().unwrap();
    let cols: Vec<&str> = truth["per_run"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let col = |name: &str| cols.iter().position(|c| *c == name).unwrap();
    let top = rows
        .iter()
        .max_by(|a, b| {
            a[col("cost_usd")]
                .as_f64()
                .unwrap()
                .total_cmp(&b[col("cost_usd")].as_f64().unwrap())
        })
        .unwrap();
    let top_id = top[col("trace_id")].as_str().unwrap();
    let section = &html[html.find("id=\"top-runs\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert_eq!(section.matches("<tr>").count(), 11, "header + 10 runs");
    let first_row = &section[section.find("<tbody>").unwrap()..];
    assert!(first_row[..first_row.find("</tr>").unwrap()].contains(top_id));
    for m in truth["models"].as_object().unwrap().keys() {
        assert!(html.contains(&format!("<td>{m}</td>")), "{m}");
    }
    assert!(html.contains("<td>(input)</td>"));
    assert!(html.contains("LLMErrorRateHigh") && html.contains("model=gpt-4o"));
    let total = truth["cost_usd"]["total"].as_f64().unwrap();
    assert!(html.contains(&format!("${total:.4}")), "total {total}");

    // One run: its own numbers.
    let out = dir.path("run.html");
    let o = sightline(
        &dir.db(),
        &[
            "report",
            "--run",
            &top_id[..12],
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains(&format!("Run {top_id}")));
    let cost = top[col("cost_usd")].as_f64().unwrap();
    assert!(html.contains(&format!("${cost:.4}")), "run cost {cost}");
    let summary = &html[html.find("id=\"summary\"").unwrap()..];
    assert!(summary.contains("<div class=\"value\">1</div>"), "one run");
}
