//! Typed events pushed to the UI.

use serde::{Deserialize, Serialize};

/// A menu item was chosen; the UI runs the same action as its toolbar button.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct MenuAction {
    pub action: MenuActionKind,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum MenuActionKind {
    OpenFiles,
    OpenFolder,
    ShowLogs,
    ShowRuns,
    ShowMetrics,
    ShowSources,
    ShowKeys,
}
