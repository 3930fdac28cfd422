//! Runs (one per trace, rolled up by the writer) and their spans.

use rusqlite::{Connection, OptionalExtension, ToSql, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{Format, Span, SpanKind, SpanStatus};

/// The span columns [`span_from_row`] reads, in its order (table alias `s`).
pub const SPAN_COLUMNS: &str = "s.span_id, s.parent_span_id, s.name, s.kind, s.start_ns, s.end_ns,
     s.status, s.status_message, s.provider, s.model, s.input_tokens, s.output_tokens,
     s.cache_read_tokens, s.cache_write_tokens, s.cost, s.tool_name, s.format, s.whole, s.line,
     s.attrs, s.price_ref";

/// Reads a span from [`SPAN_COLUMNS`] starting at column `at`.
pub fn span_from_row(r: &rusqlite::Row<'_>, at: usize, trace_id: &str) -> rusqlite::Result<Span> {
    Ok(Span {
        trace_id: trace_id.to_owned(),
        span_id: r.get(at)?,
        parent_span_id: r.get(at + 1)?,
        name: r.get(at + 2)?,
        kind: SpanKind::from_i64(r.get(at + 3)?),
        start_ns: r.get(at + 4)?,
        end_ns: r.get(at + 5)?,
        status: SpanStatus::from_i64(r.get(at + 6)?),
        status_message: r.get(at + 7)?,
        provider: r.get(at + 8)?,
        model: r.get(at + 9)?,
        input_tokens: r.get(at + 10)?,
        output_tokens: r.get(at + 11)?,
        cache_read_tokens: r.get(at + 12)?,
        cache_write_tokens: r.get(at + 13)?,
        cost: r.get(at + 14)?,
        tool_name: r.get(at + 15)?,
        format: Format::from_i64(r.get(at + 16)?).unwrap_or(Format::Json),
        whole: r.get(at + 17)?,
        line: r.get::<_, i64>(at + 18)?.max(0) as u64,
        attrs: r.get(at + 19)?,
        price_ref: r.get(at + 20)?,
    })
}

/// How runs are sorted.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunSort {
    #[default]
    Start,
    Duration,
    Cost,
    Tokens,
    Errors,
    Status,
    Spans,
}

impl RunSort {
    fn column(self) -> &'static str {
        match self {
            RunSort::Start => "r.start_ns",
            RunSort::Duration => "(r.end_ns - r.start_ns)",
            RunSort::Cost => "r.cost",
            RunSort::Tokens => "(r.input_tokens + r.output_tokens)",
            RunSort::Errors => "r.errors",
            RunSort::Status => "r.status",
            RunSort::Spans => "r.spans",
        }
    }
}

/// Which runs to list.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RunQuery {
    /// `ok` (the root did not fail) or `error` (it did).
    pub status: Option<SpanStatus>,
    pub min_duration_ns: Option<i64>,
    pub min_cost: Option<f64>,
    /// Runs with an LLM call to this model.
    pub model: Option<String>,
    /// Runs that called this tool.
    pub tool: Option<String>,
    /// Words in the run's name, trace id, or a span name.
    pub text: Option<String>,
    /// Exactly this run.
    pub trace_id: Option<String>,
    pub sort: RunSort,
    pub descending: bool,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// One run as listed.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunRow {
    pub trace_id: String,
    pub name: String,
    pub status: SpanStatus,
    pub start_ns: i64,
    pub end_ns: i64,
    pub duration_ns: i64,
    pub spans: u32,
    pub llm_calls: u32,
    pub tool_calls: u32,
    pub errors: u32,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost: f64,
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn filters(q: &RunQuery) -> (String, Vec<Box<dyn ToSql>>) {
    let mut sql = String::from(" WHERE 1");
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    match q.status {
        Some(SpanStatus::Error) => sql.push_str(" AND r.status = 2"),
        Some(_) => sql.push_str(" AND r.status != 2"),
        None => {}
    }
    if let Some(d) = q.min_duration_ns {
        sql.push_str(" AND r.end_ns - r.start_ns >= ?");
        args.push(Box::new(d));
    }
    if let Some(c) = q.min_cost {
        sql.push_str(" AND r.cost >= ?");
        args.push(Box::new(c));
    }
    if let Some(m) = q.model.as_ref().filter(|m| !m.trim().is_empty()) {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM spans s WHERE s.trace_ref = r.trace_ref AND s.kind = 2
               AND s.model = ?)",
        );
        args.push(Box::new(m.trim().to_owned()));
    }
    if let Some(t) = q.tool.as_ref().filter(|t| !t.trim().is_empty()) {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM spans s WHERE s.trace_ref = r.trace_ref AND s.tool_name = ?)",
        );
        args.push(Box::new(t.trim().to_owned()));
    }
    if let Some(t) = q.trace_id.as_ref() {
        sql.push_str(" AND t.trace_id = ?");
        args.push(Box::new(t.trim().to_ascii_lowercase()));
    }
    if let Some(text) = q.text.as_ref() {
        for word in text.split_whitespace() {
            sql.push_str(
                " AND (r.name LIKE ? ESCAPE '\\' OR t.trace_id LIKE ? ESCAPE '\\'
                   OR EXISTS (SELECT 1 FROM spans s WHERE s.trace_ref = r.trace_ref
                              AND s.name LIKE ? ESCAPE '\\'))",
            );
            for _ in 0..3 {
                args.push(Box::new(like_escape(word)));
            }
        }
    }
    (sql, args)
}

