//! One span in detail: its attributes read as a conversation (LLM spans), as arguments and
//! result (tool spans), and its exceptions.
//!
//! Messages are read from wherever the conventions put them: OTel GenAI
//! `gen_ai.input.messages` / `gen_ai.output.messages` (role + parts), the deprecated
//! `gen_ai.prompt` / `gen_ai.completion`, OpenInference's flattened
//! `llm.input_messages.N.message.*`, chat payloads in `input.value` / `output.value`, and
//! the `messages` / `inputs` / `output` fields of log lines. All of it is untrusted text and
//! stays text.

use serde::Serialize;
use serde_json::{Map, Value};

/// A tool call requested by the model.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    pub arguments: String,
}

/// One message of a conversation.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    /// For a tool result: the call it answers.
    pub tool_call_id: Option<String>,
}

/// An exception recorded on the span.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpanException {
    pub kind: String,
    pub message: String,
    pub stacktrace: Option<String>,
    pub time_ns: Option<i64>,
}

/// What the detail pane shows beside the raw attributes.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct SpanReading {
    pub input_messages: Vec<ChatMessage>,
    pub output_messages: Vec<ChatMessage>,
    /// Tool spans: the arguments and the result, as text (JSON pretty-printed).
    pub tool_arguments: Option<String>,
    pub tool_result: Option<String>,
    pub exceptions: Vec<SpanException>,
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// A value that may be JSON inside a string.
fn decoded(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let t = s.trim_start();
            if t.starts_with('{') || t.starts_with('[') {
                serde_json::from_str(s).unwrap_or_else(|_| v.clone())
            } else {
                v.clone()
            }
        }
        other => other.clone(),
    }
}

fn pretty(v: &Value) -> String {
    as_text(&decoded(v))
}

/// GenAI parts, OpenAI content (string or list of parts) and Anthropic blocks to text + calls.
fn read_content(v: &Value, msg: &mut ChatMessage) {
    match v {
        Value::String(s) => push_text(&mut msg.content, s),
        Value::Array(parts) => {
            for p in parts {
                read_part(p, msg);
            }
        }
        Value::Object(_) => read_part(v, msg),
        _ => {}
    }
}

fn push_text(out: &mut String, s: &str) {
    if s.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(s);
}

