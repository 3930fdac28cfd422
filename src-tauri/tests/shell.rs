//! The shell booted on Tauri's mock runtime: commands answer through real IPC on a real
//! temp workspace, errors arrive tagged, and the committed TS bindings are current.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