fn params_of(args: &[Box<dyn ToSql>]) -> Vec<&dyn ToSql> {
    args.iter().map(|b| b.as_ref()).collect()
}

/// Lists runs.
pub fn list_runs(conn: &Connection, q: &RunQuery) -> Result<Vec<RunRow>> {
    let (where_sql, mut args) = filters(q);
    let dir = if q.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {RUN_COLUMNS}
         FROM runs r JOIN traces t ON t.id = r.trace_ref{where_sql}
         ORDER BY {} {dir}, r.start_ns {dir}, r.trace_ref {dir} LIMIT ? OFFSET ?",
        q.sort.column()
    );
    args.push(Box::new(i64::from(q.limit.unwrap_or(1000))));
    args.push(Box::new(i64::from(q.offset.unwrap_or(0))));
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params_of(&args).as_slice(), run_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The columns every run listing selects, from `runs r JOIN traces t`.
pub(crate) const RUN_COLUMNS: &str = "t.trace_id, r.name, r.status, r.start_ns, r.end_ns, r.spans,
    r.llm_calls, r.tool_calls, r.errors, r.input_tokens, r.output_tokens, r.cost";

/// A [`RunRow`] from [`RUN_COLUMNS`].
pub(crate) fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    let start: i64 = r.get(3)?;
    let end: i64 = r.get(4)?;
    let n = |i: usize| -> rusqlite::Result<u32> {
        Ok(r.get::<_, i64>(i)?.clamp(0, i64::from(u32::MAX)) as u32)
    };
    Ok(RunRow {
        trace_id: r.get(0)?,
        name: r.get(1)?,
        status: SpanStatus::from_i64(r.get(2)?),
        start_ns: start,
        end_ns: end,
        duration_ns: end - start,
        spans: n(5)?,
        llm_calls: n(6)?,
        tool_calls: n(7)?,
        errors: n(8)?,
        input_tokens: r.get(9)?,
        output_tokens: r.get(10)?,
        cost: r.get(11)?,
    })
}

