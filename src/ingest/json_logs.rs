//! JSON log records from logging libraries: dialect detection and field mapping.
//!
//! Each object is classified by the keys it carries (zap's `ts`+`caller`, bunyan's `v`,
//! CLEF's `@t`, loguru's `record`...), then time, level, message and trace/span/parent ids are
//! taken from where that dialect keeps them, falling back to heuristics over the common field
//! names. Everything not lifted into a column stays in `attrs`, verbatim, including the
//! original level spelling. Lines that match no dialect but are JSON objects are still kept.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::jsonobj::{self, FieldPath, Kind, Obj, as_bool, as_number, as_str, kind};
use super::levels::{LevelScale, level_from_name, level_from_number};
use super::timestamp::{ParsedTime, parse_epoch_number, parse_time_str};
use crate::model::{Format, Level, flags};

/// What the rest of the file tells the mapper about a record.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Year used for times that have none (syslog style): the file's modification year.
    pub year_hint: i64,
    /// Time given to records that have none: the previous record's, or the file's mtime.
    pub fallback_ts: i64,
    /// The first strongly recognised dialect of the file, used to label ambiguous lines.
    pub dominant: Option<Format>,
}

/// A record mapped from one JSON object, before it gets its place in the file.
#[derive(Debug)]
pub struct Mapped {
    pub ts: i64,
    pub level: Level,
    pub message: String,
    pub format: Format,
    /// True when the dialect was recognised from distinctive keys (not just guessed).
    pub strong: bool,
    pub flags: u32,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub attrs: String,
}

const TIME_KEYS: &[&[&str]] = &[
    &["time"],
    &["ts"],
    &["timestamp"],
    &["@timestamp"],
    &["@t"],
    &["T"],
    &["asctime"],
    &["date"],
    &["datetime"],
    &["eventTime"],
    &["event_time"],
    &["time_unix_nano"],
    &["timeUnixNano"],
    &["logtime"],
    &["log_time"],
    &["created"],
    &["created_at"],
    &["t"],
];

const LEVEL_KEYS: &[&[&str]] = &[
    &["level"],
    &["lvl"],
    &["severity"],
    &["levelname"],
    &["log.level"],
    &["log", "level"],
    &["loglevel"],
    &["log_level"],
    &["level_name"],
    &["levelName"],
    &["severity_text"],
    &["severityText"],
    &["@l"],
    &["L"],
];

/// Numeric-only level fields and the scale they use.
const LEVEL_NUMBER_KEYS: &[(&str, LevelScale)] = &[
    ("levelno", LevelScale::Python),
    ("level_no", LevelScale::Python),
    ("severity_number", LevelScale::Otel),
    ("severityNumber", LevelScale::Otel),
];

const MESSAGE_KEYS: &[&[&str]] = &[
    &["msg"],
    &["message"],
    &["@m"],
    &["M"],
    &["fields", "message"],
    &["event"],
    &["body"],
    &["log"],
    &["text"],
];

const TRACE_KEYS: &[&[&str]] = &[
    &["trace_id"],
    &["traceId"],
    &["traceID"],
    &["trace.id"],
    &["@tr"],
    &["otelTraceID"],
    &["otel.trace_id"],
    &["dd.trace_id"],
    &["trace", "id"],
    &["extra", "trace_id"],
    &["fields", "trace_id"],
    &["fields", "traceId"],
    &["span", "trace_id"],
    &["attributes", "trace_id"],
    &["context", "trace_id"],
    &["labels", "trace_id"],
];

const SPAN_KEYS: &[&[&str]] = &[
    &["span_id"],
    &["spanId"],
    &["spanID"],
    &["span.id"],
    &["@sp"],
    &["otelSpanID"],
    &["otel.span_id"],
    &["dd.span_id"],
    &["span", "id"],
    &["extra", "span_id"],
    &["fields", "span_id"],
    &["fields", "spanId"],
    &["span", "span_id"],
    &["attributes", "span_id"],
    &["context", "span_id"],
    &["labels", "span_id"],
];

