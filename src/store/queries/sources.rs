//! Looking sources up by path and by content fingerprint.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;

/// A known source and where its reading stands.
#[derive(Debug, Clone)]
pub struct SourceCursor {
    pub id: i64,
    pub path: String,
    pub fingerprint: Vec<u8>,
    pub offset: u64,
    pub next_line: u64,
    pub framing: Option<String>,
    pub format: Option<i64>,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SourceCursor> {
    Ok(SourceCursor {
        id: r.get(0)?,
        path: r.get(1)?,
        fingerprint: r.get(2)?,
        offset: r.get::<_, i64>(3)?.max(0) as u64,
        next_line: r.get::<_, i64>(4)?.max(1) as u64,
        framing: r.get(5)?,
        format: r.get(6)?,
    })
}

const COLS: &str = "id, path, fingerprint, offset, next_line, framing, format";

/// Finds the source whose stored fingerprint is a prefix of `head` (the content's first
/// bytes): first among sources read from `path`, then among all (a renamed or rotated copy).
/// `fp_head` is the hash of the first 64 bytes, when the content has 64.
pub fn find(
    conn: &Connection,
    path: &str,
    head: &[u8],
    fp_head: Option<i64>,
) -> Result<Option<SourceCursor>> {
    let mut by_path = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM sources WHERE path = ?1 ORDER BY id DESC"
    ))?;
    let found = best_match(by_path.query_map(params![path], row)?, head);
    if found.is_some() {
        return Ok(found);
    }
    let Some(h) = fp_head else {
        return Ok(None);
    };
    let mut by_fp = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM sources WHERE fp_head = ?1 ORDER BY id DESC"
    ))?;
    Ok(best_match(by_fp.query_map(params![h], row)?, head))
}

/// Of `sources` (newest first), the one whose fingerprint `head` starts with, the longest
/// such fingerprint winning: a file first read when it held a few bytes has a short
/// fingerprint that the start of another file of the same log can share, so the source
/// that recorded more of this content is the surer match. Ties go to the newest.
fn best_match(
    sources: impl Iterator<Item = rusqlite::Result<SourceCursor>>,
    head: &[u8],
) -> Option<SourceCursor> {
    let mut best: Option<SourceCursor> = None;
    for s in sources.filter_map(|r| r.ok()) {
        if s.fingerprint.is_empty() || !head.starts_with(&s.fingerprint) {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|b| s.fingerprint.len() > b.fingerprint.len())
        {
            best = Some(s);
        }
    }
    best
}

/// Moves the newest source recorded at `from` whose content `head` still starts with to
/// `to` (the same file, renamed by a rotation). Returns whether one moved.
///
/// Checking the content keeps a source recorded for the file that took `from`'s place
/// (when a pass read the new file before the rename was noticed) where it is.
pub fn repoint(conn: &Connection, from: &str, to: &str, head: &[u8]) -> Result<bool> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM sources WHERE path = ?1 ORDER BY id DESC"
    ))?;
    let Some(src) = best_match(stmt.query_map(params![from], row)?, head) else {
        return Ok(false);
    };
    conn.execute(
        "UPDATE sources SET path = ?2 WHERE id = ?1",
        params![src.id, to],
    )?;
    Ok(true)
}

/// A source by id.
pub fn get(conn: &Connection, id: i64) -> Result<Option<SourceCursor>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLS} FROM sources WHERE id = ?1"),
            params![id],
            row,
        )
        .optional()?)
}

/// A source as listed in the Sources view.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceInfo {
    pub id: i64,
    pub path: String,
    pub format: Option<String>,
    pub compression: Option<String>,
    pub records: u64,
    pub skipped: u64,
    pub skipped_by_reason: std::collections::BTreeMap<String, u64>,
    /// Unix ns of the last ingest that read it.
    pub last_ingest: i64,
    pub bytes_read: u64,
}

/// Every source with its counts, most recently ingested first.
pub fn list(conn: &Connection) -> Result<Vec<SourceInfo>> {
    let mut stmt = conn.prepare(
        "SELECT s.id, s.path, s.format, s.compression, s.last_ingest, s.offset,
                (SELECT COALESCE(SUM(count), 0) FROM record_counts c WHERE c.source_id = s.id)
         FROM sources s ORDER BY s.last_ingest DESC, s.id DESC",
    )?;
    let mut out: Vec<SourceInfo> = stmt
        .query_map([], |r| {
            Ok(SourceInfo {
                id: r.get(0)?,
                path: r.get(1)?,
                format: r
                    .get::<_, Option<i64>>(2)?
                    .and_then(crate::model::Format::from_i64)
                    .map(|f| f.as_str().to_owned()),
                compression: r.get(3)?,
                last_ingest: r.get(4)?,
                bytes_read: r.get::<_, i64>(5)?.max(0) as u64,
                records: r.get::<_, i64>(6)?.max(0) as u64,
                skipped: 0,
                skipped_by_reason: Default::default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    // The format as the ingest report says it (`mixed` when no dialect has 80%), from the
    // records per dialect.
    let mut per_format: std::collections::HashMap<i64, Vec<(crate::model::Format, u64)>> =
        Default::default();
    let mut q = conn.prepare(
        "SELECT source_id, format, SUM(count) FROM record_counts GROUP BY source_id, format",
    )?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(f) = crate::model::Format::from_i64(r.get(1)?) {
            per_format
                .entry(r.get(0)?)
                .or_default()
                .push((f, r.get::<_, i64>(2)?.max(0) as u64));
        }
    }
    for s in &mut out {
        if let Some(counts) = per_format.remove(&s.id) {
            s.format = crate::model::file_format(counts).or(s.format.take());
        }
    }
    let mut q = conn.prepare(
        "SELECT source_id, reason, count(*) FROM skipped_lines GROUP BY source_id, reason",
    )?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let n = r.get::<_, i64>(2)?.max(0) as u64;
        if let Some(s) = out.iter_mut().find(|s| s.id == id) {
            s.skipped += n;
            s.skipped_by_reason.insert(r.get(1)?, n);
        }
    }
    Ok(out)
}

/// A stored skipped line.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredSkip {
    pub line: u64,
    pub reason: String,
    pub detail: String,
}

/// The skipped lines of a source, in line order.
pub fn skipped_lines(conn: &Connection, source_id: i64, limit: u64) -> Result<Vec<StoredSkip>> {
    let mut stmt = conn.prepare(
        "SELECT line, reason, detail FROM skipped_lines WHERE source_id = ?1 ORDER BY line LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        params![source_id, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| {
            Ok(StoredSkip {
                line: r.get::<_, i64>(0)?.max(0) as u64,
                reason: r.get(1)?,
                detail: r.get(2)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
