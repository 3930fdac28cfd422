//! Ingest: files, folders and `.gz` streams in; normalized records and an [`IngestReport`] out.
//!
//! Per file: recognise the content by its first bytes (so a rotated or copied file is the
//! same source), resume from the source's cursor, frame the bytes into units
//! ([`framing`]), parse and map each unit ([`json_logs`], [`otlp`]), and hand batches to the
//! workspace writer. Parsing runs on the caller's thread while the writer commits the
//! previous batch on its own.
//!
//! Nothing good is dropped and nothing bad is silent: every unit that is not a record is
//! counted with its reason and line in the report and in the workspace.

pub mod bundle;
pub mod exports;
pub mod framing;
pub mod genai;
pub mod json_logs;
pub mod jsonobj;
pub mod levels;
pub mod log_spans;
pub mod otlp;
pub mod otlp_http;
pub mod otlp_metrics;
pub mod otlp_proto;
pub mod otlp_traces;
pub mod prom_text;
pub mod scrape;
pub mod tail;
pub mod timestamp;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{Format, LogRecord, MetricMeta, MetricSample, Span, civil_from_days};
use crate::store::queries::sources;
use crate::store::{Batch, CursorUpdate, NewSource, Pending, SkipRow, Store};
use framing::{Framer, Framing, RawKind};
use json_logs::{Context, Mapped};
use jsonobj::Obj;

/// Why a unit was not turned into records.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    Blank,
    Comment,
    NonJson,
    TruncatedJson,
    JsonNotObject,
    InvalidUtf8,
    LineTooLong,
    /// The input ends in the middle of a line that is not (yet) a complete record. It is
    /// read again next time, when the writer may have finished it.
    IncompleteLastLine,
    /// OTLP metrics: JSON, but not logs or traces.
    UnsupportedSignal,
    /// A span that cannot be placed: a missing or malformed id, no time, an end before its
    /// start, a field of the wrong type. The other spans of its request still load.
    InvalidSpan,
    /// A span id seen before in the same file (the first one is kept).
    DuplicateSpan,
    /// An attribute whose value has a type OTLP does not define; the span loads without it.
    UnknownAttributeType,
    /// A line of a Prometheus / OpenMetrics exposition that does not parse, or an OTLP data
    /// point without a time or value.
    InvalidSample,
    /// An OTLP metric kept only in part (an exponential histogram's count and sum, a delta
    /// sum as a gauge): nothing is dropped silently, so it is listed.
    PartlyKept,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Blank => "blank",
            SkipReason::Comment => "comment",
            SkipReason::NonJson => "non_json",
            SkipReason::TruncatedJson => "truncated_json",
            SkipReason::JsonNotObject => "json_not_object",
            SkipReason::InvalidUtf8 => "invalid_utf8",
            SkipReason::LineTooLong => "line_too_long",
            SkipReason::IncompleteLastLine => "incomplete_last_line",
            SkipReason::UnsupportedSignal => "unsupported_signal",
            SkipReason::InvalidSpan => "invalid_span",
            SkipReason::DuplicateSpan => "duplicate_span",
            SkipReason::UnknownAttributeType => "unknown_attribute_type",
            SkipReason::InvalidSample => "invalid_sample",
            SkipReason::PartlyKept => "partly_kept",
        }
    }
}

/// Where a running ingest stands; sent to [`IngestOptions::progress`] after each batch and
/// each file.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestProgress {
    /// The file being read.
    pub path: String,
    pub files_done: u64,
    pub files_total: u64,
    /// Bytes read from disk (compressed bytes for .gz) over all files, and their total size.
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub records: u64,
    pub skipped: u64,
}

/// A progress callback; called on the ingesting thread, so it must be quick.
pub type ProgressFn = Arc<dyn Fn(&IngestProgress) + Send + Sync>;

/// Knobs for an ingest.
#[derive(Clone)]
pub struct IngestOptions {
    /// Longest line (or pretty-printed record) accepted, in bytes.
    pub max_line_bytes: usize,
    /// Records per transaction.
    pub batch_records: usize,
    /// How many skipped lines each file's report lists (all are counted and stored).
    pub report_skipped_lines: usize,
    /// Set to stop an ingest between batches; what was committed stays, cursor included.
    pub cancel: Option<Arc<AtomicBool>>,
    pub progress: Option<ProgressFn>,
    /// Caps on what an archive may unpack to.
    pub bundle_limits: bundle::BundleLimits,
    /// Bring the derived series up to date before returning. Callers that ingest many
    /// small pieces (a follower, the OTLP receiver) turn it off and batch the update with a
    /// [`DeriveLater`]: it recomputes over the whole workspace, so once per piece would make
    /// a long live session quadratic.
    pub derive: bool,
}

impl std::fmt::Debug for IngestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestOptions")
            .field("max_line_bytes", &self.max_line_bytes)
            .field("batch_records", &self.batch_records)
            .field("report_skipped_lines", &self.report_skipped_lines)
            .field("cancel", &self.cancel)
            .field("progress", &self.progress.is_some())
            .field("bundle_limits", &self.bundle_limits)
            .field("derive", &self.derive)
            .finish()
    }
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_line_bytes: 1 << 20,
            batch_records: 16_384,
            report_skipped_lines: 1000,
            cancel: None,
            progress: None,
            bundle_limits: bundle::BundleLimits::default(),
            derive: true,
        }
    }
}

/// A skipped unit as reported.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SkippedLine {
    pub line: u64,
    pub reason: SkipReason,
    pub detail: String,
}

/// What happened to one file.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Read (wholly or from its cursor on).
    Ingested,
    /// Already ingested to its end: nothing new.
    Unchanged,
    /// Holds nothing complete yet (no bytes, blank lines, or a first line still being
    /// written): not an error, and a followed file is read once lines arrive.
    Empty,
    /// Holds no JSON (inside a folder this is a note, for a named file an error).
    NotJson,
    /// Could not be read.
    Error,
    /// Stopped by the caller; what was committed stays.
    Cancelled,
}