/// Counts the runs a query matches (without its limit).
pub fn count_runs(conn: &Connection, q: &RunQuery) -> Result<u64> {
    let (where_sql, args) = filters(q);
    let sql = format!("SELECT count(*) FROM runs r JOIN traces t ON t.id = r.trace_ref{where_sql}");
    let n: i64 = conn.query_row(&sql, params_of(&args).as_slice(), |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// Finds a run by its trace id or a unique prefix of it (at least 4 hex digits).
pub fn find_run(conn: &Connection, id: &str) -> Result<(i64, String)> {
    let id = id.trim().to_ascii_lowercase();
    let bad = |why: &str| Error::InvalidArgument {
        what: "run id",
        value: id.clone(),
        why: why.to_owned(),
    };
    if id.len() < 4 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("a trace id is hex; give at least its first 4 digits"));
    }
    if let Some(hit) = conn
        .query_row(
            "SELECT t.id, t.trace_id FROM traces t JOIN runs r ON r.trace_ref = t.id
             WHERE t.trace_id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
    {
        return Ok(hit);
    }
    // Hex digits sort in order, so a prefix is a range of the unique index.
    let mut upper = id.clone();
    upper.push('g');
    let mut st = conn.prepare(
        "SELECT t.id, t.trace_id FROM traces t JOIN runs r ON r.trace_ref = t.id
         WHERE t.trace_id >= ?1 AND t.trace_id < ?2 LIMIT 2",
    )?;
    let hits: Vec<(i64, String)> = st
        .query_map(params![id, upper], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    match hits.len() {
        1 => Ok(hits.into_iter().next().unwrap_or_default()),
        0 => Err(bad("no run has this trace id")),
        _ => Err(bad("more than one run starts with this; give more digits")),
    }
}

/// Every span of a trace, in start order.
pub fn trace_spans(conn: &Connection, trace_ref: i64, trace_id: &str) -> Result<Vec<Span>> {
    let sql = format!(
        "SELECT {SPAN_COLUMNS} FROM spans s WHERE s.trace_ref = ?1 ORDER BY s.start_ns, s.id"
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params![trace_ref], |r| span_from_row(r, 0, trace_id))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many rows a rowid range may hold per span of the trace for [`trace_spans_lean`] to
/// read the range rather than seek each span through the index.
const LEAN_SCAN_SPREAD: i64 = 4;

/// Every span of a trace without its attributes (the waterfall does not need them), in the
/// order of [`trace_spans`]: start, then row id.
///
/// Shaped for a 100,000-span run. Through `spans_key` each span is a seek into the table in
/// span id order (random), and `ORDER BY` sorts the rows SQLite has read. A trace's spans
/// are mostly written together, so their row ids are mostly one dense range: when the range
/// holds at most [`LEAN_SCAN_SPREAD`] rows per span it is read in order instead
/// (`+s.trace_ref` keeps the planner off the index), skipping other traces' rows. Either
/// way the rows are ordered here by sorting indices, not the rows.
pub fn trace_spans_lean(conn: &Connection, trace_ref: i64, trace_id: &str) -> Result<Vec<Span>> {
    fn lean_row(r: &rusqlite::Row<'_>, trace_id: &str) -> rusqlite::Result<(i64, Span)> {
        Ok((r.get(0)?, span_from_row(r, 1, trace_id)?))
    }
    let (count, lo, hi): (i64, Option<i64>, Option<i64>) = conn.query_row(
        "SELECT count(*), min(id), max(id) FROM spans WHERE trace_ref = ?1",
        params![trace_ref],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(Vec::new());
    };
    let columns = SPAN_COLUMNS.replace("s.attrs", "'{}'");
    let rows: Vec<(i64, Span)> = if hi - lo < count.saturating_mul(LEAN_SCAN_SPREAD) {
        let sql = format!(
            "SELECT s.id, {columns} FROM spans s
             WHERE s.id BETWEEN ?2 AND ?3 AND +s.trace_ref = ?1"
        );
        let mut st = conn.prepare(&sql)?;
        let rows = st.query_map(params![trace_ref, lo, hi], |r| lean_row(r, trace_id))?;
        rows.collect::<rusqlite::Result<_>>()?
    } else {
        let sql = format!("SELECT s.id, {columns} FROM spans s WHERE s.trace_ref = ?1");
        let mut st = conn.prepare(&sql)?;
        let rows = st.query_map(params![trace_ref], |r| lean_row(r, trace_id))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    // Sorting (start, id, index) triples and then moving each span once is much cheaper
    // than sorting the spans themselves (a few hundred bytes each).
    let mut order: Vec<(i64, i64, usize)> = rows
        .iter()
        .enumerate()
        .map(|(i, (id, s))| (s.start_ns, *id, i))
        .collect();
    order.sort_unstable();
    let mut rows: Vec<Option<Span>> = rows.into_iter().map(|(_, s)| Some(s)).collect();
    Ok(order
        .into_iter()
        .filter_map(|(_, _, i)| rows.get_mut(i).and_then(Option::take))
        .collect())
}

/// One span with its attributes.
pub fn get_span(
    conn: &Connection,
    trace_ref: i64,
    trace_id: &str,
    span_id: &str,
) -> Result<Option<Span>> {
    let sql =
        format!("SELECT {SPAN_COLUMNS} FROM spans s WHERE s.trace_ref = ?1 AND s.span_id = ?2");
    Ok(conn
        .query_row(&sql, params![trace_ref, span_id], |r| {
            span_from_row(r, 0, trace_id)
        })
        .optional()?)
}

/// Totals over the workspace: runs and spans.
pub fn counts(conn: &Connection) -> Result<(u64, u64)> {
    let runs: i64 = conn.query_row("SELECT count(*) FROM runs", [], |r| r.get(0))?;
    let spans: i64 = conn.query_row("SELECT count(*) FROM spans", [], |r| r.get(0))?;
    Ok((runs.max(0) as u64, spans.max(0) as u64))
}
