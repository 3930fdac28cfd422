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
    ShowAlerts,
    ShowSources,
    ShowKeys,
    Export,
    StartLiveDemo,
}

/// The alerts changed (an evaluation moved an alert, or a notification was delivered).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct AlertsChanged {
    /// How many alerts fire now.
    pub firing: u32,
    /// A notification that could not be delivered, and why (shown once).
    pub delivery_error: Option<String>,
}

/// The user clicked a desktop notification: show these alerts.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct AlertOpen {
    pub alerts: Vec<std::collections::BTreeMap<String, String>>,
}

/// New data landed in the open workspace (from followed files, the OTLP receiver, a scrape
/// or an ingest). Sent at most four times a second, whatever the rate of records.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct DataChanged {
    /// Log records were added.
    pub logs: bool,
    /// Spans were added (runs grew or ended).
    pub spans: bool,
    /// Metric samples were added.
    pub samples: bool,
}
