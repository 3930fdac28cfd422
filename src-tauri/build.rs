//! Declares the app's commands to Tauri, so that each one is a permission
//! (`allow-logs-page`, ...) that `capabilities/main.json` grants to the main window.

/// Every command the shell defines. A command missing here cannot be called at all.
const COMMANDS: &[&str] = &[
    "app_startup_paths",
    "workspace_info",
    "workspace_open_demo",
    "workspace_open_default",
    "logs_count",
    "logs_page",
    "logs_detail",
    "logs_next_level",
    "ingest_paths",
    "ingest_cancel",
    "sources_list",
    "sources_skipped",
    "runs_list",
    "runs_get",
    "runs_span",
    "metrics_list",
    "metrics_label_names",
    "metrics_label_values",
    "metrics_query_range",
    "scrape_list",
    "scrape_add",
    "scrape_set_paused",
    "scrape_remove",
    "alerts_overview",
    "alerts_config",
    "alerts_rules_check",
    "alerts_save",
    "alerts_silence_add",
    "alerts_silence_expire",
    "alerts_set_viewing",
    "alerts_backtest",
    "costs_chart",
    "costs_overview",
    "costs_export_chart",
    "costs_save_report",
    "live_status",
    "live_follow",
    "live_unfollow",
    "live_receiver_set",
    "live_demo_start",
    "live_demo_stop",
    "export_bundle",
    "workspace_open_for_bundle",
];

fn main() {
    let attrs = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attrs) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