const PARENT_KEYS: &[&[&str]] = &[
    &["parent_span_id"],
    &["parentSpanId"],
    &["parentSpanID"],
    &["parent_id"],
    &["parentId"],
    &["parent.id"],
    &["span.parent_id"],
    &["parent", "id"],
    &["extra", "parent_span_id"],
    &["fields", "parent_span_id"],
    &["span", "parent_id"],
    &["attributes", "parent_span_id"],
    &["context", "parent_span_id"],
];

/// Recognises the dialect of an object from its keys. The bool says whether the keys are
/// distinctive (strong) or the label is a guess.
pub fn classify(o: &Obj<'_>) -> (Format, bool) {
    let level_kind = o.get("level").map(kind);
    if let Some(rec) = o.get("record")
        && kind(rec) == Kind::Object
        && o.has("text")
    {
        return (Format::Loguru, true);
    }
    if o.has("@t") || o.has("@mt") || o.has("@m") {
        return (Format::Clef, true);
    }
    if o.has("@timestamp")
        && (o.has("log.level") || o.has("ecs.version") || o.has("ecs") || o.has("log"))
    {
        return (Format::Ecs, true);
    }
    if o.has("L") && o.has("M") {
        return (Format::ZapDevelopment, true);
    }
    if o.has("body") && (o.has("severity_number") || o.has("severity_text")) {
        return (Format::OtelPython, true);
    }
    if level_kind == Some(Kind::Number) {
        if o.has("v") && (o.has("hostname") || o.has("name")) {
            return (Format::Bunyan, true);
        }
        if o.get("time").map(kind) == Some(Kind::Number) || o.has("msg") {
            return (Format::Pino, true);
        }
    }
    if let Some(f) = o.get("fields")
        && kind(f) == Kind::Object
        && (o.has("target") || o.has("level") || o.has("timestamp") || o.has("span"))
    {
        return (Format::Tracing, true);
    }
    if o.has("target") && (o.has("spans") || o.has("span") || o.has("timestamp")) {
        return (Format::Tracing, true);
    }
    let event = o.str("event");
    if let Some(ev) = &event
        && matches!(
            ev.as_ref(),
            "llm_call" | "tool_execution" | "agent_execution"
        )
    {
        return (Format::AgentEvents, true);
    }
    let has_msg = o.has("msg") || o.has("message");
    if event.is_some() && !has_msg && (o.has("level") || o.has("timestamp") || o.has("logger")) {
        return (Format::Structlog, true);
    }
    if o.has("asctime") || o.has("levelname") || o.has("funcName") || o.has("taskName") {
        return (Format::PythonJsonLogger, true);
    }
    if o.has("message") && o.has("module") && o.has("function") {
        return (Format::LoguruSink, true);
    }
    let level_str = o.str("level");
    if o.has("msg") && level_str.is_some() {
        if o.has("ts") || o.has("caller") || o.has("stacktrace") {
            return (Format::Zap, true);
        }
        if o.has("time") {
            let lv = level_str.unwrap_or_default();
            let upper = lv.bytes().any(|b| b.is_ascii_uppercase());
            return if upper {
                (Format::Slog, true)
            } else {
                (Format::Logrus, true)
            };
        }
        return (Format::Zap, false);
    }
    if o.has("log") && o.has("stream") {
        return (Format::DockerJson, true);
    }
    if has_msg && level_str.is_some() && o.has("time") {
        return (Format::Slog, false);
    }
    (Format::Json, false)
}

/// Maps one JSON object to a record. Never fails: an object with nothing recognisable is
/// kept with an empty message, level `info` and the fallback time, flagged as such.
pub fn map_object(o: &Obj<'_>, cx: &Context) -> Mapped {
    let (mut format, strong) = classify(o);
    // An ambiguous line takes the file's dialect, unless it has none of the usual log
    // fields (a foreign object in the stream stays plain `json`).
    let loggish = || o.has("level") || o.has("msg") || o.has("message");
    if !strong
        && (format != Format::Json || loggish())
        && let Some(d) = cx.dominant.filter(|d| is_flat(*d))
    {
        format = d;
    }
    match format {
        Format::Loguru => map_loguru(o, cx).unwrap_or_else(|| map_flat(o, cx, Format::Json, false)),
        Format::Clef => map_clef(o, cx),
        _ => map_flat(o, cx, format, strong),
    }
}

