//! The record kinds every source is turned into, and the small value types they share.
//!
//! Issue-by-issue the engine grows `Span` and `Sample` beside [`LogRecord`]; all three keep
//! time as integer Unix nanoseconds (UTC), so ordering and range filters are integer
//! comparisons and nothing depends on the machine's time zone.

use serde::Serialize;

/// Normalized severity. The original spelling or number stays in the record's attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Fatal = 5,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    pub fn from_i64(n: i64) -> Option<Level> {
        Level::ALL.get(usize::try_from(n).ok()?).copied()
    }

    /// Parses a normalized name as the CLI accepts it (`warn`, `warning`, `err`...).
    pub fn parse_name(s: &str) -> Option<Level> {
        crate::ingest::levels::level_from_name(s)
    }
}

/// The log dialect a record was recognised as. The numbers are stored in the workspace:
/// never renumber, only append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Json = 0,
    Zap = 1,
    ZapDevelopment = 2,
    Logrus = 3,
    Slog = 4,
    Pino = 5,
    Bunyan = 6,
    Loguru = 7,
    LoguruSink = 8,
    Structlog = 9,
    PythonJsonLogger = 10,
    Tracing = 11,
    Clef = 12,
    Ecs = 13,
    OtlpLogs = 14,
    OtelPython = 15,
    AgentEvents = 16,
    DockerJson = 17,
    OtlpTraces = 18,
    Langfuse = 19,
    LangSmith = 20,
    PromText = 21,
    OpenMetrics = 22,
    OtlpMetrics = 23,
}

impl Format {
    pub const ALL: [Format; 24] = [
        Format::Json,
        Format::Zap,
        Format::ZapDevelopment,
        Format::Logrus,
        Format::Slog,
        Format::Pino,
        Format::Bunyan,
        Format::Loguru,
        Format::LoguruSink,
        Format::Structlog,
        Format::PythonJsonLogger,
        Format::Tracing,
        Format::Clef,
        Format::Ecs,
        Format::OtlpLogs,
        Format::OtelPython,
        Format::AgentEvents,
        Format::DockerJson,
        Format::OtlpTraces,
        Format::Langfuse,
        Format::LangSmith,
        Format::PromText,
        Format::OpenMetrics,
        Format::OtlpMetrics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Zap => "zap",
            Format::ZapDevelopment => "zap-development",
            Format::Logrus => "logrus",
            Format::Slog => "slog",
            Format::Pino => "pino",
            Format::Bunyan => "bunyan",
            Format::Loguru => "loguru",
            Format::LoguruSink => "loguru-sink",
            Format::Structlog => "structlog",
            Format::PythonJsonLogger => "python-json-logger",
            Format::Tracing => "tracing",
            Format::Clef => "clef",
            Format::Ecs => "ecs",
            Format::OtlpLogs => "otlp-logs",
            Format::OtelPython => "otel-python",
            Format::AgentEvents => "agent-events",
            Format::DockerJson => "docker-json",
            Format::OtlpTraces => "otlp-traces",
            Format::Langfuse => "langfuse",
            Format::LangSmith => "langsmith",
            Format::PromText => "prometheus-text",
            Format::OpenMetrics => "openmetrics",
            Format::OtlpMetrics => "otlp-metrics",
        }
    }

    pub fn from_i64(n: i64) -> Option<Format> {
        Format::ALL.get(usize::try_from(n).ok()?).copied()
    }
}

/// A file's format from its records per dialect: the dominant dialect when it has at least
/// 80% of the records, else `mixed`; `None` without records. The ingest report and the
/// sources list both say it this way.
pub fn file_format(counts: impl IntoIterator<Item = (Format, u64)>) -> Option<String> {
    let mut total = 0u64;
    let mut per: std::collections::BTreeMap<Format, u64> = Default::default();
    for (f, n) in counts {
        total += n;
        *per.entry(f).or_default() += n;
    }
    let (f, n) = per.iter().max_by_key(|(_, n)| **n)?;
    Some(if *n * 5 >= total * 4 {
        f.as_str().to_owned()
    } else {
        "mixed".to_owned()
    })
}

