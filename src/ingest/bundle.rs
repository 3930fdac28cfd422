//! Bundles: `.zip`, `.tar`, `.tar.gz` / `.tgz` archives and folders that someone exported.
//!
//! An archive is unpacked into the workspace's own folder (`<workspace>.files/bundles/`),
//! under a name made of the bundle's name and a hash of its bytes, so opening it twice
//! unpacks it once; the files inside are then ingested like any folder, each detected on its
//! own, and the sources' cursors make a second ingest add nothing.
//!
//! An archive is untrusted input. Every entry name is checked before anything is written:
//! absolute paths, `..`, links and duplicates are refused and reported, never followed. The
//! unpacked size is capped in total, per entry and by compression ratio, and the entry count
//! is capped, so a decompression bomb stops at the cap with what came before it kept. An
//! archive inside an archive is opened up to a small depth. A truncated or corrupt archive
//! keeps the entries that could be read and says where reading stopped.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use sha2::Digest;

/// Caps on what an archive may unpack to. All configurable (`sightline ingest --max-bundle-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleLimits {
    /// Bytes unpacked from one archive, over all its entries (nested archives included).
    pub max_total_bytes: u64,
    /// Bytes unpacked from one entry.
    pub max_entry_bytes: u64,
    /// Unpacked bytes per compressed byte, beyond the first MiB of an entry.
    pub max_ratio: u64,
    /// Entries in one archive (files, folders and refused entries alike).
    pub max_entries: u64,
    /// How deep archives inside archives are opened (1 = the named archive only).
    pub max_depth: u32,
}

impl Default for BundleLimits {
    fn default() -> Self {
        BundleLimits {
            max_total_bytes: 16 << 30,
            max_entry_bytes: 4 << 30,
            max_ratio: 200,
            max_entries: 100_000,
            max_depth: 3,
        }
    }
}

/// The file of a Sightline export that lists the alerts that fired.
pub const ALERTS_FILE: &str = "alerts.jsonl";

/// Below this many unpacked bytes an entry's ratio is not checked (small files of one
/// repeated character compress extremely well and are harmless).
const RATIO_GRACE: u64 = 1 << 20;

/// An archive format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Zip,
    Tar,
    TarGz,
}

impl ArchiveKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveKind::Zip => "zip",
            ArchiveKind::Tar => "tar",
            ArchiveKind::TarGz => "tar.gz",
        }
    }
}

/// An entry that was not unpacked (or not wholly), and why.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct BundleProblem {
    /// The entry's name as the archive gives it (or the file, for manifest checks).
    pub entry: String,
    pub problem: String,
}

/// What opening one bundle did.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, Default)]
pub struct BundleReport {
    /// The archive or folder opened.
    pub path: String,
    /// `zip`, `tar`, `tar.gz` or `folder`.
    pub format: String,
    /// Where its files are (inside the workspace's folder for an archive).
    pub unpacked_to: String,
    /// Unpacked by an earlier open (the same bytes): not unpacked again.
    pub already_unpacked: bool,
    /// Entries read from the archive, and files and bytes unpacked.
    pub entries: u64,
    pub files: u64,
    pub bytes: u64,
    /// Entries refused or cut short, and manifest entries that do not match.
    pub problems: Vec<BundleProblem>,
    /// A line about the bundle from its manifest (who made it, when, what).
    pub manifest: Option<String>,
    /// Set when reading stopped early (corrupt or truncated archive, a limit reached): what
    /// was read before is kept.
    pub error: Option<String>,
}

/// Recognises an archive by its first bytes (not its name).
pub fn detect(path: &Path) -> io::Result<Option<ArchiveKind>> {
    let mut f = File::open(path)?;
    let mut head = Vec::with_capacity(512);
    (&mut f).take(512).read_to_end(&mut head)?;
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Ok(Some(ArchiveKind::Zip));
    }
    if is_tar_header(&head) {
        return Ok(Some(ArchiveKind::Tar));
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut inner = Vec::with_capacity(512);
        let gz = flate2::read::MultiGzDecoder::new(BufReader::new(File::open(path)?));
        // A corrupt stream is simply not a tar; the ingest of the .gz reports it.
        let _ = gz.take(512).read_to_end(&mut inner);
        if is_tar_header(&inner) {
            return Ok(Some(ArchiveKind::TarGz));
        }
    }
    Ok(None)
}

