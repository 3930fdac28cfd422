//! The Costs & Latency view: its charts (the same data `sightline chart` draws), the summary
//! and top runs of the range or of one bucket, and exporting a chart or the HTML report.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sightline::charts::render::{self, Theme};
use sightline::charts::report::{ReportRequest, html};
use sightline::charts::{self, Chart, ChartKind, ChartRequest};
use sightline::store::queries::cost::{
    self, CostBy, CostQuery, CostRow, Summary, Unpriced, top_runs,
};
use sightline::store::queries::spans::RunRow;
use tauri::State;

use super::blocking;
use crate::error::{AppError, AppResult, from_engine};
use crate::state::AppState;

/// Which chart, over which range. Times are Unix ms; `None` is the data's own extent.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ChartQuery {
    pub kind: ChartKind,
    /// The grouping (see `sightline chart --help`); `None` for the chart's default.
    pub by: Option<String>,
    pub start_ms: Option<f64>,
    pub end_ms: Option<f64>,
    /// The latency percentile: 50, 90, 95, 99 or 100 (max); `None` for 95.
    pub percentile: Option<f64>,
}

fn ns(ms: Option<f64>) -> Option<i64> {
    ms.filter(|v| v.is_finite())
        .map(|v| (v * 1e6).clamp(i64::MIN as f64, i64::MAX as f64) as i64)
}

impl ChartQuery {
    fn request(&self) -> ChartRequest {
        ChartRequest {
            by: self.by.clone(),
            since_ns: ns(self.start_ms),
            until_ns: ns(self.end_ms),
            percentile: self.percentile.unwrap_or(95.0),
            ..ChartRequest::new(self.kind)
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn costs_chart(state: State<'_, AppState>, query: ChartQuery) -> AppResult<Chart> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        charts::build(&c, &query.request()).map_err(|e| from_engine(e, &name))
    })
    .await
}

/// The numbers beside the charts: totals, cost per model, models with no price and the most
/// expensive runs, for the range (or for one clicked bucket).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CostOverview {
    pub summary: Summary,
    pub by_model: Vec<CostRow>,
    pub unpriced: Vec<Unpriced>,
    pub top_runs: Vec<RunRow>,
}

#[tauri::command]
#[specta::specta]
pub async fn costs_overview(
    state: State<'_, AppState>,
    start_ms: Option<f64>,
    end_ms: Option<f64>,
    limit: u32,
) -> AppResult<CostOverview> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        let q = CostQuery {
            by: CostBy::Model,
            since_ns: ns(start_ms),
            until_ns: ns(end_ms),
            trace_ref: None,
        };
        let eng = |e| from_engine(e, &name);
        Ok(CostOverview {
            summary: cost::summary(&c, &q).map_err(eng)?,
            by_model: cost::cost(&c, &q).map_err(eng)?,
            unpriced: cost::unpriced(&c, &q).map_err(eng)?,
            top_runs: top_runs(&c, &q, limit.clamp(1, 500)).map_err(eng)?,
        })
    })
    .await
}

/// Draws the chart to `path`: PNG or SVG by its extension.
#[tauri::command]
#[specta::specta]
pub async fn costs_export_chart(
    state: State<'_, AppState>,
    query: ChartQuery,
    path: String,
    dark: bool,
) -> AppResult<()> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let path = PathBuf::from(path);
        let theme = if dark { Theme::Dark } else { Theme::Light };
        let svg = match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(e) if e == "svg" => true,
            Some(e) if e == "png" => false,
            _ => {
                return Err(AppError::Invalid {
                    message: format!("{}: name the file .png or .svg", path.display()),
                });
            }
        };
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        let chart = charts::build(&c, &query.request()).map_err(|e| from_engine(e, &name))?;
        let bytes = if svg {
            render::svg(&chart, 1200, 600, theme).map(String::into_bytes)
        } else {
            render::png(&chart, 1200, 600, theme)
        }
        .map_err(|e| from_engine(e, &name))?;
        charts::save(&path, &bytes).map_err(|e| from_engine(e, &name))
    })
    .await
}

/// Writes the HTML report of the range to `path`.
#[tauri::command]
#[specta::specta]
pub async fn costs_save_report(
    state: State<'_, AppState>,
    start_ms: Option<f64>,
    end_ms: Option<f64>,
    path: String,
    dark: bool,
) -> AppResult<()> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        let req = ReportRequest {
            workspace: std::path::Path::new(&name)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.clone()),
            since_ns: ns(start_ms),
            until_ns: ns(end_ms),
            run: None,
            theme: if dark { Theme::Dark } else { Theme::Light },
        };
        let text = html(&c, &req).map_err(|e| from_engine(e, &name))?;
        charts::save(std::path::Path::new(&path), text.as_bytes())
            .map_err(|e| from_engine(e, &name))
    })
    .await
}
