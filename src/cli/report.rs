//! `sightline report`: a self-contained HTML report of a time range or one run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use sightline::charts::render::Theme;
use sightline::charts::report::{ReportRequest, html};
use sightline::store::Store;
use sightline::store::queries::spans::find_run;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Write the report here (HTML)
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// One run: its trace id or a unique prefix
    #[arg(long, value_name = "ID", conflicts_with_all = ["since", "until"])]
    run: Option<String>,
    /// Runs and calls that started from this time: RFC 3339, or a span back from now (15m,
    /// 2h, 7d); default: everything
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Up to this time (exclusive)
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// light or dark
    #[arg(long, default_value = "light")]
    theme: String,
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let theme = Theme::parse(&self.theme)
            .ok_or_else(|| anyhow::anyhow!("--theme {:?}: use light or dark", self.theme))?;
        let (since_ns, until_ns) = super::time_range(self.since.as_deref(), self.until.as_deref())?;
        let store = Store::open_read_only(db)
            .with_context(|| format!("opening workspace {}", db.display()))?;
        let conn = store.reader()?;
        let run = match &self.run {
            Some(id) => Some(find_run(&conn, id)?),
            None => None,
        };
        let req = ReportRequest {
            workspace: db
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "workspace".into()),
            since_ns,
            until_ns,
            run,
            theme,
        };
        let text = html(&conn, &req)?;
        sightline::charts::save(&self.output, text.as_bytes())?;
        eprintln!("wrote {} ({} KB)", self.output.display(), text.len() / 1024);
        Ok(ExitCode::SUCCESS)
    }
}