/// A POSIX (`ustar`) or GNU tar header: the magic at 257, or an old-style header whose
/// checksum adds up.
fn is_tar_header(h: &[u8]) -> bool {
    if h.len() < 512 {
        return false;
    }
    if h.get(257..262) == Some(b"ustar") {
        return true;
    }
    // v7 tar: the checksum field (148..156, octal) is the sum of the header with the
    // field itself counted as spaces.
    let Some(field) = h.get(148..156) else {
        return false;
    };
    let digits: String = field
        .iter()
        .map(|&b| b as char)
        .filter(|c| c.is_ascii_digit())
        .collect();
    let Ok(want) = u32::from_str_radix(&digits, 8) else {
        return false;
    };
    let sum: u32 = h
        .iter()
        .take(512)
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    want == sum && h.first().is_some_and(|&b| b != 0)
}

/// The workspace's own folder for unpacked bundles.
pub fn bundles_dir(store_path: &Path) -> PathBuf {
    let mut s = store_path.as_os_str().to_owned();
    s.push(".files");
    PathBuf::from(s).join("bundles")
}

/// `name` with every character but letters, digits, `-`, `_` and `.` made `_`.
pub(crate) fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A file name made only of safe characters, from the bundle's name.
fn folder_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = ["tar.gz", "tgz", "tar", "zip"]
        .iter()
        .find_map(|ext| {
            let lower = name.to_ascii_lowercase();
            lower
                .strip_suffix(&format!(".{ext}"))
                .map(|s| name.get(..s.len()).unwrap_or(s).to_owned())
        })
        .unwrap_or(name);
    let clean: String = safe_name(&stem).chars().take(60).collect();
    let clean = clean.trim_start_matches('.').to_owned();
    if clean.is_empty() {
        "bundle".into()
    } else {
        clean
    }
}

/// The name a new workspace for this bundle gets (`failed-run.zip` -> `failed-run`).
pub fn workspace_name(path: &Path) -> String {
    folder_name(path)
}

/// The SHA-256 of a file, in hex.
fn sha256_file(path: &Path) -> io::Result<String> {
    let mut f = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut h = sha2::Sha256::new();
    io::copy(&mut f, &mut h)?;
    Ok(hex(&h.finalize()))
}

/// Bytes as lowercase hex.
pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Turns an entry name into a relative path of plain components, or says why it cannot be
/// one. Both `/` and `\` separate components (an archive made on Windows uses `\`).
pub fn safe_entry_path(name: &str) -> Result<PathBuf, String> {
    if name.contains('\0') {
        return Err("refused: the name holds a NUL byte".into());
    }
    let unified = name.replace('\\', "/");
    if unified.starts_with('/') {
        return Err("refused: an absolute path".into());
    }
    if unified.len() >= 2
        && unified.as_bytes().get(1) == Some(&b':')
        && unified
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
    {
        return Err("refused: an absolute path (drive letter)".into());
    }
    let mut out = PathBuf::new();
    for part in unified.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("refused: the path leaves the bundle (`..`)".into()),
            p => {
                // Guard against anything the platform would read as more than a name.
                let mut comps = Path::new(p).components();
                match (comps.next(), comps.next()) {
                    (Some(Component::Normal(c)), None) => out.push(c),
                    _ => return Err(format!("refused: {p:?} is not a plain name")),
                }
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err("refused: an empty name".into());
    }
    Ok(out)
}

/// Whether a link's target, resolved from the link's own folder, stays in the bundle.
fn link_stays_inside(entry: &Path, target: &str) -> bool {
    let t = target.replace('\\', "/");
    if t.starts_with('/') {
        return false;
    }
    let mut depth: i64 = entry.components().count() as i64 - 1;
    for part in t.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}

/// Unpacks archives under the caps, writing only below one folder.
struct Unpacker<'a> {
    limits: &'a BundleLimits,
    root: PathBuf,
    report: BundleReport,
    written: HashSet<PathBuf>,
    /// Bytes unpacked so far from this bundle (shared with nested archives).
    total: u64,
    /// Bytes unpacked so far from the archive being read (for its overall ratio).
    archive_unpacked: u64,
}

/// Stop reading this archive (a cap or a read error); the message says why.
struct Stop(String);

