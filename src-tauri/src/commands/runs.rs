//! The Runs view and the Run view: runs with filters, one run's span tree, one span in
//! detail with its conversation and log lines.

use serde::Serialize;
use sightline::model::{Span, SpanKind, SpanStatus};
use sightline::store::queries::logs::{self, LogQuery};
use sightline::store::queries::spans::{self, RunQuery, RunRow};
use sightline::traces::detail::{SpanReading, read_span};
use sightline::traces::{self, RunColumns};
use tauri::State;

use super::blocking;
use super::logs::LogRowDto;
use crate::error::{AppResult, from_engine};
use crate::state::AppState;

/// A page of runs and how many match in all.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RunsPage {
    pub total: u32,
    pub runs: Vec<RunRow>,
}

#[tauri::command]
#[specta::specta]
pub async fn runs_list(state: State<'_, AppState>, query: RunQuery) -> AppResult<RunsPage> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        let runs = spans::list_runs(&c, &query).map_err(|e| from_engine(e, &name))?;
        let total = spans::count_runs(&c, &query).map_err(|e| from_engine(e, &name))?;
        Ok(RunsPage {
            total: u32::try_from(total).unwrap_or(u32::MAX),
            runs,
        })
    })
    .await
}

/// One run with all its spans in tree order, as columns (attributes, provider and model come
/// with [`runs_span`]).
#[tauri::command]
#[specta::specta]
pub async fn runs_get(state: State<'_, AppState>, trace_id: String) -> AppResult<RunColumns> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        traces::load_run(&w.store, &trace_id, false)
            .map(|(v, _)| v.compact())
            .map_err(|e| from_engine(e, &name))
    })
    .await
}

/// A span in detail.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SpanDetail {
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: SpanKind,
    pub status: SpanStatus,
    pub status_message: Option<String>,
    pub start_ns: i64,
    pub end_ns: i64,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cache_read_tokens: Option<i64>,
    pub cost: Option<f64>,
    pub tool_name: Option<String>,
    pub format: String,
    /// The span's attributes as stored (a JSON object, as text: shown as a tree).
    pub attrs: String,
    pub reading: SpanReading,
    /// Log lines of this span (the first 200).
    pub logs: Vec<LogRowDto>,
}

fn detail(s: Span, logs: Vec<LogRowDto>) -> SpanDetail {
    SpanDetail {
        reading: read_span(&s.attrs, s.kind),
        span_id: s.span_id,
        parent_span_id: s.parent_span_id,
        name: s.name,
        kind: s.kind,
        status: s.status,
        status_message: s.status_message,
        start_ns: s.start_ns,
        end_ns: s.end_ns,
        provider: s.provider,
        model: s.model,
        input_tokens: s.input_tokens,
        output_tokens: s.output_tokens,
        cache_read_tokens: s.cache_read_tokens,
        cost: s.cost,
        tool_name: s.tool_name,
        format: s.format.as_str().to_owned(),
        attrs: s.attrs,
        logs,
    }
}

#[tauri::command]
#[specta::specta]
pub async fn runs_span(
    state: State<'_, AppState>,
    trace_id: String,
    span_id: String,
) -> AppResult<Option<SpanDetail>> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let e = |e| from_engine(e, &name);
        let c = w.store.reader().map_err(e)?;
        let (tref, tid) = spans::find_run(&c, &trace_id).map_err(e)?;
        let Some(span) = spans::get_span(&c, tref, &tid, &span_id).map_err(e)? else {
            return Ok(None);
        };
        let q = LogQuery {
            trace_id: Some(tid),
            span_id: Some(span_id),
            limit: Some(200),
            ..Default::default()
        };
        let rows = logs::list(&c, &q).map_err(e)?;
        Ok(Some(detail(
            span,
            rows.iter().map(LogRowDto::from).collect(),
        )))
    })
    .await
}
