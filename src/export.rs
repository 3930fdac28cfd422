//! Export bundles: what a workspace holds (or a few runs, or a time range) as one `.zip` that
//! Sightline reopens to the same counts and that other tools read as they are:
//!
//! - `logs/<source>.jsonl`: the log lines as they were written (each JSON unit once, on one
//!   line), read back from their source files; a record whose file is gone is written from
//!   the workspace as a plain JSON object;
//! - `traces/traces.jsonl`: OTLP/JSON, one `ExportTraceServiceRequest` per run per line (the
//!   OpenTelemetry Collector's file format), for Jaeger, Phoenix, Langfuse or a collector;
//! - `metrics/samples.om`: the scraped series (not those Sightline derives, which reopening
//!   derives again) as OpenMetrics with timestamps, which `promtool tsdb
//!   create-blocks-from openmetrics` loads into Prometheus;
//! - `rules.yml`: the workspace's own rules (the built-in ones ship with Sightline);
//! - `alerts.jsonl`: the alerts that fired in the range;
//! - `manifest.json`: what, from where, when, counts, the Sightline version, every file with
//!   its size and SHA-256, and with `--redact` the redaction report (kinds, counts and places,
//!   never a secret).
//!
//! The bundle is written to a temporary file and renamed, so a failed export leaves nothing
//! half-written behind.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::Digest;

use crate::error::{Error, Result};
use crate::model::{Level, format_rfc3339_nanos};
use crate::redact::{Redactor, Report as RedactionReport};
use crate::store::Store;

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    /// Runs by trace id (or a unique prefix); empty = every run in the range.
    pub runs: Vec<String>,
    pub since_ns: Option<i64>,
    pub until_ns: Option<i64>,
    /// Mask secrets on the way out.
    pub redact: Option<Redactor>,
}

/// What an export wrote.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportReport {
    pub path: String,
    pub runs: f64,
    pub spans: f64,
    pub log_records: f64,
    /// Lines written to `logs/` (a line can hold several records, as an OTLP logs request).
    pub log_lines: f64,
    pub series: f64,
    pub samples: f64,
    pub rule_groups: f64,
    pub alerts: f64,
    pub bytes: f64,
    /// Secrets masked, by kind (empty without redaction).
    pub redacted: BTreeMap<String, f64>,
    /// Things the reader should know (records written from the workspace because their file
    /// is gone, and the like).
    pub notes: Vec<String>,
}

/// A file inside the bundle as the manifest lists it.
#[derive(Debug, Serialize)]
struct ManifestFile {
    path: String,
    role: &'static str,
    format: &'static str,
    bytes: u64,
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<u64>,
}

/// Writes into one zip entry, counting bytes and hashing them for the manifest.
struct Entry<'a, W: Write + io::Seek> {
    zip: &'a mut zip::ZipWriter<W>,
    hash: sha2::Sha256,
    n: u64,
}

impl<W: Write + io::Seek> Write for Entry<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.zip.write(buf)?;
        self.hash.update(buf.get(..k).unwrap_or_default());
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.zip.flush()
    }
}

fn zip_err(path: &Path) -> impl Fn(zip::result::ZipError) -> Error + '_ {
    move |e| Error::Unwritable {
        path: path.to_owned(),
        source: io::Error::other(e.to_string()),
    }
}

struct Bundle<'a> {
    zip: zip::ZipWriter<BufWriter<File>>,
    out: &'a Path,
    files: Vec<ManifestFile>,
}

impl Bundle<'_> {
    /// Writes one entry with `fill`, recording it for the manifest.
    fn entry(
        &mut self,
        name: &str,
        role: &'static str,
        format: &'static str,
        fill: impl FnOnce(&mut dyn Write) -> Result<Option<u64>>,
    ) -> Result<()> {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        self.zip.start_file(name, opts).map_err(zip_err(self.out))?;
        let mut e = Entry {
            zip: &mut self.zip,
            hash: sha2::Sha256::new(),
            n: 0,
        };
        let records = {
            let mut w = BufWriter::with_capacity(256 * 1024, &mut e);
            let r = fill(&mut w)?;
            w.flush()?;
            r
        };
        let sha = e.hash.finalize();
        self.files.push(ManifestFile {
            path: name.to_owned(),
            role,
            format,
            bytes: e.n,
            sha256: crate::ingest::bundle::hex(&sha),
            records,
        });
        Ok(())
    }
}

