//! Listing log records with filters, in time order.
//!
//! The SQL is assembled from fixed fragments, one per filter in use; every value is bound.
//! Full-text search goes through the FTS5 index: the user's words are each quoted as an FTS
//! phrase, so punctuation in a search (`rate-limit`, `"`, `*`) is text, never query syntax.

use rusqlite::{Connection, ToSql, params};
use serde::Serialize;

use crate::error::Result;
use crate::model::{Format, Level, format_rfc3339_nanos};

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Levels to include; empty means all.
    pub levels: Vec<Level>,
    /// Words that must all appear in the message.
    pub search: Option<String>,
    /// Inclusive lower bound, Unix ns.
    pub since: Option<i64>,
    /// Exclusive upper bound, Unix ns.
    pub until: Option<i64>,
    pub trace_id: Option<String>,
    /// Only records of this span (used with `trace_id`).
    pub span_id: Option<String>,
    /// Source paths: a record matches when its source path equals one of these or lies
    /// below it (a directory).
    pub sources: Vec<String>,
    pub limit: Option<u64>,
    /// Newest first instead of oldest first.
    pub descending: bool,
}

impl LogQuery {
    /// The same query with its levels deduplicated, and no level filter at all when every
    /// level is asked for (so the cheaper plans without a level condition apply).
    pub fn normalized(&self) -> LogQuery {
        let mut q = self.clone();
        q.levels.sort();
        q.levels.dedup();
        if q.levels.len() == Level::ALL.len() {
            q.levels.clear();
        }
        q
    }
}

/// One record as listed.
#[derive(Debug, Clone, Serialize)]
pub struct LogRow {
    pub id: i64,
    pub ts: i64,
    pub level: Level,
    pub message: String,
    pub source: String,
    pub line: u64,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub format: &'static str,
    pub flags: u32,
    pub attrs: String,
}

impl LogRow {
    pub fn ts_rfc3339(&self) -> String {
        format_rfc3339_nanos(self.ts)
    }
}

/// Turns free text into an FTS5 query: every word a quoted phrase, all required.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_prefix(p: &str) -> String {
    let mut s = String::with_capacity(p.len() + 2);
    for c in p.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    if !s.ends_with('/') {
        s.push('/');
    }
    s.push('%');
    s
}

/// The WHERE clause (after `WHERE 1 = 1`) and its bound values for a query's filters.
fn filter_sql(q: &LogQuery) -> (String, Vec<Box<dyn ToSql>>) {
    let mut sql = String::new();
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    if !q.levels.is_empty() {
        sql.push_str(" AND l.level IN (");
        for (i, l) in q.levels.iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ", ?" });
            args.push(Box::new(*l as i64));
        }
        sql.push(')');
    }
    if let Some(t) = q.since {
        sql.push_str(" AND l.ts >= ?");
        args.push(Box::new(t));
    }
    if let Some(t) = q.until {
        sql.push_str(" AND l.ts < ?");
        args.push(Box::new(t));
    }
    if let Some(t) = &q.trace_id {
        sql.push_str(" AND l.trace_ref = (SELECT id FROM traces WHERE trace_id = ?)");
        args.push(Box::new(t.trim().to_ascii_lowercase()));
    }
    if let Some(sp) = &q.span_id {
        sql.push_str(" AND l.span_id = ?");
        args.push(Box::new(sp.trim().to_ascii_lowercase()));
    }
    if !q.sources.is_empty() {
        sql.push_str(" AND l.source_id IN (SELECT id FROM sources WHERE 0");
        for p in &q.sources {
            sql.push_str(" OR path = ? OR path LIKE ? ESCAPE '\\'");
            args.push(Box::new(p.clone()));
            args.push(Box::new(like_prefix(p)));
        }
        sql.push(')');
    }
    if let Some(text) = &q.search {
        match fts_query(text) {
            Some(fq) => {
                sql.push_str(" AND l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)");
                args.push(Box::new(fq));
            }
            // Nothing searchable in the text (only punctuation): nothing matches.
            None => sql.push_str(" AND 0"),
        }
    }
    (sql, args)
}