/// The report for one file.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub status: FileStatus,
    /// The dominant format (>= 80% of its records), `mixed`, or none without records.
    pub format: Option<String>,
    /// Records per format.
    pub formats: BTreeMap<String, u64>,
    pub framing: Option<&'static str>,
    pub compression: Option<&'static str>,
    pub records_added: u64,
    /// Distinct spans read from this file (whole spans and spans assembled from log lines).
    pub spans_added: u64,
    /// Metric samples read from this file (exposition files).
    pub samples_added: u64,
    /// Set when reading resumed from an earlier ingest's cursor.
    pub resumed_from_line: Option<u64>,
    pub bytes_read: u64,
    pub skipped: u64,
    pub skipped_by_reason: BTreeMap<SkipReason, u64>,
    pub skipped_lines: Vec<SkippedLine>,
    /// More lines were skipped than `skipped_lines` lists.
    pub skipped_lines_truncated: bool,
    pub error: Option<String>,
}

impl FileReport {
    fn new(path: &Path, status: FileStatus) -> FileReport {
        FileReport {
            path: path.display().to_string(),
            status,
            format: None,
            formats: BTreeMap::new(),
            framing: None,
            compression: None,
            records_added: 0,
            spans_added: 0,
            samples_added: 0,
            resumed_from_line: None,
            bytes_read: 0,
            skipped: 0,
            skipped_by_reason: BTreeMap::new(),
            skipped_lines: Vec::new(),
            skipped_lines_truncated: false,
            error: None,
        }
    }
}

/// A path that could not be ingested, with what and where.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct PathError {
    pub path: String,
    pub line: Option<u64>,
    pub error: String,
}

/// The report of one ingest call.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub files: Vec<FileReport>,
    /// Archives and bundle folders opened (unpacked, checked against their manifest).
    pub bundles: Vec<bundle::BundleReport>,
    /// Prometheus rule files found and added to the workspace's rules.
    pub rule_files: Vec<crate::alerts::status::RuleFileReport>,
    pub errors: Vec<PathError>,
    pub records_added: u64,
    pub spans_added: u64,
    pub samples_added: u64,
    pub skipped: u64,
}

impl IngestReport {
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Ingests files and folders (recursively) into the workspace.
pub fn ingest(store: &Store, paths: &[PathBuf], opts: &IngestOptions) -> IngestReport {
    let mut report = IngestReport::default();
    // First the list of files (and the total size, for progress), then the reading.
    let mut roots: Vec<(PathBuf, bool, Vec<PathBuf>)> = Vec::new();
    let mut seen_dirs = HashSet::new();
    for p in paths {
        match std::fs::metadata(p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                push_error(&mut report, &Error::NotFound { path: p.clone() }, None);
            }
            Err(source) => push_error(
                &mut report,
                &Error::Unreadable {
                    path: p.clone(),
                    source,
                },
                None,
            ),
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                walk_dir(p, &mut files, &mut report, &mut seen_dirs);
                roots.push((p.clone(), true, files));
            }
            Ok(_) => roots.push((p.clone(), false, vec![p.clone()])),
        }
    }
    let roots = open_bundles(store, roots, opts, &mut report, &mut seen_dirs);
    let mut progress = IngestProgress {
        files_total: roots.iter().map(|r| r.2.len() as u64).sum(),
        bytes_total: roots
            .iter()
            .flat_map(|r| r.2.iter())
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum(),
        ..IngestProgress::default()
    };
    let cancelled = || {
        opts.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    for (root, is_dir, files) in roots {
        let before = report.files.len();
        for f in files {
            if cancelled() {
                break;
            }
            progress.path = f.display().to_string();
            let fr = ingest_file_with_progress(store, &f, opts, &mut progress);
            progress.files_done += 1;
            if let Some(cb) = &opts.progress {
                cb(&progress);
            }
            if fr.status == FileStatus::Error {
                report.errors.push(PathError {
                    path: fr.path.clone(),
                    line: None,
                    error: fr.error.clone().unwrap_or_default(),
                });
            } else if fr.status == FileStatus::NotJson && !is_dir {
                let first_bad = fr.skipped_lines.first().map(|s| s.line);
                push_error(
                    &mut report,
                    &Error::NotJson {
                        path: root.clone(),
                        first_bad_line: first_bad,
                    },
                    first_bad,
                );
            }
            report.files.push(fr);
        }
        let any_json = report.files[before..]
            .iter()
            .any(|f| !matches!(f.status, FileStatus::NotJson | FileStatus::Error));
        if is_dir && !any_json && !cancelled() {
            push_error(
                &mut report,
                &Error::NotJson {
                    path: root.clone(),
                    first_bad_line: None,
                },
                None,
            );
        }
    }
    report.records_added = report.files.iter().map(|f| f.records_added).sum();
    report.spans_added = report.files.iter().map(|f| f.spans_added).sum();
    report.samples_added = report.files.iter().map(|f| f.samples_added).sum();
    if opts.derive {
        let mut later = DeriveLater::new(std::time::Duration::ZERO);
        later.add(&report);
        if let Some(e) = later.run(store, true) {
            report.errors.push(e);
        }
    }
    report.skipped = report.files.iter().map(|f| f.skipped).sum();
    report
}

/// Opens what is not a log, trace or exposition file: archives are unpacked into the
/// workspace's folder and replaced by their files, rule files are added to the workspace's
/// rules, and bundle manifests are checked against the files they list. What is left is
/// ingested file by file.
fn open_bundles(
    store: &Store,
    roots: Vec<(PathBuf, bool, Vec<PathBuf>)>,
    opts: &IngestOptions,
    report: &mut IngestReport,
    seen_dirs: &mut HashSet<PathBuf>,
) -> Vec<(PathBuf, bool, Vec<PathBuf>)> {
    let mut out = Vec::with_capacity(roots.len());
    for (root, is_dir, files) in roots {
        let mut kept = Vec::with_capacity(files.len());
        let mut any_bundle = false;
        for f in files {
            match bundle::detect(&f) {
                Ok(Some(kind)) => {
                    any_bundle = true;
                    let b = bundle::unpack(store.path(), &f, kind, &opts.bundle_limits);
                    let dir = PathBuf::from(&b.unpacked_to);
                    report.bundles.push(b);
                    if dir.is_dir() {
                        let mut inner = Vec::new();
                        walk_dir(&dir, &mut inner, report, seen_dirs);
                        let at = report.bundles.len() - 1;
                        kept.extend(sort_out(store, inner, report, Some(at)));
                    }
                }
                Ok(None) => kept.push(f),
                Err(source) => push_error(
                    report,
                    &Error::Unreadable {
                        path: f.clone(),
                        source,
                    },
                    None,
                ),
            }
        }
        let folder_bundle = is_dir && root.join("manifest.json").is_file();
        if folder_bundle {
            report.bundles.push(bundle::BundleReport {
                path: root.display().to_string(),
                format: "folder".into(),
                unpacked_to: root.display().to_string(),
                already_unpacked: true,
                ..bundle::BundleReport::default()
            });
        }
        let at = folder_bundle.then(|| report.bundles.len() - 1);
        let kept = sort_out(store, kept, report, at);
        // A named archive is a folder of files: a file in it that is not JSON is a note.
        out.push((root, is_dir || any_bundle, kept));
    }
    out
}

