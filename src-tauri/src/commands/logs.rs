//! The log explorer: counts, pages, one record in detail, next error.

use serde::{Deserialize, Serialize};
use sightline::model::{Level, flags};
use sightline::store::queries::logs::{self, LogQuery, LogRow};
use tauri::State;

use super::blocking;
use crate::error::{AppError, AppResult, from_engine};
use crate::state::AppState;

/// The filters of the log explorer.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub struct LogFilter {
    pub levels: Vec<LevelName>,
    pub search: Option<String>,
    /// RFC 3339 or a span back from now (`15m`).
    pub since: Option<String>,
    pub until: Option<String>,
    pub trace_id: Option<String>,
    pub sources: Vec<String>,
}

/// A log level, as the UI names it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, specta::Type)]
#[serde(rename = "Level", rename_all = "lowercase")]
pub enum LevelName {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl From<LevelName> for Level {
    fn from(l: LevelName) -> Level {
        match l {
            LevelName::Trace => Level::Trace,
            LevelName::Debug => Level::Debug,
            LevelName::Info => Level::Info,
            LevelName::Warn => Level::Warn,
            LevelName::Error => Level::Error,
            LevelName::Fatal => Level::Fatal,
        }
    }
}

impl From<Level> for LevelName {
    fn from(l: Level) -> LevelName {
        match l {
            Level::Trace => LevelName::Trace,
            Level::Debug => LevelName::Debug,
            Level::Info => LevelName::Info,
            Level::Warn => LevelName::Warn,
            Level::Error => LevelName::Error,
            Level::Fatal => LevelName::Fatal,
        }
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl LogFilter {
    fn to_query(&self) -> AppResult<LogQuery> {
        let now = now_ns();
        // The error names the field ("since" / "until") so the UI can mark the right box.
        let time = |v: &Option<String>, field: &str| -> AppResult<Option<i64>> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(t) => sightline::time_arg::parse_time_arg(t, now)
                    .map(Some)
                    .map_err(|e| match from_engine(e, "") {
                        AppError::InvalidArgument { value, why, .. } => AppError::InvalidArgument {
                            what: field.to_owned(),
                            value,
                            why,
                        },
                        other => other,
                    }),
            }
        };
        Ok(LogQuery {
            levels: self.levels.iter().map(|l| (*l).into()).collect(),
            search: self.search.clone().filter(|s| !s.trim().is_empty()),
            since: time(&self.since, "since")?,
            until: time(&self.until, "until")?,
            trace_id: self.trace_id.clone().filter(|s| !s.trim().is_empty()),
            span_id: None,
            sources: self.sources.clone(),
            limit: None,
            descending: false,
        })
    }
}

/// One row of the list.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LogRowDto {
    pub id: f64,
    /// RFC 3339 UTC with nanoseconds.
    pub ts: String,
    /// Milliseconds since the epoch, for display and charts.
    pub ts_ms: f64,
    pub level: LevelName,
    pub message: String,
    pub source: String,
    pub line: f64,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub format: String,
}

impl From<&LogRow> for LogRowDto {
    fn from(r: &LogRow) -> Self {
        LogRowDto {
            id: r.id as f64,
            ts: r.ts_rfc3339(),
            ts_ms: (r.ts / 1_000_000) as f64,
            level: r.level.into(),
            message: r.message.clone(),
            source: r.source.clone(),
            line: r.line as f64,
            trace_id: r.trace_id.clone(),
            span_id: r.span_id.clone(),
            format: r.format.to_owned(),
        }
    }
}

/// One record in full.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LogDetail {
    pub row: LogRowDto,
    pub parent_span_id: Option<String>,
    /// The attributes: a JSON object, as text.
    pub attrs_json: String,
    /// The record's text as it is in its file.
    pub raw: Option<String>,
    /// Why the raw text could not be read (the file moved, ...), in plain words.
    pub raw_error: Option<String>,
    /// What was assumed about this record (no offset in its time, no level...).
    pub notes: Vec<String>,
}

