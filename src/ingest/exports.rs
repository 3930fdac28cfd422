//! Traces exported by other tools: Langfuse trace exports (`{trace, observations: [...]}`)
//! and LangSmith run payloads (`{post: [...], patch: [...]}`, or one run object).
//!
//! Both become ordinary [`Span`]s: observation and run types map to span kinds, usage and
//! cost come from the export (Langfuse computed the cost; LangSmith's usage is priced from
//! the table), inputs and outputs stay in the attributes where the detail pane reads them
//! as a conversation. UUID ids lose their dashes so they sort and compare like hex ids.

use serde_json::{Map, Value};

use super::SkipReason;
use super::genai::{Semantics, int_of, normalize_provider};
use super::otlp_traces::Problem;
use super::timestamp::{parse_epoch_number, parse_time_str};
use crate::model::{Format, Span, SpanKind, SpanStatus};

fn id_of(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if s.is_empty() || s == "None" || s == "null" {
        return None;
    }
    Some(s.replace('-', "").to_ascii_lowercase())
}

fn time_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => parse_time_str(s, 1970).map(|t| t.ns),
        Value::Number(n) => parse_epoch_number(&n.to_string()).map(|t| t.ns),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() && s != "None" => Some(s.clone()),
        _ => None,
    }
}

fn kind_of(t: &str) -> SpanKind {
    match t.to_ascii_uppercase().as_str() {
        "GENERATION" | "LLM" | "EMBEDDING" => SpanKind::Llm,
        "TOOL" => SpanKind::Tool,
        "AGENT" => SpanKind::Agent,
        "RETRIEVER" => SpanKind::Retriever,
        "CHAIN" | "SPAN" | "PROMPT" | "PARSER" | "EVALUATOR" | "GUARDRAIL" => SpanKind::Chain,
        _ => SpanKind::Other,
    }
}

fn blank(trace_id: String, span_id: String, line: u64, format: Format) -> Span {
    Span {
        trace_id,
        span_id,
        parent_span_id: None,
        name: String::new(),
        kind: SpanKind::Other,
        start_ns: 0,
        end_ns: 0,
        status: SpanStatus::Unset,
        status_message: None,
        provider: None,
        model: None,
        input_tokens: None,
        output_tokens: None,
        cache_read_tokens: None,
        cache_write_tokens: None,
        cost: None,
        price_ref: None,
        tool_name: None,
        format,
        whole: true,
        line,
        attrs: String::new(),
    }
}

/// The `metadata.attributes` of an observation (OpenInference / GenAI attributes that
/// Langfuse kept), as a map.
fn meta_attributes(o: &Map<String, Value>) -> Map<String, Value> {
    let meta = match o.get("metadata") {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    match meta.get("attributes") {
        Some(Value::Object(a)) => a.clone(),
        _ => Map::new(),
    }
}

/// A Langfuse export.
pub fn map_langfuse(v: &Value, line: u64) -> (Vec<Span>, Vec<Problem>) {
    let mut spans = Vec::new();
    let mut problems = Vec::new();
    let trace = v.get("trace");
    let trace_id = id_of(trace.and_then(|t| t.get("id")));
    for (i, ob) in v
        .get("observations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let bad = |why: String| Problem {
            reason: SkipReason::InvalidSpan,
            detail: format!("observation {}: {why}", i + 1),
        };
        let Some(o) = ob.as_object() else {
            problems.push(bad("not an object".into()));
            continue;
        };
        let Some(tid) = id_of(o.get("traceId")).or_else(|| trace_id.clone()) else {
            problems.push(bad("no trace id".into()));
            continue;
        };
        let Some(id) = id_of(o.get("id")) else {
            problems.push(bad("no id".into()));
            continue;
        };
        let Some(start) = time_of(o.get("startTime")) else {
            problems.push(bad(format!("observation {id}: no startTime")));
            continue;
        };
        let end = time_of(o.get("endTime")).unwrap_or(start);
        if end < start {
            problems.push(bad(format!("observation {id}: ends before it starts")));
            continue;
        }
        let mut s = blank(tid, id, line, Format::Langfuse);
        s.parent_span_id = id_of(o.get("parentObservationId"));
        s.name = text(o.get("name")).unwrap_or_default();
        s.start_ns = start;
        s.end_ns = end;
        let attrs = meta_attributes(o);
        let sem = Semantics::from_attrs(&attrs);
        s.kind = match o.get("type").and_then(Value::as_str).map(kind_of) {
            Some(SpanKind::Chain) | Some(SpanKind::Other) | None => {
                sem.kind.unwrap_or(SpanKind::Chain)
            }
            Some(k) => k,
        };
        let level = o.get("level").and_then(Value::as_str).unwrap_or("");
        s.status = if level.eq_ignore_ascii_case("ERROR") {
            SpanStatus::Error
        } else {
            SpanStatus::Unset
        };
        s.status_message = text(o.get("statusMessage"));
        if s.kind == SpanKind::Tool {
            s.tool_name = sem.tool_name.clone().or_else(|| Some(s.name.clone()));
        }
        if s.kind == SpanKind::Llm {
            let usage = o
                .get("usageDetails")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let u = |keys: &[&str]| keys.iter().find_map(|k| usage.get(*k).and_then(int_of));
            s.model = text(o.get("model")).or(sem.model.clone());
            s.provider = sem.provider.clone().or_else(|| {
                attrs
                    .get("llm.provider")
                    .and_then(Value::as_str)
                    .map(normalize_provider)
            });
            s.input_tokens = u(&["input"]).or(sem.input_tokens);
            s.output_tokens = u(&["output"]).or(sem.output_tokens);
            s.cache_read_tokens = u(&[
                "input_cache_read",
                "prompt_details.cached_tokens",
                "cache_read",
            ])
            .or(sem.cache_read_tokens);
            let stated = o.get("totalCost").and_then(|c| match c {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            });
            s.cost = stated.filter(|c| *c > 0.0);
        }
        let mut extra = Map::new();
        extra.insert("attributes".into(), Value::Object(attrs));
        for k in [
            "input",
            "output",
            "modelParameters",
            "usageDetails",
            "costDetails",
            "level",
            "type",
        ] {
            if let Some(v) = o.get(k).filter(|v| !v.is_null()) {
                extra.insert(k.into(), v.clone());
            }
        }
        s.attrs = Value::Object(extra).to_string();
        spans.push(s);
    }
    (spans, problems)
}

