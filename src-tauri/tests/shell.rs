//! The shell booted on Tauri's mock runtime: commands answer through real IPC on a real
//! temp workspace, errors arrive tagged, and the committed TS bindings are current.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};
use sightline_app::state::AppState;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

fn app(dir: &Path, startup: Vec<std::path::PathBuf>) -> tauri::WebviewWindow<MockRuntime> {
    let state = AppState::new(dir.join("ws.db"), dir.join("demo"), startup);
    let app = sightline_app::run_app(mock_builder(), state)
        .build(tauri::generate_context!())
        .unwrap();
    tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap()
}

fn call(w: &tauri::WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn boots_and_answers_commands_over_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.jsonl");
    std::fs::write(
        &f,
        "{\"level\":\"error\",\"ts\":1717243200.5,\"msg\":\"boom\"}\nnot json\n{\"level\":\"info\",\"ts\":1717243201,\"msg\":\"ok\"}\n",
    )
    .unwrap();
    let w = app(dir.path(), vec![f.clone()]);
    let info = call(&w, "workspace_info", json!({})).unwrap();
    assert_eq!(info["records"], 0);
    let paths = call(&w, "app_startup_paths", json!({})).unwrap();
    assert_eq!(paths, json!([f.display().to_string()]));
    // Handed over once.
    assert_eq!(call(&w, "app_startup_paths", json!({})).unwrap(), json!([]));

    let filter = json!({"levels": [], "search": null, "since": null, "until": null, "trace_id": null, "sources": []});
    assert_eq!(
        call(&w, "logs_count", json!({"filter": filter})).unwrap(),
        0.0
    );
    let sources = call(&w, "sources_list", json!({})).unwrap();
    assert_eq!(sources, json!([]));

    // Errors arrive as tagged values with what and where.
    let bad = json!({"levels": [], "search": null, "since": "last tuesday", "until": null, "trace_id": null, "sources": []});
    let err = call(&w, "logs_count", json!({"filter": bad})).unwrap_err();
    assert_eq!(err["type"], "InvalidArgument");
    assert_eq!(err["data"]["value"], "last tuesday");
    let err = call(&w, "logs_detail", json!({"id": 999})).unwrap_err();
    assert_eq!(err["type"], "NotFound");
}

#[test]
fn a_corrupt_workspace_is_reported_and_the_demo_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ws.db"), vec![7u8; 8192]).unwrap();
    let w = app(dir.path(), vec![]);
    let err = call(&w, "workspace_info", json!({})).unwrap_err();
    assert_eq!(err["type"], "WorkspaceCorrupt", "{err}");
    assert!(err["data"]["path"].as_str().unwrap().ends_with("ws.db"));
    let demo = call(&w, "workspace_open_demo", json!({})).unwrap();
    assert_eq!(demo["is_demo"], true);
    assert!(demo["records"].as_u64().unwrap() > 300);
    let filter = json!({"levels": ["error", "fatal"], "search": null, "since": null, "until": null, "trace_id": null, "sources": []});
    let n = call(&w, "logs_count", json!({"filter": filter.clone()})).unwrap();
    assert!(n.as_f64().unwrap() > 0.0);
    let page = call(
        &w,
        "logs_page",
        json!({"filter": filter, "offset": 0, "limit": 5}),
    )
    .unwrap();
    let first = &page[0];
    assert_eq!(first["level"], "error");
    let detail = call(&w, "logs_detail", json!({"id": first["id"]})).unwrap();
    assert!(
        detail["raw"]
            .as_str()
            .unwrap()
            .contains("\"level\":\"error\"")
            || detail["raw"]
                .as_str()
                .unwrap()
                .contains("\"level\": \"error\"")
    );
}

#[test]
fn bindings_are_current() {
    let generated = sightline_app::bindings_ts().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/bindings.ts differs from what src-tauri generates: run `make bindings`"
    );
}