/// Takes rule files and manifests out of a file list (handling them), returns the rest.
fn sort_out(
    store: &Store,
    files: Vec<PathBuf>,
    report: &mut IngestReport,
    bundle_at: Option<usize>,
) -> Vec<PathBuf> {
    let mut rest = Vec::with_capacity(files.len());
    for f in files {
        if bundle::is_manifest(&f) {
            let (summary, problems) = bundle::check_manifest(&f);
            if let Some(b) = bundle_at.and_then(|i| report.bundles.get_mut(i)) {
                if b.manifest.is_none() {
                    b.manifest = summary;
                }
                b.problems.extend(problems);
            }
        } else if bundle::is_rule_file(&f) {
            report
                .rule_files
                .push(crate::alerts::status::add_rule_file(store, &f));
        } else if is_alerts_export(&f) {
            // The alerts a Sightline export says fired: a record of the past, not new data.
        } else {
            rest.push(f);
        }
    }
    rest
}

/// `alerts.jsonl` as Sightline's export writes it (the alerts that fired).
fn is_alerts_export(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()) == Some(bundle::ALERTS_FILE)
}

/// Derived-series updates (log counts, span and LLM counters) put off and batched: each
/// ingest's report is added, and the update runs at most once per `every` (the first one at
/// once), or when forced (a caller that has gone idle, or is stopping).
#[derive(Debug)]
pub struct DeriveLater {
    every: std::time::Duration,
    last: Option<std::time::Instant>,
    /// Sources (by path) that gained log records since the last update.
    paths: std::collections::BTreeSet<String>,
    spans: bool,
}

impl DeriveLater {
    pub fn new(every: std::time::Duration) -> DeriveLater {
        DeriveLater {
            every,
            last: None,
            paths: Default::default(),
            spans: false,
        }
    }

    /// Notes what an ingest added.
    pub fn add(&mut self, report: &IngestReport) {
        for f in report.files.iter().filter(|f| f.records_added > 0) {
            if !self.paths.contains(&f.path) {
                self.paths.insert(f.path.clone());
            }
        }
        self.spans |= report.spans_added > 0;
    }

    /// Whether an update is waiting.
    pub fn pending(&self) -> bool {
        self.spans || !self.paths.is_empty()
    }

    /// Runs the waiting update if `every` has passed since the last one, or if `force`.
    /// A failure is returned as an error about the workspace (what was noted is dropped:
    /// the next update recomputes from the stored data anyway).
    pub fn run(&mut self, store: &Store, force: bool) -> Option<PathError> {
        if !self.pending() {
            return None;
        }
        if !force && self.last.is_some_and(|t| t.elapsed() < self.every) {
            return None;
        }
        self.last = Some(std::time::Instant::now());
        let paths = std::mem::take(&mut self.paths);
        let spans_changed = std::mem::take(&mut self.spans);
        let w = store.writer()?;
        let r = w.exec(move |conn| {
            let mut sources = Vec::new();
            for p in &paths {
                let id: Option<i64> = conn
                    .query_row("SELECT id FROM sources WHERE path = ?1", [p], |r| r.get(0))
                    .ok();
                if let Some(id) = id {
                    sources.push((id, crate::metrics::source_label(p)));
                }
            }
            crate::metrics::refresh(conn, &sources, spans_changed).map(|_| ())
        });
        r.err().map(|e| PathError {
            path: store.path().display().to_string(),
            line: None,
            error: format!("updating the derived metric series: {e}"),
        })
    }
}

/// Records a path error: `path` says where, `error` says what (without repeating the path).
fn push_error(report: &mut IngestReport, e: &Error, line: Option<u64>) {
    let (path, error) = match e {
        Error::NotFound { path } => (
            path.display().to_string(),
            "no such file or directory".to_owned(),
        ),
        Error::Unreadable { path, source } => {
            (path.display().to_string(), format!("cannot read: {source}"))
        }
        Error::NotJson {
            path,
            first_bad_line,
        } => (
            path.display().to_string(),
            match first_bad_line {
                Some(l) => format!("no JSON found (line {l} is not JSON)"),
                None => "no JSON found".to_owned(),
            },
        ),
        other => (String::new(), other.to_string()),
    };
    report.errors.push(PathError { path, line, error });
}

/// Collects the regular files below `dir`, sorted, following symlinks but not loops.
fn walk_dir(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    report: &mut IngestReport,
    seen: &mut HashSet<PathBuf>,
) {
    if let Ok(c) = std::fs::canonicalize(dir)
        && !seen.insert(c)
    {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => {
            let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            v.sort();
            v
        }
        Err(source) => {
            push_error(
                report,
                &Error::Unreadable {
                    path: dir.to_owned(),
                    source,
                },
                None,
            );
            return;
        }
    };
    for p in entries {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk_dir(&p, out, report, seen),
            Ok(m) if m.is_file() => out.push(p),
            Ok(_) => {}
            Err(source) => push_error(
                report,
                &Error::Unreadable {
                    path: p.clone(),
                    source,
                },
                None,
            ),
        }
    }
}

/// How many bytes of content identify a source.
pub(crate) const FINGERPRINT_BYTES: usize = 1024;
/// A file whose first units hold no JSON at all is not a JSON log.
const GIVE_UP_UNITS: u64 = 1000;
/// Largest OTLP request accepted as one unit.
const OTLP_UNIT_BYTES: usize = 1 << 30;
const GIVE_UP_BYTES: u64 = 4 << 20;

