//! What the shell holds: the open workspace (swappable between the user's and the demo),
//! the running ingest's cancel flag, and the paths given on the command line.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use sightline::ingest::scrape::ScrapeManager;
use sightline::store::Store;

use crate::error::{AppError, AppResult, from_engine};

/// An open workspace, and its scrape targets (running while it is open).
#[derive(Debug)]
pub struct Workspace {
    pub scrapes: ScrapeManager,
    pub store: Store,
    pub path: PathBuf,
    pub is_demo: bool,
}

impl Workspace {
    pub fn open(path: &Path, is_demo: bool) -> AppResult<Workspace> {
        let name = path.display().to_string();
        let store = Store::open(path).map_err(|e| from_engine(e, &name))?;
        let scrapes = ScrapeManager::start(&store, None).map_err(|e| from_engine(e, &name))?;
        Ok(Workspace {
            scrapes,
            store,
            path: path.to_owned(),
            is_demo,
        })
    }
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// The workspace slot: open, or the reason it could not be opened (shown in place; the
/// app stays usable and can switch to the demo).
#[derive(Debug)]
pub enum Slot {
    Open(Arc<Workspace>),
    Failed(AppError),
}

/// Everything the commands share. Built whole before `manage()`.
#[derive(Debug)]
pub struct AppState {
    pub slot: RwLock<Slot>,
    pub default_db: PathBuf,
    pub demo_dir: PathBuf,
    /// True while an ingest runs (one at a time).
    pub ingest_running: AtomicBool,
    /// Raised by `ingest_cancel`; lowered when an ingest starts.
    pub ingest_cancel: Arc<AtomicBool>,
    pub startup_paths: Mutex<Vec<PathBuf>>,
}

impl AppState {
    /// Opens `db` (or records why it could not be opened).
    pub fn new(db: PathBuf, demo_dir: PathBuf, startup_paths: Vec<PathBuf>) -> AppState {
        let slot = match Workspace::open(&db, false) {
            Ok(w) => Slot::Open(Arc::new(w)),
            Err(e) => Slot::Failed(e),
        };
        AppState {
            slot: RwLock::new(slot),
            default_db: db,
            demo_dir,
            ingest_running: AtomicBool::new(false),
            ingest_cancel: Arc::new(AtomicBool::new(false)),
            startup_paths: Mutex::new(startup_paths),
        }
    }

    /// The open workspace, or the error that keeps it closed.
    pub fn workspace(&self) -> AppResult<Arc<Workspace>> {
        let slot = self.slot.read().map_err(|_| poisoned())?;
        match &*slot {
            Slot::Open(w) => Ok(w.clone()),
            Slot::Failed(e) => Err(e.clone()),
        }
    }

    pub fn replace(&self, slot: Slot) -> AppResult<()> {
        *self.slot.write().map_err(|_| poisoned())? = slot;
        Ok(())
    }
}

pub fn poisoned() -> AppError {
    AppError::Internal {
        message: "internal state is unusable after an earlier failure; restart Sightline".into(),
    }
}
