//! OTLP/JSON trace exports (`ExportTraceServiceRequest`: resourceSpans -> scopeSpans ->
//! spans) to [`Span`]s.
//!
//! The request is walked with borrowed raw values and each span is decoded on its own, so a
//! bad span (a malformed id, an end before its start, a field of the wrong type) is reported
//! with its position and reason while every good span of the same request still loads.
//! Ids may be hex (the OTLP/JSON rule) or base64 (protobuf's JSON mapping of bytes); int64
//! values may be strings or numbers. Resource and scope attributes, events (exceptions) and
//! links are kept in the span's attributes.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::SkipReason;
use super::genai::{Semantics, int_of};
use super::otlp::key_values;
use super::timestamp::parse_epoch_number;
use crate::model::{Format, Span, SpanKind, SpanStatus};

/// One span (or one attribute) that could not be taken as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub reason: SkipReason,
    pub detail: String,
}

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(rename = "resourceSpans", default, borrow)]
    resource_spans: Vec<ResourceSpans<'a>>,
}

#[derive(Deserialize)]
struct ResourceSpans<'a> {
    #[serde(default)]
    resource: Option<Value>,
    #[serde(
        rename = "scopeSpans",
        alias = "instrumentationLibrarySpans",
        default,
        borrow
    )]
    scope_spans: Vec<ScopeSpans<'a>>,
}

#[derive(Deserialize)]
struct ScopeSpans<'a> {
    #[serde(default, alias = "instrumentationLibrary")]
    scope: Option<Value>,
    #[serde(default, borrow)]
    spans: Vec<&'a RawValue>,
}

/// Decodes an id of `bytes` bytes: hex of the right length, or base64 of it. `Ok(None)` for
/// an absent, empty or all-zero id; `Err` with what is wrong otherwise.
pub fn decode_id(v: Option<&Value>, bytes: usize) -> Result<Option<String>, String> {
    let s = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim(),
        Some(other) => return Err(format!("not a string: {other}")),
    };
    if s.is_empty() {
        return Ok(None);
    }
    let s = s.strip_prefix("0x").unwrap_or(s);
    let hex = if s.len() == bytes * 2 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        s.to_ascii_lowercase()
    } else {
        match super::otlp::base64_decode(s) {
            Some(b) if b.len() == bytes => b.iter().map(|x| format!("{x:02x}")).collect(),
            _ => {
                return Err(format!(
                    "{s:?} is neither {} hex digits nor base64 of {bytes} bytes",
                    bytes * 2
                ));
            }
        }
    };
    Ok(if hex.bytes().all(|b| b == b'0') {
        None
    } else {
        Some(hex)
    })
}

/// A `*UnixNano` value: a decimal string or number of nanoseconds.
fn unix_nano(v: Option<&Value>) -> Result<Option<i64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).or_else(|_| {
            parse_epoch_number(s)
                .map(|t| Some(t.ns))
                .ok_or_else(|| format!("{s:?} is not a time"))
        }),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_u64().and_then(|u| i64::try_from(u).ok()))
            .map(Some)
            .ok_or_else(|| format!("{n} is not a time in nanoseconds")),
        Some(other) => Err(format!("{other} is not a time")),
    }
}

/// AnyValue keys the spec defines.
const ANY_VALUE_KEYS: &[&str] = &[
    "stringValue",
    "boolValue",
    "intValue",
    "doubleValue",
    "arrayValue",
    "kvlistValue",
    "bytesValue",
];

/// Attributes of a span, with the keys whose value has a type the spec does not define.
fn attributes(list: Option<&Value>, unknown: &mut Vec<String>) -> Map<String, Value> {
    for kv in list.and_then(Value::as_array).into_iter().flatten() {
        if let Some(Value::Object(v)) = kv.get("value")
            && !v.is_empty()
            && !v.keys().any(|k| ANY_VALUE_KEYS.contains(&k.as_str()))
        {
            unknown.push(
                kv.get("key")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
            );
        }
    }
    let mut m = key_values(list);
    for k in unknown.iter() {
        m.remove(k);
    }
    m
}

fn scope_object(sv: Option<&Value>) -> Map<String, Value> {
    let mut scope = Map::new();
    if let Some(sv) = sv {
        for k in ["name", "version"] {
            if let Some(x) = sv.get(k) {
                scope.insert(k.to_owned(), x.clone());
            }
        }
        let sa = key_values(sv.get("attributes"));
        if !sa.is_empty() {
            scope.insert("attributes".to_owned(), Value::Object(sa));
        }
    }
    scope
}