fn fnv64(b: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for x in b {
        h ^= u64::from(*x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// The short key a source is also looked up by: a hash of its first 64 bytes, once it has them.
fn fp_head(head: &[u8]) -> Option<i64> {
    head.get(..64).map(fnv64)
}

fn read_up_to(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut v = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut v)?;
    Ok(v)
}

/// A handle of `file` positioned at `offset`. Every reader of one ingest pass comes from
/// the one `File` opened at its start, so a rename racing the pass (rotation) cannot make
/// two reads see two different files.
fn handle_at(file: &File, offset: u64) -> io::Result<File> {
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::Start(offset))?;
    Ok(f)
}

/// A regular file that is neither an archive nor gzip: a log that can be followed as it grows.
pub fn is_plain_file(path: &Path) -> bool {
    path.is_file()
        && matches!(bundle::detect(path), Ok(None))
        && File::open(path)
            .and_then(|f| is_gzip(&f))
            .is_ok_and(|gz| !gz)
}

fn is_gzip(file: &File) -> io::Result<bool> {
    let n = read_up_to(&mut handle_at(file, 0)?, 2)?;
    Ok(n[..] == [0x1f, 0x8b])
}

/// Counts the bytes read from disk (for progress, and for a bundle's compression ratio).
pub(crate) struct Counting<R> {
    pub(crate) inner: R,
    pub(crate) n: Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

/// Opens the content stream of a file (decompressed for gzip).
fn open_content(file: &File, gz: bool) -> io::Result<Box<dyn Read>> {
    open_content_counted(file, gz, Arc::default())
}

fn open_content_counted(
    file: &File,
    gz: bool,
    n: Arc<std::sync::atomic::AtomicU64>,
) -> io::Result<Box<dyn Read>> {
    let f = Counting {
        inner: handle_at(file, 0)?,
        n,
    };
    Ok(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(256 * 1024, f),
        ))
    } else {
        Box::new(f)
    })
}

/// Opens the content positioned at `offset`; also returns the byte before it (to know
/// whether the cursor sits at a line start).
fn open_at(
    file: &File,
    gz: bool,
    offset: u64,
    n: Arc<std::sync::atomic::AtomicU64>,
) -> io::Result<(Box<dyn Read>, Option<u8>)> {
    if offset == 0 {
        return Ok((open_content_counted(file, gz, n)?, None));
    }
    if gz {
        let mut r = open_content_counted(file, gz, n)?;
        io::copy(&mut (&mut r).take(offset - 1), &mut io::sink())?;
        let prev = read_up_to(&mut r, 1)?.first().copied();
        Ok((r, prev))
    } else {
        let mut f = handle_at(file, offset - 1)?;
        let prev = read_up_to(&mut f, 1)?.first().copied();
        n.fetch_add(offset, Ordering::Relaxed);
        Ok((Box::new(Counting { inner: f, n }), prev))
    }
}

fn mtime_ns_and_year(meta: &std::fs::Metadata) -> (i64, i64) {
    let ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64);
    let (y, _, _) = civil_from_days(ns.div_euclid(86_400_000_000_000));
    (ns, y)
}

/// What one unit turned into.
enum Outcome {
    One(Mapped),
    Many(Vec<Mapped>),
    Spans(Vec<Span>, Vec<otlp_traces::Problem>),
    Samples(otlp_metrics::Mapped),
    Skip(SkipReason, String),
}

fn traces_outcome(t: &str, line: u64) -> Outcome {
    match otlp_traces::map_traces_request(t, line) {
        Ok((spans, problems)) => Outcome::Spans(spans, problems),
        Err(e) => json_error(t, &e),
    }
}

fn process_unit(bytes: &[u8], cx: &Context, line: u64) -> Outcome {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Outcome::Skip(
                SkipReason::InvalidUtf8,
                format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1),
            );
        }
    };
    let t = text.trim();
    if t.is_empty() {
        return Outcome::Skip(SkipReason::Blank, String::new());
    }
    if t.starts_with('#') || t.starts_with("//") {
        return Outcome::Skip(SkipReason::Comment, String::new());
    }
    match t.as_bytes()[0] {
        b'{' => match Obj::parse(t) {
            Ok(obj) => {
                if obj.has("resourceLogs") {
                    return match serde_json::from_str::<serde_json::Value>(t) {
                        Ok(v) => Outcome::Many(otlp::map_logs_request(&v, cx.fallback_ts)),
                        Err(e) => Outcome::Skip(SkipReason::NonJson, e.to_string()),
                    };
                }
                if obj.has("resourceSpans") {
                    return traces_outcome(t, line);
                }
                let langfuse = obj.has("observations") && obj.has("trace");
                let langsmith = (obj.has("run_type") && obj.has("trace_id"))
                    || ((obj.has("post") || obj.has("patch"))
                        && (t.contains("\"run_type\"") || t.contains("\"dotted_order\"")));
                if langfuse || langsmith {
                    return match serde_json::from_str::<serde_json::Value>(t) {
                        Ok(v) => {
                            let (spans, problems) = if langfuse {
                                exports::map_langfuse(&v, line)
                            } else {
                                exports::map_langsmith(&v, line)
                            };
                            Outcome::Spans(spans, problems)
                        }
                        Err(e) => json_error(t, &e),
                    };
                }
                if obj.has("resourceMetrics") {
                    return match serde_json::from_str::<serde_json::Value>(t) {
                        Ok(v) => Outcome::Samples(otlp_metrics::map_metrics_request(&v)),
                        Err(e) => json_error(t, &e),
                    };
                }
                Outcome::One(json_logs::map_object(&obj, cx))
            }
            Err(e) => json_error(t, &e),
        },
        b'[' => match serde_json::from_str::<Vec<&serde_json::value::RawValue>>(t) {
            Ok(items) => {
                let objs: Option<Vec<Obj<'_>>> = items.iter().map(|r| Obj::from_raw(r)).collect();
                match objs {
                    // An array of trace requests, as some exporters write them.
                    Some(objs)
                        if !objs.is_empty() && objs.iter().all(|o| o.has("resourceSpans")) =>
                    {
                        let mut spans = Vec::new();
                        let mut problems = Vec::new();
                        for r in &items {
                            match traces_outcome(r.get(), line) {
                                Outcome::Spans(s, p) => {
                                    spans.extend(s);
                                    problems.extend(p);
                                }
                                other => return other,
                            }
                        }
                        Outcome::Spans(spans, problems)
                    }
                    Some(objs) if !objs.is_empty() => {
                        let mut out = Vec::with_capacity(objs.len());
                        let mut cx2 = *cx;
                        for o in &objs {
                            let m = json_logs::map_object(o, &cx2);
                            cx2.fallback_ts = m.ts;
                            out.push(m);
                        }
                        Outcome::Many(out)
                    }
                    _ => Outcome::Skip(
                        SkipReason::JsonNotObject,
                        "a JSON array, not an object".into(),
                    ),
                }
            }
            Err(e) => json_error(t, &e),
        },
        _ => match serde_json::from_str::<serde::de::IgnoredAny>(t) {
            Ok(_) => {
                let what = match t.as_bytes()[0] {
                    b'"' => "a JSON string",
                    b'n' => "JSON null",
                    b't' | b'f' => "a JSON boolean",
                    _ => "a JSON number",
                };
                Outcome::Skip(SkipReason::JsonNotObject, format!("{what}, not an object"))
            }
            Err(_) => Outcome::Skip(SkipReason::NonJson, "not JSON".into()),
        },
    }
}

