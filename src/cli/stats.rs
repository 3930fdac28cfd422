//! `sightline stats`: what the workspace holds.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use sightline::store::Store;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Print as one JSON object
    #[arg(long)]
    json: bool,
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let store = Store::open_read_only(db)
            .with_context(|| format!("opening workspace {}", db.display()))?;
        let s = sightline::store::queries::stats::stats(&store.reader()?)?;
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer(&mut out, &s)?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        writeln!(out, "workspace: {}", db.display())?;
        writeln!(out, "records: {} from {} source(s)", s.records, s.sources)?;
        if let (Some(a), Some(b)) = (&s.first, &s.last) {
            writeln!(out, "time range: {a} .. {b}")?;
        }
        writeln!(out, "by level:")?;
        for (k, v) in &s.by_level {
            writeln!(out, "  {k:<6} {v}")?;
        }
        writeln!(out, "by format:")?;
        for (k, v) in &s.by_format {
            writeln!(out, "  {k:<20} {v}")?;
        }
        writeln!(out, "by source:")?;
        for (k, v) in &s.by_source {
            writeln!(out, "  {v:>10}  {k}")?;
        }
        writeln!(out, "skipped lines: {}", s.skipped)?;
        for (k, v) in &s.skipped_by_reason {
            writeln!(out, "  {k:<22} {v}")?;
        }
        Ok(ExitCode::SUCCESS)
    }
}
