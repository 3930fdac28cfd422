//! `sightline ingest PATH...`

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sightline::ingest::{FileStatus, IngestOptions, IngestReport};
use sightline::store::Store;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Files, .gz files or folders (read recursively)
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
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
        let store = Store::open(db)?;
        let opts = IngestOptions {
            max_line_bytes: self.max_line_bytes,
            batch_records: self.batch_records.max(1),
            ..IngestOptions::default()
        };
        let report = sightline::ingest::ingest(&store, &self.paths, &opts);
        store.close();
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer(&mut out, &report)?;
            writeln!(out)?;
        } else {
            print_human(&mut out, &report)?;
        }
        for e in &report.errors {
            if e.path.is_empty() {
                eprintln!("sightline: {}", e.error);
            } else {
                eprintln!("sightline: {}: {}", e.path, e.error);
            }
        }
        Ok(if report.has_errors() {
            ExitCode::from(super::EXIT_INPUT)
        } else {
            ExitCode::SUCCESS
        })
    }
}

const SHOW_SKIPPED: usize = 20;

fn print_human(out: &mut impl Write, r: &IngestReport) -> std::io::Result<()> {
    for f in &r.files {
        let status = match f.status {
            FileStatus::Ingested => "",
            FileStatus::Unchanged => " (unchanged, already ingested)",
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
        if f.status == FileStatus::NotJson {
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