/// Tells a cut-off record (the error is at its very end) from text that is not JSON.
fn json_error(t: &str, e: &serde_json::Error) -> Outcome {
    let at_end = e.classify() == serde_json::error::Category::Eof || {
        let last_line = t.lines().count().max(1);
        let last_len = t.lines().last().map_or(0, str::len);
        e.line() >= last_line && e.column() >= last_len
    };
    if at_end {
        Outcome::Skip(SkipReason::TruncatedJson, format!("JSON ends early ({e})"))
    } else {
        Outcome::Skip(SkipReason::NonJson, format!("not JSON ({e})"))
    }
}

/// Ingests one file from its cursor on.
pub fn ingest_file(store: &Store, path: &Path, opts: &IngestOptions) -> FileReport {
    ingest_file_with_progress(store, path, opts, &mut IngestProgress::default())
}

fn ingest_file_with_progress(
    store: &Store,
    path: &Path,
    opts: &IngestOptions,
    progress: &mut IngestProgress,
) -> FileReport {
    let base = progress.clone();
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let r = match ingest_file_inner(store, path, opts, &base) {
        Ok(r) => r,
        Err(e) => {
            let mut r = FileReport::new(path, FileStatus::Error);
            r.error = Some(e.to_string());
            r
        }
    };
    progress.bytes_done = base.bytes_done + size;
    progress.records = base.records + r.records_added;
    progress.skipped = base.skipped + r.skipped;
    r
}

/// The first `n` bytes of `file` (fewer at its end), read without moving its position: a
/// handle from [`handle_at`] shares its position with the reader the framer is using.
#[cfg(unix)]
fn read_head_at(file: &File, n: usize) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match file.read_at(&mut buf[got..], got as u64)? {
            0 => break,
            k => got += k,
        }
    }
    buf.truncate(got);
    Ok(buf)
}

#[cfg(not(unix))]
fn read_head_at(_file: &File, _n: usize) -> io::Result<Vec<u8>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "positional reads",
    ))
}

struct FileRun<'a> {
    store: &'a Store,
    opts: &'a IngestOptions,
    report: FileReport,
    source_id: Option<i64>,
    new_source: Option<NewSource>,
    records: Vec<LogRecord>,
    spans: Vec<Span>,
    samples: Vec<MetricSample>,
    metric_meta: Vec<MetricMeta>,
    /// Spans seen in this file (by a hash of their ids), and whether whole: a whole span
    /// seen twice is a duplicate, fragments of one span are expected.
    span_keys: HashMap<u64, bool>,
    skips: Vec<SkipRow>,
    pending: VecDeque<Pending>,
    fingerprint_update: Option<(Vec<u8>, Option<i64>)>,
    path_update: Option<String>,
    format_counts: BTreeMap<Format, u64>,
    dominant: Option<Format>,
    seen_strong: bool,
    /// The file, to read its first bytes again (plain files only): the fingerprint is read
    /// before the content, and a file still being written can have grown in between.
    file: Option<&'a File>,
}

