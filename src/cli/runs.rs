//! `sightline runs`: agent runs (one per trace) with filters, and `sightline run ID`: one run
//! with all its spans.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use sightline::model::{SpanKind, SpanStatus, format_rfc3339_nanos};
use sightline::store::Store;
use sightline::store::queries::spans::{RunQuery, RunSort, count_runs, list_runs};
use sightline::time_arg::parse_duration_ns;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum StatusArg {
    Ok,
    Error,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SortArg {
    Start,
    Duration,
    Cost,
    Tokens,
    Errors,
    Status,
    Spans,
}

#[derive(Debug, clap::Args)]
pub struct RunsCmd {
    /// Only runs that succeeded (ok) or failed (error)
    #[arg(long, value_enum)]
    status: Option<StatusArg>,
    /// Only runs lasting at least this long (500ms, 5s, 2m)
    #[arg(long, value_name = "DURATION")]
    min_duration: Option<String>,
    /// Only runs costing at least this many USD
    #[arg(long, value_name = "USD")]
    min_cost: Option<f64>,
    /// Only runs with an LLM call to this model
    #[arg(long)]
    model: Option<String>,
    /// Only runs that called this tool
    #[arg(long)]
    tool: Option<String>,
    /// Only runs whose name, trace id or a span name contains these words
    #[arg(long)]
    text: Option<String>,
    /// Sort key
    #[arg(long, value_enum, default_value = "start")]
    sort: SortArg,
    /// Largest first
    #[arg(long)]
    desc: bool,
    /// At most this many runs
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Print JSON: {"total": N, "runs": [...]}
    #[arg(long)]
    json: bool,
}

fn secs(ns: i64) -> String {
    format!("{:.3}s", ns as f64 / 1e9)
}

impl RunsCmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let min_duration_ns = match &self.min_duration {
            Some(d) => Some(parse_duration_ns(d.trim()).ok_or_else(|| {
                sightline::Error::InvalidArgument {
                    what: "--min-duration",
                    value: d.clone(),
                    why: "expected a number with a unit: 500ms, 5s, 2m, 1h".into(),
                }
            })?),
            None => None,
        };
        let q = RunQuery {
            status: self.status.map(|s| match s {
                StatusArg::Ok => SpanStatus::Ok,
                StatusArg::Error => SpanStatus::Error,
            }),
            min_duration_ns,
            min_cost: self.min_cost,
            model: self.model,
            tool: self.tool,
            text: self.text,
            trace_id: None,
            sort: match self.sort {
                SortArg::Start => RunSort::Start,
                SortArg::Duration => RunSort::Duration,
                SortArg::Cost => RunSort::Cost,
                SortArg::Tokens => RunSort::Tokens,
                SortArg::Errors => RunSort::Errors,
                SortArg::Status => RunSort::Status,
                SortArg::Spans => RunSort::Spans,
            },
            descending: self.desc,
            limit: Some(self.limit),
            offset: None,
        };
        let store = Store::open_read_only(db)
            .with_context(|| format!("opening workspace {}", db.display()))?;
        let conn = store.reader()?;
        let rows = list_runs(&conn, &q)?;
        let total = count_runs(&conn, &q)?;
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer(&mut out, &serde_json::json!({"total": total, "runs": rows}))?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        writeln!(
            out,
            "{:<32}  {:<24}  {:<6}  {:>10}  {:>5}  {:>4}  {:>4}  {:>4}  {:>9}  {:>10}  name",
            "trace id",
            "start",
            "status",
            "duration",
            "spans",
            "llm",
            "tool",
            "err",
            "tokens",
            "cost $"
        )?;
        for r in &rows {
            writeln!(
                out,
                "{:<32}  {:<24}  {:<6}  {:>10}  {:>5}  {:>4}  {:>4}  {:>4}  {:>9}  {:>10.6}  {}",
                r.trace_id,
                &format_rfc3339_nanos(r.start_ns)[..23],
                if r.status == SpanStatus::Error {
                    "error"
                } else {
                    "ok"
                },
                secs(r.duration_ns),
                r.spans,
                r.llm_calls,
                r.tool_calls,
                r.errors,
                r.input_tokens + r.output_tokens,
                r.cost,
                r.name
            )?;
        }
        writeln!(out, "{} of {} run(s)", rows.len(), total)?;
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(Debug, clap::Args)]
pub struct RunCmd {
    /// The run's trace id, or a unique prefix of it (4 hex digits or more)
    id: String,
    /// Print JSON: the run, its spans in tree order with their attributes
    #[arg(long, conflicts_with = "tree")]
    json: bool,
    /// Print the span tree, indented
    #[arg(long)]
    tree: bool,
}

