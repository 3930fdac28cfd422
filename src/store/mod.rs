//! The workspace: one SQLite file, one writer thread, read-only connections for queries.
//!
//! This is the only module that runs SQL. Every value is bound as a parameter; SQL text is
//! assembled only from fixed fragments.

pub(crate) mod open;
pub mod queries;
pub mod reprice;
pub mod writer;

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use rusqlite::Connection;

pub use open::{SCHEMA_VERSION, default_db_path};
pub use writer::{Batch, CursorUpdate, NewSource, Pending, SkipRow, WriterHandle};

use crate::error::Result;

/// An open workspace.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    writer: Option<WriterHandle>,
    join: Option<JoinHandle<()>>,
}

impl Store {
    /// Opens (creating and migrating if needed) the workspace at `path` and starts its writer.
    pub fn open(path: &Path) -> Result<Store> {
        let (writer, join) = WriterHandle::spawn(path)?;
        Ok(Store {
            path: path.to_owned(),
            writer: Some(writer),
            join: Some(join),
        })
    }

    /// Opens an existing workspace for reading only (no writer thread, no migrations).
    pub fn open_read_only(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(crate::error::Error::NotFound {
                path: path.to_owned(),
            });
        }
        open::open_reader(path)?;
        Ok(Store {
            path: path.to_owned(),
            writer: None,
            join: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The writer handle; `None` for a read-only store.
    pub fn writer(&self) -> Option<&WriterHandle> {
        self.writer.as_ref()
    }

    /// A new read-only connection.
    pub fn reader(&self) -> Result<Connection> {
        open::open_reader(&self.path)
    }

    /// Stops the writer after the batches already queued, and waits for it.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.writer.take();
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.shutdown();
    }
}