#[test]
fn a_locked_workspace_is_reported_and_the_app_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    // Another program holds the workspace with an exclusive lock (rollback-journal mode, so
    // the app cannot even switch it to WAL).
    let holder = rusqlite::Connection::open(dir.path().join("ws.db")).unwrap();
    holder
        .execute_batch("PRAGMA journal_mode = DELETE; BEGIN EXCLUSIVE; CREATE TABLE other (x);")
        .unwrap();
    let w = app(dir.path(), vec![]);
    let err = call(&w, "workspace_info", json!({})).unwrap_err();
    assert_eq!(err["type"], "WorkspaceLocked", "{err}");
    assert!(err["data"]["path"].as_str().unwrap().ends_with("ws.db"));
    // Still usable: the demo opens.
    let demo = call(&w, "workspace_open_demo", json!({})).unwrap();
    assert_eq!(demo["is_demo"], true);
    drop(holder);
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = std::time::Instant::now();
    while !f() {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn all_logs(w: &tauri::WebviewWindow<MockRuntime>) -> f64 {
    let filter = json!({"levels": [], "search": null, "since": null, "until": null, "trace_id": null, "sources": []});
    call(w, "logs_count", json!({ "filter": filter }))
        .unwrap()
        .as_f64()
        .unwrap()
}

/// Followed files grow in the app; the OTLP receiver turns
/// on and off and takes spans; an export writes a bundle that a new workspace is made for;
/// the live demo plays into its own workspace and stops.
#[test]
fn live_inputs_follow_receive_export_and_play_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("agent.jsonl");
    let line = |i: usize| {
        format!(
            "{{\"level\":\"info\",\"ts\":{}.5,\"msg\":\"step {i}\"}}\n",
            1_717_243_200 + i
        )
    };
    std::fs::write(&f, line(0)).unwrap();
    // (The data-changed events are tested with the live module: the mock runtime does not
    // run the setup hook that wires them to the window.)
    let w = app(dir.path(), vec![]);

    let st = call(
        &w,
        "live_follow",
        json!({"paths": [f.display().to_string()]}),
    )
    .unwrap();
    assert_eq!(st["following"], json!([f.display().to_string()]));
    wait_for("the first line", || all_logs(&w) == 1.0);
    // 2,000 lines appended at once arrive whole, in a handful of events, not 2,000.
    let mut more = String::new();
    for i in 1..=2000 {
        more.push_str(&line(i));
    }
    std::fs::OpenOptions::new()
        .append(true)
        .open(&f)
        .unwrap()
        .write_all(more.as_bytes())
        .unwrap();
    wait_for("every appended line", || all_logs(&w) == 2001.0);
    let bad = call(&w, "live_follow", json!({"paths": ["/nonexistent/x.log"]})).unwrap_err();
    assert_eq!(bad["type"], "NotFound");

    // The receiver: on at a free port, takes a span, off again; a bad address is refused.
    let err = call(
        &w,
        "live_receiver_set",
        json!({"enabled": true, "addr": "localhost:port"}),
    )
    .unwrap_err();
    assert_eq!(err["type"], "InvalidArgument", "{err}");
    let st = call(
        &w,
        "live_receiver_set",
        json!({"enabled": true, "addr": "127.0.0.1:0"}),
    )
    .unwrap();
    let addr = st["receiver"]["addr"].as_str().unwrap().to_string();
    let body = json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [{
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
        "name": "chat gpt-4o", "startTimeUnixNano": "1717243200000000000",
        "endTimeUnixNano": "1717243201000000000",
        "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                       {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}}]}]}]}]});
    let r = ureq::post(&format!("http://{addr}/v1/traces"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
        .unwrap();
    assert_eq!(r.status(), 200);
    let st = call(&w, "live_status", json!({})).unwrap();
    assert_eq!(st["receiver"]["stats"]["spans"], 1.0, "{st}");
    let st = call(
        &w,
        "live_receiver_set",
        json!({"enabled": false, "addr": null}),
    )
    .unwrap();
    assert_eq!(st["receiver"], Value::Null);
    assert!(
        ureq::get(&format!("http://{addr}/v1/traces"))
            .call()
            .is_err()
    );

    // Export, then a new workspace named after the bundle.
    let out = dir.path().join("shared-run.zip");
    let opts = json!({"runs": [], "since_ms": null, "until_ms": null, "redact": true, "redact_fields": []});
    let rep = call(
        &w,
        "export_bundle",
        json!({"path": out.display().to_string(), "options": opts}),
    )
    .unwrap();
    assert_eq!(rep["log_records"], 2001.0, "{rep}");
    assert_eq!(rep["spans"], 1.0, "{rep}");
    assert!(out.is_file());
    let info = call(
        &w,
        "workspace_open_for_bundle",
        json!({"bundle": out.display().to_string()}),
    )
    .unwrap();
    assert!(
        info["path"].as_str().unwrap().ends_with("shared-run.db"),
        "{info}"
    );
    assert_eq!(info["records"], 0);

    // The live demo: its own workspace, growing, then stopped.
    let info = call(&w, "live_demo_start", json!({})).unwrap();
    assert_eq!(info["is_demo"], true);
    assert!(
        info["path"].as_str().unwrap().ends_with("live-demo.db"),
        "{info}"
    );
    wait_for("the demo's first runs", || {
        let st = call(&w, "live_status", json!({})).unwrap();
        st["demo"]["spans_sent"].as_f64().unwrap_or(0.0) > 0.0 && all_logs(&w) >= 2.0
    });
    let st = call(&w, "live_status", json!({})).unwrap();
    assert!(st["receiver"].is_object() && st["following"].as_array().unwrap().len() == 1);
    let st = call(&w, "live_demo_stop", json!({})).unwrap();
    assert_eq!(st["demo"], Value::Null);
    assert_eq!(st["receiver"], Value::Null);
    assert_eq!(st["following"], json!([]));
}
