//! `sightline demo -o DIR`: writes the demo agent session's log files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Folder to write the demo files into (created if needed)
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    out: PathBuf,
    /// Also ingest them into the workspace
    #[arg(long)]
    ingest: bool,
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let files = sightline::demo::write_demo(&self.out)?;
        for f in &files {
            println!("{}", f.display());
        }
        if self.ingest {
            let store = sightline::store::Store::open(db)?;
            let r = sightline::ingest::ingest(
                &store,
                &files,
                &sightline::ingest::IngestOptions::default(),
            );
            store.close();
            println!(
                "{} record(s) added to {}, {} line(s) skipped",
                r.records_added,
                db.display(),
                r.skipped
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
