//! The engine's one error type.
//!
//! Every fallible engine call returns [`Result<T>`]. Variants keep their kind (and the path,
//! line or field they are about) all the way to the CLI and, later, across IPC, so callers
//! branch on the kind instead of parsing message text.

use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path given by the user does not exist.
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },

    /// A path exists but could not be read.
    #[error("{path}: cannot read: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file could not be written.
    #[error("{path}: cannot write: {source}")]
    Unwritable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file was read but holds no JSON at all.
    #[error("{path}: no JSON found{}", .first_bad_line.map(|l| format!(" (line {l} is not JSON)")).unwrap_or_default())]
    NotJson {
        path: PathBuf,
        first_bad_line: Option<u64>,
    },

    /// The workspace database could not be opened, migrated or written.
    #[error("workspace {path}: {source}")]
    Workspace {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// A SQLite error outside opening (a query or a write).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),

    /// The workspace is newer than this build understands.
    #[error("workspace {path} has schema version {found}, this build knows up to {known}")]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    /// A user-supplied value (a filter, a duration, a time) is malformed.
    #[error("invalid {what}: {value:?}: {why}")]
    InvalidArgument {
        what: &'static str,
        value: String,
        why: String,
    },

    /// The writer thread is gone (it failed earlier or was shut down).
    #[error("the workspace writer has stopped")]
    WriterGone,

    /// An I/O error not tied to a user path (temporary files, pipes).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),

    /// The operation was cancelled by the caller.
    #[error("cancelled")]
    Cancelled,

    /// A PromQL query that does not parse or cannot be evaluated.
    #[error(transparent)]
    Query(#[from] crate::promql::PromqlError),

    /// A state that should not happen (a poisoned lock), said plainly.
    #[error("{0}")]
    Internal(String),
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
