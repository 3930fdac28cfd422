//! The commands the UI calls, one file per domain. Each takes state, makes one engine call
//! on a blocking thread (never the main thread or an async worker), and maps the error.

pub mod alerts;
pub mod app;
pub mod costs;
pub mod ingest;
pub mod live;
pub mod logs;
pub mod metrics;
pub mod runs;
pub mod sources;
pub mod workspace;

use crate::error::{AppError, AppResult};

/// Runs blocking engine work off the async runtime.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal {
            message: format!("background task failed: {e}"),
        })?
}