const ROW_COLS: &str = "l.id, l.ts, l.level, l.message, s.path, l.line, t.trace_id, l.span_id,
     l.parent_span_id, l.format, l.flags, l.attrs";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LogRow> {
    Ok(LogRow {
        id: r.get(0)?,
        ts: r.get(1)?,
        level: Level::from_i64(r.get(2)?).unwrap_or(Level::Info),
        message: r.get(3)?,
        source: r.get(4)?,
        line: r.get::<_, i64>(5)?.max(0) as u64,
        trace_id: r.get(6)?,
        span_id: r.get(7)?,
        parent_span_id: r.get(8)?,
        format: Format::from_i64(r.get(9)?).map_or("unknown", Format::as_str),
        flags: r.get::<_, i64>(10)?.max(0) as u32,
        attrs: r.get(11)?,
    })
}

fn params_of(args: &[Box<dyn ToSql>]) -> Vec<&dyn ToSql> {
    args.iter().map(|b| b.as_ref()).collect()
}

pub fn list(conn: &Connection, q: &LogQuery) -> Result<Vec<LogRow>> {
    let q = &q.normalized();
    let (filter, mut args) = filter_sql(q);
    let mut sql = format!(
        "SELECT {ROW_COLS} FROM logs l JOIN sources s ON s.id = l.source_id
         LEFT JOIN traces t ON t.id = l.trace_ref WHERE 1 = 1{filter}"
    );
    sql.push_str(if q.descending {
        " ORDER BY l.ts DESC, l.id DESC"
    } else {
        " ORDER BY l.ts, l.id"
    });
    if let Some(n) = q.limit {
        sql.push_str(" LIMIT ?");
        args.push(Box::new(i64::try_from(n).unwrap_or(i64::MAX)));
    }
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_of(&args).as_slice(), row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// How many records match (ignores `limit`). Level-only and unfiltered counts come from the
/// per-batch counters and cost nothing, whatever the workspace size.
pub fn count(conn: &Connection, q: &LogQuery) -> Result<u64> {
    let q = &q.normalized();
    let only_levels = q.search.is_none()
        && q.since.is_none()
        && q.until.is_none()
        && q.trace_id.is_none()
        && q.span_id.is_none()
        && q.sources.is_empty();
    let only_search = q.search.is_some()
        && q.levels.is_empty()
        && q.since.is_none()
        && q.until.is_none()
        && q.trace_id.is_none()
        && q.span_id.is_none()
        && q.sources.is_empty();
    if only_search {
        return fts_matches(conn, q.search.as_deref().unwrap_or_default(), None);
    }
    let n: i64 = if only_levels {
        let mut sql = String::from("SELECT COALESCE(SUM(count), 0) FROM record_counts WHERE 1 = 1");
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if !q.levels.is_empty() {
            sql.push_str(" AND level IN (");
            for (i, l) in q.levels.iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(Box::new(*l as i64));
            }
            sql.push(')');
        }
        conn.query_row(&sql, params_of(&args).as_slice(), |r| r.get(0))?
    } else {
        let (filter, args) = filter_sql(q);
        let sql = format!("SELECT count(*) FROM logs l WHERE 1 = 1{filter}");
        conn.query_row(&sql, params_of(&args).as_slice(), |r| r.get(0))?
    };
    Ok(n.max(0) as u64)
}

/// How many records the full-text part of a query matches, from the FTS index alone,
/// counting no further than `cap`.
fn fts_matches(conn: &Connection, text: &str, cap: Option<u64>) -> Result<u64> {
    let Some(fq) = fts_query(text) else {
        return Ok(0);
    };
    let cap = cap.map_or(-1, |c| i64::try_from(c).unwrap_or(i64::MAX));
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?1 LIMIT ?2)",
        params![fq, cap],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

