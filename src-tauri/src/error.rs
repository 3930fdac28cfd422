//! The error every command returns: a tagged enum the UI branches on (`err.type`), each
//! variant with the what and where it needs to say it in plain words.

use serde::Serialize;
use sightline::Error as EngineError;

#[derive(Debug, Clone, thiserror::Error, Serialize, specta::Type)]
#[serde(tag = "type", content = "data")]
pub enum AppError {
    #[error("{path}: not found")]
    NotFound { path: String },
    #[error("{path}: cannot read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path}: no JSON")]
    NotJson { path: String, line: Option<u32> },
    #[error("workspace {path} is locked by another program")]
    WorkspaceLocked { path: String },
    #[error("workspace {path} is damaged: {reason}")]
    WorkspaceCorrupt { path: String, reason: String },
    #[error("workspace {path} was written by a newer Sightline")]
    WorkspaceTooNew { path: String },
    #[error("invalid {what} {value:?}: {why}")]
    InvalidArgument {
        what: String,
        value: String,
        why: String,
    },
    #[error("busy: {what}")]
    Busy { what: String },
    /// A PromQL query that does not parse or cannot be evaluated, in plain words.
    #[error("{message}")]
    Query { message: String },
    /// Input the user gave that cannot be used (a silence's matchers, a webhook URL).
    #[error("{message}")]
    Invalid { message: String },
    #[error("{message}")]
    Internal { message: String },
}

pub type AppResult<T> = Result<T, AppError>;

fn from_sqlite(path: &str, e: &rusqlite::Error) -> AppError {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::DatabaseBusy | C::DatabaseLocked) => AppError::WorkspaceLocked {
            path: path.to_owned(),
        },
        Some(C::NotADatabase | C::DatabaseCorrupt) => AppError::WorkspaceCorrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        },
        Some(C::CannotOpen | C::PermissionDenied | C::ReadOnly) => AppError::Unreadable {
            path: path.to_owned(),
            reason: e.to_string(),
        },
        _ => AppError::Internal {
            message: format!("workspace {path}: {e}"),
        },
    }
}

/// Maps an engine error; `ws` names the workspace for SQLite errors that do not carry it.
pub fn from_engine(e: EngineError, ws: &str) -> AppError {
    match e {
        EngineError::NotFound { path } => AppError::NotFound {
            path: path.display().to_string(),
        },
        EngineError::Unreadable { path, source } => AppError::Unreadable {
            path: path.display().to_string(),
            reason: source.to_string(),
        },
        EngineError::NotJson {
            path,
            first_bad_line,
        } => AppError::NotJson {
            path: path.display().to_string(),
            line: first_bad_line.and_then(|l| u32::try_from(l).ok()),
        },
        EngineError::Workspace { path, source } => {
            from_sqlite(&path.display().to_string(), &source)
        }
        EngineError::Sqlite(e) => from_sqlite(ws, &e),
        EngineError::SchemaTooNew { path, .. } => AppError::WorkspaceTooNew {
            path: path.display().to_string(),
        },
        EngineError::InvalidArgument { what, value, why } => AppError::InvalidArgument {
            what: what.to_owned(),
            value,
            why,
        },
        EngineError::Query(q) => AppError::Query {
            message: q.to_string(),
        },
        e @ EngineError::Unwritable { .. } => AppError::Invalid {
            message: e.to_string(),
        },
        other => AppError::Internal {
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_tagged() {
        let e = AppError::NotJson {
            path: "/x".into(),
            line: Some(3),
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"type": "NotJson", "data": {"path": "/x", "line": 3}})
        );
    }
}