fn ws_query<T: Send + 'static>(
    state: &State<'_, AppState>,
    f: impl FnOnce(&rusqlite::Connection) -> sightline::Result<T> + Send + 'static,
) -> AppResult<impl std::future::Future<Output = AppResult<T>>> {
    let w = state.workspace()?;
    Ok(blocking(move || {
        let name = w.name();
        let conn = w.store.reader().map_err(|e| from_engine(e, &name))?;
        f(&conn).map_err(|e| from_engine(e, &name))
    }))
}

#[tauri::command]
#[specta::specta]
pub async fn logs_count(state: State<'_, AppState>, filter: LogFilter) -> AppResult<f64> {
    let q = filter.to_query()?;
    ws_query(&state, move |c| logs::count(c, &q).map(|n| n as f64))?.await
}

#[tauri::command]
#[specta::specta]
pub async fn logs_page(
    state: State<'_, AppState>,
    filter: LogFilter,
    offset: f64,
    limit: u32,
) -> AppResult<Vec<LogRowDto>> {
    let q = filter.to_query()?;
    let offset = offset.max(0.0) as u64;
    let limit = u64::from(limit.min(2000));
    ws_query(&state, move |c| {
        logs::page(c, &q, offset, limit).map(|rows| rows.iter().map(LogRowDto::from).collect())
    })?
    .await
}

/// Position of the next (or previous) error or fatal record after position `from`.
#[tauri::command]
#[specta::specta]
pub async fn logs_next_level(
    state: State<'_, AppState>,
    filter: LogFilter,
    from: f64,
    forward: bool,
) -> AppResult<Option<f64>> {
    let q = filter.to_query()?;
    let from = from.max(0.0) as u64;
    ws_query(&state, move |c| {
        logs::next_at_level(c, &q, from, Level::Error, forward).map(|o| o.map(|n| n as f64))
    })?
    .await
}

const RAW_MAX: u64 = 256 * 1024;

#[tauri::command]
#[specta::specta]
pub async fn logs_detail(state: State<'_, AppState>, id: f64) -> AppResult<LogDetail> {
    let id = id as i64;
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let e = |err| from_engine(err, &name);
        let conn = w.store.reader().map_err(e)?;
        let row = logs::get(&conn, id)
            .map_err(|err| from_engine(err, &name))?
            .ok_or_else(|| AppError::NotFound {
                path: format!("record {id}"),
            })?;
        let (raw, raw_error) =
            match logs::raw_location(&conn, id).map_err(|err| from_engine(err, &name))? {
                Some((path, gz, off, len)) => {
                    match sightline::ingest::read_raw(path.as_ref(), gz, off, len, RAW_MAX) {
                        Ok(bytes) => (Some(String::from_utf8_lossy(&bytes).into_owned()), None),
                        Err(err) => (None, Some(err.to_string())),
                    }
                }
                None => (None, None),
            };
        let mut notes = Vec::new();
        if row.flags & flags::TIME_ASSUMED_UTC != 0 {
            notes.push("The time had no UTC offset; it was taken as UTC.".to_owned());
        }
        if row.flags & flags::TIME_MISSING != 0 {
            notes.push(
                "The record had no time; it shows the time of the record before it.".to_owned(),
            );
        }
        if row.flags & flags::TIME_NO_YEAR != 0 {
            notes.push("The time had no year; the year of the file was used.".to_owned());
        }
        if row.flags & flags::LEVEL_MISSING != 0 {
            notes.push("The record had no level; it was inferred.".to_owned());
        }
        Ok(LogDetail {
            row: LogRowDto::from(&row),
            parent_span_id: row.parent_span_id.clone(),
            attrs_json: row.attrs.clone(),
            raw,
            raw_error,
            notes,
        })
    })
    .await
}
