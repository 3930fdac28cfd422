//! `sightline cost`: cost and tokens per model, provider, tool, agent, run or hour/day; the
//! calls no price covers; `--recompute` reprices history after the price file changed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use sightline::pricing::{load_for_workspace, workspace_prices_path};
use sightline::store::Store;
use sightline::store::queries::cost::{CostBy, CostQuery, cost, unpriced};
use sightline::store::reprice::recompute;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Group by: model, provider, tool, agent, trigger (the tool or sub-agent whose result an
    /// LLM call went on from; "(input)" for an agent's first call, "(llm)" for a call chained
    /// on the previous one), run, hour or day
    #[arg(long, default_value = "model", value_name = "WHAT")]
    by: String,
    /// Calls that started from this time: RFC 3339, or a span back from now (15m, 2h, 7d)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Up to this time (exclusive)
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Reprice every computed cost with the current price file (the workspace's
    /// `<name>.prices.toml` over the built-in prices) and show what changed
    #[arg(long)]
    recompute: bool,
    /// With --recompute: this price file instead of the workspace's
    #[arg(long, value_name = "FILE", requires = "recompute")]
    prices: Option<PathBuf>,
    /// One JSON object
    #[arg(long)]
    json: bool,
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        if self.recompute {
            return self.recompute(db);
        }
        let by = CostBy::parse(&self.by).ok_or_else(|| {
            anyhow::anyhow!(
                "--by {:?}: use model, provider, tool, agent, trigger, run, hour or day",
                self.by
            )
        })?;
        let (since_ns, until_ns) = super::time_range(self.since.as_deref(), self.until.as_deref())?;
        let q = CostQuery {
            by,
            since_ns,
            until_ns,
            trace_ref: None,
        };
        let store = Store::open_read_only(db)
            .with_context(|| format!("opening workspace {}", db.display()))?;
        let conn = store.reader()?;
        let rows = cost(&conn, &q)?;
        let missing = unpriced(&conn, &q)?;
        // A broken price file is not fatal here (the costs were computed at ingest), but the
        // user must know that the built-in prices were used instead.
        let price_error = load_for_workspace(db, None).err();
        let total: f64 = rows.iter().map(|r| r.cost_usd).sum();
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer(
                &mut out,
                &serde_json::json!({
                    "by": self.by,
                    "total_usd": total,
                    "rows": rows,
                    "unpriced": missing,
                    "price_file": workspace_prices_path(db),
                    "price_file_error": price_error.map(|e| e.to_string()),
                }),
            )?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(e) = price_error {
            eprintln!("sightline: warning: {e}; spans are costed with the built-in prices");
        }
        if rows.is_empty() {
            writeln!(out, "no LLM or tool calls in that range")?;
            return Ok(ExitCode::SUCCESS);
        }
        let width = rows.iter().map(|r| r.key.len()).max().unwrap_or(0).max(10);
        writeln!(
            out,
            "{:<width$} {:>7} {:>6} {:>12} {:>12} {:>12}",
            self.by.to_uppercase(),
            "CALLS",
            "ERRORS",
            "INPUT TOK",
            "OUTPUT TOK",
            "COST USD"
        )?;
        for r in &rows {
            writeln!(
                out,
                "{:<width$} {:>7} {:>6} {:>12} {:>12} {:>12.6}{}",
                r.key,
                r.calls,
                r.errors,
                r.input_tokens,
                r.output_tokens,
                r.cost_usd,
                r.name
                    .as_deref()
                    .map(|n| format!("  {n}"))
                    .unwrap_or_default()
            )?;
        }
        writeln!(out, "{:<width$} {:>53.6}", "TOTAL", total)?;
        for m in &missing {
            writeln!(
                out,
                "{} call{} to `{}` ha{} no price: add it to {}",
                m.calls,
                if m.calls == 1 { "" } else { "s" },
                m.model,
                if m.calls == 1 { "s" } else { "ve" },
                workspace_prices_path(db).display()
            )?;
        }
        Ok(ExitCode::SUCCESS)
    }

    fn recompute(&self, db: &Path) -> anyhow::Result<ExitCode> {
        let table = load_for_workspace(db, self.prices.as_deref())?;
        let (store, writer) = super::open_writable(db)?;
        let (tx, rx) = std::sync::mpsc::channel();
        writer.exec(move |c| {
            let _ = tx.send(recompute(c, &table));
            Ok(())
        })?;
        let report = rx.recv().context("the writer stopped")??;
        drop(writer);
        store.close();
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer(&mut out, &report)?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        writeln!(
            out,
            "repriced {} call(s), {} changed: total {:.6} USD -> {:.6} USD ({:+.6})",
            report.spans,
            report.changed,
            report.before_usd,
            report.after_usd,
            report.after_usd - report.before_usd
        )?;
        for m in &report.by_model {
            writeln!(
                out,
                "  {:<30} {:>6} call(s) {:>12.6} -> {:>12.6} USD",
                m.model, m.calls, m.before_usd, m.after_usd
            )?;
        }
        Ok(ExitCode::SUCCESS)
    }
}
