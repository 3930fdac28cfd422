//! Opening a workspace: file location, PRAGMAs and migrations, in one place.
//!
//! Why each PRAGMA:
//! - `page_size = 65536` (set before the file is first written): bulk inserts of log rows
//!   run about 1.7x faster than with 4 KiB pages on this workload (see BENCHMARKS.md).
//! - `journal_mode = WAL`: readers (the CLI, the app's views) never block the writer.
//! - `synchronous = NORMAL`: with WAL, a crash loses at most the last transactions, never
//!   corrupts; every batch commits its source cursor with its rows, so a lost batch is
//!   simply read again.
//! - `wal_autocheckpoint = 0`: the writer never copies the WAL back itself; a checkpointer
//!   thread with its own connection does it while the writer goes on with the next batch.
//! - `busy_timeout = 5000`: a second process waits for the lock instead of failing at once.
//! - `foreign_keys = ON`: records cannot point at a source that does not exist.
//! - `cache_size = -65536` (64 MiB) and `temp_store = MEMORY`: bounded memory, well under the
//!   300 MB budget for an ingest.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_spans.sql"),
    include_str!("migrations/0003_metrics.sql"),
    include_str!("migrations/0004_sample_compaction.sql"),
    include_str!("migrations/0005_log_buckets.sql"),
    include_str!("migrations/0006_alerts.sql"),
    include_str!("migrations/0007_sample_writes.sql"),
    include_str!("migrations/0008_span_prices.sql"),
    include_str!("migrations/0009_span_calls_index.sql"),
    include_str!("migrations/0010_span_ops_index.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Where the default workspace lives: `$XDG_DATA_HOME/sightline/workspace.db`, falling back
/// to `~/.local/share` as the XDG spec says.
pub fn default_db_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        })?;
    Some(base.join("sightline").join("workspace.db"))
}

fn ws_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Workspace {
        path: path.to_owned(),
        source,
    }
}

/// Opens (creating if needed) the read-write connection and brings the schema up to date.
pub fn open_writer(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Unreadable {
            path: dir.to_owned(),
            source,
        })?;
    }
    let conn = Connection::open(path).map_err(ws_err(path))?;
    let e = ws_err(path);
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(&e)?;
    // Only takes effect on a new, empty database.
    conn.pragma_update(None, "page_size", 65536).map_err(&e)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(&e)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing_note(&format!("journal_mode is {mode}, not wal"));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(&e)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(&e)?;
    conn.pragma_update(None, "cache_size", -65536).map_err(&e)?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(&e)?;
    // Checkpoints run on a thread of their own (see writer.rs), not inside the writer's
    // commits.
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(&e)?;
    migrate(&conn, path)?;
    Ok(conn)
}

/// Opens a connection used only to checkpoint the WAL beside the writer.
pub fn open_checkpointer(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(ws_err(path))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(ws_err(path))?;
    Ok(conn)
}

/// Opens a read-only connection. It cannot write, whatever the caller does.
pub fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(ws_err(path))?;
    let e = ws_err(path);
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(&e)?;
    conn.pragma_update(None, "cache_size", -65536).map_err(&e)?;
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(&e)?;
    if v > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_owned(),
            found: v,
            known: SCHEMA_VERSION,
        });
    }
    Ok(conn)
}

fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let e = ws_err(path);
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(&e)?;
    if current > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_owned(),
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        // Each migration and its version bump commit together.
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}\n; PRAGMA user_version = {version}; COMMIT;"
        ))
        .map_err(|err| {
            let _ = conn.execute_batch("ROLLBACK");
            e(err)
        })?;
    }
    Ok(())
}

fn tracing_note(msg: &str) {
    eprintln!("sightline: note: {msg}");
}