/// Dialects whose fields sit at the top level (or one level down), mapped generically.
fn is_flat(f: Format) -> bool {
    !matches!(f, Format::Loguru | Format::Clef | Format::OtlpLogs)
}

/// The record's time with its flags, or the fallback time flagged as missing.
fn resolve_time(t: Option<ParsedTime>, cx: &Context, fl: &mut u32) -> i64 {
    match t {
        Some(t) => {
            *fl |= t.flags;
            t.ns
        }
        None => {
            *fl |= flags::TIME_MISSING;
            cx.fallback_ts
        }
    }
}

fn time_from_raw(v: &RawValue, year_hint: i64) -> Option<ParsedTime> {
    match kind(v) {
        Kind::Number => parse_epoch_number(v.get()),
        Kind::String => parse_time_str(&as_str(v)?, year_hint),
        _ => None,
    }
}

fn level_from_raw(v: &RawValue, scale: LevelScale) -> Option<Level> {
    match kind(v) {
        Kind::String => {
            let s = as_str(v)?;
            level_from_name(&s).or_else(|| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(|n| level_from_number(n, scale))
            })
        }
        Kind::Number => level_from_number(v.get().parse().ok()?, scale),
        _ => None,
    }
}

/// Normalizes an id: `0x` prefix dropped, hex lowercased, all-zero (OpenTelemetry's "no
/// context") and empty mean none. Numbers (Datadog's decimal ids) become their text.
fn id_from_raw(v: &RawValue) -> Option<String> {
    let s: Cow<'_, str> = match kind(v) {
        Kind::String => as_str(v)?,
        Kind::Number => Cow::Borrowed(v.get()),
        _ => return None,
    };
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if t.is_empty() || t.bytes().all(|b| b == b'0') {
        return None;
    }
    if t.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(t.to_ascii_lowercase())
    } else {
        Some(t.to_owned())
    }
}

struct Found<T> {
    value: T,
    path: FieldPath,
}

