//! `sightline demo -o DIR`: writes the demo agent session's log files.
//! `sightline demo --live`: plays an agent session in real time and watches it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use sightline::demo::live::{LiveDemo, LiveDemoConfig};

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Folder to write the demo files into (created if needed) [--live: default a folder
    /// in the temporary directory]
    #[arg(
        short = 'o',
        long = "output",
        value_name = "DIR",
        required_unless_present = "live"
    )]
    out: Option<PathBuf>,
    /// Also ingest them into the workspace
    #[arg(long, conflicts_with = "live")]
    ingest: bool,
    /// Play an agent session in real time through a log file, a /metrics endpoint and OTLP,
    /// into a fresh workspace in DIR, with the built-in alert rules and desktop notifications
    #[arg(long)]
    live: bool,
    /// When the live session's incident starts
    #[arg(
        long,
        default_value = "20s",
        value_name = "DURATION",
        requires = "live"
    )]
    incident_at: String,
    /// How long the incident lasts
    #[arg(
        long,
        default_value = "30s",
        value_name = "DURATION",
        requires = "live"
    )]
    incident_for: String,
    /// Stop the live session after this long [default: run until killed]
    #[arg(long, value_name = "DURATION", requires = "live")]
    duration: Option<String>,
    /// No desktop notifications
    #[arg(long, requires = "live")]
    no_desktop: bool,
    /// One JSON object per alert event instead of text
    #[arg(long, requires = "live")]
    json: bool,
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        if self.live {
            return self.run_live();
        }
        let out = self.out.clone().unwrap_or_else(|| PathBuf::from("."));
        let files = sightline::demo::write_demo(&out)?;
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

    fn run_live(self) -> anyhow::Result<ExitCode> {
        let dir = self
            .out
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("sightline-live-demo"));
        let ms = |flag: &str, v: &str| -> anyhow::Result<Duration> {
            sightline::promql::parse_duration_ms(v)
                .map(|ms| Duration::from_millis(ms.max(0) as u64))
                .ok_or_else(|| anyhow::anyhow!("{flag} {v:?}: not a duration like 20s"))
        };
        let mut cfg = LiveDemoConfig::new(dir.join("agent-runtime.log"));
        cfg.incident_at = ms("--incident-at", &self.incident_at)?;
        cfg.incident_for = ms("--incident-for", &self.incident_for)?;
        // A fresh session: the last one's log and workspace are replaced.
        let db = dir.join("live-demo.db");
        sightline::demo::live::reset(&dir, &db)?;
        let demo = LiveDemo::start(cfg)?;
        eprintln!(
            "live demo: appending to {}, serving {}, workspace {}\n\
             an incident starts after {} (open the workspace in another terminal: \
             sightline --db {} runs)",
            demo.log_path().display(),
            demo.metrics_url(),
            db.display(),
            self.incident_at,
            db.display()
        );
        let watch = super::watch::Cmd::for_live_demo(
            demo.log_path().to_owned(),
            demo.metrics_url().to_owned(),
            self.duration.clone(),
            self.no_desktop,
            self.json,
        );
        let code = watch.run_with(&db, |addr| {
            if let Some(a) = addr {
                demo.set_otlp_url(&format!("http://{a}"));
            }
        })?;
        let s = demo.stats();
        demo.stop();
        eprintln!(
            "live demo: {} run(s) started, {} ended, {} log line(s), {} span(s) sent",
            s.runs_started, s.runs_ended, s.log_lines, s.spans_sent
        );
        Ok(code)
    }
}
