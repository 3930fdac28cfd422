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
    let matches = |s: &SourceCursor| !s.fingerprint.is_empty() && head.starts_with(&s.fingerprint);
    let mut by_path = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM sources WHERE path = ?1 ORDER BY id DESC"
    ))?;
    let found = by_path
        .query_map(params![path], row)?
        .filter_map(|r| r.ok())
        .find(|s| matches(s));
    if found.is_some() {
        return Ok(found);
    }
    let Some(h) = fp_head else {
        return Ok(None);
    };
    let mut by_fp = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM sources WHERE fp_head = ?1 ORDER BY id DESC"
    ))?;
    let found = by_fp
        .query_map(params![h], row)?
        .filter_map(|r| r.ok())
        .find(|s| matches(s));
    Ok(found)
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