fn read_part(p: &Value, msg: &mut ChatMessage) {
    let Some(o) = p.as_object() else {
        if let Some(s) = p.as_str() {
            push_text(&mut msg.content, s);
        }
        return;
    };
    let ty = o.get("type").and_then(Value::as_str).unwrap_or("text");
    match ty {
        "tool_call" | "tool_use" | "function_call" => msg.tool_calls.push(ToolCall {
            id: o.get("id").and_then(Value::as_str).map(str::to_owned),
            name: o
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            arguments: o
                .get("arguments")
                .or_else(|| o.get("input"))
                .map(pretty)
                .unwrap_or_default(),
        }),
        "tool_call_response" | "tool_result" | "function_call_output" => {
            if msg.tool_call_id.is_none() {
                msg.tool_call_id = o
                    .get("id")
                    .or_else(|| o.get("tool_use_id"))
                    .or_else(|| o.get("call_id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            let r = o
                .get("response")
                .or_else(|| o.get("content"))
                .or_else(|| o.get("output"))
                .map(pretty)
                .unwrap_or_default();
            push_text(&mut msg.content, &r);
        }
        _ => {
            let t = o
                .get("content")
                .or_else(|| o.get("text"))
                .map(as_text)
                .unwrap_or_default();
            push_text(&mut msg.content, &t);
        }
    }
}

/// A message object in any of the common shapes.
fn read_message(v: &Value) -> Option<ChatMessage> {
    let o = v.as_object()?;
    let mut m = ChatMessage {
        role: o
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("assistant")
            .to_owned(),
        tool_call_id: o
            .get("tool_call_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        ..Default::default()
    };
    if let Some(parts) = o.get("parts") {
        read_content(parts, &mut m);
    }
    if let Some(c) = o.get("content") {
        read_content(c, &mut m);
    }
    if o.get("parts").is_none()
        && o.get("content").is_none()
        && let Some(t) = o.get("text")
    {
        push_text(&mut m.content, &as_text(t));
    }
    let calls = o
        .get("tool_calls")
        .or_else(|| o.get("additional_kwargs").and_then(|k| k.get("tool_calls")));
    for tc in calls.and_then(Value::as_array).into_iter().flatten() {
        let f = tc.get("function").unwrap_or(tc);
        m.tool_calls.push(ToolCall {
            id: tc.get("id").and_then(Value::as_str).map(str::to_owned),
            name: f
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            arguments: f.get("arguments").map(pretty).unwrap_or_default(),
        });
    }
    Some(m)
}

/// A list of messages from a value: an array of messages, `{messages: [...]}`, a choice
/// list, or a bare text (one message of `role`).
fn read_messages(v: &Value, role: &str) -> Vec<ChatMessage> {
    let v = decoded(v);
    match &v {
        Value::Array(items)
            if items
                .iter()
                .any(|i| i.get("role").is_some() || i.get("parts").is_some()) =>
        {
            items.iter().filter_map(read_message).collect()
        }
        Value::Object(o) => {
            if let Some(ms) = o.get("messages") {
                return read_messages(ms, role);
            }
            if let Some(choices) = o.get("choices").and_then(Value::as_array) {
                return choices
                    .iter()
                    .filter_map(|c| c.get("message").and_then(read_message))
                    .collect();
            }
            if o.get("role").is_some() || o.get("parts").is_some() {
                return read_message(&v).into_iter().collect();
            }
            if let Some(t) = o
                .get("text")
                .or_else(|| o.get("content"))
                .or_else(|| o.get("output"))
            {
                return vec![ChatMessage {
                    role: role.to_owned(),
                    content: as_text(t),
                    ..Default::default()
                }];
            }
            Vec::new()
        }
        Value::String(s) if !s.is_empty() => vec![ChatMessage {
            role: role.to_owned(),
            content: s.clone(),
            ..Default::default()
        }],
        _ => Vec::new(),
    }
}

/// OpenInference's flattened `llm.input_messages.N.message.*` keys to messages.
fn openinference_messages(a: &Map<String, Value>, prefix: &str) -> Vec<ChatMessage> {
    let mut by_index: std::collections::BTreeMap<u32, Map<String, Value>> = Default::default();
    for (k, v) in a {
        let Some(rest) = k.strip_prefix(prefix) else {
            continue;
        };
        let Some((idx, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(i) = idx.parse::<u32>() else { continue };
        let field = field.strip_prefix("message.").unwrap_or(field);
        by_index
            .entry(i)
            .or_default()
            .insert(field.to_owned(), v.clone());
    }
    by_index
        .into_values()
        .map(|f| {
            let mut m = ChatMessage {
                role: f
                    .get("role")
                    .map(as_text)
                    .unwrap_or_else(|| "assistant".into()),
                tool_call_id: f.get("tool_call_id").map(as_text),
                ..Default::default()
            };
            if let Some(c) = f.get("content") {
                push_text(&mut m.content, &as_text(c));
            }
            let mut parts: std::collections::BTreeMap<u32, String> = Default::default();
            let mut calls: std::collections::BTreeMap<u32, ToolCall> = Default::default();
            for (k, v) in &f {
                if let Some(rest) = k.strip_prefix("contents.")
                    && let Some((i, sub)) = rest.split_once('.')
                    && let Ok(i) = i.parse::<u32>()
                    && sub == "message_content.text"
                {
                    parts.insert(i, as_text(v));
                }
                if let Some(rest) = k.strip_prefix("tool_calls.")
                    && let Some((i, sub)) = rest.split_once('.')
                    && let Ok(i) = i.parse::<u32>()
                {
                    let c = calls.entry(i).or_default();
                    match sub {
                        "tool_call.id" => c.id = Some(as_text(v)),
                        "tool_call.function.name" => c.name = as_text(v),
                        "tool_call.function.arguments" => c.arguments = pretty(v),
                        _ => {}
                    }
                }
            }
            for t in parts.into_values() {
                push_text(&mut m.content, &t);
            }
            m.tool_calls = calls.into_values().collect();
            m
        })
        .collect()
}

/// Reads a span's attributes (the stored JSON object) for the detail pane.
pub fn read_span(attrs_json: &str, kind: crate::model::SpanKind) -> SpanReading {
    use crate::model::SpanKind;
    let root: Map<String, Value> = match serde_json::from_str(attrs_json) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    // OTLP spans keep their attributes under `attributes`; log spans at the top.
    let mut a = match root.get("attributes") {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    for (k, v) in &root {
        if !matches!(
            k.as_str(),
            "attributes" | "resource" | "scope" | "events" | "links"
        ) {
            a.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let mut r = SpanReading::default();
    if kind == SpanKind::Llm || kind == SpanKind::Agent {
        let oi_in = openinference_messages(&a, "llm.input_messages.");
        r.input_messages = if !oi_in.is_empty() {
            oi_in
        } else {
            [
                "gen_ai.input.messages",
                "gen_ai.prompt",
                "messages",
                "input.value",
                "input",
                "prompt",
                "query",
            ]
            .iter()
            .find_map(|k| {
                a.get(*k)
                    .map(|v| read_messages(v, "user"))
                    .filter(|m| !m.is_empty())
            })
            .unwrap_or_default()
        };
        let oi_out = openinference_messages(&a, "llm.output_messages.");
        r.output_messages = if !oi_out.is_empty() {
            oi_out
        } else {
            [
                "gen_ai.output.messages",
                "gen_ai.completion",
                "output.value",
                "output",
                "completion",
                "response",
                "answer",
            ]
            .iter()
            .find_map(|k| {
                a.get(*k)
                    .map(|v| read_messages(v, "assistant"))
                    .filter(|m| !m.is_empty())
            })
            .unwrap_or_default()
        };
    }
    if kind == SpanKind::Tool {
        r.tool_arguments = [
            "gen_ai.tool.call.arguments",
            "tool.parameters",
            "input.value",
            "inputs",
            "input",
            "arguments",
            "args",
        ]
        .iter()
        .find_map(|k| a.get(*k).map(pretty));
        r.tool_result = [
            "gen_ai.tool.call.result",
            "output.value",
            "output",
            "result",
            "observation",
        ]
        .iter()
        .find_map(|k| a.get(*k).map(pretty));
    }
    for e in root
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if e.get("name").and_then(Value::as_str) != Some("exception") {
            continue;
        }
        let ea = e.get("attributes").cloned().unwrap_or(Value::Null);
        let get = |k: &str| ea.get(k).map(as_text);
        r.exceptions.push(SpanException {
            kind: get("exception.type").unwrap_or_default(),
            message: get("exception.message").unwrap_or_default(),
            stacktrace: get("exception.stacktrace"),
            time_ns: e.get("time_ns").and_then(Value::as_i64),
        });
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpanKind;

    #[test]
    fn genai_parts_and_openinference_flat_keys_read_alike() {
        let genai = serde_json::json!({"attributes": {
            "gen_ai.input.messages": "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Weather?\"}]},{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"1\",\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]},{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":\"1\",\"response\":\"rainy\"}]}]"
        }});
        let oi = serde_json::json!({"attributes": {
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.contents.0.message_content.text": "Weather?",
            "llm.input_messages.1.message.role": "assistant",
            "llm.input_messages.1.message.tool_calls.0.tool_call.id": "1",
            "llm.input_messages.1.message.tool_calls.0.tool_call.function.name": "get_weather",
            "llm.input_messages.1.message.tool_calls.0.tool_call.function.arguments": "{\"location\":\"Paris\"}",
            "llm.input_messages.2.message.role": "tool",
            "llm.input_messages.2.message.content": "rainy",
            "llm.input_messages.2.message.tool_call_id": "1"
        }});
        let a = read_span(&genai.to_string(), SpanKind::Llm);
        let b = read_span(&oi.to_string(), SpanKind::Llm);
        assert_eq!(a.input_messages.len(), 3);
        assert_eq!(a.input_messages, b.input_messages);
        assert_eq!(a.input_messages[1].tool_calls[0].name, "get_weather");
        assert_eq!(a.input_messages[2].tool_call_id.as_deref(), Some("1"));
    }
}
