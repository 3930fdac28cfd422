//! Model prices and the cost of an LLM call.
//!
//! A built-in table of list prices in USD per million tokens (input, output, cached input
//! read, cache write), matched on the model name: exactly, then by the longest known name the
//! model starts with (`gpt-4o-2024-08-06` is `gpt-4o`, `gemini-1.5-flash-002` is
//! `gemini-1.5-flash`), after dropping a provider prefix (`openai/gpt-4o`,
//! `anthropic.claude-3-5-sonnet`). The cost issue turns this table into a file with effective
//! dates and tiers; until then an unknown model has no cost rather than a guessed one.

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Cached input tokens read; `None` bills them as input.
    pub cache_read: Option<f64>,
    /// Tokens written to the cache; `None` bills them as input.
    pub cache_write: Option<f64>,
}

const fn p(input: f64, output: f64, cache_read: Option<f64>, cache_write: Option<f64>) -> Price {
    Price {
        input,
        output,
        cache_read,
        cache_write,
    }
}

/// Longest names first is not required: lookup picks the longest matching prefix.
const TABLE: &[(&str, Price)] = &[
    ("gpt-4o", p(2.5, 10.0, Some(1.25), None)),
    ("gpt-4o-mini", p(0.15, 0.6, Some(0.075), None)),
    ("gpt-4.1", p(2.0, 8.0, Some(0.5), None)),
    ("gpt-4.1-mini", p(0.4, 1.6, Some(0.1), None)),
    ("gpt-4.1-nano", p(0.1, 0.4, Some(0.025), None)),
    ("gpt-4-turbo", p(10.0, 30.0, None, None)),
    ("gpt-4", p(30.0, 60.0, None, None)),
    ("gpt-3.5-turbo", p(0.5, 1.5, None, None)),
    ("gpt-5", p(1.25, 10.0, Some(0.125), None)),
    ("gpt-5-mini", p(0.25, 2.0, Some(0.025), None)),
    ("gpt-5-nano", p(0.05, 0.4, Some(0.005), None)),
    ("o1", p(15.0, 60.0, Some(7.5), None)),
    ("o1-mini", p(1.1, 4.4, Some(0.55), None)),
    ("o3", p(2.0, 8.0, Some(0.5), None)),
    ("o3-mini", p(1.1, 4.4, Some(0.55), None)),
    ("o4-mini", p(1.1, 4.4, Some(0.275), None)),
    ("claude-3-5-sonnet", p(3.0, 15.0, Some(0.3), Some(3.75))),
    ("claude-3-7-sonnet", p(3.0, 15.0, Some(0.3), Some(3.75))),
    ("claude-sonnet-4", p(3.0, 15.0, Some(0.3), Some(3.75))),
    ("claude-3-5-haiku", p(0.8, 4.0, Some(0.08), Some(1.0))),
    ("claude-3-haiku", p(0.25, 1.25, Some(0.03), Some(0.3))),
    ("claude-3-opus", p(15.0, 75.0, Some(1.5), Some(18.75))),
    ("claude-opus-4", p(15.0, 75.0, Some(1.5), Some(18.75))),
    ("gemini-1.5-flash", p(0.075, 0.3, None, None)),
    ("gemini-1.5-pro", p(1.25, 5.0, None, None)),
    ("gemini-2.0-flash", p(0.1, 0.4, Some(0.025), None)),
    ("gemini-2.5-flash", p(0.3, 2.5, Some(0.075), None)),
    ("gemini-2.5-pro", p(1.25, 10.0, Some(0.31), None)),
    ("mistral-large", p(2.0, 6.0, None, None)),
    ("mistral-small", p(0.2, 0.6, None, None)),
];

/// The price of a model, if the table knows it.
pub fn price(model: &str) -> Option<Price> {
    let m = model.trim().to_ascii_lowercase();
    // `openai/gpt-4o`, `models/gemini-1.5-pro`, `anthropic.claude-3-5-sonnet-20240620-v1:0`.
    let m = m.rsplit('/').next().unwrap_or(&m);
    let m = m.strip_prefix("anthropic.").unwrap_or(m);
    let mut best: Option<(usize, Price)> = None;
    for (name, price) in TABLE {
        let hit =
            m == *name || (m.starts_with(name) && m[name.len()..].starts_with(['-', '@', ':']));
        if hit && best.is_none_or(|(n, _)| name.len() > n) {
            best = Some((name.len(), *price));
        }
    }
    best.map(|(_, p)| p)
}

/// The cost of one call in USD: `input` counts every prompt token, cached ones included (as
/// OpenAI, OTel GenAI and OpenInference report them); `cache_read` of them are billed at the
/// cached rate. Anthropic-style cache writes are extra tokens at their own rate.
pub fn cost(
    model: &str,
    input: Option<i64>,
    output: Option<i64>,
    cache_read: Option<i64>,
    cache_write: Option<i64>,
) -> Option<f64> {
    if input.is_none() && output.is_none() {
        return None;
    }
    let pr = price(model)?;
    let tok = |n: Option<i64>| n.unwrap_or(0).max(0) as f64;
    let cached = tok(cache_read).min(tok(input));
    let read_rate = pr.cache_read.unwrap_or(pr.input);
    let write_rate = pr.cache_write.unwrap_or(pr.input);
    Some(
        ((tok(input) - cached) * pr.input
            + cached * read_rate
            + tok(cache_write) * write_rate
            + tok(output) * pr.output)
            / 1e6,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_by_longest_prefix() {
        assert_eq!(price("gpt-4o-mini").map(|p| p.input), Some(0.15));
        assert_eq!(price("gpt-4o-2024-08-06").map(|p| p.input), Some(2.5));
        assert_eq!(price("openai/gpt-4o").map(|p| p.input), Some(2.5));
        assert_eq!(price("gemini-1.5-flash-002").map(|p| p.input), Some(0.075));
        assert_eq!(price("o1-mini").map(|p| p.output), Some(4.4));
        assert_eq!(price("gpt-4o4"), None);
        assert_eq!(price("llama-3-70b"), None);
    }

    #[test]
    fn cost_of_a_call() {
        let c = cost("claude-3-5-sonnet", Some(1000), Some(100), None, None);
        assert!((c.unwrap_or(0.0) - 0.0045).abs() < 1e-12);
        let cached = cost("gpt-4o", Some(1000), Some(0), Some(1000), None);
        assert!((cached.unwrap_or(0.0) - 0.00125).abs() < 1e-12);
        assert_eq!(cost("gpt-4o", None, None, None, None), None);
    }
}
