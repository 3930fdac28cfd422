//! OpenTelemetry OTLP/JSON log exports (`ExportLogsServiceRequest`: resourceLogs ->
//! scopeLogs -> logRecords), as the collector's file exporter and the SDKs write them.
//!
//! One request holds many records, so one unit yields many [`Mapped`]s. Attributes arrive as
//! `[{key, value: AnyValue}]` lists and are flattened into plain JSON objects; resource and
//! scope attributes are kept beside the record's own. Trace and span ids are hex per the
//! spec; base64 (as protobuf's JSON mapping writes bytes) is accepted too. Traces and metrics
//! requests are recognised here so that ingest can say they are not logs.

use serde_json::{Map, Value};

use super::json_logs::Mapped;
use super::levels::{LevelScale, level_from_name, level_from_number};
use super::timestamp::{parse_epoch_number, parse_time_str};
use crate::model::{Format, Level, flags};

/// Converts an OTLP `AnyValue` (`{"stringValue": ..}`, `{"kvlistValue": {"values": [..]}}`...)
/// to plain JSON.
pub fn any_value(v: &Value) -> Value {
    let Some(o) = v.as_object() else {
        return v.clone();
    };
    if let Some(s) = o.get("stringValue") {
        return s.clone();
    }
    if let Some(b) = o.get("boolValue") {
        return b.clone();
    }
    if let Some(i) = o.get("intValue") {
        // int64 arrives as a string (proto3 JSON) or a number.
        return match i {
            Value::String(s) => s
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| i.clone()),
            other => other.clone(),
        };
    }
    if let Some(d) = o.get("doubleValue") {
        return match d {
            Value::String(s) => s
                .parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                .unwrap_or_else(|| d.clone()),
            other => other.clone(),
        };
    }
    if let Some(a) = o.get("arrayValue") {
        let values = a.get("values").and_then(Value::as_array);
        return Value::Array(
            values
                .map(|vs| vs.iter().map(any_value).collect())
                .unwrap_or_default(),
        );
    }
    if let Some(kv) = o.get("kvlistValue") {
        return Value::Object(key_values(kv.get("values")));
    }
    if let Some(b) = o.get("bytesValue") {
        return b.clone();
    }
    if o.is_empty() {
        return Value::Null;
    }
    v.clone()
}

/// `[{key, value}]` to a JSON object.
pub fn key_values(list: Option<&Value>) -> Map<String, Value> {
    let mut m = Map::new();
    for kv in list.and_then(Value::as_array).into_iter().flatten() {
        if let Some(k) = kv.get("key").and_then(Value::as_str) {
            m.insert(
                k.to_owned(),
                kv.get("value").map(any_value).unwrap_or(Value::Null),
            );
        }
    }
    m
}

/// A trace or span id as lowercase hex: hex as given, or base64 decoded. Empty or all-zero
/// ids (no context) are `None`.
pub fn otlp_id(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim();
    if s.is_empty() {
        return None;
    }
    let hex = if s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        s.to_ascii_lowercase()
    } else {
        let bytes = base64_decode(s)?;
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    if hex.bytes().all(|b| b == b'0') {
        None
    } else {
        Some(hex)
    }
}

pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn time_ns(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => parse_epoch_number(s)
            .or_else(|| parse_time_str(s, 1970))
            .map(|t| t.ns),
        Value::Number(n) => parse_epoch_number(&n.to_string()).map(|t| t.ns),
        _ => None,
    }
}