/// How much of a record's time is known. Stored as bit flags in `logs.flags`.
pub mod flags {
    /// The time had no UTC offset; it was taken as UTC.
    pub const TIME_ASSUMED_UTC: u32 = 1;
    /// The record had no usable time; it carries the time of the record before it
    /// (or the file's modification time when it is the first).
    pub const TIME_MISSING: u32 = 2;
    /// The time had no year (syslog style); the year of the file's modification time is used.
    pub const TIME_NO_YEAR: u32 = 4;
    /// The record had no level; `info` was assumed (or `error` from a failure marker).
    pub const LEVEL_MISSING: u32 = 8;
}

/// One log record, normalized. `attrs` is a JSON object (text) with everything of the source
/// record that is not in the other fields, original level spelling included.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    pub ts: i64,
    pub level: Level,
    pub message: String,
    pub format: Format,
    pub flags: u32,
    pub line: u64,
    pub byte_offset: u64,
    pub byte_len: u32,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub attrs: String,
}

/// What a span does in an agent run. Stored as its number: never renumber, only append.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    #[default]
    Other = 0,
    Agent = 1,
    Llm = 2,
    Tool = 3,
    Chain = 4,
    Retriever = 5,
}

impl SpanKind {
    pub const ALL: [SpanKind; 6] = [
        SpanKind::Other,
        SpanKind::Agent,
        SpanKind::Llm,
        SpanKind::Tool,
        SpanKind::Chain,
        SpanKind::Retriever,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Other => "other",
            SpanKind::Agent => "agent",
            SpanKind::Llm => "llm",
            SpanKind::Tool => "tool",
            SpanKind::Chain => "chain",
            SpanKind::Retriever => "retriever",
        }
    }
    pub fn from_i64(n: i64) -> SpanKind {
        usize::try_from(n)
            .ok()
            .and_then(|i| SpanKind::ALL.get(i).copied())
            .unwrap_or(SpanKind::Other)
    }
}

/// A span's outcome, as OTLP's status code: unset, ok, error.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SpanStatus {
    Unset = 0,
    Ok = 1,
    Error = 2,
}

impl SpanStatus {
    pub fn from_i64(n: i64) -> SpanStatus {
        match n {
            1 => SpanStatus::Ok,
            2 => SpanStatus::Error,
            _ => SpanStatus::Unset,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SpanStatus::Unset => "unset",
            SpanStatus::Ok => "ok",
            SpanStatus::Error => "error",
        }
    }
}

/// One span, normalized. A span can arrive whole (OTLP, an export) or in fragments (the log
/// lines of one operation: "started", "completed" with a duration...); fragments of the same
/// `(trace_id, span_id)` are merged by the writer with [`Span::merge`].
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: SpanKind,
    pub start_ns: i64,
    pub end_ns: i64,
    pub status: SpanStatus,
    pub status_message: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cache_read_tokens: Option<i64>,
    pub cache_write_tokens: Option<i64>,
    /// USD: as the source states it, else computed from the tokens and the price file.
    pub cost: Option<f64>,
    /// The price entry a computed cost came from (`None`: the data stated the cost, or there
    /// is none).
    pub price_ref: Option<String>,
    pub tool_name: Option<String>,
    /// The format the span came from.
    pub format: Format,
    /// True for a whole span (OTLP, exports); false for a fragment taken from a log line.
    pub whole: bool,
    /// Line of the source where the span (or its first fragment) is.
    pub line: u64,
    /// JSON object: `attributes`, `resource`, `scope`, `events`, `links` and anything else
    /// of the source that is not in the fields above.
    pub attrs: String,
}

