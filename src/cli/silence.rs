//! `sightline silence`: add, list and expire silences (a running `watch` or app picks them up
//! at its next look at the alerts).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use sightline::alerts::runner::{add_silence, expire_silence};
use sightline::model::format_rfc3339_nanos;
use sightline::promql::parse_duration_ms;
use sightline::store::Store;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Silence alerts matching label matchers, e.g. 'alertname="ToolFailingRepeatedly", tool="search"'
    Add {
        /// Label matchers (=, !=, =~, !~), with or without braces
        #[arg(value_name = "MATCHERS")]
        matchers: String,
        /// How long
        #[arg(long = "for", default_value = "1h", value_name = "DURATION")]
        duration: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// List silences (expired ones too with --all)
    List {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// End a silence now (by id or a unique prefix of it)
    Expire {
        #[arg(value_name = "ID")]
        id: String,
    },
}

fn ts(ms: f64) -> String {
    format_rfc3339_nanos(ms as i64 * 1_000_000)
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let store =
            Store::open(db).with_context(|| format!("opening workspace {}", db.display()))?;
        let now = sightline::model::now_ms();
        let mut out = std::io::stdout().lock();
        match self.action {
            Action::Add {
                matchers,
                duration,
                comment,
            } => {
                let d = parse_duration_ms(&duration)
                    .filter(|d| *d > 0)
                    .ok_or_else(|| anyhow::anyhow!("--for {duration:?}: not a duration like 1h"))?;
                let writer = store.writer().context("the workspace is read-only")?;
                let user = std::env::var("USER").unwrap_or_default();
                let id = add_silence(writer, &matchers, now, now + d, &comment, &user)?;
                writeln!(out, "{id}")?;
                eprintln!("silenced {matchers} until {}", ts((now + d) as f64));
            }
            Action::List { all, json } => {
                let conn = store.reader()?;
                let o = sightline::alerts::status::overview(&conn, 0, now)?;
                let list: Vec<_> = o
                    .silences
                    .into_iter()
                    .filter(|s| all || s.state != "expired")
                    .collect();
                if json {
                    serde_json::to_writer_pretty(&mut out, &list)?;
                    writeln!(out)?;
                } else if list.is_empty() {
                    writeln!(out, "no silences")?;
                } else {
                    for s in &list {
                        writeln!(
                            out,
                            "{} {:<7} {} from {} until {} {}",
                            s.id,
                            s.state,
                            s.matchers,
                            ts(s.starts_at_ms),
                            ts(s.ends_at_ms),
                            s.comment
                        )?;
                    }
                }
            }
            Action::Expire { id } => {
                let writer = store.writer().context("the workspace is read-only")?;
                if !expire_silence(writer, &id)? {
                    eprintln!("sightline: no silence with id {id:?}");
                    store.close();
                    return Ok(ExitCode::from(super::EXIT_INPUT));
                }
                writeln!(out, "expired {id}")?;
            }
        }
        store.close();
        Ok(ExitCode::SUCCESS)
    }
}