impl Unpacker<'_> {
    fn problem(&mut self, entry: &str, problem: impl Into<String>) {
        // A hostile archive can hold millions of bad entries: the report keeps the first
        // thousand, the count says the rest.
        if self.report.problems.len() < 1000 {
            self.report.problems.push(BundleProblem {
                entry: entry.to_owned(),
                problem: problem.into(),
            });
        }
    }

    /// Counts an entry against the cap; `Err` when the archive holds too many.
    fn count_entry(&mut self) -> Result<(), Stop> {
        self.report.entries += 1;
        if self.report.entries > self.limits.max_entries {
            return Err(Stop(format!(
                "more than {} entries (the entry cap): the rest is not unpacked",
                self.limits.max_entries
            )));
        }
        Ok(())
    }

    /// Writes one regular-file entry. `compressed` is the entry's compressed size when the
    /// format says it (zip), or a counter of compressed bytes read (tar.gz).
    fn file(
        &mut self,
        name: &str,
        r: &mut dyn Read,
        compressed: Compressed<'_>,
        prefix: &Path,
    ) -> Result<(), Stop> {
        let rel = match safe_entry_path(name) {
            Ok(p) => prefix.join(p),
            Err(why) => {
                self.problem(name, why);
                return Ok(());
            }
        };
        if !self.written.insert(rel.clone()) {
            self.problem(
                name,
                "refused: a duplicate entry (the first one with this name is kept)",
            );
            return Ok(());
        }
        let dest = self.root.join(&rel);
        if let Some(parent) = dest.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            self.problem(name, format!("cannot create its folder: {e}"));
            return Ok(());
        }
        let mut out = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dest)
        {
            Ok(f) => io::BufWriter::with_capacity(256 * 1024, f),
            Err(e) => {
                self.problem(name, format!("cannot write: {e}"));
                return Ok(());
            }
        };
        let mut n: u64 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        let outcome: Result<(), (String, bool)> = loop {
            let k = match r.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err((format!("cut short: {e}"), true)),
            };
            n += k as u64;
            if n > self.limits.max_entry_bytes {
                break Err((
                    format!(
                        "refused: unpacks to more than {} bytes (the per-entry cap)",
                        self.limits.max_entry_bytes
                    ),
                    false,
                ));
            }
            if self.total + n > self.limits.max_total_bytes {
                break Err((
                    format!(
                        "refused: the bundle unpacks to more than {} bytes (the total cap)",
                        self.limits.max_total_bytes
                    ),
                    false,
                ));
            }
            // Zip says each entry's compressed size; a compressed stream around a tar (or a
            // zip read from its start) only tells how much was read so far, so the ratio is
            // the archive's overall one there.
            let (packed, unpacked) = match &compressed {
                Compressed::Known(k) => (*k, n),
                Compressed::Counter(c) => (c.load(Ordering::Relaxed), self.archive_unpacked + n),
                Compressed::Plain => (u64::MAX, 0),
            };
            if unpacked > RATIO_GRACE && unpacked / packed.max(1) > self.limits.max_ratio {
                break Err((
                    format!(
                        "refused: a decompression bomb (more than {}:1 compression)",
                        self.limits.max_ratio
                    ),
                    false,
                ));
            }
            if let Err(e) = out.write_all(buf.get(..k).unwrap_or_default()) {
                break Err((format!("cannot write: {e}"), false));
            }
        };
        let flushed = out.flush();
        drop(out);
        match outcome {
            Ok(()) => {
                if let Err(e) = flushed {
                    self.problem(name, format!("cannot write: {e}"));
                    let _ = std::fs::remove_file(&dest);
                    return Ok(());
                }
                self.total += n;
                self.archive_unpacked += n;
                self.report.files += 1;
                self.report.bytes += n;
                Ok(())
            }
            Err((why, keep_partial)) => {
                if keep_partial && n > 0 {
                    // A truncated entry: the part that was read is kept (its last line may
                    // be cut; the ingest reports that line).
                    self.total += n;
                    self.report.files += 1;
                    self.report.bytes += n;
                    self.problem(name, format!("{why} after {n} bytes; those are kept"));
                    return Err(Stop(format!("{name}: {why}")));
                }
                let _ = std::fs::remove_file(&dest);
                self.problem(name, why.clone());
                if self.total + n > self.limits.max_total_bytes || keep_partial {
                    return Err(Stop(format!("{name}: {why}")));
                }
                Ok(())
            }
        }
    }

    fn unpack(&mut self, archive: &Path, kind: ArchiveKind, prefix: &Path) {
        let r = match kind {
            ArchiveKind::Zip => self.zip(archive, prefix),
            ArchiveKind::Tar => match File::open(archive) {
                Ok(f) => self.tar(BufReader::with_capacity(256 * 1024, f), None, prefix),
                Err(e) => Err(Stop(format!("cannot read: {e}"))),
            },
            ArchiveKind::TarGz => match File::open(archive) {
                Ok(f) => {
                    let n = Arc::new(AtomicU64::new(0));
                    let counted = super::Counting {
                        inner: f,
                        n: n.clone(),
                    };
                    let gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
                        256 * 1024,
                        counted,
                    ));
                    self.tar(gz, Some(n), prefix)
                }
                Err(e) => Err(Stop(format!("cannot read: {e}"))),
            },
        };
        if let Err(Stop(why)) = r {
            let msg = if prefix.as_os_str().is_empty() {
                why
            } else {
                format!("{}: {why}", prefix.display())
            };
            self.report.error.get_or_insert(msg);
        }
    }

    fn zip(&mut self, path: &Path, prefix: &Path) -> Result<(), Stop> {
        self.archive_unpacked = 0;
        let f = File::open(path).map_err(|e| Stop(format!("cannot read: {e}")))?;
        let opened = zip::ZipArchive::new(BufReader::with_capacity(256 * 1024, f));
        // The zip reader keeps one entry per name: when the directory lists more entries
        // than it kept, some names repeat, and only reading the entries in order shows them.
        let opened = match opened {
            Ok(ar) if zip_directory_count(path).is_some_and(|n| n > ar.len() as u64) => {
                Err(zip::result::ZipError::InvalidArchive(
                    "the directory lists one name more than once".into(),
                ))
            }
            other => other,
        };
        match opened {
            Ok(mut ar) => {
                for i in 0..ar.len() {
                    self.count_entry()?;
                    let mut e = match ar.by_index(i) {
                        Ok(e) => e,
                        Err(err) => {
                            self.problem(
                                &format!("entry #{}", i + 1),
                                format!("unreadable: {err}"),
                            );
                            continue;
                        }
                    };
                    let name = String::from_utf8_lossy(e.name_raw()).into_owned();
                    if e.is_dir() {
                        if let Err(why) = safe_entry_path(&name) {
                            self.problem(&name, why);
                        }
                        continue;
                    }
                    if e.is_symlink() {
                        let mut target = String::new();
                        let _ = (&mut e).take(4096).read_to_string(&mut target);
                        self.link(&name, &target);
                        continue;
                    }
                    let packed = e.compressed_size();
                    self.file(&name, &mut e, Compressed::Known(packed), prefix)?;
                }
                Ok(())
            }
            Err(open_err) => {
                // No readable central directory (a truncated download, most often): read the
                // entries one after another from the start, as far as they go.
                let f = File::open(path).map_err(|e| Stop(format!("cannot read: {e}")))?;
                let n = Arc::new(AtomicU64::new(0));
                let mut r = BufReader::with_capacity(
                    64 * 1024,
                    super::Counting {
                        inner: f,
                        n: n.clone(),
                    },
                );
                let duplicates = open_err.to_string().contains("more than once");
                let mut read_any = false;
                loop {
                    match zip::read::read_zipfile_from_stream(&mut r) {
                        Ok(Some(mut e)) => {
                            read_any = true;
                            self.count_entry()?;
                            let name = String::from_utf8_lossy(e.name_raw()).into_owned();
                            if e.is_dir() {
                                continue;
                            }
                            self.file(&name, &mut e, Compressed::Counter(&n), prefix)?;
                        }
                        Ok(None) if duplicates => return Ok(()),
                        Ok(None) => {
                            return Err(Stop(format!(
                                "the zip's directory is missing or corrupt ({open_err}); the entries before it were read"
                            )));
                        }
                        Err(e) => {
                            return Err(Stop(if read_any {
                                format!(
                                    "corrupt or truncated zip ({e}); the entries before it were read"
                                )
                            } else {
                                format!("not a readable zip: {open_err}")
                            }));
                        }
                    }
                }
            }
        }
    }

    fn tar<R: Read>(
        &mut self,
        r: R,
        packed: Option<Arc<AtomicU64>>,
        prefix: &Path,
    ) -> Result<(), Stop> {
        self.archive_unpacked = 0;
        let mut ar = tar::Archive::new(r);
        let entries = ar
            .entries()
            .map_err(|e| Stop(format!("not a readable tar: {e}")))?;
        for entry in entries {
            let mut e = match entry {
                Ok(e) => e,
                Err(err) => {
                    return Err(Stop(format!(
                        "corrupt or truncated tar ({err}); the entries before it were read"
                    )));
                }
            };
            self.count_entry()?;
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let ty = e.header().entry_type();
            if ty.is_dir() {
                if let Err(why) = safe_entry_path(&name) {
                    self.problem(&name, why);
                }
                continue;
            }
            if ty.is_symlink() || ty.is_hard_link() {
                let target = e
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                self.link(&name, &target);
                continue;
            }
            if ty.is_pax_global_extensions() || ty.is_pax_local_extensions() || ty.is_gnu_longname()
            {
                continue;
            }
            if !ty.is_file() && !ty.is_contiguous() {
                self.problem(&name, "skipped: not a regular file (device, fifo)");
                continue;
            }
            let compressed = match &packed {
                Some(n) => Compressed::Counter(n),
                None => Compressed::Plain,
            };
            self.file(&name, &mut e, compressed, prefix)?;
        }
        Ok(())
    }

    fn link(&mut self, name: &str, target: &str) {
        let why = match safe_entry_path(name) {
            Err(why) => why,
            Ok(p) if !link_stays_inside(&p, target) => {
                format!("refused: a link pointing outside the bundle ({target:?})")
            }
            Ok(_) => format!("skipped: a link ({target:?}); links are not followed"),
        };
        self.problem(name, why);
    }
}