/// How a page of a search is found. Measured on 10M records (BENCHMARKS.md):
/// - `FromMatches`: few matches; each is looked up for its time, then sorted.
/// - `WalkWithSet`: the time index is walked and each entry checked against the set of
///   matches, stopping when the page is full (188k matches of "failed": 20 ms, where
///   looking up every match took 8.7 s).
/// - `WalkWithProbe`: as dense as one record in ten or more; building the match set would
///   dominate (3.9M matches: 0.55 s), so each walked entry asks the FTS index about its own
///   rowid instead (20 ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchPlan {
    FromMatches,
    WalkWithSet,
    WalkWithProbe,
}

/// Below this many matches, a search page starts from the matches.
const SPARSE_MATCHES: u64 = 5_000;

/// Records sampled (by rowid, from the oldest) to tell a dense search from a medium one.
const DENSITY_SAMPLE: i64 = 200_000;

fn search_plan(conn: &Connection, text: &str) -> Result<Option<SearchPlan>> {
    // Exact, but never counting past the sparse limit: cheap whatever the match count.
    let m = fts_matches(conn, text, Some(SPARSE_MATCHES + 1))?;
    if m == 0 {
        return Ok(None);
    }
    if m <= SPARSE_MATCHES {
        return Ok(Some(SearchPlan::FromMatches));
    }
    // Density from a sample of rowids: counting all of millions of matches (0.2 s) would
    // cost more than the page itself. A wrong guess only costs speed, never correctness.
    let Some(fq) = fts_query(text) else {
        return Ok(None);
    };
    // One subquery each (see stats.rs): both in one select scan the table.
    let (lo, hi): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT (SELECT min(id) FROM logs), (SELECT max(id) FROM logs)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(None);
    };
    let end = hi.min(lo.saturating_add(DENSITY_SAMPLE - 1));
    let in_sample: i64 = conn.query_row(
        "SELECT count(*) FROM logs_fts WHERE logs_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3",
        params![fq, lo, end],
        |r| r.get(0),
    )?;
    let sample = (end - lo + 1).max(1);
    Ok(Some(if in_sample * 10 >= sample {
        SearchPlan::WalkWithProbe
    } else {
        SearchPlan::WalkWithSet
    }))
}

/// One page of matching records in time order, from position `offset`. The page's ids are
/// found on a covering index first, so only `limit` rows are read in full.
pub fn page(conn: &Connection, q: &LogQuery, offset: u64, limit: u64) -> Result<Vec<LogRow>> {
    let q = &q.normalized();
    // A search with no level filter picks its plan (see SearchPlan); with a level filter the
    // (level, ts) index is the walk and the planner finds it.
    let plan = match &q.search {
        Some(text) if q.levels.is_empty() => match search_plan(conn, text)? {
            None => return Ok(Vec::new()),
            Some(p) => p,
        },
        _ => SearchPlan::FromMatches,
    };
    let index = if plan == SearchPlan::FromMatches {
        ""
    } else {
        " INDEXED BY logs_ts"
    };
    // The probe plan asks the FTS index per walked row, so the search leaves the filter.
    let probe_text = match plan {
        SearchPlan::WalkWithProbe => q.search.as_deref().and_then(fts_query),
        _ => None,
    };
    let q = &LogQuery {
        search: if probe_text.is_some() {
            None
        } else {
            q.search.clone()
        },
        ..q.clone()
    };
    let (filter, mut args) = filter_sql(q);
    let probe = match probe_text {
        Some(fq) => {
            args.push(Box::new(fq));
            " AND EXISTS (SELECT 1 FROM logs_fts f WHERE f.logs_fts MATCH ? AND f.rowid = l.id)"
        }
        None => "",
    };
    let sql = format!(
        "SELECT {ROW_COLS} FROM (SELECT l.id FROM logs l{index} WHERE 1 = 1{filter}{probe}
             ORDER BY l.ts, l.id LIMIT ? OFFSET ?) p
         JOIN logs l ON l.id = p.id JOIN sources s ON s.id = l.source_id
         LEFT JOIN traces t ON t.id = l.trace_ref ORDER BY l.ts, l.id"
    );
    args.push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
    args.push(Box::new(i64::try_from(offset).unwrap_or(i64::MAX)));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_of(&args).as_slice(), row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// One record by id.