/// Maps an `ExportLogsServiceRequest` object to records.
pub fn map_logs_request(req: &Value, fallback_ts: i64) -> Vec<Mapped> {
    let mut out = Vec::new();
    let mut last_ts = fallback_ts;
    for rl in req
        .get("resourceLogs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let resource = key_values(rl.pointer("/resource/attributes"));
        for sl in rl
            .get("scopeLogs")
            .or_else(|| rl.get("instrumentationLibraryLogs"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let scope_v = sl.get("scope").or_else(|| sl.get("instrumentationLibrary"));
            let mut scope = Map::new();
            if let Some(sv) = scope_v {
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
            for lr in sl
                .get("logRecords")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let mut fl = 0;
                let ts = match time_ns(lr.get("timeUnixNano"))
                    .filter(|t| *t != 0)
                    .or_else(|| time_ns(lr.get("observedTimeUnixNano")).filter(|t| *t != 0))
                {
                    Some(t) => t,
                    None => {
                        fl |= flags::TIME_MISSING;
                        last_ts
                    }
                };
                last_ts = ts;
                let level = lr
                    .get("severityNumber")
                    .and_then(|n| match n {
                        Value::Number(n) => n.as_f64(),
                        Value::String(s) => severity_number_name(s),
                        _ => None,
                    })
                    .and_then(|n| level_from_number(n, LevelScale::Otel))
                    .or_else(|| {
                        lr.get("severityText")
                            .and_then(Value::as_str)
                            .and_then(level_from_name)
                    })
                    .unwrap_or_else(|| {
                        fl |= flags::LEVEL_MISSING;
                        Level::Info
                    });
                let message = match lr.get("body").map(any_value) {
                    Some(Value::String(s)) => s,
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let mut attrs = Map::new();
                let own = key_values(lr.get("attributes"));
                if !own.is_empty() {
                    attrs.insert("attributes".to_owned(), Value::Object(own));
                }
                if let Some(obj) = lr.as_object() {
                    for (k, v) in obj {
                        if !matches!(
                            k.as_str(),
                            "timeUnixNano" | "body" | "attributes" | "traceId" | "spanId"
                        ) {
                            attrs.insert(k.clone(), v.clone());
                        }
                    }
                }
                if let Some(Value::Object(b)) = lr.get("body").map(any_value) {
                    attrs.insert("body".to_owned(), Value::Object(b));
                }
                if !resource.is_empty() {
                    attrs.insert("resource".to_owned(), Value::Object(resource.clone()));
                }
                if !scope.is_empty() {
                    attrs.insert("scope".to_owned(), Value::Object(scope.clone()));
                }
                out.push(Mapped {
                    ts,
                    level,
                    message,
                    format: Format::OtlpLogs,
                    strong: true,
                    flags: fl,
                    trace_id: otlp_id(lr.get("traceId")),
                    span_id: otlp_id(lr.get("spanId")),
                    parent_span_id: None,
                    attrs: Value::Object(attrs).to_string(),
                });
            }
        }
    }
    out
}

/// `"SEVERITY_NUMBER_ERROR"` (enum names, as some exporters write them) to its number.
fn severity_number_name(s: &str) -> Option<f64> {
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let name = s.strip_prefix("SEVERITY_NUMBER_")?;
    let (base, off) = match name.char_indices().find(|(_, c)| c.is_ascii_digit()) {
        Some((i, _)) => (&name[..i], name[i..].parse::<f64>().ok()? - 1.0),
        None => (name, 0.0),
    };
    let b = match base {
        "TRACE" => 1.0,
        "DEBUG" => 5.0,
        "INFO" => 9.0,
        "WARN" => 13.0,
        "ERROR" => 17.0,
        "FATAL" => 21.0,
        _ => return None,
    };
    Some(b + off)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_hex_and_base64() {
        let hex = Value::from("5B8EFFF798038103D269B633813FC60C");
        assert_eq!(
            otlp_id(Some(&hex)).as_deref(),
            Some("5b8efff798038103d269b633813fc60c")
        );
        let b64 = Value::from("W47/95gDgQPSabYzgT/GDA==");
        assert_eq!(
            otlp_id(Some(&b64)).as_deref(),
            Some("5b8efff798038103d269b633813fc60c")
        );
        assert_eq!(otlp_id(Some(&Value::from("0000000000000000"))), None);
    }

    #[test]
    fn severity_names() {
        assert_eq!(severity_number_name("SEVERITY_NUMBER_ERROR"), Some(17.0));
        assert_eq!(severity_number_name("SEVERITY_NUMBER_WARN3"), Some(15.0));
    }
}