/// The entry count a zip's end-of-directory record gives (`None` when it cannot be read, or
/// for zip64, where the count lives elsewhere).
fn zip_directory_count(path: &Path) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let back = len.min(65_557);
    f.seek(SeekFrom::Start(len - back)).ok()?;
    let mut tail = Vec::with_capacity(back as usize);
    f.take(back).read_to_end(&mut tail).ok()?;
    let at = memchr::memmem::rfind(&tail, b"PK\x05\x06")?;
    let count = tail.get(at + 10..at + 12)?;
    let n = u16::from_le_bytes([*count.first()?, *count.get(1)?]);
    (n != 0xffff).then_some(u64::from(n))
}

/// How many compressed bytes lie behind an entry's unpacked bytes.
enum Compressed<'a> {
    /// The archive says (zip): the ratio is unpacked / this.
    Known(u64),
    /// A gzip stream around a tar: compressed bytes read so far.
    Counter(&'a AtomicU64),
    /// Not compressed: no ratio to check.
    Plain,
}

/// Unpacks `archive` into the workspace's bundle folder (once per distinct content) and
/// returns the report and the folder to ingest. Nested archives are unpacked in place, into
/// `<entry>.d/` beside them, up to `limits.max_depth`.
pub fn unpack(
    store_path: &Path,
    archive: &Path,
    kind: ArchiveKind,
    limits: &BundleLimits,
) -> BundleReport {
    let mut report = BundleReport {
        path: archive.display().to_string(),
        format: kind.as_str().into(),
        ..BundleReport::default()
    };
    let hash = match sha256_file(archive) {
        Ok(h) => h.chars().take(16).collect::<String>(),
        Err(e) => {
            report.error = Some(format!("cannot read: {e}"));
            return report;
        }
    };
    let dir = bundles_dir(store_path);
    let dest = dir.join(format!("{}-{hash}", folder_name(archive)));
    report.unpacked_to = dest.display().to_string();
    let report_path = dir.join(format!("{}-{hash}.report.json", folder_name(archive)));
    let caps = limit_list(limits);
    if dest.is_dir() {
        // The first open's report (refused entries, errors) is kept beside the files.
        let old = std::fs::read_to_string(&report_path)
            .ok()
            .and_then(|t| serde_json::from_str::<StoredReport>(&t).ok());
        match old {
            // Unpacked whole, or under the same caps: nothing new to unpack.
            Some(old) if (old.problems.is_empty() && old.error.is_none()) || old.limits == caps => {
                report.already_unpacked = true;
                report.entries = old.entries;
                report.files = old.files;
                report.bytes = old.bytes;
                report.problems = old.problems;
                report.error = old.error;
                return report;
            }
            // Other caps may let more through: unpack again (what was read before is the
            // same content, which the ingest recognises).
            _ => {
                let _ = std::fs::remove_dir_all(&dest);
            }
        }
    }
    let partial = dir.join(format!("{}-{hash}.partial", folder_name(archive)));
    let _ = std::fs::remove_dir_all(&partial);
    if let Err(e) = std::fs::create_dir_all(&partial) {
        report.error = Some(format!("cannot create {}: {e}", partial.display()));
        return report;
    }
    let mut u = Unpacker {
        limits,
        root: partial.clone(),
        report,
        written: HashSet::new(),
        total: 0,
        archive_unpacked: 0,
    };
    u.unpack(archive, kind, Path::new(""));
    // Archives inside: each opened into `<entry>.d/`, breadth first, to the depth cap.
    let mut level: Vec<PathBuf> = u.written.iter().cloned().collect();
    for depth in 2..=limits.max_depth.max(1) + 1 {
        let mut next = Vec::new();
        level.sort();
        for rel in level {
            let full = partial.join(&rel);
            let Ok(Some(inner)) = detect(&full) else {
                continue;
            };
            if depth > limits.max_depth {
                u.problem(
                    &rel.display().to_string(),
                    format!(
                        "skipped: an archive nested deeper than {} levels",
                        limits.max_depth
                    ),
                );
                continue;
            }
            let mut sub = rel.clone().into_os_string();
            sub.push(".d");
            let sub = PathBuf::from(sub);
            let before: HashSet<PathBuf> = u.written.clone();
            u.unpack(&full, inner, &sub);
            // The nested archive is replaced by what it held.
            let _ = std::fs::remove_file(&full);
            next.extend(u.written.difference(&before).cloned());
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    let mut report = u.report;
    let stored = StoredReport {
        limits: caps,
        entries: report.entries,
        files: report.files,
        bytes: report.bytes,
        problems: report.problems.clone(),
        error: report.error.clone(),
    };
    if let Ok(text) = serde_json::to_string(&stored) {
        let _ = std::fs::write(&report_path, text);
    }
    if let Err(e) = std::fs::rename(&partial, &dest) {
        report.error = Some(format!("cannot move the unpacked files into place: {e}"));
        report.unpacked_to = partial.display().to_string();
    }
    report
}

#[derive(Serialize, serde::Deserialize)]
struct StoredReport {
    #[serde(default)]
    limits: Vec<u64>,
    entries: u64,
    files: u64,
    bytes: u64,
    problems: Vec<BundleProblem>,
    error: Option<String>,
}

fn limit_list(l: &BundleLimits) -> Vec<u64> {
    vec![
        l.max_total_bytes,
        l.max_entry_bytes,
        l.max_ratio,
        l.max_entries,
        u64::from(l.max_depth),
    ]
}

/// A bundle manifest: Sightline's own or any with a `files` list of paths.
pub fn is_manifest(path: &Path) -> bool {
    if path.file_name().and_then(|n| n.to_str()) != Some("manifest.json") {
        return false;
    }
    let Ok(text) = read_small(path, 16 << 20) else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .is_some_and(|v| v.get("files").is_some_and(serde_json::Value::is_array))
}

fn read_small(path: &Path, cap: u64) -> io::Result<String> {
    let mut s = String::new();
    File::open(path)?.take(cap).read_to_string(&mut s)?;
    Ok(s)
}

/// Reads a manifest: a one-line summary, and the listed files that are missing or differ in
/// size or SHA-256 from what it says (a truncated or altered bundle).
pub fn check_manifest(manifest: &Path) -> (Option<String>, Vec<BundleProblem>) {
    let mut problems = Vec::new();
    let text = match read_small(manifest, 16 << 20) {
        Ok(t) => t,
        Err(e) => {
            problems.push(BundleProblem {
                entry: "manifest.json".into(),
                problem: format!("cannot read: {e}"),
            });
            return (None, problems);
        }
    };
    let v: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            problems.push(BundleProblem {
                entry: "manifest.json".into(),
                problem: format!("not JSON: {e}"),
            });
            return (None, problems);
        }
    };
    let root = manifest.parent().unwrap_or(Path::new("."));
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let mut parts = Vec::new();
    let generator = v
        .get("generator")
        .and_then(|g| {
            let name = s(g, "name")?;
            Some(match s(g, "version") {
                Some(ver) => format!("{name} {ver}"),
                None => name,
            })
        })
        .or_else(|| s(&v, "generator"));
    if let Some(g) = generator {
        parts.push(format!("made by {g}"));
    }
    if let Some(c) = s(&v, "created") {
        parts.push(format!("on {c}"));
    }
    if let Some(src) = s(&v, "source") {
        parts.push(format!("from {src}"));
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    if let Some(c) = v.get("counts").and_then(|c| c.as_object()) {
        for (k, x) in c {
            if let Some(n) = x.as_u64() {
                counts.insert(k.clone(), n);
            }
        }
    } else if let Some(n) = v.get("runs").and_then(serde_json::Value::as_u64) {
        counts.insert("runs".into(), n);
    }
    if !counts.is_empty() {
        let c: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        parts.push(c.join(", "));
    }
    let files = v.get("files").and_then(|f| f.as_array());
    if let Some(files) = files {
        parts.push(format!("{} file(s) listed", files.len()));
        for f in files {
            let Some(p) = s(f, "path") else { continue };
            let rel = match safe_entry_path(&p) {
                Ok(r) => r,
                Err(why) => {
                    problems.push(BundleProblem {
                        entry: p,
                        problem: format!("manifest.json lists it, but {why}"),
                    });
                    continue;
                }
            };
            let full = root.join(&rel);
            let meta = match std::fs::metadata(&full) {
                Ok(m) => m,
                Err(_) => {
                    problems.push(BundleProblem {
                        entry: p,
                        problem: "listed in manifest.json but not in the bundle".into(),
                    });
                    continue;
                }
            };
            if let Some(want) = f.get("bytes").and_then(serde_json::Value::as_u64)
                && want != meta.len()
            {
                problems.push(BundleProblem {
                    entry: p,
                    problem: format!(
                        "manifest.json says {want} bytes, the file has {} (truncated or altered)",
                        meta.len()
                    ),
                });
                continue;
            }
            if let Some(want) = s(f, "sha256") {
                let got = sha256_file(&full);
                match got {
                    Ok(got) if !got.eq_ignore_ascii_case(&want) => problems.push(BundleProblem {
                        entry: p,
                        problem: "its SHA-256 differs from manifest.json's (altered or corrupt)"
                            .into(),
                    }),
                    Ok(_) => {}
                    Err(e) => problems.push(BundleProblem {
                        entry: p,
                        problem: format!("cannot read: {e}"),
                    }),
                }
            }
        }
    }
    ((!parts.is_empty()).then(|| parts.join("; ")), problems)
}

/// A Prometheus rule file (YAML with `groups:`, or a Kubernetes `PrometheusRule`).
pub fn is_rule_file(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("yml" | "yaml")) {
        return false;
    }
    let Ok(text) = read_small(path, 16 << 20) else {
        return false;
    };
    let top_groups = text.lines().any(|l| {
        let t = l.trim_end();
        t == "groups:" || t.starts_with("groups: ")
    });
    top_groups || text.contains("kind: PrometheusRule")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_that_escape_are_refused() {
        assert!(safe_entry_path("../etc/passwd").is_err());
        assert!(safe_entry_path("logs/../../x").is_err());
        assert!(safe_entry_path("/etc/passwd").is_err());
        assert!(safe_entry_path("\\windows\\x").is_err());
        assert!(safe_entry_path("C:\\x").is_err());
        assert!(safe_entry_path("a\0b").is_err());
        assert!(safe_entry_path("./").is_err());
        assert_eq!(
            safe_entry_path("./logs//a.jsonl").unwrap(),
            PathBuf::from("logs/a.jsonl")
        );
        assert_eq!(
            safe_entry_path("logs\\b.jsonl").unwrap(),
            PathBuf::from("logs/b.jsonl")
        );
        assert_eq!(safe_entry_path("a..b/c").unwrap(), PathBuf::from("a..b/c"));
    }

    #[test]
    fn links_inside_and_outside() {
        assert!(link_stays_inside(Path::new("a/b"), "c"));
        assert!(link_stays_inside(Path::new("a/b"), "../c"));
        assert!(!link_stays_inside(Path::new("a/b"), "../../c"));
        assert!(!link_stays_inside(Path::new("b"), "/etc/passwd"));
    }

    #[test]
    fn folder_names() {
        assert_eq!(folder_name(Path::new("/x/failed-run.tar.gz")), "failed-run");
        assert_eq!(folder_name(Path::new("/x/Run 12.ZIP")), "Run_12");
        assert_eq!(folder_name(Path::new("/x/..zip")), "bundle");
    }
}
