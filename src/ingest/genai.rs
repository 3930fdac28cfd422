//! What a span is, read from its attributes: OpenTelemetry GenAI semantic conventions
//! (`gen_ai.*`, current and deprecated names), OpenInference (`openinference.span.kind`,
//! `llm.*`, `tool.*`) and the Vercel AI SDK (`ai.*`).
//!
//! The same call written in either convention maps to the same values: kind, provider,
//! model, token counts and tool name. Where both are present (instrumentations often write
//! both), OpenInference's model name comes first because it is what OpenInference
//! exporters set from the response, as GenAI's `gen_ai.response.model` is.

use serde_json::{Map, Value};

use crate::model::SpanKind;

/// The GenAI meaning of one span's attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Semantics {
    pub kind: Option<SpanKind>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cache_read_tokens: Option<i64>,
    pub cache_write_tokens: Option<i64>,
    pub tool_name: Option<String>,
    pub agent_name: Option<String>,
    /// USD, when the attributes state it (some SDKs record the cost they computed).
    pub cost: Option<f64>,
}

fn string(a: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match a.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    })
}

/// An integer from a number or a numeric string.
pub fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

fn int(a: &Map<String, Value>, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|k| a.get(*k).and_then(int_of))
}

fn float(a: &Map<String, Value>, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|k| match a.get(*k)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    })
}

/// `openinference.span.kind` values.
pub fn kind_from_openinference(s: &str) -> Option<SpanKind> {
    Some(match s.trim().to_ascii_uppercase().as_str() {
        "LLM" | "EMBEDDING" | "GENERATION" => SpanKind::Llm,
        "TOOL" => SpanKind::Tool,
        "AGENT" => SpanKind::Agent,
        "CHAIN" | "RERANKER" | "GUARDRAIL" | "EVALUATOR" | "SPAN" => SpanKind::Chain,
        "RETRIEVER" => SpanKind::Retriever,
        _ => return None,
    })
}

/// `gen_ai.operation.name` values.
fn kind_from_operation(s: &str) -> Option<SpanKind> {
    Some(match s.trim() {
        "chat" | "text_completion" | "generate_content" | "embeddings" | "completion" => {
            SpanKind::Llm
        }
        "execute_tool" => SpanKind::Tool,
        "invoke_agent" | "create_agent" => SpanKind::Agent,
        _ => return None,
    })
}

/// Provider names as the conventions spell them (`gcp.gemini`, `az.ai.openai`,
/// `openai.chat` from the Vercel SDK) to one vocabulary.
pub fn normalize_provider(p: &str) -> String {
    let p = p.trim().to_ascii_lowercase();
    let head = p.split(['.', ':']).next().unwrap_or(&p).to_owned();
    match p.as_str() {
        s if s.starts_with("gcp.") || s == "vertexai" || s == "vertex_ai" || s == "gemini" => {
            "google".to_owned()
        }
        s if s.starts_with("az.") || s.starts_with("azure") => "azure".to_owned(),
        s if s.starts_with("aws.") || s == "bedrock" => "aws".to_owned(),
        _ => head,
    }
}

impl Semantics {
    /// Reads a flat attribute map (dotted keys, as OTLP attributes are).
    pub fn from_attrs(a: &Map<String, Value>) -> Semantics {
        let oi_kind = string(a, &["openinference.span.kind"])
            .as_deref()
            .and_then(kind_from_openinference);
        let op_kind = string(a, &["gen_ai.operation.name"])
            .as_deref()
            .and_then(kind_from_operation);
        let vercel_kind = string(a, &["ai.operationId", "operation.name"]).and_then(|op| {
            if op.starts_with("ai.toolCall") {
                Some(SpanKind::Tool)
            } else if op.ends_with(".doGenerate")
                || op.ends_with(".doStream")
                || op.ends_with(".doEmbed")
            {
                Some(SpanKind::Llm)
            } else if op.starts_with("ai.") {
                Some(SpanKind::Chain)
            } else {
                None
            }
        });
        let tool_name = string(
            a,
            &[
                "tool.name",
                "gen_ai.tool.name",
                "ai.toolCall.name",
                "tool_name",
            ],
        );
        let model = string(
            a,
            &[
                "llm.model_name",
                "gen_ai.response.model",
                "gen_ai.request.model",
                "ai.response.model",
                "ai.model.id",
            ],
        );
        let input_tokens = int(
            a,
            &[
                "llm.token_count.prompt",
                "gen_ai.usage.input_tokens",
                "gen_ai.usage.prompt_tokens",
                "ai.usage.inputTokens",
                "ai.usage.promptTokens",
            ],
        );
        let output_tokens = int(
            a,
            &[
                "llm.token_count.completion",
                "gen_ai.usage.output_tokens",
                "gen_ai.usage.completion_tokens",
                "ai.usage.outputTokens",
                "ai.usage.completionTokens",
            ],
        );
        let mut kind = oi_kind.or(op_kind).or(vercel_kind);
        if kind.is_none() && tool_name.is_some() {
            kind = Some(SpanKind::Tool);
        }
        if kind.is_none() && model.is_some() && (input_tokens.is_some() || output_tokens.is_some())
        {
            kind = Some(SpanKind::Llm);
        }
        Semantics {
            kind,
            provider: string(
                a,
                &[
                    "llm.provider",
                    "gen_ai.provider.name",
                    "gen_ai.system",
                    "llm.system",
                    "ai.model.provider",
                ],
            )
            .map(|p| normalize_provider(&p)),
            model,
            input_tokens,
            output_tokens,
            cache_read_tokens: int(
                a,
                &[
                    "llm.token_count.prompt_details.cache_read",
                    "gen_ai.usage.cache_read.input_tokens",
                    "gen_ai.usage.cache_read_input_tokens",
                    "ai.usage.cachedInputTokens",
                ],
            ),
            cache_write_tokens: int(
                a,
                &[
                    "llm.token_count.prompt_details.cache_write",
                    "gen_ai.usage.cache_creation.input_tokens",
                    "gen_ai.usage.cache_creation_input_tokens",
                ],
            ),
            tool_name,
            agent_name: string(a, &["gen_ai.agent.name", "agent.name", "agent_name"]),
            cost: float(a, &["llm.cost.total", "gen_ai.usage.cost", "cost_usd"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn both_conventions_agree() {
        let oi = Semantics::from_attrs(&attrs(serde_json::json!({
            "openinference.span.kind": "LLM", "llm.model_name": "gpt-4-0613",
            "llm.provider": "openai", "llm.token_count.prompt": 97,
            "llm.token_count.completion": 52
        })));
        let ga = Semantics::from_attrs(&attrs(serde_json::json!({
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4", "gen_ai.response.model": "gpt-4-0613",
            "gen_ai.usage.input_tokens": "97", "gen_ai.usage.output_tokens": 52
        })));
        assert_eq!(oi, ga);
        assert_eq!(oi.kind, Some(SpanKind::Llm));
    }

    #[test]
    fn providers() {
        assert_eq!(normalize_provider("gcp.gemini"), "google");
        assert_eq!(normalize_provider("openai.chat"), "openai");
        assert_eq!(normalize_provider("Anthropic"), "anthropic");
    }
}