/// A LangSmith run's id: `id`, else the last part of its `dotted_order`
/// (`<time>Z<run id>`, dot-separated from the root down), as patches without an id carry.
fn run_id(o: &Map<String, Value>) -> Option<String> {
    id_of(o.get("id")).or_else(|| {
        let d = o.get("dotted_order")?.as_str()?;
        let last = d.rsplit('.').next()?;
        let (_, id) = last.split_once('Z')?;
        id_of(Some(&Value::from(id)))
    })
}

/// LangSmith run payloads: `post` creates runs, `patch` completes them (end time, outputs,
/// error). A bare run object is one `post`.
pub fn map_langsmith(v: &Value, line: u64) -> (Vec<Span>, Vec<Problem>) {
    let mut runs: Vec<Map<String, Value>> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let posts: Vec<&Value> = match v.get("post").and_then(Value::as_array) {
        Some(a) => a.iter().collect(),
        None if v.get("run_type").is_some() => vec![v],
        None => Vec::new(),
    };
    for p in posts.into_iter().chain(
        v.get("patch")
            .and_then(Value::as_array)
            .into_iter()
            .flatten(),
    ) {
        let Some(o) = p.as_object() else { continue };
        let Some(id) = run_id(o) else {
            runs.push(o.clone());
            continue;
        };
        match index.get(&id) {
            Some(&i) => {
                for (k, v) in o {
                    if !v.is_null() {
                        runs[i].insert(k.clone(), v.clone());
                    }
                }
            }
            None => {
                index.insert(id, runs.len());
                runs.push(o.clone());
            }
        }
    }
    let mut spans = Vec::new();
    let mut problems = Vec::new();
    for (i, run) in runs.into_iter().enumerate() {
        let ov = Value::Object(run);
        let Some(o) = ov.as_object() else { continue };
        let bad = |why: &str| Problem {
            reason: SkipReason::InvalidSpan,
            detail: format!("run {}: {why}", i + 1),
        };
        let Some(id) = run_id(o) else {
            problems.push(bad("no id and no dotted_order"));
            continue;
        };
        let tid = id_of(o.get("trace_id")).unwrap_or_else(|| id.clone());
        let Some(start) = time_of(o.get("start_time")) else {
            problems.push(bad("no start_time"));
            continue;
        };
        let end = time_of(o.get("end_time")).unwrap_or(start);
        if end < start {
            problems.push(bad("ends before it starts"));
            continue;
        }
        let mut s = blank(tid, id, line, Format::LangSmith);
        s.parent_span_id = id_of(o.get("parent_run_id"));
        s.name = text(o.get("name")).unwrap_or_default();
        s.start_ns = start;
        s.end_ns = end;
        s.kind = kind_of(o.get("run_type").and_then(Value::as_str).unwrap_or(""));
        if let Some(e) = text(o.get("error")) {
            s.status = SpanStatus::Error;
            s.status_message = Some(e);
        } else if o.get("end_time").is_some() {
            s.status = SpanStatus::Ok;
        }
        let meta = ov
            .pointer("/extra/metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if s.kind == SpanKind::Tool {
            s.tool_name = Some(s.name.clone());
        }
        if s.kind == SpanKind::Llm {
            let usage = ov
                .pointer("/outputs/usage_metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            s.model = text(meta.get("ls_model_name"))
                .or_else(|| text(ov.pointer("/outputs/model")))
                .or_else(|| text(ov.pointer("/inputs/model")));
            s.provider = text(meta.get("ls_provider")).map(|p| normalize_provider(&p));
            s.input_tokens = usage.get("input_tokens").and_then(int_of);
            s.output_tokens = usage.get("output_tokens").and_then(int_of);
            s.cache_read_tokens = ov
                .pointer("/outputs/usage_metadata/input_token_details/cache_read")
                .and_then(int_of);
        }
        let mut extra = Map::new();
        for (k, v) in [
            ("input", o.get("inputs")),
            ("output", o.get("outputs")),
            ("metadata", Some(&Value::Object(meta))),
        ] {
            if let Some(v) = v.filter(|v| !v.is_null()) {
                extra.insert(k.into(), v.clone());
            }
        }
        for k in ["run_type", "tags", "dotted_order", "events", "session_name"] {
            if let Some(v) = o.get(k).filter(|v| !v.is_null()) {
                extra.insert(k.into(), v.clone());
            }
        }
        s.attrs = Value::Object(extra).to_string();
        spans.push(s);
    }
    (spans, problems)
}
