//! What a workspace holds, from the counters kept at ingest (no scan of the logs table).

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use crate::error::Result;
use crate::model::{Format, Level};

/// Counts of what a workspace holds.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub records: u64,
    pub sources: u64,
    pub by_level: BTreeMap<String, u64>,
    pub by_source: BTreeMap<String, u64>,
    pub by_format: BTreeMap<String, u64>,
    pub skipped: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Earliest and latest record time (RFC 3339), when there are records.
    pub first: Option<String>,
    pub last: Option<String>,
}

pub fn stats(conn: &Connection) -> Result<Stats> {
    let mut s = Stats::default();
    for l in Level::ALL {
        s.by_level.insert(l.as_str().to_owned(), 0);
    }
    let mut q = conn.prepare(
        "SELECT s.path, c.level, c.format, c.count
         FROM record_counts c JOIN sources s ON s.id = c.source_id",
    )?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let path: String = r.get(0)?;
        let level: i64 = r.get(1)?;
        let format: i64 = r.get(2)?;
        let n = r.get::<_, i64>(3)?.max(0) as u64;
        s.records += n;
        let lname = Level::from_i64(level).map_or("unknown", Level::as_str);
        *s.by_level.entry(lname.to_owned()).or_default() += n;
        *s.by_source.entry(path).or_default() += n;
        let fname = Format::from_i64(format).map_or("unknown", Format::as_str);
        *s.by_format.entry(fname.to_owned()).or_default() += n;
    }
    s.sources = conn.query_row("SELECT count(*) FROM sources", [], |r| r.get::<_, i64>(0))? as u64;
    let mut q = conn.prepare("SELECT reason, count(*) FROM skipped_lines GROUP BY reason")?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let n = r.get::<_, i64>(1)?.max(0) as u64;
        s.skipped += n;
        s.skipped_by_reason.insert(r.get(0)?, n);
    }
    // One subquery each: SQLite answers a lone min() or max() from the index edge, but scans
    // the whole table when both share a select (0.75 s on 10M records).
    let (first, last): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT (SELECT min(ts) FROM logs), (SELECT max(ts) FROM logs)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    s.first = first.map(crate::model::format_rfc3339_nanos);
    s.last = last.map(crate::model::format_rfc3339_nanos);
    Ok(s)
}

/// Where the workspace's data ends: the newest log record, span and sample write. Cheap
/// (three index lookups), for noticing that something new arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeMarks {
    pub logs: i64,
    pub spans: i64,
    pub samples: i64,
}

pub fn change_marks(conn: &Connection) -> Result<ChangeMarks> {
    Ok(conn.query_row(
        "SELECT (SELECT coalesce(max(rowid), 0) FROM logs),
                (SELECT coalesce(max(rowid), 0) FROM spans),
                (SELECT coalesce(max(seq), 0) FROM sample_writes)",
        [],
        |r| {
            Ok(ChangeMarks {
                logs: r.get(0)?,
                spans: r.get(1)?,
                samples: r.get(2)?,
            })
        },
    )?)
}

/// SQLite's `data_version`: changes when another connection commits (see its docs).
pub fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}