/// The selection: runs (trace refs) and the time window the rest is cut to.
struct Selection {
    traces: Option<BTreeSet<i64>>,
    lo: i64,
    hi: i64,
}

fn select(conn: &Connection, req: &ExportRequest) -> Result<Selection> {
    if !req.runs.is_empty() {
        let mut set = BTreeSet::new();
        for r in &req.runs {
            set.insert(crate::store::queries::spans::find_run(conn, r)?.0);
        }
        // The runs' own extent bounds the metrics and alerts that go with them.
        let mut lo = i64::MAX;
        let mut hi = i64::MIN;
        let mut st =
            conn.prepare("SELECT MIN(start_ns), MAX(end_ns) FROM spans WHERE trace_ref = ?1")?;
        for t in &set {
            let (a, b): (Option<i64>, Option<i64>) =
                st.query_row(params![t], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if let (Some(a), Some(b)) = (a, b) {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        if lo > hi {
            (lo, hi) = (0, 0);
        }
        return Ok(Selection {
            traces: Some(set),
            lo,
            hi: hi.saturating_add(1),
        });
    }
    let lo = req.since_ns.unwrap_or(i64::MIN);
    let hi = req.until_ns.unwrap_or(i64::MAX);
    let traces = if req.since_ns.is_some() || req.until_ns.is_some() {
        let mut st = conn
            .prepare("SELECT DISTINCT trace_ref FROM spans WHERE start_ns < ?2 AND end_ns >= ?1")?;
        let set: BTreeSet<i64> = st
            .query_map(params![lo, hi], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Some(set)
    } else {
        None
    };
    Ok(Selection { traces, lo, hi })
}

/// Writes the bundle to `out` (a `.zip`).
pub fn export(store: &Store, out: &Path, req: &ExportRequest) -> Result<ExportReport> {
    let is_zip = out
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if !is_zip {
        return Err(Error::InvalidArgument {
            what: "export file",
            value: out.display().to_string(),
            why: "a bundle is a .zip file".into(),
        });
    }
    let conn = store.reader()?;
    let sel = select(&conn, req)?;
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = std::path::PathBuf::from(tmp);
    let file = File::create(&tmp).map_err(|source| Error::Unwritable {
        path: out.to_owned(),
        source,
    })?;
    let mut b = Bundle {
        zip: zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, file)),
        out,
        files: Vec::new(),
    };
    let mut rep = ExportReport {
        path: out.display().to_string(),
        ..ExportReport::default()
    };
    let mut redaction = RedactionReport::default();
    let result = write_all(&conn, &mut b, &sel, req, &mut rep, &mut redaction);
    let result = result.and_then(|()| {
        let manifest = manifest(store, req, &sel, &rep, &b.files, &redaction);
        let text =
            serde_json::to_string_pretty(&manifest).map_err(|e| Error::Internal(e.to_string()))?;
        b.entry("manifest.json", "manifest", "json", |w| {
            w.write_all(text.as_bytes())?;
            Ok(None)
        })?;
        let inner = b.zip.finish().map_err(zip_err(out))?;
        inner
            .into_inner()
            .map_err(|e| Error::Unwritable {
                path: out.to_owned(),
                source: e.into_error(),
            })?
            .sync_all()?;
        Ok(())
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, out).map_err(|source| Error::Unwritable {
        path: out.to_owned(),
        source,
    })?;
    rep.bytes = std::fs::metadata(out).map_or(0.0, |m| m.len() as f64);
    for (k, n) in &redaction.by_kind {
        rep.redacted.insert(k.as_str().to_owned(), *n as f64);
    }
    Ok(rep)
}

fn write_all(
    conn: &Connection,
    b: &mut Bundle<'_>,
    sel: &Selection,
    req: &ExportRequest,
    rep: &mut ExportReport,
    red: &mut RedactionReport,
) -> Result<()> {
    write_logs(conn, b, sel, req.redact.as_ref(), rep, red)?;
    write_traces(conn, b, sel, req.redact.as_ref(), rep, red)?;
    write_metrics(conn, b, sel, rep)?;
    let rules = crate::alerts::status::config_get(conn, "rules")?.unwrap_or_default();
    if !rules.trim().is_empty() {
        rep.rule_groups = crate::alerts::status::parse_workspace_rules(&rules)
            .map(|g| g.len() as f64)
            .unwrap_or(0.0);
        b.entry("rules.yml", "rules", "prometheus-rules", |w| {
            w.write_all(rules.as_bytes())?;
            Ok(None)
        })?;
    }
    let lo_ms = sel.lo.div_euclid(1_000_000);
    let hi_ms = if sel.hi == i64::MAX {
        i64::MAX
    } else {
        sel.hi.div_euclid(1_000_000) + 1
    };
    let fired = crate::alerts::status::fired_between(conn, lo_ms, hi_ms, 100_000)?;
    if !fired.is_empty() {
        rep.alerts = fired.len() as f64;
        b.entry(crate::ingest::bundle::ALERTS_FILE, "alerts", "jsonl", |w| {
            for f in &fired {
                serde_json::to_writer(&mut *w, f).map_err(|e| Error::Internal(e.to_string()))?;
                w.write_all(b"\n")?;
            }
            Ok(Some(fired.len() as u64))
        })?;
    }
    Ok(())
}

/// A selected log record: where its line is, and enough to rewrite it if the file is gone.
struct LogRow {
    offset: i64,
    len: i64,
    ts: i64,
    level: i64,
    message: String,
    trace_id: Option<String>,
    span_id: Option<String>,
    attrs: String,
}

fn write_logs(
    conn: &Connection,
    b: &mut Bundle<'_>,
    sel: &Selection,
    redactor: Option<&Redactor>,
    rep: &mut ExportReport,
    red: &mut RedactionReport,
) -> Result<()> {
    let mut sources: Vec<(i64, String, Option<String>)> = conn
        .prepare("SELECT id, path, compression FROM sources ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    sources.retain(|s| !s.1.is_empty());
    let mut used_names: HashMap<String, u32> = HashMap::new();
    for (id, path, compression) in sources {
        let rows = log_rows(conn, id, sel)?;
        if rows.is_empty() {
            continue;
        }
        let name = unique_name(&mut used_names, &log_file_name(&path));
        let entry_name = format!("logs/{name}");
        let gz = compression.as_deref() == Some("gzip");
        let mut lines = 0u64;
        let mut rewritten = 0u64;
        let n_records = rows.len() as u64;
        b.entry(&entry_name, "logs", "jsonl", |w| {
            let mut reader = open_source(Path::new(&path), gz);
            let mut pos: i64 = 0;
            let mut last_offset: Option<i64> = None;
            let mut buf = Vec::new();
            for r in &rows {
                if last_offset == Some(r.offset) {
                    continue; // several records from one unit (an array, an OTLP request)
                }
                last_offset = Some(r.offset);
                let unit = match reader.as_mut() {
                    Some(rd) if r.offset >= pos => {
                        io::copy(
                            &mut rd.by_ref().take((r.offset - pos) as u64),
                            &mut io::sink(),
                        )?;
                        buf.clear();
                        rd.by_ref()
                            .take(r.len.max(0) as u64)
                            .read_to_end(&mut buf)?;
                        pos = r.offset + buf.len() as i64;
                        (buf.len() as i64 == r.len).then_some(&buf[..])
                    }
                    _ => None,
                };
                let place = format!("{entry_name}:{}", lines + 1);
                let line = match unit.and_then(|u| unit_line(u, redactor, red, &place)) {
                    Some(l) => l,
                    None => {
                        rewritten += 1;
                        record_line(r, redactor, red, &place)
                    }
                };
                w.write_all(&line)?;
                w.write_all(b"\n")?;
                lines += 1;
            }
            Ok(Some(lines))
        })?;
        rep.log_records += n_records as f64;
        rep.log_lines += lines as f64;
        if rewritten > 0 {
            rep.notes.push(format!(
                "{entry_name}: {rewritten} line(s) written from the workspace, as {path} no longer holds them"
            ));
        }
    }
    Ok(())
}

fn log_rows(conn: &Connection, source: i64, sel: &Selection) -> Result<Vec<LogRow>> {
    let mut st = conn.prepare(
        "SELECT l.trace_ref, l.byte_offset, l.byte_len, l.ts, l.level, l.message, t.trace_id,
                l.span_id, l.attrs
         FROM logs l LEFT JOIN traces t ON t.id = l.trace_ref
         WHERE l.source_id = ?1 AND l.ts >= ?2 AND l.ts < ?3 ORDER BY l.byte_offset, l.id",
    )?;
    let all: Vec<(Option<i64>, LogRow)> = st
        .query_map(params![source, sel.lo, sel.hi], |r| {
            Ok((
                r.get(0)?,
                LogRow {
                    offset: r.get(1)?,
                    len: r.get(2)?,
                    ts: r.get(3)?,
                    level: r.get(4)?,
                    message: r.get(5)?,
                    trace_id: r.get(6)?,
                    span_id: r.get(7)?,
                    attrs: r.get(8)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(all
        .into_iter()
        .filter(|(t, _)| match &sel.traces {
            None => true,
            Some(set) => t.is_some_and(|t| set.contains(&t)),
        })
        .map(|(_, r)| r)
        .collect())
}

/// The bundle's name for a source's log file: its file name, as `.jsonl`.
fn log_file_name(path: &str) -> String {
    let base = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "log".into());
    let base = base.strip_suffix(".gz").unwrap_or(&base);
    let stem = [".jsonl", ".ndjson", ".json", ".log"]
        .iter()
        .find_map(|e| base.strip_suffix(e))
        .unwrap_or(base);
    let clean = crate::ingest::bundle::safe_name(stem);
    format!("{}.jsonl", if clean.is_empty() { "log" } else { &clean })
}

fn unique_name(used: &mut HashMap<String, u32>, name: &str) -> String {
    let n = used.entry(name.to_owned()).or_insert(0);
    *n += 1;
    if *n == 1 {
        name.to_owned()
    } else {
        let stem = name.strip_suffix(".jsonl").unwrap_or(name);
        format!("{stem}-{n}.jsonl")
    }
}

fn open_source(path: &Path, gz: bool) -> Option<Box<dyn Read>> {
    let f = File::open(path).ok()?;
    let r = BufReader::with_capacity(256 * 1024, f);
    Some(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    } else {
        Box::new(r)
    })
}

/// A unit read back from its file as one JSON line (redacted when asked), or `None` when the
/// bytes are not the JSON they were (the file changed since).
fn unit_line(
    unit: &[u8],
    redactor: Option<&Redactor>,
    red: &mut RedactionReport,
    place: &str,
) -> Option<Vec<u8>> {
    let t = unit.trim_ascii();
    if !matches!(t.first(), Some(b'{' | b'[')) {
        return None;
    }
    let one_line = memchr::memchr(b'\n', t).is_none();
    match redactor {
        None if one_line => {
            serde_json::from_slice::<serde::de::IgnoredAny>(t).ok()?;
            Some(t.to_vec())
        }
        None => {
            let v: Value = serde_json::from_slice(t).ok()?;
            serde_json::to_vec(&v).ok()
        }
        Some(rd) => {
            let mut v: Value = serde_json::from_slice(t).ok()?;
            if rd.json(&mut v, red, place) || !one_line {
                serde_json::to_vec(&v).ok()
            } else {
                Some(t.to_vec())
            }
        }
    }
}

/// A record whose line cannot be read back, as a plain JSON log object.
fn record_line(
    r: &LogRow,
    redactor: Option<&Redactor>,
    red: &mut RedactionReport,
    place: &str,
) -> Vec<u8> {
    let mut o = Map::new();
    o.insert("time".into(), Value::String(format_rfc3339_nanos(r.ts)));
    let level = Level::ALL
        .get(usize::try_from(r.level).unwrap_or(2))
        .copied()
        .unwrap_or(Level::Info);
    o.insert("level".into(), Value::String(level.as_str().into()));
    o.insert("msg".into(), Value::String(r.message.clone()));
    if let Some(t) = &r.trace_id {
        o.insert("trace_id".into(), Value::String(t.clone()));
    }
    if let Some(s) = &r.span_id {
        o.insert("span_id".into(), Value::String(s.clone()));
    }
    if let Ok(Value::Object(attrs)) = serde_json::from_str::<Value>(&r.attrs) {
        for (k, v) in attrs {
            o.entry(k).or_insert(v);
        }
    }
    let mut v = Value::Object(o);
    if let Some(rd) = redactor {
        rd.json(&mut v, red, place);
    }
    serde_json::to_vec(&v).unwrap_or_default()
}

/// A stored span, as much as OTLP needs.
struct SpanRow {
    span_id: String,
    parent: Option<String>,
    name: String,
    kind: i64,
    start: i64,
    end: i64,
    status: i64,
    status_message: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    tool_name: Option<String>,
    attrs: String,
}

fn write_traces(
    conn: &Connection,
    b: &mut Bundle<'_>,
    sel: &Selection,
    redactor: Option<&Redactor>,
    rep: &mut ExportReport,
    red: &mut RedactionReport,
) -> Result<()> {
    let traces: Vec<(i64, String)> = conn
        .prepare("SELECT id, trace_id FROM traces WHERE EXISTS (SELECT 1 FROM spans s WHERE s.trace_ref = traces.id) ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|(t, _)| sel.traces.as_ref().is_none_or(|s| s.contains(t)))
        .collect();
    if traces.is_empty() {
        return Ok(());
    }
    let mut st = conn.prepare(
        "SELECT span_id, parent_span_id, name, kind, start_ns, end_ns, status, status_message,
                provider, model, input_tokens, output_tokens, tool_name, attrs
         FROM spans WHERE trace_ref = ?1 ORDER BY start_ns, id",
    )?;
    let mut spans_total = 0u64;
    let mut runs = 0u64;
    b.entry("traces/traces.jsonl", "traces", "otlp-json", |w| {
        for (i, (tref, trace_id)) in traces.iter().enumerate() {
            let spans: Vec<SpanRow> = st
                .query_map(params![tref], |r| {
                    Ok(SpanRow {
                        span_id: r.get(0)?,
                        parent: r.get(1)?,
                        name: r.get(2)?,
                        kind: r.get(3)?,
                        start: r.get(4)?,
                        end: r.get(5)?,
                        status: r.get(6)?,
                        status_message: r.get(7)?,
                        provider: r.get(8)?,
                        model: r.get(9)?,
                        input_tokens: r.get(10)?,
                        output_tokens: r.get(11)?,
                        tool_name: r.get(12)?,
                        attrs: r.get(13)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            spans_total += spans.len() as u64;
            runs += 1;
            let mut req = otlp_request(trace_id, &spans);
            if let Some(rd) = redactor {
                rd.json(&mut req, red, &format!("traces/traces.jsonl:{}", i + 1));
            }
            serde_json::to_writer(&mut *w, &req).map_err(|e| Error::Internal(e.to_string()))?;
            w.write_all(b"\n")?;
        }
        Ok(Some(runs))
    })?;
    rep.runs = runs as f64;
    rep.spans = spans_total as f64;
    Ok(())
}

/// Spans per scope (scope JSON, spans) within one resource.
type ScopeGroups = Vec<(String, Vec<Value>)>;

/// A JSON value as an OTLP AnyValue.
fn any_value(v: &Value) -> Value {
    match v {
        Value::String(s) => json!({"stringValue": s}),
        Value::Bool(b) => json!({"boolValue": b}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"intValue": n.to_string()}),
        Value::Number(n) => json!({"doubleValue": n.as_f64()}),
        Value::Array(a) => {
            json!({"arrayValue": {"values": a.iter().map(any_value).collect::<Vec<_>>()}})
        }
        Value::Object(o) => json!({"kvlistValue": {"values": key_values(o)}}),
        Value::Null => json!({}),
    }
}

fn key_values(o: &Map<String, Value>) -> Vec<Value> {
    o.iter()
        .map(|(k, v)| json!({"key": k, "value": any_value(v)}))
        .collect()
}

const KIND_NAMES: [&str; 6] = ["UNKNOWN", "AGENT", "LLM", "TOOL", "CHAIN", "RETRIEVER"];

/// One run's spans as an `ExportTraceServiceRequest`, grouped by resource and scope as they
/// came in (spans from log lines get the attributes their columns hold).
fn otlp_request(trace_id: &str, spans: &[SpanRow]) -> Value {
    // (resource JSON, scope JSON) -> spans
    let mut groups: Vec<((String, String), Vec<Value>)> = Vec::new();
    for s in spans {
        let attrs: Map<String, Value> = match serde_json::from_str(&s.attrs) {
            Ok(Value::Object(o)) => o,
            _ => Map::new(),
        };
        let mut a: Map<String, Value> = match attrs.get("attributes") {
            Some(Value::Object(o)) => o.clone(),
            _ => Map::new(),
        };
        let set = |a: &mut Map<String, Value>, k: &str, v: Value| {
            a.entry(k.to_owned()).or_insert(v);
        };
        if let Some(k) = KIND_NAMES.get(usize::try_from(s.kind).unwrap_or(0))
            && s.kind != 0
        {
            set(&mut a, "openinference.span.kind", json!(k));
        }
        if let Some(p) = &s.provider {
            set(&mut a, "gen_ai.system", json!(p));
        }
        if let Some(m) = &s.model {
            set(&mut a, "gen_ai.request.model", json!(m));
        }
        if let Some(n) = s.input_tokens {
            set(&mut a, "gen_ai.usage.input_tokens", json!(n));
        }
        if let Some(n) = s.output_tokens {
            set(&mut a, "gen_ai.usage.output_tokens", json!(n));
        }
        if let Some(t) = &s.tool_name {
            set(&mut a, "gen_ai.tool.name", json!(t));
        }
        let kind = match attrs.get("span_kind").and_then(Value::as_str) {
            Some("server") => 2,
            Some("client") => 3,
            Some("producer") => 4,
            Some("consumer") => 5,
            _ => 1,
        };
        let mut span = json!({
            "traceId": trace_id,
            "spanId": s.span_id,
            "name": s.name,
            "kind": kind,
            "startTimeUnixNano": s.start.to_string(),
            "endTimeUnixNano": s.end.to_string(),
            "attributes": key_values(&a),
        });
        if let Some(m) = span.as_object_mut() {
            if let Some(p) = &s.parent {
                m.insert("parentSpanId".into(), json!(p));
            }
            let mut status = Map::new();
            if s.status != 0 {
                status.insert("code".into(), json!(s.status));
            }
            if let Some(msg) = &s.status_message {
                status.insert("message".into(), json!(msg));
            }
            m.insert("status".into(), Value::Object(status));
            if let Some(ev) = attrs.get("events").filter(|e| e.is_array()) {
                m.insert("events".into(), ev.clone());
            }
        }
        let key = (
            attrs
                .get("resource")
                .map(Value::to_string)
                .unwrap_or_default(),
            attrs.get("scope").map(Value::to_string).unwrap_or_default(),
        );
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(span),
            None => groups.push((key, vec![span])),
        }
    }
    // Resources, then scopes within them.
    let mut resources: Vec<(String, ScopeGroups)> = Vec::new();
    for ((res, scope), spans) in groups {
        match resources.iter_mut().find(|r| r.0 == res) {
            Some(r) => r.1.push((scope, spans)),
            None => resources.push((res, vec![(scope, spans)])),
        }
    }
    let resource_spans: Vec<Value> = resources
        .into_iter()
        .map(|(res, scopes)| {
            let res_attrs = match serde_json::from_str::<Value>(&res) {
                Ok(Value::Object(o)) => key_values(&o),
                _ => Vec::new(),
            };
            let scope_spans: Vec<Value> = scopes
                .into_iter()
                .map(|(scope, spans)| {
                    let scope = match serde_json::from_str::<Value>(&scope) {
                        Ok(Value::Object(o)) => {
                            let mut s = Map::new();
                            for k in ["name", "version"] {
                                if let Some(v) = o.get(k) {
                                    s.insert(k.into(), v.clone());
                                }
                            }
                            Value::Object(s)
                        }
                        _ => json!({"name": "sightline-export"}),
                    };
                    json!({"scope": scope, "spans": spans})
                })
                .collect();
            json!({"resource": {"attributes": res_attrs}, "scopeSpans": scope_spans})
        })
        .collect();
    json!({ "resourceSpans": resource_spans })
}

fn write_metrics(
    conn: &Connection,
    b: &mut Bundle<'_>,
    sel: &Selection,
    rep: &mut ExportReport,
) -> Result<()> {
    let lo_ms = if sel.lo == i64::MIN {
        i64::MIN
    } else {
        sel.lo.div_euclid(1_000_000)
    };
    let hi_ms = if sel.hi == i64::MAX {
        i64::MAX
    } else {
        sel.hi.div_euclid(1_000_000) + 1
    };
    let mut st = conn.prepare(
        "SELECT s.metric, s.labels, COALESCE(s.family, s.metric), COALESCE(f.kind, 'unknown'),
                COALESCE(f.help, ''), COALESCE(f.unit, ''), sm.t, sm.v
         FROM samples sm JOIN series s ON s.id = sm.series_id
         LEFT JOIN metric_families f ON f.name = s.family
         WHERE COALESCE(f.derived, 0) = 0 AND sm.t >= ?1 AND sm.t < ?2
         ORDER BY 3, s.metric, s.labels, sm.t",
    )?;
    let mut rows = st.query(params![lo_ms, hi_ms])?;
    let first = rows.next()?;
    let Some(first) = first else {
        return Ok(());
    };
    let mut samples = 0u64;
    let mut series = 0u64;
    // The rows are read in the entry's closure; the first one is already out.
    let mut pending: Option<SampleRow> = Some(sample_row(first)?);
    b.entry("metrics/samples.om", "metrics", "openmetrics", |w| {
        let mut family = String::new();
        let mut key = (String::new(), String::new());
        loop {
            let r = match pending.take() {
                Some(r) => r,
                None => match rows.next()? {
                    Some(row) => sample_row(row)?,
                    None => break,
                },
            };
            if r.family != family {
                family = r.family.clone();
                let kind = match r.kind.as_str() {
                    "untyped" => "unknown",
                    k => k,
                };
                writeln!(w, "# TYPE {} {}", family, kind)?;
                if !r.help.is_empty() {
                    writeln!(w, "# HELP {} {}", family, escape_help(&r.help))?;
                }
                if !r.unit.is_empty() {
                    writeln!(w, "# UNIT {} {}", family, r.unit)?;
                }
            }
            if (r.metric.clone(), r.labels.clone()) != key {
                key = (r.metric.clone(), r.labels.clone());
                series += 1;
            }
            writeln!(
                w,
                "{}{} {} {}",
                r.metric,
                label_text(&r.labels),
                crate::promql::format_value_plain(r.value),
                seconds(r.t_ms)
            )?;
            samples += 1;
        }
        w.write_all(b"# EOF\n")?;
        Ok(Some(samples))
    })?;
    rep.samples = samples as f64;
    rep.series = series as f64;
    Ok(())
}

struct SampleRow {
    metric: String,
    labels: String,
    family: String,
    kind: String,
    help: String,
    unit: String,
    t_ms: i64,
    value: f64,
}

fn sample_row(r: &rusqlite::Row<'_>) -> Result<SampleRow> {
    let v: rusqlite::types::Value = r.get(7)?;
    let value = match v {
        rusqlite::types::Value::Integer(i) => i as f64,
        rusqlite::types::Value::Real(f) => f,
        rusqlite::types::Value::Text(t) => t.parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    };
    Ok(SampleRow {
        metric: r.get(0)?,
        labels: r.get(1)?,
        family: r.get(2)?,
        kind: r.get(3)?,
        help: r.get(4)?,
        unit: r.get(5)?,
        t_ms: r.get(6)?,
        value,
    })
}

fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn label_text(json_labels: &str) -> String {
    let Ok(Value::Object(o)) = serde_json::from_str::<Value>(json_labels) else {
        return String::new();
    };
    if o.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = o
        .iter()
        .map(|(k, v)| {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn seconds(t_ms: i64) -> String {
    let s = t_ms.div_euclid(1000);
    let ms = t_ms.rem_euclid(1000);
    if ms == 0 {
        format!("{s}")
    } else {
        format!("{s}.{ms:03}")
    }
}

fn manifest(
    store: &Store,
    req: &ExportRequest,
    sel: &Selection,
    rep: &ExportReport,
    files: &[ManifestFile],
    red: &RedactionReport,
) -> Value {
    let t = |ns: i64| (ns != i64::MIN && ns != i64::MAX).then(|| format_rfc3339_nanos(ns));
    json!({
        "bundle_format": "sightline-bundle/1",
        "generator": {"name": "sightline", "version": env!("CARGO_PKG_VERSION")},
        "created": format_rfc3339_nanos(crate::model::now_ns()),
        "source": store.path().display().to_string(),
        "selection": {
            "runs": req.runs,
            "since": t(sel.lo),
            "until": t(sel.hi),
        },
        "counts": {
            "runs": rep.runs as u64,
            "spans": rep.spans as u64,
            "log_records": rep.log_records as u64,
            "log_lines": rep.log_lines as u64,
            "series": rep.series as u64,
            "samples": rep.samples as u64,
            "rule_groups": rep.rule_groups as u64,
            "alerts": rep.alerts as u64,
        },
        "files": files,
        "redaction": if req.redact.is_some() { serde_json::to_value(red).unwrap_or(Value::Null) } else { Value::Null },
        "notes": rep.notes,
    })
}
