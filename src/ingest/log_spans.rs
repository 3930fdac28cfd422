//! Spans carried by log lines.
//!
//! A record with a span id becomes a fragment of that span when it says something about the
//! span: a parent span id, a duration (`latency`, `duration_ms`, `execution_time`, Go
//! duration strings...) or start/end times, or what the operation is (a tool name, a model
//! with token counts, an agent or iteration field). The record's time is the end of the
//! operation when it carries a duration, otherwise one point inside it; the writer merges the
//! fragments of a span (its "started" and "completed" lines) into one.
//!
//! An agent's own run summary (`agent_execution` with a `trace` list of iterations, the shape
//! agent frameworks log at the end of a run) becomes the run's root span and one span per
//! iteration.
//!
//! Token counts and cost are taken from LLM operations only: an agent's summary line repeats
//! the run's totals, which would otherwise count twice.

use serde_json::{Map, Value};

use super::genai::{int_of, normalize_provider};
use super::json_logs::Mapped;
use super::timestamp::parse_time_str;
use crate::model::{Level, Span, SpanKind, SpanStatus};

/// Objects whose fields are the record's own fields (loguru's `record.extra`, tracing's
/// `fields`, OTel's `attributes`...).
const CONTAINERS: &[&str] = &[
    "extra",
    "fields",
    "attributes",
    "record",
    "context",
    "ctx",
    "data",
    "labels",
    "meta",
    "span",
    "props",
    "Properties",
];

/// Field lookup over a JSON object, or over a record's gathered fields.
trait Fields {
    fn field(&self, k: &str) -> Option<&Value>;
}

impl Fields for Map<String, Value> {
    fn field(&self, k: &str) -> Option<&Value> {
        self.get(k)
    }
}

/// A record's fields by reference: gathering copies nothing (log lines carry whole tool
/// outputs and prompts).
type Gathered<'a> = std::collections::HashMap<&'a str, &'a Value>;

impl Fields for Gathered<'_> {
    fn field(&self, k: &str) -> Option<&Value> {
        self.get(k).copied()
    }
}

/// The record's fields, containers flattened (outer keys win).
fn gather(attrs: &Map<String, Value>) -> Gathered<'_> {
    fn walk<'a>(m: &'a Map<String, Value>, out: &mut Gathered<'a>, depth: u32) {
        for (k, v) in m {
            match v {
                Value::Object(inner) if depth < 2 && CONTAINERS.contains(&k.as_str()) => {
                    walk(inner, out, depth + 1)
                }
                _ => {
                    out.entry(k.as_str()).or_insert(v);
                }
            }
        }
    }
    let mut out = Gathered::with_capacity(attrs.len() * 2);
    // Top-level keys first, then containers.
    for (k, v) in attrs {
        if !v.is_object() || !CONTAINERS.contains(&k.as_str()) {
            out.insert(k.as_str(), v);
        }
    }
    walk(attrs, &mut out, 0);
    out
}

/// Fields of a log line kept on the span it describes.
const SPAN_FIELDS: &[&str] = &[
    "inputs",
    "input",
    "arguments",
    "args",
    "output",
    "result",
    "observation",
    "messages",
    "prompt",
    "completion",
    "response",
    "query",
    "answer",
    "thought",
    "action",
    "error",
    "exception",
    "finish_reason",
    "attempt",
    "iteration",
    "status",
    "agent",
    "session_id",
];

fn text(f: &impl Fields, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match f.field(k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn int(f: &impl Fields, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|k| f.field(k).and_then(int_of))
}

/// A decimal number of `unit` nanoseconds, exactly (no float rounding of `1.187755` s).
fn decimal_ns(s: &str, unit: i64) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if s.contains(['e', 'E']) {
        let f: f64 = s.parse().ok()?;
        let v = (f * unit as f64).round() as i64;
        return Some(if neg { -v } else { v });
    }
    let (int_part, frac) = s.split_once('.').unwrap_or((s, ""));
    if int_part.is_empty() && frac.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    let mut v = whole.checked_mul(unit)?;
    let mut scale = unit;
    for d in frac.bytes() {
        if scale < 10 {
            break;
        }
        scale /= 10;
        v = v.checked_add(i64::from(d - b'0') * scale)?;
    }
    Some(if neg { -v } else { v })
}