pub fn get(conn: &Connection, id: i64) -> Result<Option<LogRow>> {
    let sql = format!(
        "SELECT {ROW_COLS} FROM logs l JOIN sources s ON s.id = l.source_id
         LEFT JOIN traces t ON t.id = l.trace_ref WHERE l.id = ?1"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query_map([id], row)?;
    Ok(rows.next().transpose()?)
}

/// The position (in time order, under the query's filters) of the first record after (or,
/// backwards, before) position `from` whose level is at least `min_level`: "next error".
pub fn next_at_level(
    conn: &Connection,
    q: &LogQuery,
    from: u64,
    min_level: Level,
    forward: bool,
) -> Result<Option<u64>> {
    let q = &q.normalized();
    let Some(cur) = page(conn, q, from, 1)?.into_iter().next() else {
        return Ok(None);
    };
    let (filter, mut args) = filter_sql(q);
    let (cmp, order) = if forward {
        ("(l.ts > ? OR (l.ts = ? AND l.id > ?))", "l.ts, l.id")
    } else {
        (
            "(l.ts < ? OR (l.ts = ? AND l.id < ?))",
            "l.ts DESC, l.id DESC",
        )
    };
    let sql = format!(
        "SELECT l.ts, l.id FROM logs l WHERE 1 = 1{filter} AND l.level >= ? AND {cmp}
         ORDER BY {order} LIMIT 1"
    );
    args.push(Box::new(min_level as i64));
    args.push(Box::new(cur.ts));
    args.push(Box::new(cur.ts));
    args.push(Box::new(cur.id));
    let hit: Option<(i64, i64)> = {
        let mut stmt = conn.prepare(&sql)?;
        let mut rows =
            stmt.query_map(params_of(&args).as_slice(), |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.next().transpose()?
    };
    let Some((ts, id)) = hit else {
        return Ok(None);
    };
    let (filter, mut args) = filter_sql(q);
    let sql = format!(
        "SELECT count(*) FROM logs l WHERE 1 = 1{filter} AND (l.ts < ? OR (l.ts = ? AND l.id < ?))"
    );
    args.push(Box::new(ts));
    args.push(Box::new(ts));
    args.push(Box::new(id));
    let n: i64 = conn.query_row(&sql, params_of(&args).as_slice(), |r| r.get(0))?;
    Ok(Some(n.max(0) as u64))
}

/// Where a record's source text is: file, compression, byte offset and length.
pub fn raw_location(conn: &Connection, id: i64) -> Result<Option<(String, bool, u64, u64)>> {
    let mut stmt = conn.prepare(
        "SELECT s.path, s.compression IS NOT NULL, l.byte_offset, l.byte_len
         FROM logs l JOIN sources s ON s.id = l.source_id WHERE l.id = ?1",
    )?;
    let mut rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, bool>(1)?,
            r.get::<_, i64>(2)?.max(0) as u64,
            r.get::<_, i64>(3)?.max(0) as u64,
        ))
    })?;
    Ok(rows.next().transpose()?)
}

/// How many distinct traces the records belong to.
pub fn count_traces(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM traces t WHERE EXISTS (SELECT 1 FROM logs l WHERE l.trace_ref = t.id)",
        [],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_quotes_words() {
        assert_eq!(
            fts_query("rate-limit  hit").as_deref(),
            Some("\"rate\" \"limit\" \"hit\"")
        );
        assert_eq!(fts_query("\"*()"), None);
        assert_eq!(fts_query("OR"), Some("\"OR\"".into()));
    }

    #[test]
    fn like_escapes() {
        assert_eq!(like_prefix("/a_b%"), "/a\\_b\\%/%");
    }
}
