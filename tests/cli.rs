//! The built `sightline` binary on real files: reports, filters, JSON shapes, exit codes.

use serde_json::Value;

use crate::util::{Dir, json_lines, sightline, stderr, stdout};

const SAMPLE: &str = concat!(
    r#"{"level":"info","ts":1717243200.5,"msg":"agent run started","trace_id":"AAAA0000000000000000000000000001","span_id":"s1"}"#,
    "\n",
    r#"{"level":"warn","ts":1717243201.25,"msg":"rate limited, retrying","trace_id":"aaaa0000000000000000000000000001"}"#,
    "\n",
    "this line is not json\n",
    r#"{"level":"error","ts":1717243202,"msg":"tool call failed: connection refused","trace_id":"bbbb0000000000000000000000000002","tool":"search_web"}"#,
    "\n",
    r#"{"level":"fatal","ts":1717243203,"msg":"agent run failed","trace_id":"bbbb0000000000000000000000000002"}"#,
    "\n",
    "\n",
    r#"{"level":"debug","ts":1717243204,"msg":"tool call started <script>alert(1)</script>"}"#,
    "\n",
);

fn sample() -> Dir {
    let d = Dir::new();
    d.write("logs/app.jsonl", SAMPLE);
    let out = d.cli(&["ingest", d.path("logs").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    d
}

fn logs(d: &Dir, args: &[&str]) -> Vec<Value> {
    let mut a = vec!["logs", "--json"];
    a.extend_from_slice(args);
    let out = d.cli(&a);
    assert!(out.status.success(), "{:?}: {}", args, stderr(&out));
    json_lines(&out.stdout)
}

fn messages(v: &[Value]) -> Vec<&str> {
    v.iter().map(|r| r["message"].as_str().unwrap()).collect()
}

#[test]
fn ingest_report_human_and_json() {
    let d = Dir::new();
    let f = d.write("app.jsonl", SAMPLE);
    let out = d.cli(&["ingest", f.to_str().unwrap()]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("format: zap"), "{text}");
    assert!(
        text.contains("records added: 5, lines skipped: 2"),
        "{text}"
    );
    assert!(text.contains("line 3: non_json"), "{text}");
    assert!(text.contains("line 6: blank"), "{text}");

    let d = Dir::new();
    let f = d.write("app.jsonl", SAMPLE);
    let out = d.cli(&["ingest", "--json", f.to_str().unwrap()]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &r["files"][0];
    assert_eq!(file["format"], "zap");
    assert_eq!(file["records_added"], 5);
    assert_eq!(file["skipped_by_reason"]["non_json"], 1);
    assert_eq!(file["skipped_lines"][0]["line"], 3);
    assert_eq!(file["skipped_lines"][0]["reason"], "non_json");
    assert_eq!(r["records_added"], 5);
}

#[test]
fn logs_json_shape_and_time_order() {
    let d = sample();
    let rows = logs(&d, &[]);
    assert_eq!(rows.len(), 5);
    let first = &rows[0];
    assert_eq!(first["ts"], "2024-06-01T12:00:00.500000000Z");
    assert_eq!(first["level"], "info");
    assert_eq!(first["message"], "agent run started");
    assert_eq!(first["line"], 1);
    assert_eq!(first["trace_id"], "aaaa0000000000000000000000000001");
    assert_eq!(first["span_id"], "s1");
    assert!(
        first["source"]
            .as_str()
            .unwrap()
            .ends_with("logs/app.jsonl")
    );
    assert_eq!(first["attrs"], serde_json::json!({"level": "info"}));
    assert_eq!(rows[2]["attrs"]["tool"], "search_web");
    let ts: Vec<&str> = rows.iter().map(|r| r["ts"].as_str().unwrap()).collect();
    let mut sorted = ts.clone();
    sorted.sort();
    assert_eq!(ts, sorted);
}

#[test]
fn level_filters() {
    let d = sample();
    assert_eq!(
        messages(&logs(&d, &["--level", "warn+"])),
        [
            "rate limited, retrying",
            "tool call failed: connection refused",
            "agent run failed"
        ]
    );
    assert_eq!(logs(&d, &["--level", "error,fatal"]).len(), 2);
    assert_eq!(logs(&d, &["--level", "warning"]).len(), 1);
    let out = d.cli(&["logs", "--level", "loud"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("loud"));
}

#[test]
fn search_trace_time_source_limit() {
    let d = sample();
    assert_eq!(
        messages(&logs(&d, &["--search", "connection refused"])),
        ["tool call failed: connection refused"]
    );
    assert_eq!(logs(&d, &["--search", "agent"]).len(), 2);
    assert_eq!(
        logs(&d, &["--search", "agent", "--level", "error+"]).len(),
        1
    );
    // Query syntax in the text is just text.
    assert_eq!(logs(&d, &["--search", "\"*) OR ("]).len(), 0);
    assert_eq!(logs(&d, &["--search", "<script>"]).len(), 1);
    assert_eq!(
        logs(&d, &["--trace", "BBBB0000000000000000000000000002"]).len(),
        2
    );
    assert_eq!(
        logs(
            &d,
            &[
                "--since",
                "2024-06-01T12:00:01Z",
                "--until",
                "2024-06-01T12:00:03Z"
            ]
        )
        .len(),
        2
    );
    assert_eq!(logs(&d, &["--since", "15m"]).len(), 0, "2024 is long ago");
    let src = d.path("logs/app.jsonl");
    assert_eq!(logs(&d, &["--source", src.to_str().unwrap()]).len(), 5);
    assert_eq!(
        logs(&d, &["--source", d.path("logs").to_str().unwrap()]).len(),
        5
    );
    assert_eq!(logs(&d, &["--source", "/nowhere/else"]).len(), 0);
    assert_eq!(
        messages(&logs(&d, &["--limit", "2"])),
        ["agent run started", "rate limited, retrying"]
    );
    let out = d.cli(&["logs", "--since", "last tuesday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("last tuesday"));
}

#[test]
fn human_logs_escape_control_characters() {
    let d = Dir::new();
    d.write(
        "a.jsonl",
        "{\"level\":\"info\",\"msg\":\"red \\u001b[31m text\\nnext\",\"time\":\"2024-06-01T12:00:00Z\"}\n",
    );
    d.cli(&["ingest", d.path("a.jsonl").to_str().unwrap()]);
    let out = d.cli(&["logs"]);
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("\\u{1b}[31m text\\nnext"), "{text:?}");
}

#[test]
fn stats_json() {
    let d = sample();
    let s = d.stats();
    assert_eq!(s["records"], 5);
    assert_eq!(s["by_level"]["error"], 1);
    assert_eq!(s["by_level"]["fatal"], 1);
    assert_eq!(s["by_level"]["trace"], 0);
    assert_eq!(s["by_format"]["zap"], 5);
    assert_eq!(s["skipped_by_reason"]["non_json"], 1);
    assert_eq!(s["skipped_by_reason"]["blank"], 1);
    let (src, n) = s["by_source"].as_object().unwrap().iter().next().unwrap();
    assert!(src.ends_with("app.jsonl"));
    assert_eq!(n, 5);
}

#[test]
fn missing_path_exits_2_naming_it() {
    let d = Dir::new();
    let missing = d.path("nope.jsonl");
    let out = d.cli(&["ingest", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.jsonl"), "{}", stderr(&out));
}

#[test]
fn file_without_json_exits_2_naming_path_and_line() {
    let d = Dir::new();
    let f = d.write("plain.log", "2024-06-01 12:00:00 INFO started\nmore text\n");
    let out = d.cli(&["ingest", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(e.contains("plain.log") && e.contains("line 1"), "{e}");
}

/// A path that exists but cannot be read, even by root: a Unix socket (open() fails).
#[test]
fn unreadable_file_exits_2() {
    let d = Dir::new();
    let sock = d.path("agent.sock.jsonl");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let out = d.cli(&["ingest", sock.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("agent.sock.jsonl") && e.contains("cannot read"),
        "{e}"
    );
}

#[test]
fn folder_with_gz_nested_and_a_stray_text_file() {
    let d = Dir::new();
    d.write("logs/a.jsonl", SAMPLE);
    let gz = d.path("logs/deeper/b.jsonl.gz");
    std::fs::create_dir_all(gz.parent().unwrap()).unwrap();
    {
        use std::io::Write;
        let f = std::fs::File::create(&gz).unwrap();
        let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        enc.write_all(SAMPLE.replace("agent", "gz-agent").as_bytes())
            .unwrap();
        enc.finish().unwrap();
    }
    d.write("logs/README.txt", "these are logs\n");
    let out = d.cli(&["ingest", "--json", d.path("logs").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["records_added"], 10);
    let files = r["files"].as_array().unwrap();
    let txt = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("README.txt"))
        .unwrap();
    assert_eq!(txt["status"], "not_json");
    let gzf = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(".gz"))
        .unwrap();
    assert_eq!(gzf["compression"], "gzip");
}

#[test]
fn folder_without_json_exits_2() {
    let d = Dir::new();
    d.write("docs/a.txt", "hello\n");
    let out = d.cli(&["ingest", d.path("docs").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("docs"));
}

#[test]
fn bad_lines_of_every_kind_are_reported_and_the_rest_loads() {
    let d = Dir::new();
    let mut data = Vec::new();
    data.extend_from_slice(
        b"{\"level\":\"info\",\"msg\":\"one\",\"time\":\"2024-06-01T12:00:00Z\"}\n",
    );
    data.extend_from_slice(b"# a comment\n");
    data.extend_from_slice(b"{\"level\":\"info\",\"msg\":\"cut\n");
    data.extend_from_slice(b"{\"level\":\"info\",\"msg\":\"bad \xff\xfe bytes\"}\n");
    data.extend_from_slice(b"[1, 2, 3]\n");
    data.extend_from_slice(b"\"just a string\"\n");
    data.extend_from_slice(b"{\"msg\":\"");
    data.extend(std::iter::repeat_n(b'x', 3000));
    data.extend_from_slice(b"\"}\n");
    data.extend_from_slice(
        b"{\"level\":\"warn\",\"msg\":\"two\",\"time\":\"2024-06-01T12:00:01Z\"}\n",
    );
    data.extend_from_slice(b"{\"level\":\"info\",\"msg\":\"half");
    d.write("bad.jsonl", &data);
    let out = d.cli(&[
        "ingest",
        "--json",
        "--max-line-bytes",
        "1000",
        d.path("bad.jsonl").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &r["files"][0];
    assert_eq!(f["records_added"], 2);
    let reasons: Vec<(u64, &str)> = f["skipped_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["line"].as_u64().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (2, "comment"),
            (3, "truncated_json"),
            (4, "invalid_utf8"),
            (5, "json_not_object"),
            (6, "json_not_object"),
            (7, "line_too_long"),
            (9, "incomplete_last_line"),
        ]
    );
}

#[test]
fn naive_times_are_taken_as_utc_and_say_so() {
    let d = Dir::new();
    d.write(
        "ev.jsonl",
        "{\"timestamp\": \"2024-06-01T12:00:01.308667\", \"event\": \"llm_call\", \"success\": true}\n",
    );
    d.cli(&["ingest", d.path("ev.jsonl").to_str().unwrap()]);
    let rows = logs(&d, &[]);
    assert_eq!(rows[0]["ts"], "2024-06-01T12:00:01.308667000Z");
    assert!(rows[0]["ts_note"].as_str().unwrap().contains("UTC"));
}

#[test]
fn db_from_env_and_xdg_default() {
    let d = Dir::new();
    let f = d.write("a.jsonl", SAMPLE);
    let bin = env!("CARGO_BIN_EXE_sightline");
    let out = std::process::Command::new(bin)
        .args(["ingest", f.to_str().unwrap()])
        .env("SIGHTLINE_DB", d.path("env.db"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(d.path("env.db").exists());
    let out = std::process::Command::new(bin)
        .args(["ingest", f.to_str().unwrap()])
        .env_remove("SIGHTLINE_DB")
        .env("XDG_DATA_HOME", d.path("xdg"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(d.path("xdg/sightline/workspace.db").exists());
    let s = sightline(&d.path("xdg/sightline/workspace.db"), &["stats", "--json"]);
    let s: Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(s["records"], 5);
}

#[test]
fn reading_a_missing_workspace_is_a_clear_error() {
    let d = Dir::new();
    let out = d.cli(&["logs"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("workspace.db"), "{}", stderr(&out));
}

#[test]
fn usage_errors_are_clap_errors() {
    let d = Dir::new();
    let out = d.cli(&["ingest"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Usage"));
}
