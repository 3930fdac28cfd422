//! `sightline compact`: downsample and expire old metric samples now.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use sightline::metrics::retention::{Retention, compact};
use sightline::promql::parse_duration_ms;
use sightline::store::Store;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Keep samples at full resolution this long (before the newest sample)
    #[arg(long, default_value = "2h")]
    raw: String,
    /// Then one per minute until this age; one per 5 minutes after
    #[arg(long, default_value = "2d")]
    minute: String,
    /// Delete samples older than this
    #[arg(long, default_value = "15d")]
    keep: String,
}

fn dur(what: &str, v: &str) -> anyhow::Result<i64> {
    parse_duration_ms(v).ok_or_else(|| anyhow::anyhow!("invalid --{what} {v:?} (like 2h, 2d)"))
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let r = Retention {
            raw_ms: dur("raw", &self.raw)?,
            minute_ms: dur("minute", &self.minute)?,
            keep_ms: dur("keep", &self.keep)?,
        };
        anyhow::ensure!(
            r.raw_ms <= r.minute_ms && r.minute_ms <= r.keep_ms,
            "expected --raw <= --minute <= --keep"
        );
        let store =
            Store::open(db).with_context(|| format!("opening workspace {}", db.display()))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        store
            .writer()
            .context("the workspace is read-only")?
            .exec(move |conn| {
                let rep = compact(conn, &r)?;
                let _ = tx.send(rep);
                Ok(())
            })?;
        let rep = rx.recv()?;
        store.close();
        writeln!(
            std::io::stdout(),
            "{} sample(s) thinned, {} expired",
            rep.thinned,
            rep.expired
        )?;
        Ok(ExitCode::SUCCESS)
    }
}
