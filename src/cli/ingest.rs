//! `sightline ingest PATH...`

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sightline::ingest::bundle::BundleLimits;
use sightline::ingest::{FileStatus, IngestOptions, IngestReport};
use sightline::store::Store;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Files, .gz files, folders (read recursively) and bundles (.zip, .tar, .tar.gz)
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Keep reading the paths as they grow (rotation and truncation handled; a folder picks
    /// up new files) until interrupted or --duration ends
    #[arg(long)]
    follow: bool,
    /// With --follow: how often to look for new lines
    #[arg(
        long,
        default_value = "200ms",
        value_name = "DURATION",
        requires = "follow"
    )]
    poll: String,
    /// With --follow: stop after this long [default: until Ctrl+C]
    #[arg(long, value_name = "DURATION", requires = "follow")]
    duration: Option<String>,
    /// Open bundles into a new workspace named after the (first) bundle, beside the
    /// workspace given by --db, instead of into that workspace
    #[arg(long)]
    new_workspace: bool,
    /// Most bytes one bundle may unpack to
    #[arg(long, value_name = "BYTES", default_value_t = BundleLimits::default().max_total_bytes)]
    max_bundle_bytes: u64,
    /// Most bytes one entry of a bundle may unpack to
    #[arg(long, value_name = "BYTES", default_value_t = BundleLimits::default().max_entry_bytes)]
    max_entry_bytes: u64,
    /// Highest compression ratio accepted (a decompression bomb is refused)
    #[arg(long, value_name = "N", default_value_t = BundleLimits::default().max_ratio)]
    max_ratio: u64,
    /// Most entries one bundle may hold
    #[arg(long, value_name = "N", default_value_t = BundleLimits::default().max_entries)]
    max_entries: u64,
    /// How deep archives inside a bundle are opened
    #[arg(long, value_name = "N", default_value_t = BundleLimits::default().max_depth)]
    max_depth: u32,
    /// Print the report as one JSON object
    #[arg(long)]
    json: bool,
    /// Longest line accepted, in bytes (longer lines are skipped and reported)
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    max_line_bytes: usize,
    /// Records per transaction (smaller commits more often)
    #[arg(long, default_value_t = 16_384, value_name = "N", hide = true)]
    batch_records: usize,
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let db = if self.new_workspace {
            let Some(b) = self.paths.first() else {
                anyhow::bail!("--new-workspace: no bundle given");
            };
            let name = sightline::ingest::bundle::workspace_name(b);
            let dir = db.parent().unwrap_or(Path::new("."));
            let new = dir.join(format!("{name}.db"));
            eprintln!("workspace: {}", new.display());
            new
        } else {
            db.to_owned()
        };
        let store = Store::open(&db)?;
        let opts = IngestOptions {
            max_line_bytes: self.max_line_bytes,
            batch_records: self.batch_records.max(1),
            bundle_limits: BundleLimits {
                max_total_bytes: self.max_bundle_bytes,
                max_entry_bytes: self.max_entry_bytes,
                max_ratio: self.max_ratio.max(1),
                max_entries: self.max_entries,
                max_depth: self.max_depth.max(1),
            },
            ..IngestOptions::default()
        };
        if self.follow {
            return self.follow(store, opts);
        }
        let report = sightline::ingest::ingest(&store, &self.paths, &opts);
        store.close();
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer(&mut out, &report)?;
            writeln!(out)?;
        } else {
            print_human(&mut out, &report)?;
        }
        print_errors(&report);
        Ok(if report.has_errors() {
            ExitCode::from(super::EXIT_INPUT)
        } else {
            ExitCode::SUCCESS
        })
    }
}

fn print_errors(report: &IngestReport) {
    for e in &report.errors {
        if e.path.is_empty() {
            eprintln!("sightline: {}", e.error);
        } else {
            eprintln!("sightline: {}: {}", e.path, e.error);
        }
    }
}

impl Cmd {
    /// `--follow`: a pass every `--poll`; each pass that added something prints a line
    /// (or its JSON report), errors are printed once each.
    fn follow(self, store: Store, opts: IngestOptions) -> anyhow::Result<ExitCode> {
        let every = super::duration_arg("--poll", &self.poll)?;
        let stop = Arc::new(AtomicBool::new(false));
        if let Some(d) = &self.duration {
            let d = super::duration_arg("--duration", d)?;
            let stop = stop.clone();
            std::thread::spawn(move || {
                std::thread::sleep(d);
                stop.store(true, Ordering::Relaxed);
            });
        }
        eprintln!(
            "following {} path(s) into {}{}",
            self.paths.len(),
            store.path().display(),
            if self.duration.is_none() {
                "; Ctrl+C stops"
            } else {
                ""
            }
        );
        let mut seen_errors = std::collections::HashSet::new();
        let json = self.json;
        sightline::ingest::tail::follow(&store, self.paths, opts, every, &stop, |r| {
            let mut out = std::io::stdout().lock();
            if r.records_added + r.spans_added + r.samples_added + r.skipped > 0 {
                if json {
                    let _ = serde_json::to_writer(&mut out, r);
                    let _ = writeln!(out);
                } else {
                    let _ = writeln!(
                        out,
                        "{} record(s), {} span(s), {} sample(s) added, {} line(s) skipped",
                        r.records_added, r.spans_added, r.samples_added, r.skipped
                    );
                }
                let _ = out.flush();
            }
            for e in &r.errors {
                let line = format!("{}: {}", e.path, e.error);
                if seen_errors.insert(line.clone()) {
                    eprintln!("sightline: {line}");
                }
            }
        });
        store.close();
        Ok(ExitCode::SUCCESS)
    }
}