fn find<'a, T>(
    o: &Obj<'a>,
    keys: &[&[&'static str]],
    mut f: impl FnMut(&'a RawValue) -> Option<T>,
) -> Option<Found<T>> {
    for k in keys {
        // Cheap check on the top-level key before any nested parse.
        if !o.has(k[0]) {
            continue;
        }
        if let Some((v, path)) = o.lookup(k)
            && let Some(value) = f(v)
        {
            return Some(Found { value, path });
        }
    }
    None
}

/// Infers a level for records that carry none, from failure markers agents and tools write.
fn infer_level(o: &Obj<'_>) -> Level {
    let failed = o.get("success").and_then(as_bool) == Some(false)
        || o.get("error").is_some_and(|e| match kind(e) {
            Kind::Null => false,
            Kind::String => as_str(e).is_some_and(|s| !s.is_empty()),
            Kind::Bool => as_bool(e) == Some(true),
            _ => true,
        })
        || o.str("status").is_some_and(|s| {
            matches!(
                s.to_ascii_lowercase().as_str(),
                "error" | "failed" | "failure" | "fail"
            )
        });
    if failed { Level::Error } else { Level::Info }
}

fn map_flat(o: &Obj<'_>, cx: &Context, format: Format, strong: bool) -> Mapped {
    let mut removed: Vec<FieldPath> = Vec::with_capacity(6);
    let mut fl = 0u32;

    // Time: the first candidate that parses. One that is present but unparseable
    // ("fake time") stays in attrs.
    let found = find(o, TIME_KEYS, |v| time_from_raw(v, cx.year_hint)).map(|f| {
        removed.push(f.path);
        f.value
    });
    let ts = resolve_time(found, cx, &mut fl);

    let scale = match format {
        Format::Loguru | Format::LoguruSink | Format::PythonJsonLogger | Format::Structlog => {
            LevelScale::Python
        }
        Format::OtelPython | Format::OtlpLogs => LevelScale::Otel,
        _ => LevelScale::Bunyan,
    };
    let level = find(o, LEVEL_KEYS, |v| level_from_raw(v, scale))
        .map(|f| f.value)
        .or_else(|| {
            LEVEL_NUMBER_KEYS.iter().find_map(|(k, sc)| {
                o.get(k)
                    .and_then(as_number)
                    .and_then(|n| level_from_number(n.parse().ok()?, *sc))
            })
        })
        .unwrap_or_else(|| {
            fl |= flags::LEVEL_MISSING;
            infer_level(o)
        });

    let message = match find(o, MESSAGE_KEYS, as_str) {
        Some(found) => {
            removed.push(found.path);
            found.value.into_owned()
        }
        None => String::new(),
    };

    let (trace_id, span_id, parent_span_id) = ids(o, &mut removed);
    let mut attrs = String::with_capacity(o.fields.len() * 24 + 64);
    jsonobj::write_object(&mut attrs, o, &removed, &[]);
    Mapped {
        ts,
        level,
        message,
        format,
        strong,
        flags: fl,
        trace_id,
        span_id,
        parent_span_id,
        attrs,
    }
}

fn ids(
    o: &Obj<'_>,
    removed: &mut Vec<FieldPath>,
) -> (Option<String>, Option<String>, Option<String>) {
    let mut take = |keys: &[&[&'static str]]| {
        find(o, keys, id_from_raw).map(|f| {
            removed.push(f.path);
            f.value
        })
    };
    let t = take(TRACE_KEYS);
    let s = take(SPAN_KEYS);
    let p = take(PARENT_KEYS);
    (t, s, p)
}

/// loguru `serialize=True`: `{"text": "...", "record": {time, level, message, extra, ...}}`.
fn map_loguru(o: &Obj<'_>, cx: &Context) -> Option<Mapped> {
    let rec = Obj::from_raw(o.get("record")?)?;
    let mut fl = 0u32;
    let mut removed_in_record: Vec<FieldPath> = Vec::new();
    let time = rec.get("time").and_then(Obj::from_raw);
    let ts = time
        .as_ref()
        .and_then(|t| {
            t.get("timestamp")
                .and_then(|v| time_from_raw(v, cx.year_hint))
                .or_else(|| t.get("repr").and_then(|v| time_from_raw(v, cx.year_hint)))
        })
        .or_else(|| rec.get("time").and_then(|v| time_from_raw(v, cx.year_hint)));
    if ts.is_some() {
        removed_in_record.push(FieldPath::Top("time"));
    }
    let ts = resolve_time(ts, cx, &mut fl);
    let level = rec
        .get("level")
        .and_then(|lv| match Obj::from_raw(lv) {
            Some(l) => l
                .get("name")
                .and_then(|n| level_from_raw(n, LevelScale::Python))
                .or_else(|| {
                    l.get("no")
                        .and_then(|n| level_from_raw(n, LevelScale::Python))
                }),
            None => level_from_raw(lv, LevelScale::Python),
        })
        .unwrap_or_else(|| {
            fl |= flags::LEVEL_MISSING;
            Level::Info
        });
    let message = match rec.str("message") {
        Some(m) => {
            removed_in_record.push(FieldPath::Top("message"));
            m.into_owned()
        }
        None => String::new(),
    };
    // Ids live in the bound `extra` dict.
    let mut removed_in_extra: Vec<FieldPath> = Vec::new();
    let (trace_id, span_id, parent_span_id) = match rec.get("extra").and_then(Obj::from_raw) {
        Some(extra) => ids(&extra, &mut removed_in_extra),
        None => (None, None, None),
    };
    // attrs: {"text": .., "record": {record minus time and message, extra minus ids}}
    let mut record_attrs = String::with_capacity(rec.fields.len() * 32);
    if removed_in_extra.is_empty() {
        jsonobj::write_object(&mut record_attrs, &rec, &removed_in_record, &[]);
    } else {
        let mut extra_attrs = String::new();
        if let Some(extra) = rec.get("extra").and_then(Obj::from_raw) {
            jsonobj::write_object(&mut extra_attrs, &extra, &removed_in_extra, &[]);
        }
        removed_in_record.push(FieldPath::Top("extra"));
        jsonobj::write_object(
            &mut record_attrs,
            &rec,
            &removed_in_record,
            &[("extra", &extra_attrs)],
        );
    }
    let mut attrs = String::with_capacity(record_attrs.len() + 256);
    jsonobj::write_object(
        &mut attrs,
        o,
        &[FieldPath::Top("record")],
        &[("record", &record_attrs)],
    );
    Some(Mapped {
        ts,
        level,
        message,
        format: Format::Loguru,
        strong: true,
        flags: fl,
        trace_id,
        span_id,
        parent_span_id,
        attrs,
    })
}

/// Serilog CLEF: `@t` time, `@l` level (absent means Information), `@m` rendered message or
/// `@mt` template rendered here from the record's properties, `@x` exception, `@tr`/`@sp` ids.
fn map_clef(o: &Obj<'_>, cx: &Context) -> Mapped {
    let mut removed = Vec::new();
    let mut fl = 0u32;
    let t = o.get("@t").and_then(|v| time_from_raw(v, cx.year_hint));
    if t.is_some() {
        removed.push(FieldPath::Top("@t"));
    }
    let ts = resolve_time(t, cx, &mut fl);
    let level = o
        .get("@l")
        .and_then(|v| level_from_raw(v, LevelScale::Bunyan))
        .unwrap_or(Level::Info);
    let message = match o.str("@m") {
        Some(m) => {
            removed.push(FieldPath::Top("@m"));
            m.into_owned()
        }
        None => o
            .str("@mt")
            .map(|t| render_template(&t, o))
            .unwrap_or_default(),
    };
    let trace_id = o.get("@tr").and_then(id_from_raw);
    if trace_id.is_some() {
        removed.push(FieldPath::Top("@tr"));
    }
    let span_id = o.get("@sp").and_then(id_from_raw);
    if span_id.is_some() {
        removed.push(FieldPath::Top("@sp"));
    }
    let mut attrs = String::new();
    jsonobj::write_object(&mut attrs, o, &removed, &[]);
    Mapped {
        ts,
        level,
        message,
        format: Format::Clef,
        strong: true,
        flags: fl,
        trace_id,
        span_id,
        parent_span_id: None,
        attrs,
    }
}

/// Renders a Serilog message template: `{Name}`, `{@Name}`, `{$Name}`, `{Name:format}`,
/// `{Name,align}`; `{{` and `}}` are literal braces. Strings render quoted as Serilog does,
/// unless the `:l` (literal) format is given. A hole with no property stays as written.
pub fn render_template(template: &str, props: &Obj<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            out.push('}');
            rest = after;
            continue;
        }
        let Some(end) = tail.find('}') else {
            out.push_str(tail);
            return out;
        };
        let hole = &tail[1..end];
        let name_part = hole.trim_start_matches(['@', '$']);
        let (name, format) = match name_part.split_once(':') {
            Some((n, f)) => (n, Some(f)),
            None => (name_part, None),
        };
        let name = name.split(',').next().unwrap_or(name);
        match props.get(name) {
            Some(v) => match as_str(v) {
                Some(s) if format.is_some_and(|f| f.contains('l')) => out.push_str(&s),
                Some(_) => out.push_str(v.get()),
                None => out.push_str(v.get()),
            },
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx() -> Context {
        Context {
            year_hint: 2024,
            fallback_ts: 7,
            dominant: None,
        }
    }

    fn map(line: &str) -> Mapped {
        map_object(&Obj::parse(line).unwrap(), &cx())
    }

    #[test]
    fn zap_production() {
        let m = map(
            r#"{"level":"error","ts":1717243200.570041,"caller":"a.go:1","msg":"boom","trace_id":"ABCDEF0123456789abcdef0123456789","n":1}"#,
        );
        assert_eq!(m.format, Format::Zap);
        assert_eq!(m.level, Level::Error);
        assert_eq!(m.ts, 1_717_243_200_570_041_000);
        assert_eq!(m.message, "boom");
        assert_eq!(
            m.trace_id.as_deref(),
            Some("abcdef0123456789abcdef0123456789")
        );
        assert_eq!(m.attrs, r#"{"level":"error","caller":"a.go:1","n":1}"#);
    }

    #[test]
    fn pino_and_bunyan_numeric_levels() {
        let p = map(r#"{"level":30,"time":1717243200570,"pid":1,"hostname":"h","msg":"hi"}"#);
        assert_eq!((p.format, p.level), (Format::Pino, Level::Info));
        assert_eq!(p.ts, 1_717_243_200_570_000_000);
        let b = map(
            r#"{"name":"s","pid":1,"hostname":"h","level":55,"msg":"m","time":"2012-02-08T22:56:55.856Z","v":0}"#,
        );
        assert_eq!((b.format, b.level), (Format::Bunyan, Level::Error));
        assert!(b.attrs.contains(r#""level":55"#));
    }

    #[test]
    fn clef_renders_template() {
        let c = map(r#"{"@t":"2016-06-07T03:44:57.8532799Z","@mt":"Hello, {User}","User":"nb"}"#);
        assert_eq!(c.format, Format::Clef);
        assert_eq!(c.message, "Hello, \"nb\"");
        assert_eq!(c.level, Level::Info);
        assert_eq!(c.flags, 0);
        let c = map(
            r#"{"@t":"2017-04-20T04:24:47Z","@mt":"Loop {Counter} {{x}} {Missing}","Counter":3,"@l":"Warning"}"#,
        );
        assert_eq!(c.message, "Loop 3 {x} {Missing}");
        assert_eq!(c.level, Level::Warn);
    }

    #[test]
    fn loguru_nested() {
        let l = map(
            r#"{"text":"t\n","record":{"extra":{"trace_id":"f9af","k":1},"level":{"icon":"i","name":"WARNING","no":30},"message":"m","time":{"repr":"2024-06-01 12:00:00+00:00","timestamp":1717243200.5}}}"#,
        );
        assert_eq!(l.format, Format::Loguru);
        assert_eq!(l.level, Level::Warn);
        assert_eq!(l.ts, 1_717_243_200_500_000_000);
        assert_eq!(l.trace_id.as_deref(), Some("f9af"));
        let v: serde_json::Value = serde_json::from_str(&l.attrs).unwrap();
        assert_eq!(v["record"]["extra"], serde_json::json!({"k": 1}));
        assert!(v["record"].get("message").is_none());
        assert_eq!(v["text"], "t\n");
    }

    #[test]
    fn ecs_nested_and_dotted() {
        let e = map(
            r#"{"@timestamp":"2026-11-20T21:53:26.257Z","log.level":"info","message":"agent step","span":{"id":"00f067aa0ba902b7"},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"}}"#,
        );
        assert_eq!(e.format, Format::Ecs);
        assert_eq!(e.span_id.as_deref(), Some("00f067aa0ba902b7"));
        assert_eq!(
            e.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(e.attrs, r#"{"log.level":"info"}"#);
    }

    #[test]
    fn events_without_level_infer_failure() {
        let e = map(
            r#"{"timestamp":"2024-06-01T12:00:04.865668","event":"tool_execution","success":false,"error":"OperationalError"}"#,
        );
        assert_eq!(e.format, Format::AgentEvents);
        assert_eq!(e.level, Level::Error);
        assert_eq!(e.flags, flags::LEVEL_MISSING | flags::TIME_ASSUMED_UTC);
        assert_eq!(e.message, "tool_execution");
    }

    #[test]
    fn zap_development_encoder() {
        let z = map(
            r#"{"L":"WARN","T":"2024-06-01T12:00:00.123+0200","N":"agent","C":"main.go:9","M":"slow tool","S":"stack"}"#,
        );
        assert_eq!(z.format, Format::ZapDevelopment);
        assert_eq!(z.level, Level::Warn);
        assert_eq!(z.message, "slow tool");
        assert_eq!(z.ts, 1_717_236_000_123_000_000);
    }

    #[test]
    fn hand_written_loguru_sink() {
        let l = map(
            r#"{"timestamp":"2024-06-01T12:00:00.5+00:00","level":"SUCCESS","message":"done","module":"runner","function":"run","line":57,"extra":{"trace_id":"abc123","span_id":"def4"}}"#,
        );
        assert_eq!(l.format, Format::LoguruSink);
        assert_eq!(l.level, Level::Info);
        assert_eq!(l.trace_id.as_deref(), Some("abc123"));
        assert_eq!(l.span_id.as_deref(), Some("def4"));
        let v: serde_json::Value = serde_json::from_str(&l.attrs).unwrap();
        assert!(v.get("extra").is_none(), "emptied extra dropped: {v}");
        assert_eq!(v["module"], "runner");
    }

    #[test]
    fn clef_exception_level_and_ids() {
        let c = map(
            r#"{"@t":"2024-06-01T12:00:00Z","@m":"failed","@l":"Error","@x":"System.Exception: boom","@tr":"4BF92F3577B34DA6A3CE929D0E0E4736","@sp":"00f067aa0ba902b7","@i":"a1b2"}"#,
        );
        assert_eq!(c.level, Level::Error);
        assert_eq!(
            c.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        let v: serde_json::Value = serde_json::from_str(&c.attrs).unwrap();
        assert_eq!(v["@x"], "System.Exception: boom");
        assert_eq!(v["@l"], "Error");
        assert!(v.get("@tr").is_none());
    }

    #[test]
    fn generic_heuristics_and_docker() {
        let g = map(r#"{"date":"2024-06-01T12:00:00Z","severity":"CRITICAL","text":"disk full"}"#);
        assert_eq!((g.level, g.message.as_str()), (Level::Fatal, "disk full"));
        assert_eq!(g.ts, 1_717_243_200_000_000_000);
        let d =
            map(r#"{"log":"hello\n","stream":"stderr","time":"2024-06-01T12:00:00.000000001Z"}"#);
        assert_eq!(d.format, Format::DockerJson);
        assert_eq!(d.message, "hello\n");
        assert_eq!(d.ts, 1_717_243_200_000_000_001);
        let py = map(r#"{"created":1717243200.25,"levelno":40,"msg":"x"}"#);
        assert_eq!(py.level, Level::Error);
        assert_eq!(py.ts, 1_717_243_200_250_000_000);
    }

    #[test]
    fn unknown_object_is_kept() {
        let e = map(r#"{"foo":"bar","count":3}"#);
        assert_eq!(e.format, Format::Json);
        assert_eq!(e.ts, 7);
        assert_eq!(e.flags, flags::TIME_MISSING | flags::LEVEL_MISSING);
        assert_eq!(e.attrs, r#"{"foo":"bar","count":3}"#);
    }

    #[test]
    fn tracing_fields_message() {
        let t = map(
            r#"{"timestamp":"fake time","level":"INFO","span":{"name":"s"},"target":"x","fields":{"message":"some json test"}}"#,
        );
        assert_eq!(t.format, Format::Tracing);
        assert_eq!(t.message, "some json test");
        assert_eq!(t.flags, flags::TIME_MISSING);
        assert!(t.attrs.contains("fake time"));
        assert!(!t.attrs.contains("fields"));
    }

    #[test]
    fn otel_python_ids() {
        let t = map(
            r#"{"body":"x","severity_number":17,"severity_text":"ERROR","timestamp":"2025-01-31T12:29:57.187259Z","trace_id":"0x00000000000000000000000000000000","span_id":"0x00f067aa0ba902b7"}"#,
        );
        assert_eq!(t.format, Format::OtelPython);
        assert_eq!(t.level, Level::Error);
        assert_eq!(t.trace_id, None);
        assert_eq!(t.span_id.as_deref(), Some("00f067aa0ba902b7"));
    }
}