impl FileRun<'_> {
    /// `fp` (and its `key`, [`fp_head`]) made as long as what the cursor at `offset` has
    /// read allows (up to [`FINGERPRINT_BYTES`]), when the file grew after `fp` was read. A
    /// source whose fingerprint is shorter than its content, empty at worst, cannot be
    /// recognised on the next read, which would then read the file again as a new source.
    fn full_fingerprint(&self, fp: &mut Vec<u8>, key: &mut Option<i64>, offset: u64) {
        let want = (offset as usize).min(FINGERPRINT_BYTES);
        if fp.len() >= want {
            return;
        }
        let Some(file) = self.file else { return };
        if let Ok(head) = read_head_at(file, want)
            && head.starts_with(fp)
        {
            *key = fp_head(&head);
            *fp = head;
        }
    }

    fn flush(&mut self, offset: u64, next_line: u64, framing: Option<Framing>) -> Result<()> {
        let writer = self.store.writer().ok_or(Error::WriterGone)?;
        let id = match self.source_id {
            Some(id) => id,
            None => {
                let Some(mut ns) = self.new_source.take() else {
                    return Err(Error::WriterGone);
                };
                self.full_fingerprint(&mut ns.fingerprint, &mut ns.fp_head, offset);
                let id = writer.create_source(ns)?;
                self.source_id = Some(id);
                id
            }
        };
        if let Some((mut fp, mut head)) = self.fingerprint_update.take() {
            self.full_fingerprint(&mut fp, &mut head, offset);
            self.fingerprint_update = Some((fp, head));
        }
        let batch = Batch {
            source_id: id,
            records: std::mem::take(&mut self.records),
            spans: std::mem::take(&mut self.spans),
            samples: std::mem::take(&mut self.samples),
            metric_meta: std::mem::take(&mut self.metric_meta),
            skips: std::mem::take(&mut self.skips),
            cursor: CursorUpdate {
                offset,
                next_line,
                framing: framing.map(Framing::as_str),
                format: self.dominant,
                fingerprint: self.fingerprint_update.take(),
                path: self.path_update.take(),
            },
        };
        self.pending.push_back(writer.write(batch)?);
        // Collect replies that are in, so an error stops the ingest early.
        while let Some(p) = self.pending.front() {
            match p.try_result() {
                Some(r) => {
                    self.pending.pop_front();
                    r?;
                }
                None => break,
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        while let Some(p) = self.pending.pop_front() {
            p.wait()?;
        }
        Ok(())
    }

    fn skip(&mut self, line: u64, reason: SkipReason, detail: String, persist: bool) {
        self.report.skipped += 1;
        *self.report.skipped_by_reason.entry(reason).or_default() += 1;
        if self.report.skipped_lines.len() < self.opts.report_skipped_lines {
            self.report.skipped_lines.push(SkippedLine {
                line,
                reason,
                detail: detail.clone(),
            });
        } else {
            self.report.skipped_lines_truncated = true;
        }
        if persist {
            let mut detail = detail;
            if detail.len() > 200 {
                let mut cut = 200;
                while !detail.is_char_boundary(cut) {
                    cut -= 1;
                }
                detail.truncate(cut);
            }
            self.skips.push(SkipRow {
                line,
                reason: reason.as_str(),
                detail,
            });
        }
    }
}

fn ingest_file_inner(
    store: &Store,
    path: &Path,
    opts: &IngestOptions,
    progress: &IngestProgress,
) -> Result<FileReport> {
    let unreadable = |source: io::Error| Error::Unreadable {
        path: path.to_owned(),
        source,
    };
    let abs = std::fs::canonicalize(path).map_err(unreadable)?;
    let path_str = abs.display().to_string();
    let file = File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    let gz = is_gzip(&file).map_err(unreadable)?;
    let head = {
        let mut r = open_content(&file, gz).map_err(unreadable)?;
        read_up_to(&mut r, FINGERPRINT_BYTES).map_err(unreadable)?
    };
    let fp_head = fp_head(&head);
    let size = meta.len();
    let (mtime_ns, year) = mtime_ns_and_year(&meta);

    let existing = {
        let conn = store.reader()?;
        sources::find(&conn, &path_str, &head, fp_head)?
    };
    let mut run = FileRun {
        store,
        opts,
        report: FileReport::new(&abs, FileStatus::Ingested),
        source_id: None,
        new_source: None,
        records: Vec::with_capacity(opts.batch_records.min(65_536)),
        spans: Vec::new(),
        samples: Vec::new(),
        metric_meta: Vec::new(),
        span_keys: HashMap::new(),
        skips: Vec::new(),
        pending: VecDeque::new(),
        fingerprint_update: None,
        path_update: None,
        format_counts: BTreeMap::new(),
        dominant: None,
        seen_strong: false,
        file: (!gz).then_some(&file),
    };
    run.report.compression = gz.then_some("gzip");

    // Where to start: a known source resumes at its cursor, unless the content is now
    // shorter than what was read (truncated and rewritten): then it is new content.
    let mut start = (0u64, 1u64, None::<Framing>);
    match existing {
        Some(src) if gz || size >= src.offset => {
            if !gz && size == src.offset {
                run.report.status = FileStatus::Unchanged;
                run.report.format = src
                    .format
                    .and_then(Format::from_i64)
                    .map(|f| f.as_str().to_owned());
                return Ok(run.report);
            }
            run.source_id = Some(src.id);
            if src.offset > 0 {
                run.report.resumed_from_line = Some(src.next_line);
            }
            run.dominant = src.format.and_then(Format::from_i64);
            start = (
                src.offset,
                src.next_line,
                src.framing.as_deref().map(Framing::parse),
            );
            if head.len() > src.fingerprint.len() {
                run.fingerprint_update = Some((head.clone(), fp_head));
            }
            if src.path != path_str {
                run.path_update = Some(path_str.clone());
            }
        }
        _ => {
            run.new_source = Some(NewSource {
                path: path_str.clone(),
                fingerprint: head.clone(),
                fp_head,
                compression: gz.then_some("gzip"),
            });
        }
    }

    if prom_text::looks_like_exposition(&head) || has_exposition_extension(path) {
        return ingest_exposition(run, path, &file, gz, mtime_ns);
    }

    let disk_bytes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (reader, prev_byte) =
        open_at(&file, gz, start.0, disk_bytes.clone()).map_err(unreadable)?;
    // Resuming right after a record that ended without a newline: the newline that follows
    // is that record's, not a blank line.
    let mut swallow_newline = matches!(prev_byte, Some(b) if b != b'\n');
    // An OTLP export holds one request per file or per line (a Langfuse or LangSmith export
    // one object), so a run of 100,000 spans is one unit of tens of megabytes: such files get
    // a large unit limit, log lines keep theirs.
    let otlp_head = [
        &b"\"resourceSpans\""[..],
        b"\"resourceLogs\"",
        b"\"observations\"",
        b"\"run_type\"",
        b"\"post\"",
    ]
    .iter()
    .any(|k| memchr::memmem::find(&head, k).is_some());
    let unit_cap = if otlp_head {
        opts.max_line_bytes.max(OTLP_UNIT_BYTES)
    } else {
        opts.max_line_bytes
    };
    let mut framer = Framer::new(reader, start.0, start.1, start.2, unit_cap);
    let mut cx = Context {
        year_hint: year,
        fallback_ts: mtime_ns,
        dominant: run.dominant,
    };
    let mut cursor = (start.0, start.1);
    let mut seen_json = run.source_id.is_some();
    let mut units = 0u64;
    let cancel = opts.cancel.clone();

    loop {
        let u = match framer.next_unit() {
            Ok(Some(u)) => u,
            Ok(None) => break,
            Err(e) => {
                // A corrupt gzip stream or a read error: keep what was read, report the rest.
                run.report.error = Some(format!(
                    "{}: read error after line {}: {e}",
                    abs.display(),
                    cursor.1
                ));
                break;
            }
        };
        units += 1;
        let is_tail = u.kind == RawKind::Tail;
        match u.kind {
            RawKind::Unit | RawKind::Tail => {
                let bytes = framer.bytes(&u);
                if swallow_newline {
                    swallow_newline = false;
                    if bytes.is_empty() && !is_tail {
                        cursor = (u.end, u.end_line);
                        continue;
                    }
                }
                // A unit at the very end with no newline counts only once it is a record:
                // otherwise the writer may still be in the middle of it.
                match process_unit(bytes, &cx, u.line) {
                    Outcome::One(m) => {
                        seen_json = true;
                        push_record(&mut run, &mut cx, m, &u, bytes.len());
                    }
                    Outcome::Many(ms) => {
                        seen_json = true;
                        for m in ms {
                            push_record(&mut run, &mut cx, m, &u, bytes.len());
                        }
                    }
                    Outcome::Spans(spans, problems) => {
                        seen_json = true;
                        for p in problems {
                            run.skip(u.line, p.reason, p.detail, true);
                        }
                        for s in spans {
                            push_span(&mut run, s);
                        }
                    }
                    Outcome::Samples(m) => {
                        seen_json = true;
                        for p in m.problems {
                            let reason = if p.dropped {
                                SkipReason::InvalidSample
                            } else {
                                SkipReason::PartlyKept
                            };
                            run.skip(u.line, reason, p.detail, true);
                        }
                        let n = m.samples.len() as u64;
                        run.report.samples_added += n;
                        *run.format_counts.entry(Format::OtlpMetrics).or_default() += n;
                        run.samples.extend(m.samples);
                        run.metric_meta.extend(m.meta);
                    }
                    Outcome::Skip(reason, detail) => {
                        if matches!(
                            reason,
                            SkipReason::JsonNotObject | SkipReason::UnsupportedSignal
                        ) {
                            seen_json = true;
                        }
                        if is_tail {
                            if reason != SkipReason::Blank {
                                run.skip(u.line, SkipReason::IncompleteLastLine, detail, false);
                            }
                            break;
                        }
                        run.skip(u.line, reason, detail, true);
                    }
                }
                cursor = (u.end, u.end_line);
            }
            RawKind::Oversize => {
                run.skip(
                    u.line,
                    SkipReason::LineTooLong,
                    format!("longer than the {unit_cap} byte limit"),
                    true,
                );
                cursor = (u.end, u.end_line);
            }
            RawKind::Unclosed => {
                run.skip(
                    u.line,
                    SkipReason::TruncatedJson,
                    "record cut off before it closed".into(),
                    true,
                );
                cursor = (u.end, u.end_line);
            }
        }
        if !seen_json && (units >= GIVE_UP_UNITS || u.end >= GIVE_UP_BYTES) {
            break;
        }
        if seen_json
            && (run.records.len() + run.spans.len() + run.samples.len() >= opts.batch_records
                || run.skips.len() >= opts.batch_records)
        {
            run.flush(cursor.0, cursor.1, framer.framing())?;
            if let Some(cb) = &opts.progress {
                let mut p = progress.clone();
                p.bytes_done += disk_bytes.load(Ordering::Relaxed);
                p.records += run.report.records_added;
                p.skipped += run.report.skipped;
                cb(&p);
            }
            if cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                run.report.status = FileStatus::Cancelled;
                break;
            }
        }
    }
    run.report.framing = framer.framing().map(Framing::as_str);
    if !seen_json {
        let nothing_yet = run
            .report
            .skipped_by_reason
            .keys()
            .all(|r| *r == SkipReason::IncompleteLastLine);
        run.report.status = if nothing_yet {
            FileStatus::Empty
        } else {
            FileStatus::NotJson
        };
        run.report.bytes_read = framer.position().saturating_sub(start.0);
        return Ok(run.report);
    }
    run.dominant = dominant_of(&run.format_counts).or(run.dominant);
    run.flush(cursor.0, cursor.1, framer.framing())?;
    run.finish()?;
    run.report.bytes_read = cursor.0.saturating_sub(start.0);
    run.report.format =
        file_format(&run.format_counts).or_else(|| run.dominant.map(|f| f.as_str().to_owned()));
    run.report.formats = run
        .format_counts
        .iter()
        .map(|(f, n)| (f.as_str().to_owned(), *n))
        .collect();
    // A read error part-way (a corrupt .gz) keeps what was read; the error is in the report.
    Ok(run.report)
}