impl RunCmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let store = Store::open_read_only(db)
            .with_context(|| format!("opening workspace {}", db.display()))?;
        let (view, attrs) = sightline::traces::load_run(&store, &self.id, self.json)?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        if self.json {
            let mut v = serde_json::to_value(&view)?;
            if let Some(spans) = v.get_mut("spans").and_then(serde_json::Value::as_array_mut) {
                for (s, a) in spans.iter_mut().zip(attrs) {
                    if let Some(o) = s.as_object_mut() {
                        o.insert(
                            "attrs".into(),
                            serde_json::from_str(&a).unwrap_or(serde_json::Value::Null),
                        );
                    }
                }
            }
            serde_json::to_writer(&mut out, &v)?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        let r = &view.run;
        writeln!(out, "run {}  {}", r.trace_id, r.name)?;
        writeln!(
            out,
            "status {}  start {}  duration {}  critical path {}",
            if r.status == SpanStatus::Error {
                "error"
            } else {
                "ok"
            },
            format_rfc3339_nanos(r.start_ns),
            secs(r.duration_ns),
            secs(view.critical_path_ns)
        )?;
        writeln!(
            out,
            "spans {}  llm calls {}  tool calls {}  errors {}  tokens {} in / {} out  cost ${:.6}{}",
            r.spans,
            r.llm_calls,
            r.tool_calls,
            r.errors,
            r.input_tokens,
            r.output_tokens,
            r.cost,
            if view.orphans > 0 {
                format!("  orphans {}", view.orphans)
            } else {
                String::new()
            }
        )?;
        writeln!(out)?;
        for s in &view.spans {
            let offset = s.start_ns - r.start_ns;
            let mut flags = String::new();
            if s.critical {
                flags.push('*');
            }
            if s.status == SpanStatus::Error {
                flags.push('!');
            }
            if s.orphan {
                flags.push('?');
            }
            let detail = match s.kind {
                SpanKind::Llm => format!(
                    "{} {}+{} tok ${:.6}",
                    s.model.as_deref().unwrap_or("?"),
                    s.input_tokens.unwrap_or(0),
                    s.output_tokens.unwrap_or(0),
                    s.cost.unwrap_or(0.0)
                ),
                _ => String::new(),
            };
            if self.tree {
                writeln!(
                    out,
                    "{:<3} {}{} [{}] +{} {} {}{}",
                    flags,
                    "  ".repeat(s.depth.min(60) as usize),
                    s.name,
                    s.kind.as_str(),
                    secs(offset),
                    secs(s.end_ns - s.start_ns),
                    detail,
                    s.status_message
                        .as_deref()
                        .map(|m| format!("  error: {}", m.chars().take(100).collect::<String>()))
                        .unwrap_or_default()
                )?;
            } else {
                writeln!(
                    out,
                    "{:<16}  {:<16}  {:<9}  {:>10}  {:>10}  {:<3}  {}  {}",
                    s.span_id,
                    s.parent_span_id.as_deref().unwrap_or("-"),
                    s.kind.as_str(),
                    secs(offset),
                    secs(s.end_ns - s.start_ns),
                    flags,
                    s.name,
                    detail
                )?;
            }
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    }
}
