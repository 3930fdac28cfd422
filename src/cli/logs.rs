//! `sightline logs`: records in time order, filtered.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Map, Value};
use sightline::model::{Level, flags};
use sightline::store::Store;
use sightline::store::queries::logs::{LogQuery, LogRow, list};
use sightline::time_arg::parse_time_arg;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// A level, a comma list (error,fatal), or LEVEL+ for that level and above (warn+)
    #[arg(long, value_name = "LEVELS")]
    level: Option<String>,
    /// Words that must all appear in the message (full-text)
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// From this time: RFC 3339, or a span back from now (15m, 2h, 7d)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Up to this time (exclusive): RFC 3339, or a span back from now
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Only records of this trace
    #[arg(long, value_name = "ID")]
    trace: Option<String>,
    /// Only records of this span id (with --trace)
    #[arg(long, requires = "trace")]
    span: Option<String>,
    /// Only records from this file (or from files under this folder)
    #[arg(long, value_name = "PATH")]
    source: Vec<PathBuf>,
    /// At most this many records
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Newest first
    #[arg(long)]
    reverse: bool,
    /// One JSON object per line
    #[arg(long)]
    json: bool,
}

/// Parses `--level`: `error`, `warn,error`, `warn+`.
pub fn parse_levels(s: &str) -> Result<Vec<Level>, sightline::Error> {
    let bad = |why: &str| sightline::Error::InvalidArgument {
        what: "level",
        value: s.to_owned(),
        why: why.to_owned(),
    };
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, and_above) = match part.strip_suffix('+') {
            Some(n) => (n, true),
            None => (part, false),
        };
        let l = Level::parse_name(name)
            .ok_or_else(|| bad("levels are trace, debug, info, warn, error, fatal"))?;
        if and_above {
            out.extend(Level::ALL.iter().copied().filter(|x| *x >= l));
        } else {
            out.push(l);
        }
    }
    if out.is_empty() {
        return Err(bad("no level given"));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let now = super::now_ns();
        let q = LogQuery {
            levels: match &self.level {
                Some(l) => parse_levels(l)?,
                None => Vec::new(),
            },
            search: self.search.clone(),
            since: self
                .since
                .as_deref()
                .map(|t| parse_time_arg(t, now))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|t| parse_time_arg(t, now))
                .transpose()?,
            trace_id: self.trace.clone(),
            span_id: self.span.clone(),
            sources: self
                .source
                .iter()
                .map(|p| {
                    std::fs::canonicalize(p)
                        .unwrap_or_else(|_| p.clone())
                        .display()
                        .to_string()
                })
                .collect(),
            limit: self.limit,
            descending: self.reverse,
        };
        let store = Store::open_read_only(db)
            .with_context(|| format!("opening workspace {}", db.display()))?;
        let conn = store.reader()?;
        let rows = list(&conn, &q)?;
        let stdout = std::io::stdout();
        let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let mut out = std::io::BufWriter::new(stdout.lock());
        for r in &rows {
            if self.json {
                serde_json::to_writer(&mut out, &json_row(r))?;
                writeln!(out)?;
            } else {
                write_human(&mut out, r, color)?;
            }
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    }
}

/// The `--json` shape: ts, level, message, source, line, trace_id, span_id, attrs (plus
/// parent_span_id, format and, when the time was not exact, ts_note).
fn json_row(r: &LogRow) -> Value {
    let mut m = Map::new();
    m.insert("ts".into(), Value::from(r.ts_rfc3339()));
    m.insert("level".into(), Value::from(r.level.as_str()));
    m.insert("message".into(), Value::from(r.message.clone()));
    m.insert("source".into(), Value::from(r.source.clone()));
    m.insert("line".into(), Value::from(r.line));
    m.insert(
        "trace_id".into(),
        r.trace_id.clone().map_or(Value::Null, Value::from),
    );
    m.insert(
        "span_id".into(),
        r.span_id.clone().map_or(Value::Null, Value::from),
    );
    m.insert(
        "parent_span_id".into(),
        r.parent_span_id.clone().map_or(Value::Null, Value::from),
    );
    m.insert("format".into(), Value::from(r.format));
    let attrs: Value = serde_json::from_str(&r.attrs).unwrap_or(Value::Object(Map::new()));
    m.insert("attrs".into(), attrs);
    let mut notes = Vec::new();
    if r.flags & flags::TIME_ASSUMED_UTC != 0 {
        notes.push("no UTC offset in the source; taken as UTC");
    }
    if r.flags & flags::TIME_MISSING != 0 {
        notes.push("no time in the source; time of the record before it");
    }
    if r.flags & flags::TIME_NO_YEAR != 0 {
        notes.push("no year in the source; year of the file's modification time");
    }
    if !notes.is_empty() {
        m.insert("ts_note".into(), Value::from(notes.join("; ")));
    }
    if r.flags & flags::LEVEL_MISSING != 0 {
        m.insert(
            "level_note".into(),
            Value::from("no level in the source; inferred"),
        );
    }
    Value::Object(m)
}

fn write_human(out: &mut impl Write, r: &LogRow, color: bool) -> std::io::Result<()> {
    let (pre, post) = match (color, r.level) {
        (false, _) => ("", ""),
        (true, Level::Trace | Level::Debug) => ("\x1b[2m", "\x1b[0m"),
        (true, Level::Info) => ("\x1b[32m", "\x1b[0m"),
        (true, Level::Warn) => ("\x1b[33m", "\x1b[0m"),
        (true, Level::Error | Level::Fatal) => ("\x1b[31m", "\x1b[0m"),
    };
    let file = Path::new(&r.source)
        .file_name()
        .map_or_else(|| r.source.clone(), |f| f.to_string_lossy().into_owned());
    // Control characters in untrusted text would drive the terminal: show them escaped.
    let msg: String = r
        .message
        .chars()
        .flat_map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    writeln!(
        out,
        "{} {pre}{:<5}{post} {file}:{} {msg}",
        r.ts_rfc3339(),
        r.level.as_str().to_ascii_uppercase(),
        r.line
    )
}
