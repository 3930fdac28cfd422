//! Live inputs: following files, the OTLP/HTTP receiver, the live demo; and exporting.

use std::path::PathBuf;
use std::sync::Arc;

use sightline::demo::live::{LiveDemo, LiveDemoConfig};
use sightline::export::{ExportReport, ExportRequest};
use sightline::ingest::scrape::ScrapeConfig;
use sightline::redact::Redactor;
use tauri::State;

use super::blocking;
use super::workspace::{WorkspaceInfo, info};
use crate::error::{AppError, AppResult, from_engine};
use crate::live::LiveStatus;
use crate::state::{AppState, Slot, Workspace};

/// The OTLP receiver's address when the user gives none.
pub const DEFAULT_OTLP_ADDR: &str = "127.0.0.1:4318";

#[tauri::command]
#[specta::specta]
pub async fn live_status(state: State<'_, AppState>) -> AppResult<LiveStatus> {
    let w = state.workspace()?;
    blocking(move || Ok(w.live.status())).await
}

/// Reads these files or folders as they grow (from where the workspace's cursor is).
#[tauri::command]
#[specta::specta]
pub async fn live_follow(state: State<'_, AppState>, paths: Vec<String>) -> AppResult<LiveStatus> {
    let w = state.workspace()?;
    blocking(move || {
        let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
        for p in &paths {
            if !p.exists() {
                return Err(AppError::NotFound {
                    path: p.display().to_string(),
                });
            }
        }
        w.live.follow(&paths);
        Ok(w.live.status())
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn live_unfollow(state: State<'_, AppState>, path: String) -> AppResult<LiveStatus> {
    let w = state.workspace()?;
    blocking(move || {
        w.live.unfollow(std::path::Path::new(&path));
        Ok(w.live.status())
    })
    .await
}

/// Turns the OTLP/HTTP receiver on at `addr` (default 127.0.0.1:4318), or off with null.
#[tauri::command]
#[specta::specta]
pub async fn live_receiver_set(
    state: State<'_, AppState>,
    enabled: bool,
    addr: Option<String>,
) -> AppResult<LiveStatus> {
    let w = state.workspace()?;
    blocking(move || {
        let addr = if enabled {
            let a = addr
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .unwrap_or(DEFAULT_OTLP_ADDR);
            Some(
                a.parse::<std::net::SocketAddr>()
                    .map_err(|e| AppError::InvalidArgument {
                        what: "OTLP receiver address".into(),
                        value: a.to_owned(),
                        why: format!("not an address like 127.0.0.1:4318 ({e})"),
                    })?,
            )
        } else {
            None
        };
        w.live
            .set_receiver(addr)
            .map_err(|e| from_engine(e, &w.name()))?;
        Ok(w.live.status())
    })
    .await
}

/// Switches to a fresh live-demo workspace and starts playing an agent session into it
/// through a followed log file, a scraped `/metrics` and the OTLP receiver (on a free port),
/// with the built-in alert rules; an incident after 20 s makes them fire.
#[tauri::command]
#[specta::specta]
pub async fn live_demo_start(state: State<'_, AppState>) -> AppResult<WorkspaceInfo> {
    let dir = state.demo_dir.join("live");
    let sinks = state.sinks.clone();
    // The old workspace (and any demo playing in it) closes before its files are replaced.
    if let Ok(w) = state.workspace()
        && w.path.starts_with(&dir)
    {
        state.replace(Slot::Failed(AppError::Busy {
            what: "the live demo is restarting".into(),
        }))?;
        drop(w);
    }
    let w = blocking(move || {
        let db = dir.join("live-demo.db");
        sightline::demo::live::reset(&dir, &db).map_err(|e| from_engine(e, ""))?;
        let w = Workspace::open(&db, true, &sinks)?;
        let name = w.name();
        let demo = LiveDemo::start(LiveDemoConfig::new(dir.join("agent-runtime.log")))
            .map_err(|e| from_engine(e, &name))?;
        w.live
            .set_receiver(Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))))
            .map_err(|e| from_engine(e, &name))?;
        if let Some(a) = w.live.receiver_addr() {
            demo.set_otlp_url(&format!("http://{a}"));
        }
        let mut target =
            ScrapeConfig::new(demo.metrics_url()).map_err(|why| AppError::Internal {
                message: format!("live demo scrape target: {why}"),
            })?;
        target.interval_ms = 1_000;
        target.labels.insert("job".into(), "demo-agent".into());
        let t = w.scrapes.add(target).map_err(|e| from_engine(e, &name))?;
        w.live.follow(&[demo.log_path().to_owned()]);
        w.live.set_demo(demo, t.id);
        Ok(Arc::new(w))
    })
    .await?;
    state.replace(Slot::Open(w.clone()))?;
    blocking(move || info(&w)).await
}

/// Stops the live demo (what it played stays in its workspace).
#[tauri::command]
#[specta::specta]
pub async fn live_demo_stop(state: State<'_, AppState>) -> AppResult<LiveStatus> {
    let w = state.workspace()?;
    blocking(move || {
        if let Some((demo, target)) = w.live.take_demo() {
            demo.stop();
            // Its /metrics is gone: scraping it would only raise ScrapeTargetDown.
            let _ = w.scrapes.remove(target);
            let _ = w.live.set_receiver(None);
            let log = w.path.with_file_name("agent-runtime.log");
            w.live.unfollow(&log);
        }
        Ok(w.live.status())
    })
    .await
}

/// What to export: every run (in a time range), or some runs.
#[derive(Debug, Clone, serde::Deserialize, specta::Type)]
pub struct ExportOptions {
    /// Trace ids; empty = every run in the range.
    pub runs: Vec<String>,
    /// Unix ms.
    pub since_ms: Option<f64>,
    pub until_ms: Option<f64>,
    pub redact: bool,
    /// More field names whose values are masked (with `redact`).
    pub redact_fields: Vec<String>,
}

/// Writes a bundle (zip) of the open workspace to `path`.
#[tauri::command]
#[specta::specta]
pub async fn export_bundle(
    state: State<'_, AppState>,
    path: String,
    options: ExportOptions,
) -> AppResult<ExportReport> {
    let w = state.workspace()?;
    blocking(move || {
        let mut out = PathBuf::from(&path);
        if out.extension().is_none() {
            out.set_extension("zip");
        }
        let req = ExportRequest {
            runs: options.runs,
            since_ns: options.since_ms.map(|ms| (ms * 1e6) as i64),
            until_ns: options.until_ms.map(|ms| (ms * 1e6) as i64),
            redact: options
                .redact
                .then(|| Redactor::new(&options.redact_fields)),
        };
        sightline::export::export(&w.store, &out, &req).map_err(|e| from_engine(e, &path))
    })
    .await
}

/// Switches to a new workspace named after `bundle` (beside the user's workspace); the UI
/// then opens the bundle into it.
#[tauri::command]
#[specta::specta]
pub async fn workspace_open_for_bundle(
    state: State<'_, AppState>,
    bundle: String,
) -> AppResult<WorkspaceInfo> {
    let dir = state
        .default_db
        .parent()
        .map(|d| d.to_owned())
        .unwrap_or_default();
    let sinks = state.sinks.clone();
    let w = blocking(move || {
        let name = sightline::ingest::bundle::workspace_name(std::path::Path::new(&bundle));
        Workspace::open(&dir.join(format!("{name}.db")), false, &sinks).map(Arc::new)
    })
    .await?;
    state.replace(Slot::Open(w.clone()))?;
    blocking(move || info(&w)).await
}