/// Go's `time.Duration.String()` (`1h2m3.5s`, `250ms`, `12µs`) or a number with a unit.
fn duration_str_ns(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(v) = decimal_ns(s, 1_000_000_000) {
        return Some(v);
    }
    let mut total = 0i64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let (num, tail) = rest.split_at(num_len);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let scale = match unit.trim() {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" | "sec" | "secs" => 1_000_000_000,
            "m" | "min" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        total = total.checked_add(decimal_ns(num, scale)?)?;
        rest = next;
    }
    Some(total)
}

/// Duration keys by unit. Unsuffixed names are seconds (zap, structlog and most agent
/// frameworks log float seconds).
const DURATION_KEYS: &[(&str, i64)] = &[
    ("duration", 1_000_000_000),
    ("latency", 1_000_000_000),
    ("execution_time", 1_000_000_000),
    ("elapsed", 1_000_000_000),
    ("took", 1_000_000_000),
    ("time_taken", 1_000_000_000),
    ("duration_s", 1_000_000_000),
    ("duration_sec", 1_000_000_000),
    ("duration_seconds", 1_000_000_000),
    ("latency_s", 1_000_000_000),
    ("latency_seconds", 1_000_000_000),
    ("elapsed_s", 1_000_000_000),
    ("elapsed_seconds", 1_000_000_000),
    ("duration_ms", 1_000_000),
    ("durationMs", 1_000_000),
    ("latency_ms", 1_000_000),
    ("latencyMs", 1_000_000),
    ("elapsed_ms", 1_000_000),
    ("elapsedMs", 1_000_000),
    ("took_ms", 1_000_000),
    ("responseTime", 1_000_000),
    ("response_time_ms", 1_000_000),
    ("duration_us", 1_000),
    ("duration_ns", 1),
    ("duration_nanos", 1),
];

fn duration_ns(f: &impl Fields) -> Option<i64> {
    DURATION_KEYS
        .iter()
        .find_map(|(k, unit)| match f.field(k)? {
            Value::Number(n) => decimal_ns(&n.to_string(), *unit),
            Value::String(s) if *unit == 1_000_000_000 => duration_str_ns(s),
            Value::String(s) => decimal_ns(s, *unit),
            _ => None,
        })
        .filter(|d| *d >= 0)
}

fn time_field(f: &impl Fields, keys: &[&str], year: i64) -> Option<i64> {
    keys.iter().find_map(|k| match f.field(k)? {
        Value::String(s) => parse_time_str(s, year).map(|t| t.ns),
        Value::Number(n) => super::timestamp::parse_epoch_number(&n.to_string()).map(|t| t.ns),
        _ => None,
    })
}

fn is_failure_word(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "error"
            | "failed"
            | "failure"
            | "fail"
            | "timeout"
            | "timed_out"
            | "cancelled"
            | "exception"
    )
}

fn status_of(f: &impl Fields, level: Level) -> (SpanStatus, Option<String>) {
    let err_text = ["error", "err", "exception", "error_message"]
        .iter()
        .find_map(|k| match f.field(k)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Object(o) if !o.is_empty() => Some(Value::Object(o.clone()).to_string()),
            _ => None,
        });
    let status_word = text(f, &["status", "outcome", "result_status"]);
    let success = f.field("success").and_then(Value::as_bool);
    if err_text.is_some()
        || success == Some(false)
        || status_word.as_deref().is_some_and(is_failure_word)
        || level >= Level::Error
    {
        let msg = err_text.or_else(|| status_word.filter(|s| is_failure_word(s)));
        return (SpanStatus::Error, msg);
    }
    if success == Some(true)
        || status_word.as_deref().is_some_and(|s| {
            matches!(
                s.to_ascii_lowercase().as_str(),
                "ok" | "success" | "succeeded" | "completed"
            )
        })
    {
        return (SpanStatus::Ok, None);
    }
    (SpanStatus::Unset, None)
}