fn push_record(
    run: &mut FileRun<'_>,
    cx: &mut Context,
    m: Mapped,
    u: &framing::RawUnit,
    len: usize,
) {
    // The file's dialect: the first strongly recognised one; until there is one, the first
    // guess, so that ambiguous lines of one file share a label.
    if cx.dominant.is_none() || (m.strong && !run.seen_strong) {
        if m.strong {
            run.seen_strong = true;
        }
        if m.strong || m.format != Format::Json {
            cx.dominant = Some(m.format);
        }
    }
    cx.fallback_ts = m.ts;
    *run.format_counts.entry(m.format).or_default() += 1;
    run.report.records_added += 1;
    if m.span_id.is_some() || m.attrs.contains("\"trace\"") {
        for s in log_spans::spans_of(&m, u.line, cx.year_hint) {
            push_span(run, s);
        }
    }
    run.records.push(LogRecord {
        ts: m.ts,
        level: m.level,
        message: m.message,
        format: m.format,
        flags: m.flags,
        line: u.line,
        byte_offset: u.offset,
        byte_len: u32::try_from(len).unwrap_or(u32::MAX),
        trace_id: m.trace_id,
        span_id: m.span_id,
        parent_span_id: m.parent_span_id,
        attrs: m.attrs,
    });
}

fn has_exposition_extension(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name.ends_with(".prom")
        || name.ends_with(".om")
        || name.ends_with(".om.txt")
        || name.ends_with(".prom.txt")
}

