//! `sightline export -o FILE.zip [--run ID...] [--since ..] [--until ..] [--redact]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sightline::export::{ExportRequest, export};
use sightline::redact::Redactor;
use sightline::store::Store;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The bundle to write (.zip)
    #[arg(short = 'o', long = "output", value_name = "FILE.zip")]
    out: PathBuf,
    /// Only these runs: trace id or a unique prefix (repeatable)
    #[arg(long = "run", value_name = "ID")]
    runs: Vec<String>,
    /// From this time: RFC 3339, or back from now (15m, 2h, 7d)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Up to this time
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Mask secrets (API keys, tokens, passwords in URLs, e-mail addresses, private keys and
    /// the fields named by --redact-field) in logs, span attributes and messages
    #[arg(long)]
    redact: bool,
    /// Also mask the whole value of fields with this name (repeatable; with --redact)
    #[arg(long = "redact-field", value_name = "NAME", requires = "redact")]
    redact_fields: Vec<String>,
    /// Print the report as one JSON object
    #[arg(long)]
    json: bool,
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        if !self.runs.is_empty() && (self.since.is_some() || self.until.is_some()) {
            anyhow::bail!(
                "--run and --since/--until do not go together: a run brings its own time range"
            );
        }
        let (since_ns, until_ns) = super::time_range(self.since.as_deref(), self.until.as_deref())?;
        let store = Store::open_read_only(db)?;
        let req = ExportRequest {
            runs: self.runs,
            since_ns,
            until_ns,
            redact: self.redact.then(|| Redactor::new(&self.redact_fields)),
        };
        let rep = export(&store, &self.out, &req)?;
        if self.json {
            println!("{}", serde_json::to_string(&rep)?);
        } else {
            println!(
                "{}: {} run(s), {} span(s), {} log record(s), {} sample(s) in {} series, {} rule group(s), {} alert(s); {} bytes",
                rep.path,
                rep.runs,
                rep.spans,
                rep.log_records,
                rep.samples,
                rep.series,
                rep.rule_groups,
                rep.alerts,
                rep.bytes
            );
            if self.redact {
                let total: f64 = rep.redacted.values().sum();
                let kinds: Vec<String> = rep
                    .redacted
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                println!(
                    "redacted: {total} secret(s){}",
                    if kinds.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", kinds.join(", "))
                    }
                );
            }
            for n in &rep.notes {
                println!("note: {n}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
