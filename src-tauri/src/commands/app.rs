//! App-level commands.

use tauri::State;

use crate::error::AppResult;
use crate::state::{AppState, poisoned};

/// The paths given on the command line (`sightline-app PATH...`), handed over once.
#[tauri::command]
#[specta::specta]
pub fn app_startup_paths(state: State<'_, AppState>) -> AppResult<Vec<String>> {
    let mut p = state.startup_paths.lock().map_err(|_| poisoned())?;
    Ok(p.drain(..).map(|p| p.display().to_string()).collect())
}
