//! Opening files: a background ingest with progress on a channel, cancellable.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use sightline::ingest::{IngestOptions, IngestProgress, IngestReport};
use tauri::State;
use tauri::ipc::Channel;

use super::blocking;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Ingests files and folders into the open workspace; progress goes to `on_progress`
/// (after each batch and file), the report comes back when it ends.
#[tauri::command]
#[specta::specta]
pub async fn ingest_paths(
    state: State<'_, AppState>,
    paths: Vec<String>,
    on_progress: Channel<IngestProgress>,
) -> AppResult<IngestReport> {
    let w = state.workspace()?;
    if state.ingest_running.swap(true, Ordering::SeqCst) {
        return Err(AppError::Busy {
            what: "another ingest is running".into(),
        });
    }
    state.ingest_cancel.store(false, Ordering::SeqCst);
    let cancel = state.ingest_cancel.clone();
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let ws = w.clone();
    let result = blocking(move || {
        let opts = IngestOptions {
            cancel: Some(cancel),
            progress: Some(Arc::new(move |p: &IngestProgress| {
                // A closed window drops the channel; the ingest goes on regardless.
                let _ = on_progress.send(p.clone());
            })),
            ..IngestOptions::default()
        };
        let report = {
            // Not while the follower reads: both would start from the same cursors.
            let _g = w
                .live
                .ingest_lock
                .lock()
                .map_err(|_| crate::state::poisoned())?;
            sightline::ingest::ingest(&w.store, &paths, &opts)
        };
        // Plain log files go on being read as they grow (as `tail -f` would); archives,
        // compressed files and folders are read once.
        let plain: Vec<PathBuf> = paths
            .iter()
            .filter(|p| sightline::ingest::is_plain_file(p))
            .take(MAX_AUTO_FOLLOW)
            .cloned()
            .collect();
        if !plain.is_empty() {
            w.live.follow(&plain);
        }
        Ok(report)
    })
    .await;
    state.ingest_running.store(false, Ordering::SeqCst);
    // A bundle's rule files joined the workspace's rules: the alert loop runs them now.
    if let Ok(r) = &result
        && r.rule_files.iter().any(|f| f.groups_added > 0)
    {
        ws.restart_alerts()?;
    }
    result
}

/// At most this many files opened at once are followed on their own.
const MAX_AUTO_FOLLOW: usize = 32;

/// Stops the running ingest after its current batch; what was committed stays.
#[tauri::command]
#[specta::specta]
pub fn ingest_cancel(state: State<'_, AppState>) -> AppResult<()> {
    state.ingest_cancel.store(true, Ordering::SeqCst);
    Ok(())
}
