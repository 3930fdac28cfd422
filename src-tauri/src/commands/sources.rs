//! The Sources view: every file read, with counts and skipped lines.

use sightline::store::queries::sources::{self, SourceInfo, StoredSkip};
use tauri::State;

use super::blocking;
use crate::error::{AppResult, from_engine};
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn sources_list(state: State<'_, AppState>) -> AppResult<Vec<SourceInfo>> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        sources::list(&c).map_err(|e| from_engine(e, &name))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn sources_skipped(
    state: State<'_, AppState>,
    source_id: f64,
    limit: u32,
) -> AppResult<Vec<StoredSkip>> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        sources::skipped_lines(&c, source_id as i64, u64::from(limit))
            .map_err(|e| from_engine(e, &name))
    })
    .await
}
