//! What the shell holds: the open workspace (swappable between the user's and the demo),
//! the running ingest's cancel flag, and the paths given on the command line.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use sightline::alerts::runner::{AlertRunner, RunnerEvent};
use sightline::ingest::scrape::ScrapeManager;
use sightline::store::Store;

use crate::error::{AppError, AppResult, from_engine};
use crate::live::{DataSlot, Live};

/// Where a workspace's loops report to the window.
#[derive(Debug, Clone, Default)]
pub struct Sinks {
    pub alerts: SinkSlot,
    pub data: DataSlot,
}

/// What the alert loop tells the window (set up once the app runs).
/// Called with each event and how many alerts fire.
pub type AlertSink = Arc<dyn Fn(RunnerEvent, usize) + Send + Sync>;

/// Where the alert loop finds the sink; empty until the app's setup fills it.
#[derive(Clone, Default)]
pub struct SinkSlot(Arc<RwLock<Option<AlertSink>>>);

impl std::fmt::Debug for SinkSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SinkSlot")
    }
}

impl SinkSlot {
    pub fn set(&self, sink: AlertSink) {
        if let Ok(mut s) = self.0.write() {
            *s = Some(sink);
        }
    }

    fn get(&self) -> Option<AlertSink> {
        self.0.read().ok().and_then(|s| s.clone())
    }
}

/// An open workspace, its scrape targets and its alert loop (running while it is open).
pub struct Workspace {
    /// Followed files, the OTLP receiver and the live demo (stopped with the workspace).
    pub live: Live,
    pub scrapes: ScrapeManager,
    pub alerts: Mutex<Option<AlertRunner>>,
    /// Why the workspace's rules could not all be loaded, if so.
    pub alerts_problem: Mutex<Option<String>>,
    sink: SinkSlot,
    pub store: Arc<Store>,
    pub path: PathBuf,
    pub is_demo: bool,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("path", &self.path)
            .field("is_demo", &self.is_demo)
            .finish_non_exhaustive()
    }
}

impl Workspace {
    pub fn open(path: &Path, is_demo: bool, sinks: &Sinks) -> AppResult<Workspace> {
        let name = path.display().to_string();
        let store = Arc::new(Store::open(path).map_err(|e| from_engine(e, &name))?);
        let scrapes = ScrapeManager::start(&store, None).map_err(|e| from_engine(e, &name))?;
        let sink = sinks.alerts.clone();
        let w = Workspace {
            live: Live::start(store.clone(), sinks.data.clone()),
            scrapes,
            alerts: Mutex::new(None),
            alerts_problem: Mutex::new(None),
            sink,
            store,
            path: path.to_owned(),
            is_demo,
        };
        w.restart_alerts()?;
        Ok(w)
    }

    /// (Re)starts the alert loop with the rules and settings stored in the workspace.
    pub fn restart_alerts(&self) -> AppResult<()> {
        let name = self.name();
        let mut slot = self.alerts.lock().map_err(|_| poisoned())?;
        if let Some(old) = slot.take() {
            old.stop();
        }
        let conn = self.store.reader().map_err(|e| from_engine(e, &name))?;
        let (_, _, cfg, problem) = sightline::alerts::status::app_runner_config(&conn)
            .map_err(|e| from_engine(e, &name))?;
        *self.alerts_problem.lock().map_err(|_| poisoned())? = problem;
        let Some(writer) = self.store.writer().cloned() else {
            return Ok(());
        };
        let sink = self.sink.clone();
        let mut firing = 0;
        let runner = AlertRunner::start(
            &self.path,
            writer,
            cfg,
            Box::new(move |ev: RunnerEvent| {
                if let RunnerEvent::Firing { count } = ev {
                    firing = count;
                }
                if let Some(s) = sink.get() {
                    s(ev, firing);
                }
            }),
        )
        .map_err(|e| from_engine(e, &name))?;
        *slot = Some(runner);
        Ok(())
    }

    /// Tells the alert loop whether the user is looking at the alerts (quiet then).
    pub fn set_alerts_viewing(&self, viewing: bool) {
        if let Ok(slot) = self.alerts.lock()
            && let Some(r) = slot.as_ref()
        {
            r.set_focused(viewing);
        }
    }

    /// How many alerts fire now.
    pub fn firing(&self) -> usize {
        self.alerts
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(|r| r.firing()))
            .unwrap_or(0)
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
    /// Where alert loops and data watchers report to the window.
    pub sinks: Sinks,
}

impl AppState {
    /// Opens `db` (or records why it could not be opened).
    pub fn new(db: PathBuf, demo_dir: PathBuf, startup_paths: Vec<PathBuf>) -> AppState {
        let sinks = Sinks::default();
        let slot = match Workspace::open(&db, false, &sinks) {
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
            sinks,
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
