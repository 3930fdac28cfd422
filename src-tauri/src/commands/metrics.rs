//! The Metrics view and the scrape targets of the Sources view: the metric browser, PromQL
//! range queries for the charts, and adding, pausing and removing targets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sightline::ingest::scrape::{ScrapeConfig, ScrapeTargetInfo};
use sightline::promql::Query;
use sightline::store::queries::series::{self, MetricInfo, StoreSource};
use tauri::State;

use super::blocking;
use crate::error::{AppError, AppResult, from_engine};
use crate::state::AppState;

/// Most series a chart gets; the rest are counted in `truncated`.
const MAX_SERIES: usize = 200;

#[tauri::command]
#[specta::specta]
pub async fn metrics_list(state: State<'_, AppState>) -> AppResult<Vec<MetricInfo>> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        series::list_metrics(&c).map_err(|e| from_engine(e, &name))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn metrics_label_names(
    state: State<'_, AppState>,
    metric: Option<String>,
) -> AppResult<Vec<String>> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        series::label_names(&c, metric.as_deref()).map_err(|e| from_engine(e, &name))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn metrics_label_values(
    state: State<'_, AppState>,
    label: String,
    metric: Option<String>,
) -> AppResult<Vec<String>> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        series::label_values(&c, &label, metric.as_deref()).map_err(|e| from_engine(e, &name))
    })
    .await
}

/// One series of a chart: labels and `[t_ms, value]` points (`null` for NaN and infinities).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SeriesPoints {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(i64, Option<f64>)>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct QueryResult {
    pub series: Vec<SeriesPoints>,
    pub scalar: bool,
    /// More series matched than a chart shows; only the first are here.
    pub truncated: bool,
}

#[tauri::command]
#[specta::specta]
pub async fn metrics_query_range(
    state: State<'_, AppState>,
    expr: String,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
) -> AppResult<QueryResult> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let q = Query::parse(&expr).map_err(|e| AppError::Query {
            message: e.to_string(),
        })?;
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        let src = StoreSource::new(&c);
        let r = q
            .range(&src, start_ms, end_ms, step_ms.max(1))
            .map_err(|e| AppError::Query {
                message: e.to_string(),
            })?;
        let truncated = r.series.len() > MAX_SERIES;
        let series = r
            .series
            .into_iter()
            .take(MAX_SERIES)
            .map(|s| SeriesPoints {
                labels: s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                points: s
                    .samples
                    .iter()
                    .map(|&(t, v)| (t, v.is_finite().then_some(v)))
                    .collect(),
            })
            .collect();
        Ok(QueryResult {
            series,
            scalar: r.scalar,
            truncated,
        })
    })
    .await
}

/// A scrape target to add.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct NewScrapeTarget {
    pub url: String,
    pub interval_ms: Option<i64>,
    pub timeout_ms: Option<i64>,
    pub labels: BTreeMap<String, String>,
    pub bearer_token: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn scrape_list(state: State<'_, AppState>) -> AppResult<Vec<ScrapeTargetInfo>> {
    let w = state.workspace()?;
    blocking(move || w.scrapes.list().map_err(|e| from_engine(e, &w.name()))).await
}

#[tauri::command]
#[specta::specta]
pub async fn scrape_add(
    state: State<'_, AppState>,
    target: NewScrapeTarget,
) -> AppResult<ScrapeTargetInfo> {
    let w = state.workspace()?;
    blocking(move || {
        let mut cfg = ScrapeConfig::new(&target.url).map_err(|why| AppError::InvalidArgument {
            what: "scrape target".into(),
            value: target.url.clone(),
            why,
        })?;
        // Set everything first: `add` validates (interval, labels) and works out the timeout.
        if let Some(i) = target.interval_ms {
            cfg.interval_ms = i;
        }
        cfg.timeout_ms = target.timeout_ms.unwrap_or(0);
        cfg.labels.extend(target.labels);
        cfg.bearer_token = target.bearer_token.filter(|t| !t.is_empty());
        w.scrapes.add(cfg).map_err(|e| from_engine(e, &w.name()))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn scrape_set_paused(
    state: State<'_, AppState>,
    id: i64,
    paused: bool,
) -> AppResult<ScrapeTargetInfo> {
    let w = state.workspace()?;
    blocking(move || {
        w.scrapes
            .set_paused(id, paused)
            .map_err(|e| from_engine(e, &w.name()))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn scrape_remove(state: State<'_, AppState>, id: i64) -> AppResult<()> {
    let w = state.workspace()?;
    blocking(move || w.scrapes.remove(id).map_err(|e| from_engine(e, &w.name()))).await
}