fn otlp_span_kind(v: Option<&Value>) -> Option<&'static str> {
    let n = match v? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => match s
            .trim_start_matches("SPAN_KIND_")
            .to_ascii_uppercase()
            .as_str()
        {
            "INTERNAL" => 1,
            "SERVER" => 2,
            "CLIENT" => 3,
            "PRODUCER" => 4,
            "CONSUMER" => 5,
            _ => s.parse().ok()?,
        },
        _ => return None,
    };
    Some(match n {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => return None,
    })
}

fn status_of(v: Option<&Value>) -> (SpanStatus, Option<String>) {
    let Some(st) = v else {
        return (SpanStatus::Unset, None);
    };
    let code = match st.get("code") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => match s
            .trim_start_matches("STATUS_CODE_")
            .to_ascii_uppercase()
            .as_str()
        {
            "OK" => 1,
            "ERROR" => 2,
            other => other.parse().unwrap_or(0),
        },
        _ => 0,
    };
    let msg = st
        .get("message")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    (SpanStatus::from_i64(code), msg)
}

/// Fills a span's GenAI fields (kind, provider, model, tokens, cost) from its attributes.
pub fn apply_semantics(span: &mut Span, attrs: &Map<String, Value>) {
    let sem = Semantics::from_attrs(attrs);
    if let Some(k) = sem.kind {
        span.kind = k;
    }
    span.provider = sem.provider;
    span.model = sem.model;
    span.tool_name = sem.tool_name;
    if span.kind == SpanKind::Llm {
        span.input_tokens = sem.input_tokens;
        span.output_tokens = sem.output_tokens;
        span.cache_read_tokens = sem.cache_read_tokens;
        span.cache_write_tokens = sem.cache_write_tokens;
        span.cost = sem.cost;
    }
}

/// Maps one request. `Err` when the text is not a request at all; otherwise every span is
/// either returned or explained in the problems.
pub fn map_traces_request(
    text: &str,
    line: u64,
) -> Result<(Vec<Span>, Vec<Problem>), serde_json::Error> {
    let req: Request<'_> = serde_json::from_str(text)?;
    let mut spans = Vec::new();
    let mut problems = Vec::new();
    let mut index = 0usize;
    for rs in &req.resource_spans {
        let resource = key_values(rs.resource.as_ref().and_then(|r| r.get("attributes")));
        for ss in &rs.scope_spans {
            let scope = scope_object(ss.scope.as_ref());
            for raw in &ss.spans {
                index += 1;
                match map_span(raw, &resource, &scope, line) {
                    Ok((span, unknown)) => {
                        for k in unknown {
                            problems.push(Problem {
                                reason: SkipReason::UnknownAttributeType,
                                detail: format!(
                                    "span {index} ({}): attribute {k:?} has a value type OTLP does not define; the attribute is left out",
                                    span.span_id
                                ),
                            });
                        }
                        spans.push(span);
                    }
                    Err(why) => problems.push(Problem {
                        reason: SkipReason::InvalidSpan,
                        detail: format!("span {index}: {why}"),
                    }),
                }
            }
        }
    }
    Ok((spans, problems))
}

