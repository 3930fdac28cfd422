//! Following files and folders as they grow.
//!
//! Each pass ingests the followed paths from their cursors, so a pass reads only what was
//! appended since the last one; the cases a log writer produces are handled by the cursor
//! rules of [`super::ingest`] plus what this module adds:
//!
//! - a half-written last line is left for the next pass (the ingest reads it once complete);
//! - truncation in place (`copytruncate`): the content no longer starts with what was read,
//!   so it is read from the start as new content;
//! - rotation by rename (`app.log` -> `app.log.1`, a new `app.log`): the followed name now
//!   points at another file, so the renamed one is found by its inode in the same folder and
//!   read to its end first, then the new file from its start;
//! - a followed folder picks up new files on the next pass.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{DeriveLater, IngestOptions, IngestReport, ingest};
use crate::store::Store;

/// The identity of a file on disk (device and inode), to notice a rename.
#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_path: &Path) -> Option<(u64, u64)> {
    None
}

/// Follows paths; call [`Follower::pass`] on a timer, or [`follow`] to loop.
#[derive(Debug)]
pub struct Follower {
    paths: Vec<PathBuf>,
    opts: IngestOptions,
    /// The file each followed file path pointed at on the last pass.
    ids: HashMap<PathBuf, (u64, u64)>,
    /// The derived series (when `opts.derive` asks), brought up to date at most once a
    /// second: a pass runs the update when a second has gone by since the last one.
    derive: Option<DeriveLater>,
}

/// How often a follower updates the derived series while data keeps coming.
pub const DERIVE_EVERY: Duration = Duration::from_secs(1);

impl Follower {
    pub fn new(paths: Vec<PathBuf>, mut opts: IngestOptions) -> Follower {
        let derive = opts.derive.then(|| DeriveLater::new(DERIVE_EVERY));
        opts.derive = false;
        Follower {
            paths,
            opts,
            ids: HashMap::new(),
            derive,
        }
    }

    /// Follows `path` too (once).
    pub fn add(&mut self, path: PathBuf) {
        if !self.paths.contains(&path) {
            self.paths.push(path);
        }
    }

    /// Stops following `path`.
    pub fn remove(&mut self, path: &Path) {
        self.paths.retain(|p| p != path);
        self.ids.remove(path);
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Reads what is new in every followed path. Paths that do not exist (yet) are waited
    /// for, not reported.
    pub fn pass(&mut self, store: &Store) -> IngestReport {
        let mut report = IngestReport::default();
        let mut now: Vec<PathBuf> = Vec::with_capacity(self.paths.len());
        for p in &self.paths {
            if !p.exists() {
                continue;
            }
            if p.is_file() {
                let id = file_id(p);
                if let (Some(old), Some(new)) = (self.ids.get(p).copied(), id)
                    && old != new
                    && let Some(moved) = find_by_id(p, old)
                {
                    // Rotated: finish the old file (under its new name) first. Its source
                    // moves with it, so reading resumes at the cursor even when too little
                    // of it had been written to recognise it by content.
                    repoint(store, p, &moved);
                    merge(&mut report, ingest(store, &[moved], &self.opts));
                }
                if let Some(id) = id {
                    self.ids.insert(p.clone(), id);
                }
            }
            now.push(p.clone());
        }
        if !now.is_empty() {
            merge(&mut report, ingest(store, &now, &self.opts));
        }
        if let Some(d) = &mut self.derive {
            d.add(&report);
            if let Some(e) = d.run(store, false) {
                report.errors.push(e);
            }
        }
        report
    }

    /// Brings the derived series up to date with everything read so far (a caller about to
    /// stop, or to evaluate rules on them).
    pub fn flush(&mut self, store: &Store) -> Option<super::PathError> {
        self.derive.as_mut().and_then(|d| d.run(store, true))
    }
}

/// A file in `path`'s folder with the identity `id` (the file `path` was before a rename).
fn find_by_id(path: &Path, id: (u64, u64)) -> Option<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p != path && file_id(p) == Some(id))
}

/// Moves the source of the file that was at `from` to `to` (the same file, renamed).
fn repoint(store: &Store, from: &Path, to: &Path) {
    let (Ok(from), Ok(to)) = (std::fs::canonicalize(from), std::fs::canonicalize(to)) else {
        return;
    };
    let Ok(head) = std::fs::File::open(&to).and_then(|f| {
        use std::io::Read;
        let mut v = Vec::with_capacity(super::FINGERPRINT_BYTES);
        f.take(super::FINGERPRINT_BYTES as u64)
            .read_to_end(&mut v)?;
        Ok(v)
    }) else {
        return;
    };
    let (from, to) = (from.display().to_string(), to.display().to_string());
    if let Some(w) = store.writer() {
        // A failure leaves the fingerprint lookup to find it, as without this step.
        let _ = w.exec(move |c| {
            crate::store::queries::sources::repoint(c, &from, &to, &head).map(|_| ())
        });
    }
}

fn merge(into: &mut IngestReport, r: IngestReport) {
    into.records_added += r.records_added;
    into.spans_added += r.spans_added;
    into.samples_added += r.samples_added;
    into.skipped += r.skipped;
    into.files.extend(r.files);
    into.errors.extend(r.errors);
    into.bundles.extend(r.bundles);
    into.rule_files.extend(r.rule_files);
}

/// Follows `paths` until `stop` is raised, a pass every `every`; each pass's report goes to
/// `on_pass`.
pub fn follow(
    store: &Store,
    paths: Vec<PathBuf>,
    opts: IngestOptions,
    every: Duration,
    stop: &AtomicBool,
    mut on_pass: impl FnMut(&IngestReport),
) {
    let mut f = Follower::new(paths, opts);
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let r = f.pass(store);
        on_pass(&r);
        let spent = started.elapsed();
        if spent < every {
            // Sleep in short steps so a stop is seen quickly.
            let until = Instant::now() + (every - spent);
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20).min(every));
            }
        }
    }
    // What the last passes read is in the derived series before this returns.
    let mut last = IngestReport::default();
    if let Some(e) = f.flush(store) {
        last.errors.push(e);
        on_pass(&last);
    }
}