fn fnv_hex(parts: &[&str], bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    let mut seed = 0u64;
    while out.len() < bytes * 2 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
        for p in parts {
            for b in p.bytes().chain(std::iter::once(0)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        out.push_str(&format!("{h:016x}"));
        seed += 1;
    }
    out.truncate(bytes * 2);
    out
}

/// The spans a mapped log record carries (none for most records).
pub fn spans_of(m: &Mapped, line: u64, year: i64) -> Vec<Span> {
    let looks_like_summary = m.span_id.is_none() && m.attrs.contains("\"trace\"");
    if m.span_id.is_none() && !looks_like_summary {
        return Vec::new();
    }
    let attrs = match serde_json::from_str::<Value>(&m.attrs) {
        Ok(Value::Object(o)) => o,
        _ => return Vec::new(),
    };
    let f = gather(&attrs);
    let event = text(&f, &["event", "event_type", "type"]).unwrap_or_default();
    let is_summary = event == "agent_execution" || m.message == "agent_execution";
    if m.span_id.is_none() && !is_summary {
        return Vec::new();
    }
    let trace_id = m
        .trace_id
        .clone()
        .unwrap_or_else(|| fnv_hex(&[&m.ts.to_string(), &line.to_string(), &m.attrs], 16));
    let span_id = m
        .span_id
        .clone()
        .unwrap_or_else(|| fnv_hex(&[&trace_id, "root"], 8));

    let tool = text(
        &f,
        &[
            "tool_name",
            "tool",
            "tool.name",
            "gen_ai.tool.name",
            "function_name",
        ],
    );
    let model = text(
        &f,
        &[
            "model",
            "model_name",
            "llm.model_name",
            "gen_ai.request.model",
            "ls_model_name",
        ],
    );
    let no_usage = Map::new();
    let usage = f
        .field("usage")
        .and_then(Value::as_object)
        .unwrap_or(&no_usage);
    let tok = |keys: &[&str]| int(&f, keys).or_else(|| int(usage, keys));
    let input_tokens = tok(&[
        "input_tokens",
        "prompt_tokens",
        "gen_ai.usage.input_tokens",
        "llm.token_count.prompt",
    ]);
    let output_tokens = tok(&[
        "output_tokens",
        "completion_tokens",
        "gen_ai.usage.output_tokens",
        "llm.token_count.completion",
    ]);
    let iteration = int(&f, &["iteration", "step", "iteration_index"]);
    let agent = text(&f, &["agent", "agent_name", "gen_ai.agent.name"]);
    let duration = duration_ns(&f);
    let start_field = time_field(
        &f,
        &["start_time", "started_at", "startTime", "start"],
        year,
    );
    let end_field = time_field(
        &f,
        &[
            "end_time",
            "ended_at",
            "finished_at",
            "completed_at",
            "endTime",
            "end",
        ],
        year,
    );

    let kind = if is_summary
        || (m.parent_span_id.is_none()
            && (f.field("llm_calls").is_some() || f.field("iterations").is_some()))
    {
        SpanKind::Agent
    } else if event == "llm_call"
        || (model.is_some()
            && (input_tokens.is_some() || output_tokens.is_some() || f.field("provider").is_some()))
    {
        SpanKind::Llm
    } else if tool.is_some() || event == "tool_execution" {
        SpanKind::Tool
    } else if iteration.is_some() {
        SpanKind::Chain
    } else if agent.is_some() && m.parent_span_id.is_none() {
        SpanKind::Agent
    } else {
        SpanKind::Other
    };
    let says_something = m.parent_span_id.is_some()
        || duration.is_some()
        || start_field.is_some()
        || end_field.is_some()
        || kind != SpanKind::Other;
    if !says_something {
        return Vec::new();
    }

    let (start, end) = match (start_field, end_field, duration) {
        (Some(s), Some(e), _) if e >= s => (s, e),
        (Some(s), _, Some(d)) => (s, s.saturating_add(d)),
        (_, Some(e), Some(d)) => (e.saturating_sub(d), e),
        (None, None, Some(d)) => (m.ts.saturating_sub(d), m.ts),
        _ => (m.ts, m.ts),
    };
    let (status, status_message) = status_of(&f, m.level);
    let name = match kind {
        SpanKind::Llm => format!("chat {}", model.as_deref().unwrap_or("model")),
        SpanKind::Tool => format!("execute_tool {}", tool.as_deref().unwrap_or("tool")),
        SpanKind::Chain => format!("iteration {}", iteration.unwrap_or(0)),
        SpanKind::Agent => format!("agent {}", agent.as_deref().unwrap_or("run")),
        _ => m.message.chars().take(120).collect(),
    };
    let mut span = Span {
        trace_id: trace_id.clone(),
        span_id: span_id.clone(),
        parent_span_id: m.parent_span_id.clone(),
        name,
        kind,
        start_ns: start,
        end_ns: end,
        status,
        status_message,
        provider: None,
        model: None,
        input_tokens: None,
        output_tokens: None,
        cache_read_tokens: None,
        cache_write_tokens: None,
        cost: None,
        price_ref: None,
        tool_name: tool,
        format: m.format,
        whole: false,
        line,
        attrs: String::new(),
    };
    if kind == SpanKind::Llm {
        span.provider = text(&f, &["provider", "llm.provider", "gen_ai.system"])
            .map(|p| normalize_provider(&p));
        span.model = model;
        span.input_tokens = input_tokens;
        span.output_tokens = output_tokens;
        span.cache_read_tokens = tok(&[
            "cache_read_tokens",
            "cached_tokens",
            "cache_read_input_tokens",
        ]);
        span.cache_write_tokens = tok(&["cache_write_tokens", "cache_creation_input_tokens"]);
        span.cost = f
            .field("cost_usd")
            .or_else(|| f.field("cost"))
            .and_then(Value::as_f64);
    } else if kind == SpanKind::Agent {
        span.model = model;
    }
    // The span's attributes: only what the span detail reads (a call's input and output, an
    // iteration's thought and action, the error). Everything else of the line stays in the
    // log record, which is linked to the span: copying it all doubled what an ingest of span-
    // carrying logs writes, and halved its speed.
    let own: Map<String, Value> = SPAN_FIELDS
        .iter()
        .filter_map(|k| f.field(k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    let iterations = f.field("trace");
    span.attrs = Value::Object(own).to_string();

    let mut out = vec![span];
    if is_summary && let Some(Value::Array(items)) = iterations {
        let mut at = start;
        for (i, it) in items.iter().enumerate() {
            let Some(o) = it.as_object() else { continue };
            let n = o.get("iteration").and_then(int_of).unwrap_or(i as i64 + 1);
            let it_start = time_field(o, &["timestamp", "start_time", "started_at", "time"], year)
                .unwrap_or(at);
            let dur = duration_ns(o).unwrap_or(0);
            at = it_start.saturating_add(dur);
            let id = o
                .get("span_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| fnv_hex(&[&trace_id, &span_id, &n.to_string()], 8));
            let (st, msg) = status_of(o, Level::Info);
            out.push(Span {
                trace_id: trace_id.clone(),
                span_id: id,
                parent_span_id: Some(span_id.clone()),
                name: format!("iteration {n}"),
                kind: SpanKind::Chain,
                start_ns: it_start,
                end_ns: at,
                status: st,
                status_message: msg,
                provider: None,
                model: None,
                input_tokens: None,
                output_tokens: None,
                cache_read_tokens: None,
                cache_write_tokens: None,
                cost: None,
                price_ref: None,
                tool_name: None,
                format: m.format,
                whole: false,
                line,
                attrs: Value::Object(o.clone()).to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(decimal_ns("1.187755", 1_000_000_000), Some(1_187_755_000));
        assert_eq!(decimal_ns("37.5", 1_000_000), Some(37_500_000));
        assert_eq!(duration_str_ns("1m2.5s"), Some(62_500_000_000));
        assert_eq!(duration_str_ns("250ms"), Some(250_000_000));
        assert_eq!(duration_str_ns("12µs"), Some(12_000));
        assert_eq!(duration_str_ns("soon"), None);
    }
}