const SHOW_SKIPPED: usize = 20;

fn print_human(out: &mut impl Write, r: &IngestReport) -> std::io::Result<()> {
    for b in &r.bundles {
        let again = if b.already_unpacked && b.format != "folder" {
            " (unpacked before)"
        } else {
            ""
        };
        writeln!(out, "bundle {} ({}){again}", b.path, b.format)?;
        if let Some(m) = &b.manifest {
            writeln!(out, "  manifest: {m}")?;
        }
        if b.format != "folder" {
            writeln!(
                out,
                "  {} entries, {} file(s) unpacked ({} bytes) to {}",
                b.entries, b.files, b.bytes, b.unpacked_to
            )?;
        }
        for p in &b.problems {
            writeln!(out, "  {}: {}", p.entry, p.problem)?;
        }
        if let Some(e) = &b.error {
            writeln!(out, "  stopped: {e}")?;
        }
    }
    for rf in &r.rule_files {
        match &rf.error {
            Some(e) => writeln!(out, "rules {}: not loaded: {e}", rf.path)?,
            None => writeln!(
                out,
                "rules {}: {} rule(s); {} group(s) added, {} already present",
                rf.path, rf.rules, rf.groups_added, rf.groups_present
            )?,
        }
    }
    for f in &r.files {
        let status = match f.status {
            FileStatus::Ingested => "",
            FileStatus::Unchanged => " (unchanged, already ingested)",
            FileStatus::Empty => " (empty: no complete line yet)",
            FileStatus::NotJson => " (no JSON, ignored)",
            FileStatus::Error => " (error)",
            FileStatus::Cancelled => " (cancelled)",
        };
        writeln!(out, "{}{status}", f.path)?;
        if let Some(fmt) = &f.format {
            let mut line = format!("  format: {fmt}");
            if f.formats.len() > 1 {
                let parts: Vec<String> =
                    f.formats.iter().map(|(k, v)| format!("{k} {v}")).collect();
                line.push_str(&format!(" ({})", parts.join(", ")));
            }
            writeln!(out, "{line}")?;
        }
        if f.status == FileStatus::Ingested || f.status == FileStatus::Cancelled {
            let resumed = f
                .resumed_from_line
                .map(|l| format!(", resumed at line {l}"))
                .unwrap_or_default();
            let spans = if f.spans_added > 0 {
                format!(", spans: {}", f.spans_added)
            } else {
                String::new()
            };
            if f.samples_added > 0
                || f.records_added == 0
                    && f.spans_added == 0
                    && f.format
                        .as_deref()
                        .is_some_and(|x| x == "openmetrics" || x == "prometheus-text")
            {
                writeln!(
                    out,
                    "  samples added: {}, lines skipped: {}",
                    f.samples_added, f.skipped
                )?;
            } else {
                writeln!(
                    out,
                    "  records added: {}{spans}, lines skipped: {}{resumed}",
                    f.records_added, f.skipped
                )?;
            }
        }
        if matches!(f.status, FileStatus::NotJson | FileStatus::Empty) {
            continue;
        }
        for s in f.skipped_lines.iter().take(SHOW_SKIPPED) {
            let detail = if s.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", s.detail)
            };
            writeln!(out, "    line {}: {}{detail}", s.line, s.reason.as_str())?;
        }
        let listed = f.skipped_lines.len().min(SHOW_SKIPPED) as u64;
        if f.skipped > listed {
            let by: Vec<String> = f
                .skipped_by_reason
                .iter()
                .map(|(k, v)| format!("{} {v}", k.as_str()))
                .collect();
            writeln!(
                out,
                "    ... {} more skipped ({}); --json lists them",
                f.skipped - listed,
                by.join(", ")
            )?;
        }
        if let Some(e) = &f.error {
            writeln!(out, "  error: {e}")?;
        }
    }
    let samples = if r.samples_added > 0 {
        format!(", {} sample(s)", r.samples_added)
    } else {
        String::new()
    };
    writeln!(
        out,
        "{} file(s), {} record(s){samples} and {} span(s) added, {} line(s) skipped",
        r.files.len(),
        r.records_added,
        r.spans_added,
        r.skipped
    )
}
