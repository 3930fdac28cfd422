//! A workspace's live inputs: followed files, the OTLP/HTTP receiver, the live demo, and
//! the watcher that tells the window when new data landed (batched: at most one event per
//! [`WATCH_EVERY`], however many records arrive).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;
use sightline::demo::live::{LiveDemo, LiveDemoStats};
use sightline::ingest::otlp_http::{Receiver, ReceiverConfig, ReceiverStats};
use sightline::ingest::tail::Follower;
use sightline::ingest::{IngestOptions, IngestReport};
use sightline::store::Store;
use sightline::store::queries::stats::{change_marks, data_version};

use crate::events::DataChanged;

/// How often followed files are read.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(200);
/// How often the watcher looks for new data (and the most often the window hears of it).
pub const WATCH_EVERY: Duration = Duration::from_millis(250);

/// What the watcher tells the window.
pub type DataSink = Arc<dyn Fn(DataChanged) + Send + Sync>;

/// Where the watcher finds the sink; empty until the app's setup fills it.
#[derive(Clone, Default)]
pub struct DataSlot(Arc<RwLock<Option<DataSink>>>);

impl std::fmt::Debug for DataSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataSlot")
    }
}

impl DataSlot {
    pub fn set(&self, sink: DataSink) {
        if let Ok(mut s) = self.0.write() {
            *s = Some(sink);
        }
    }
    fn get(&self) -> Option<DataSink> {
        self.0.read().ok().and_then(|s| s.clone())
    }
}

/// The live state shown in the Sources view.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LiveStatus {
    /// Files and folders read as they grow.
    pub following: Vec<String>,
    /// The OTLP/HTTP receiver, when on.
    pub receiver: Option<ReceiverStatus>,
    /// The live demo, when playing.
    pub demo: Option<LiveDemoStats>,
    /// The last problem reading a followed path, if any.
    pub follow_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ReceiverStatus {
    /// `127.0.0.1:4318`
    pub addr: String,
    pub stats: ReceiverStats,
}

/// A background loop that stops when its flag is raised (and on drop).
struct Looper {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Looper {
    fn spawn(f: impl FnOnce(Arc<AtomicBool>) + Send + 'static) -> Looper {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        Looper {
            stop,
            thread: Some(std::thread::spawn(move || f(s))),
        }
    }
}

impl Drop for Looper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sleeps `d` in short steps; false when `stop` was raised meanwhile.
fn nap(d: Duration, stop: &AtomicBool) -> bool {
    let until = std::time::Instant::now() + d;
    while std::time::Instant::now() < until {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20).min(d));
    }
    !stop.load(Ordering::Relaxed)
}

/// The live inputs of one workspace. Dropping it stops them all.
pub struct Live {
    store: Arc<Store>,
    /// Serialises the follower's passes with the user's own ingests, so that two readers
    /// never start from the same cursor.
    pub ingest_lock: Arc<Mutex<()>>,
    follower: Arc<Mutex<Follower>>,
    follow_error: Arc<Mutex<Option<String>>>,
    follow_loop: Mutex<Option<Looper>>,
    receiver: Mutex<Option<Receiver>>,
    demo: Mutex<Option<(LiveDemo, i64)>>,
    _watcher: Looper,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

impl Live {
    pub fn start(store: Arc<Store>, sink: DataSlot) -> Live {
        let watch_store = store.clone();
        let watcher = Looper::spawn(move |stop| watch(&watch_store, &sink, &stop));
        Live {
            store,
            ingest_lock: Arc::new(Mutex::new(())),
            follower: Arc::new(Mutex::new(Follower::new(
                Vec::new(),
                IngestOptions::default(),
            ))),
            follow_error: Arc::new(Mutex::new(None)),
            follow_loop: Mutex::new(None),
            receiver: Mutex::new(None),
            demo: Mutex::new(None),
            _watcher: watcher,
        }
    }

    /// Adds paths to follow (from their current cursors); starts the loop on the first.
    pub fn follow(&self, paths: &[PathBuf]) {
        if let Ok(mut f) = self.follower.lock() {
            for p in paths {
                f.add(p.clone());
            }
        }
        let Ok(mut slot) = self.follow_loop.lock() else {
            return;
        };
        if slot.is_some() {
            return;
        }
        let (store, follower) = (self.store.clone(), self.follower.clone());
        let (lock, error) = (self.ingest_lock.clone(), self.follow_error.clone());
        *slot = Some(Looper::spawn(move |stop| {
            while nap(FOLLOW_EVERY, &stop) {
                let report: IngestReport = {
                    let Ok(_g) = lock.lock() else { return };
                    let Ok(mut f) = follower.lock() else { return };
                    f.pass(&store)
                };
                if let Ok(mut e) = error.lock() {
                    *e = report
                        .errors
                        .last()
                        .map(|e| format!("{}: {}", e.path, e.error));
                }
            }
        }));
    }

    pub fn unfollow(&self, path: &std::path::Path) {
        if let Ok(mut f) = self.follower.lock() {
            f.remove(path);
        }
    }