fn map_span(
    raw: &RawValue,
    resource: &Map<String, Value>,
    scope: &Map<String, Value>,
    line: u64,
) -> Result<(Span, Vec<String>), String> {
    let v: Value = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
    let Value::Object(o) = v else {
        return Err("not a JSON object".into());
    };
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let label = if name.is_empty() {
        String::new()
    } else {
        format!(" {name:?}")
    };
    let trace_id = decode_id(o.get("traceId"), 16)
        .map_err(|e| format!("span{label}: traceId {e}"))?
        .ok_or_else(|| format!("span{label}: no traceId"))?;
    let span_id = decode_id(o.get("spanId"), 8)
        .map_err(|e| format!("span{label}: spanId {e}"))?
        .ok_or_else(|| format!("span{label}: no spanId"))?;
    let parent_span_id = decode_id(o.get("parentSpanId"), 8)
        .map_err(|e| format!("span {span_id}{label}: parentSpanId {e}"))?;
    let start = unix_nano(o.get("startTimeUnixNano"))
        .map_err(|e| format!("span {span_id}{label}: startTimeUnixNano {e}"))?
        .filter(|t| *t != 0)
        .ok_or_else(|| format!("span {span_id}{label}: no startTimeUnixNano"))?;
    let end = unix_nano(o.get("endTimeUnixNano"))
        .map_err(|e| format!("span {span_id}{label}: endTimeUnixNano {e}"))?
        .filter(|t| *t != 0)
        .ok_or_else(|| format!("span {span_id}{label}: no endTimeUnixNano"))?;
    if end < start {
        return Err(format!(
            "span {span_id}{label}: ends {} ns before it starts",
            start - end
        ));
    }
    let mut unknown = Vec::new();
    let attrs = attributes(o.get("attributes"), &mut unknown);
    let (status, status_message) = status_of(o.get("status"));
    let mut span = Span {
        trace_id,
        span_id,
        parent_span_id,
        name,
        kind: SpanKind::Other,
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
        tool_name: None,
        format: Format::OtlpTraces,
        whole: true,
        line,
        attrs: String::new(),
    };
    apply_semantics(&mut span, &attrs);

    let mut extra = Map::new();
    extra.insert("attributes".into(), Value::Object(attrs));
    if !resource.is_empty() {
        extra.insert("resource".into(), Value::Object(resource.clone()));
    }
    if !scope.is_empty() {
        extra.insert("scope".into(), Value::Object(scope.clone()));
    }
    if let Some(k) = otlp_span_kind(o.get("kind")) {
        extra.insert("span_kind".into(), Value::from(k));
    }
    let events: Vec<Value> = o
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let mut m = Map::new();
            m.insert(
                "name".into(),
                e.get("name").cloned().unwrap_or(Value::from("")),
            );
            if let Ok(Some(t)) = unix_nano(e.get("timeUnixNano")) {
                m.insert("time_ns".into(), Value::from(t));
            }
            m.insert(
                "attributes".into(),
                Value::Object(key_values(e.get("attributes"))),
            );
            Value::Object(m)
        })
        .collect();
    if !events.is_empty() {
        extra.insert("events".into(), Value::Array(events));
    }
    let links: Vec<Value> = o
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|l| {
            serde_json::json!({
                "trace_id": decode_id(l.get("traceId"), 16).ok().flatten(),
                "span_id": decode_id(l.get("spanId"), 8).ok().flatten(),
                "attributes": key_values(l.get("attributes")),
            })
        })
        .collect();
    if !links.is_empty() {
        extra.insert("links".into(), Value::Array(links));
    }
    for k in [
        "traceState",
        "flags",
        "droppedAttributesCount",
        "droppedEventsCount",
        "droppedLinksCount",
    ] {
        if let Some(v) = o.get(k).filter(|v| !v.is_null() && int_of(v) != Some(0)) {
            extra.insert(k.into(), v.clone());
        }
    }
    span.attrs = Value::Object(extra).to_string();
    Ok((span, unknown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        let v = Value::from("EEE19B7EC3C1B174");
        assert_eq!(decode_id(Some(&v), 8), Ok(Some("eee19b7ec3c1b174".into())));
        // base64 of 8 bytes
        let b = Value::from("7uGbfsPBsXQ=");
        assert_eq!(decode_id(Some(&b), 8), Ok(Some("eee19b7ec3c1b174".into())));
        assert!(decode_id(Some(&Value::from("xyz")), 8).is_err());
        assert_eq!(decode_id(Some(&Value::from("")), 8), Ok(None));
    }

    #[test]
    fn bad_spans_are_explained_good_ones_load() {
        let text = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
          {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ok",
           "startTimeUnixNano":"10","endTimeUnixNano":20,
           "attributes":[{"key":"weird","value":{"fooValue":1}},{"key":"n","value":{"intValue":"3"}}]},
          {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"back",
           "startTimeUnixNano":"30","endTimeUnixNano":"20"},
          {"traceId":"5b8e","spanId":"eee19b7ec3c1b176","startTimeUnixNano":"1","endTimeUnixNano":"2"},
          {"traceId":"5b8efff798038103d269b633813fc60c","startTimeUnixNano":"1","endTimeUnixNano":"2"}
        ]}]}]}"#;
        let (spans, problems) = map_traces_request(text, 1).unwrap_or_default();
        assert_eq!(spans.len(), 1);
        assert!(spans[0].attrs.contains("\"n\":3"), "{}", spans[0].attrs);
        assert!(!spans[0].attrs.contains("weird"));
        let reasons: Vec<_> = problems.iter().map(|p| p.reason).collect();
        assert_eq!(
            reasons,
            [
                SkipReason::UnknownAttributeType,
                SkipReason::InvalidSpan,
                SkipReason::InvalidSpan,
                SkipReason::InvalidSpan
            ]
        );
        assert!(
            problems[1].detail.contains("before it starts"),
            "{:?}",
            problems[1]
        );
        assert!(problems[2].detail.contains("traceId"), "{:?}", problems[2]);
        assert!(
            problems[3].detail.contains("no spanId"),
            "{:?}",
            problems[3]
        );
    }
}