impl Span {
    /// Folds `other` (a later fragment or a whole span of the same ids) into `self`.
    ///
    /// A whole span wins over fragments for its times, name and kind; fragments widen each
    /// other's time range and fill what is missing; an error anywhere makes the span an error.
    pub fn merge(&mut self, other: Span) {
        let take_other = other.whole && !self.whole;
        if take_other {
            self.start_ns = other.start_ns;
            self.end_ns = other.end_ns;
            self.name = other.name.clone();
            self.kind = other.kind;
            self.whole = true;
            self.format = other.format;
        } else if !self.whole {
            self.start_ns = self.start_ns.min(other.start_ns);
            self.end_ns = self.end_ns.max(other.end_ns);
            if self.kind == SpanKind::Other && other.kind != SpanKind::Other {
                self.kind = other.kind;
                self.name = other.name.clone();
            }
        }
        self.status = self.status.max(other.status);
        fn fill<T>(a: &mut Option<T>, b: Option<T>) {
            if a.is_none() {
                *a = b;
            }
        }
        fill(&mut self.parent_span_id, other.parent_span_id);
        fill(&mut self.status_message, other.status_message);
        fill(&mut self.provider, other.provider);
        fill(&mut self.model, other.model);
        fill(&mut self.input_tokens, other.input_tokens);
        fill(&mut self.output_tokens, other.output_tokens);
        fill(&mut self.cache_read_tokens, other.cache_read_tokens);
        fill(&mut self.cache_write_tokens, other.cache_write_tokens);
        // A cost the data states beats one computed from a price.
        if other.cost.is_some() && other.price_ref.is_none() && self.price_ref.is_some() {
            self.cost = other.cost;
            self.price_ref = None;
        }
        if self.cost.is_none() {
            self.cost = other.cost;
            self.price_ref = other.price_ref;
        }
        fill(&mut self.tool_name, other.tool_name);
        self.line = self.line.min(other.line);
        self.attrs = merge_attrs(&self.attrs, &other.attrs, take_other);
    }
}

/// Union of two JSON objects (text); on a shared key the preferred side wins.
fn merge_attrs(a: &str, b: &str, prefer_b: bool) -> String {
    use serde_json::{Map, Value};
    let parse = |s: &str| match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let (mut base, over) = if prefer_b {
        (parse(a), parse(b))
    } else {
        (parse(b), parse(a))
    };
    if over.is_empty() {
        return Value::Object(base).to_string();
    }
    for (k, v) in over {
        base.insert(k, v);
    }
    Value::Object(base).to_string()
}

/// Formats Unix nanoseconds as RFC 3339 UTC with nine fraction digits:
/// `2024-06-01T12:00:00.123456789Z`.
pub fn format_rfc3339_nanos(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01, proleptic Gregorian.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_numbers() {
        assert_eq!(format_rfc3339_nanos(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            format_rfc3339_nanos(1_717_243_200_570_041_000),
            "2024-06-01T12:00:00.570041000Z"
        );
        assert_eq!(format_rfc3339_nanos(-1), "1969-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 59, 365, 11_016, 19_875, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }
}

/// One sample of a metric series, as written to the workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSample {
    /// The series' metric name (`__name__`).
    pub metric: String,
    /// The other labels, sorted by name, no empty values.
    pub labels: Vec<(String, String)>,
    /// Unix milliseconds.
    pub t_ms: i64,
    pub value: f64,
}

/// A metric family's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricMeta {
    /// The family name (`http_requests` for `http_requests_total`, `_bucket`…).
    pub family: String,
    /// The sample names that belong to it.
    pub metrics: Vec<String>,
    pub kind: &'static str,
    pub help: String,
    pub unit: String,
    /// Computed by Sightline from logs and spans, not scraped.
    pub derived: bool,
}

/// Labels in the canonical order the workspace keys series by (sorted, non-empty values).
pub fn canonical_labels(mut labels: Vec<(String, String)>) -> Vec<(String, String)> {
    labels.retain(|(k, v)| !v.is_empty() && k != "__name__");
    labels.sort();
    labels.dedup_by(|a, b| a.0 == b.0);
    labels
}

/// The wall clock in Unix nanoseconds (0 if the clock is before 1970).
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// The wall clock in Unix milliseconds (metric sample and alert times).
pub fn now_ms() -> i64 {
    now_ns() / 1_000_000
}