    /// Turns the OTLP receiver on at `addr` (replacing one already on), or off.
    pub fn set_receiver(&self, addr: Option<std::net::SocketAddr>) -> sightline::Result<()> {
        let Ok(mut slot) = self.receiver.lock() else {
            return Ok(());
        };
        if let Some(old) = slot.take() {
            old.stop();
        }
        if let Some(addr) = addr {
            *slot = Some(Receiver::start(
                self.store.clone(),
                ReceiverConfig {
                    addr,
                    ..ReceiverConfig::default()
                },
            )?);
        }
        Ok(())
    }

    pub fn receiver_addr(&self) -> Option<std::net::SocketAddr> {
        self.receiver
            .lock()
            .ok()
            .and_then(|r| r.as_ref().map(|r| r.addr()))
    }

    /// Keeps the playing live demo (and its scrape target's id) with the workspace.
    pub fn set_demo(&self, demo: LiveDemo, scrape_target: i64) {
        if let Ok(mut d) = self.demo.lock() {
            *d = Some((demo, scrape_target));
        }
    }

    /// Stops the live demo; returns its scrape target's id to remove.
    pub fn take_demo(&self) -> Option<(LiveDemo, i64)> {
        self.demo.lock().ok().and_then(|mut d| d.take())
    }

    pub fn status(&self) -> LiveStatus {
        LiveStatus {
            following: self
                .follower
                .lock()
                .map(|f| f.paths().iter().map(|p| p.display().to_string()).collect())
                .unwrap_or_default(),
            receiver: self.receiver.lock().ok().and_then(|r| {
                r.as_ref().map(|r| ReceiverStatus {
                    addr: r.addr().to_string(),
                    stats: r.stats(),
                })
            }),
            demo: self
                .demo
                .lock()
                .ok()
                .and_then(|d| d.as_ref().map(|(d, _)| d.stats())),
            follow_error: self.follow_error.lock().ok().and_then(|e| e.clone()),
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Ok(mut d) = self.demo.lock()
            && let Some((demo, _)) = d.take()
        {
            demo.stop();
        }
        if let Ok(mut r) = self.receiver.lock()
            && let Some(r) = r.take()
        {
            r.stop();
        }
        if let Ok(mut l) = self.follow_loop.lock() {
            l.take();
        }
        // The derived series get what the last passes read (they are updated once a second).
        if let Ok(mut f) = self.follower.lock() {
            let _ = f.flush(&self.store);
        }
    }
}

/// Tells the window when logs, spans or samples were added, at most every [`WATCH_EVERY`].
/// Looks at SQLite's `data_version` first, which changes only when another connection
/// committed, so an idle workspace costs one pragma per tick.
fn watch(store: &Store, sink: &DataSlot, stop: &AtomicBool) {
    let Ok(conn) = store.reader() else { return };
    let mut version = data_version(&conn).unwrap_or(0);
    let mut marks = change_marks(&conn).unwrap_or_default();
    while nap(WATCH_EVERY, stop) {
        let Ok(v) = data_version(&conn) else { continue };
        if v == version {
            continue;
        }
        version = v;
        let Ok(m) = change_marks(&conn) else { continue };
        if m == marks {
            continue;
        }
        let ev = DataChanged {
            logs: m.logs != marks.logs,
            spans: m.spans != marks.spans,
            samples: m.samples != marks.samples,
        };
        marks = m;
        if let Some(s) = sink.get() {
            s(ev);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
        let t0 = std::time::Instant::now();
        while !f() {
            assert!(t0.elapsed() < Duration::from_secs(30), "timed out: {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// 20,000 lines appended in bursts reach the window as a few events, each saying what
    /// changed (how soon is measured by the benchmark, not here).
    #[test]
    fn followed_lines_are_announced_batched() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("w.db")).unwrap());
        let events = Arc::new(Mutex::new(Vec::<(std::time::Instant, DataChanged)>::new()));
        let slot = DataSlot::default();
        let seen = events.clone();
        slot.set(Arc::new(move |ev| {
            seen.lock().unwrap().push((std::time::Instant::now(), ev));
        }));
        let live = Live::start(store.clone(), slot);
        let log = dir.path().join("a.jsonl");
        std::fs::write(&log, "").unwrap();
        live.follow(std::slice::from_ref(&log));
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            events.lock().unwrap().is_empty(),
            "an event with nothing new"
        );
        let written = std::time::Instant::now();
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        for burst in 0..10 {
            let mut s = String::new();
            for i in 0..2000 {
                s.push_str(&format!(
                    "{{\"ts\":{}.5,\"level\":\"info\",\"msg\":\"line {burst}-{i}\"}}\n",
                    1_717_243_200 + burst * 2000 + i
                ));
            }
            f.write_all(s.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
        let count = || -> i64 {
            store
                .reader()
                .unwrap()
                .query_row("SELECT COUNT(*) FROM logs", [], |r| r.get(0))
                .unwrap()
        };
        wait_for("every line", || count() == 20_000);
        std::thread::sleep(WATCH_EVERY * 3);
        let evs = events.lock().unwrap().clone();
        assert!(!evs.is_empty() && evs.iter().all(|(_, e)| e.logs && !e.spans));
        // Batched: never two events within one watch period, however many lines arrived
        // (20,000 here); how long it all took depends on the machine, the spacing does not.
        for pair in evs.windows(2) {
            let gap = pair[1].0.duration_since(pair[0].0);
            assert!(gap >= WATCH_EVERY - Duration::from_millis(30), "{gap:?}");
        }
        assert!(evs[0].0 > written);
        drop(live);
    }
}
