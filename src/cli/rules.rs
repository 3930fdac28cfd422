//! `sightline rules check FILE...` and `sightline rules test FILE...`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use sightline::alerts::rules::load_rule_file;
use sightline::alerts::unittest::run_test_file;

#[derive(Debug, Args)]
pub struct Cmd {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Check rule files: YAML, PromQL, templates (like `promtool check rules`)
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Run rule unit tests written for `promtool test rules`
    Test {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Print the reports as JSON
        #[arg(long)]
        json: bool,
    },
}

impl Cmd {
    pub fn run(self, _db: &Path) -> anyhow::Result<ExitCode> {
        let mut out = std::io::stdout().lock();
        match self.action {
            Action::Check { files } => {
                let mut ok = true;
                for f in files {
                    match load_rule_file(&f) {
                        Ok(groups) => {
                            let n: usize = groups.iter().map(|g| g.rules.len()).sum();
                            writeln!(out, "Checking {}\n  SUCCESS: {n} rules found", f.display())?;
                            for w in groups.iter().flat_map(|g| g.warnings()) {
                                writeln!(
                                    out,
                                    "  warning: {w} (the annotation will read as an error)"
                                )?;
                            }
                        }
                        Err(e) => {
                            ok = false;
                            writeln!(out, "Checking {}\n  FAILED:\n{e}", f.display())?;
                        }
                    }
                }
                Ok(if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            }
            Action::Test { files, json } => {
                let reports: Vec<_> = files.iter().map(|f| run_test_file(f)).collect();
                let ok = reports.iter().all(|r| r.passed());
                if json {
                    serde_json::to_writer_pretty(&mut out, &reports)?;
                    writeln!(out)?;
                } else {
                    for r in &reports {
                        writeln!(out, "Unit Testing:  {}", r.file.display())?;
                        if let Some(e) = &r.error {
                            writeln!(out, "  FAILED:\n    {e}")?;
                            continue;
                        }
                        if r.passed() {
                            writeln!(out, "  SUCCESS")?;
                            continue;
                        }
                        writeln!(out, "  FAILED:")?;
                        for g in r.groups.iter().filter(|g| !g.failures.is_empty()) {
                            writeln!(out, "  {}:", g.name)?;
                            for f in &g.failures {
                                writeln!(out, "{f}")?;
                            }
                        }
                    }
                }
                Ok(if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            }
        }
    }
}