/// A scrape saved to disk is often named by its time (`20240601T120045Z.prom`,
/// `2024-06-01T12:00:45Z.prom`, `metrics-1717243245.prom`): that time, in Unix ms.
fn time_from_file_name(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    let b = name.as_bytes();
    // Compact or extended ISO 8601: 8 digits T 6 digits, or YYYY-MM-DDTHH:MM:SS.
    for i in 0..b.len() {
        let rest = &name[i..];
        let digits =
            |s: &str, n: usize| s.len() >= n && s.as_bytes()[..n].iter().all(u8::is_ascii_digit);
        if digits(rest, 8) && rest.as_bytes().get(8) == Some(&b'T') && digits(&rest[9..], 6) {
            let iso = format!(
                "{}-{}-{}T{}:{}:{}Z",
                &rest[0..4],
                &rest[4..6],
                &rest[6..8],
                &rest[9..11],
                &rest[11..13],
                &rest[13..15]
            );
            if let Some(t) = timestamp::parse_time_str(&iso, 1970) {
                return Some(t.ns / 1_000_000);
            }
        }
        if digits(rest, 4)
            && rest.len() >= 19
            && rest.as_bytes()[4] == b'-'
            && rest.as_bytes()[10] == b'T'
        {
            let iso = format!("{}Z", &rest[..19]);
            if let Some(t) = timestamp::parse_time_str(&iso, 1970) {
                return Some(t.ns / 1_000_000);
            }
        }
        if i == 0 || !b[i - 1].is_ascii_digit() {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            if (n == 10 || n == 13) && !rest.as_bytes().get(n).is_some_and(u8::is_ascii_digit) {
                let v: i64 = rest[..n].parse().ok()?;
                return Some(if n == 10 { v * 1000 } else { v });
            }
        }
    }
    None
}

/// Largest exposition file read (a scrape body is capped at 16 MiB; files get more room).
const EXPOSITION_MAX_BYTES: u64 = 512 << 20;

/// An exposition file is one scrape: read whole, samples at their own time or the file's.
/// Re-reading it adds nothing (samples are keyed by series and time).
fn ingest_exposition(
    mut run: FileRun<'_>,
    path: &Path,
    file: &File,
    gz: bool,
    mtime_ns: i64,
) -> Result<FileReport> {
    let unreadable = |source: io::Error| Error::Unreadable {
        path: path.to_owned(),
        source,
    };
    let mut r = open_content(file, gz).map_err(unreadable)?;
    let mut bytes = Vec::new();
    (&mut r)
        .take(EXPOSITION_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > EXPOSITION_MAX_BYTES {
        run.report.error = Some(format!(
            "{}: an exposition over {} MiB is not read",
            path.display(),
            EXPOSITION_MAX_BYTES >> 20
        ));
        return Ok(run.report);
    }
    run.report.bytes_read = bytes.len() as u64;
    let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let t_ms = time_from_file_name(path).unwrap_or(mtime_ns / 1_000_000);
    let expo = match prom_text::parse_exposition(&bytes, None) {
        Ok(e) => e,
        Err(e) => {
            // Text that looks like an exposition but is not one at all.
            run.skip(
                u64::from(e.line),
                SkipReason::InvalidSample,
                format!("column {}: {}", e.column, e.message),
                true,
            );
            run.report.format = Some(Format::OpenMetrics.as_str().into());
            run.flush(bytes.len() as u64, lines, None)?;
            run.finish()?;
            return Ok(run.report);
        }
    };
    let format = if expo.openmetrics {
        Format::OpenMetrics
    } else {
        Format::PromText
    };
    for p in &expo.problems {
        run.skip(
            u64::from(p.line),
            SkipReason::InvalidSample,
            format!("column {}: {}", p.column, p.message),
            true,
        );
    }
    let (samples, meta) = prom_text::to_samples(&expo, t_ms);
    run.report.samples_added = samples.len() as u64;
    run.samples = samples;
    run.metric_meta = meta;
    run.dominant = Some(format);
    run.report.format = Some(format.as_str().into());
    *run.report
        .formats
        .entry(format.as_str().into())
        .or_default() += run.report.samples_added;
    run.flush(bytes.len() as u64, lines, None)?;
    run.finish()?;
    Ok(run.report)
}

fn span_key(s: &Span) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.trace_id.bytes().chain([0]).chain(s.span_id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn push_span(run: &mut FileRun<'_>, s: Span) {
    let key = span_key(&s);
    match run.span_keys.get(&key).copied() {
        Some(true) if s.whole => {
            let detail = format!(
                "span {} of trace {} ({:?}) appears again; the first is kept",
                s.span_id, s.trace_id, s.name
            );
            run.skip(s.line, SkipReason::DuplicateSpan, detail, true);
            return;
        }
        Some(whole) => {
            run.span_keys.insert(key, whole || s.whole);
        }
        None => {
            run.span_keys.insert(key, s.whole);
            run.report.spans_added += 1;
        }
    }
    if s.whole {
        *run.format_counts.entry(s.format).or_default() += 1;
    }
    run.spans.push(s);
}

fn dominant_of(counts: &BTreeMap<Format, u64>) -> Option<Format> {
    counts.iter().max_by_key(|(_, n)| **n).map(|(f, _)| *f)
}

fn file_format(counts: &BTreeMap<Format, u64>) -> Option<String> {
    crate::model::file_format(counts.iter().map(|(f, n)| (*f, *n)))
}

/// Reads a record's source text back from its file (decompressing a .gz up to it), at most
/// `max` bytes. Fails with what and where when the file is gone or shorter than it was.
pub fn read_raw(path: &Path, gz: bool, offset: u64, len: u64, max: u64) -> Result<Vec<u8>> {
    let unreadable = |source: io::Error| Error::Unreadable {
        path: path.to_owned(),
        source,
    };
    let mut r: Box<dyn Read> = if gz {
        let f = File::open(path).map_err(unreadable)?;
        let mut r = open_content(&f, true).map_err(unreadable)?;
        io::copy(&mut (&mut r).take(offset), &mut io::sink()).map_err(unreadable)?;
        r
    } else {
        let mut f = File::open(path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::NotFound {
                    path: path.to_owned(),
                }
            } else {
                unreadable(e)
            }
        })?;
        f.seek(SeekFrom::Start(offset)).map_err(unreadable)?;
        Box::new(f)
    };
    read_up_to(&mut r, len.min(max) as usize).map_err(unreadable)
}
