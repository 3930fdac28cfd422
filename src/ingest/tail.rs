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
//!   read to its end first, then the new file from its start; a pass that comes after two
//!   or more rotations also reads the rotated siblings (`app.log.1`, `app.log-20261121`)
//!   written to since the last pass, the files that were the followed one in between;
//! - a followed folder picks up new files on the next pass.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

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
    /// When the last pass began: a rotated file written to after it may hold unread lines.
    last_pass: Option<SystemTime>,
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
            last_pass: None,
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
        let started = SystemTime::now();
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
                {
                    // Rotated: finish the old file (under its new name) first. Its source
                    // moves with it, so reading resumes at the cursor even when too little
                    // of it had been written to recognise it by content.
                    let moved = find_by_id(p, old);
                    if let Some(moved) = &moved {
                        repoint(store, p, moved);
                    }
                    // A pass that came late may have missed whole rotations: the files
                    // that were the followed one only between two passes are read too.
                    let between = self
                        .last_pass
                        .map(|t| rotated_since(p, t, moved.as_deref()))
                        .unwrap_or_default();
                    let old_files: Vec<PathBuf> = moved.into_iter().chain(between).collect();
                    if !old_files.is_empty() {
                        merge(&mut report, ingest(store, &old_files, &self.opts));
                    }
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
        self.last_pass = Some(started);
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

/// The folder `path` is in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// A file in `path`'s folder with the identity `id` (the file `path` was before a rename).
fn find_by_id(path: &Path, id: (u64, u64)) -> Option<PathBuf> {
    std::fs::read_dir(folder_of(path))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p != path && file_id(p) == Some(id))
}

/// The rotated siblings of `path` (`app.log.1`, `app.log-20261121`, `app.log.2026-11-21`; not
/// compressed ones, which hold older rotations) written to since `since`, oldest first,
/// except `moved`. Reading one that was read before costs nothing: it is recognised by its
/// content and resumes at its cursor.
fn rotated_since(path: &Path, since: SystemTime, moved: Option<&Path>) -> Vec<PathBuf> {
    // Modification times can be coarse (a second on some file systems).
    let since = since.checked_sub(Duration::from_secs(2)).unwrap_or(since);
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(folder_of(path)) else {
        return Vec::new();
    };
    let mut found: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| is_rotation_of(n, name))
        })
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            let modified = meta.modified().ok().filter(|m| *m >= since)?;
            Some((modified, e.path()))
        })
        .filter(|(_, p)| Some(p.as_path()) != moved)
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// Whether `candidate` names a rotation of the file named `name`: `name` then `.` or `-`
/// and a suffix that starts with a digit, not compressed.
fn is_rotation_of(candidate: &str, name: &str) -> bool {
    let Some(rest) = candidate.strip_prefix(name) else {
        return false;
    };
    let Some(suffix) = rest.strip_prefix('.').or_else(|| rest.strip_prefix('-')) else {
        return false;
    };
    suffix.starts_with(|c: char| c.is_ascii_digit())
        && ![".gz", ".bz2", ".xz", ".zst", ".zip"]
            .iter()
            .any(|ext| suffix.ends_with(ext))
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

#[cfg(test)]
mod tests {
    use super::is_rotation_of;

    #[test]
    fn rotations_are_named_after_the_file_with_a_numbered_or_dated_suffix() {
        for n in [
            "app.log.1",
            "app.log.12",
            "app.log-20261121",
            "app.log.2026-11-21",
            "app.log.2026-11-21_12-00",
        ] {
            assert!(is_rotation_of(n, "app.log"), "{n}");
        }
        for n in [
            "app.log",
            "app.log.1.gz",
            "app.log-20261121.zst",
            "app.log.bak",
            "app.logger.1",
            "app.log1",
            "other.log.1",
        ] {
            assert!(!is_rotation_of(n, "app.log"), "{n}");
        }
    }
}
