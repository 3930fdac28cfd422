//! Reading a price file: TOML into entries, every problem named by file, line, entry and field.
//!
//! Values are read as `toml::Spanned`, so a problem found after parsing (a negative price, a
//! bad regex or date, tiers out of order) still points at its line, and all of them are
//! reported together. A TOML syntax or shape error (a misspelt field, a string where a number
//! belongs) stops the TOML parser; its byte offset is mapped back to the line, the
//! `[[model]]` / `[[tool]]` block around it and the key on that line.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use toml::Spanned;

use super::{
    Matcher, ModelEntry, ModelPrice, Origin, PriceTable, Rates, Tier, ToolEntry,
    canonical_provider, normalise_model,
};

/// A price file that cannot be used, with everything found wrong in it.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceError {
    pub problems: Vec<PriceProblem>,
}

impl fmt::Display for PriceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PriceError {}

/// One thing wrong in a price file.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceProblem {
    /// The file as messages name it: its path, or `built-in prices.toml`.
    pub file: String,
    /// 1-based.
    pub line: Option<usize>,
    pub entry: Option<EntryAt>,
    /// `input`, `tiers[2].above`, `as`…
    pub field: Option<String>,
    pub kind: ProblemKind,
}

impl fmt::Display for PriceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        match (&self.entry, &self.field) {
            (Some(entry), Some(field)) => write!(f, "{entry}, field `{field}`: ")?,
            (Some(entry), None) => write!(f, "{entry}: ")?,
            (None, Some(field)) => write!(f, "field `{field}`: ")?,
            (None, None) => {}
        }
        write!(f, "{}", self.kind)
    }
}

/// Which entry a problem is about: `[[model]] #3 "gpt-4o"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryAt {
    pub kind: EntryKind,
    /// 1-based, counting entries of this kind in file order.
    pub number: usize,
    /// Its `name` or `match` as written.
    pub name: Option<String>,
}

impl fmt::Display for EntryAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[[{}]] #{}", self.kind, self.number)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Model,
    Tool,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryKind::Model => "model",
            EntryKind::Tool => "tool",
        })
    }
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProblemKind {
    /// Not TOML, or not the shape of a price file (an unknown field, a wrong type).
    #[error("{0}")]
    Toml(String),
    #[error("an entry needs `name` or `match`")]
    NoName,
    #[error("give `name` or `match`, not both")]
    NameAndMatch,
    #[error("is empty")]
    Empty,
    #[error("missing")]
    Missing,
    #[error("{0} is not a price (USD, zero or more)")]
    BadPrice(f64),
    #[error("invalid regex: {0}")]
    BadRegex(String),
    #[error("invalid date {value:?}: {why}")]
    BadDate { value: String, why: String },
    #[error("an `as` entry has no prices of its own")]
    AsWithPrice,
    #[error("a tier starts above a positive number of prompt tokens, not {0}")]
    BadThreshold(i64),
    #[error("tiers must ascend: {above} comes after {previous}")]
    TiersNotAscending { previous: i64, above: i64 },
    #[error("repeats [[{kind}]] #{number} (same name or match, provider and effective_from)")]
    Duplicate { kind: EntryKind, number: usize },
    #[error("`as` names {0:?}, which no entry prices")]
    UnknownTarget(String),
    #[error("`as` loops: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    model: Vec<RawModel>,
    #[serde(default)]
    tool: Vec<RawTool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: Option<Spanned<String>>,
    #[serde(rename = "match")]
    pattern: Option<Spanned<String>>,
    provider: Option<Spanned<String>>,
    /// A string, or a TOML date / date-time.
    effective_from: Option<Spanned<toml::Value>>,
    #[serde(rename = "as")]
    as_model: Option<Spanned<String>>,
    input: Option<Spanned<f64>>,
    output: Option<Spanned<f64>>,
    cache_read: Option<Spanned<f64>>,
    cache_write: Option<Spanned<f64>>,
    reasoning: Option<Spanned<f64>>,
    audio_input: Option<Spanned<f64>>,
    audio_output: Option<Spanned<f64>>,
    #[serde(default)]
    tiers: Vec<RawTier>,
    #[serde(rename = "note")]
    _note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    above: Option<Spanned<i64>>,
    input: Option<Spanned<f64>>,
    output: Option<Spanned<f64>>,
    cache_read: Option<Spanned<f64>>,
    cache_write: Option<Spanned<f64>>,
    reasoning: Option<Spanned<f64>>,
    audio_input: Option<Spanned<f64>>,
    audio_output: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTool {
    name: Option<Spanned<String>>,
    #[serde(rename = "match")]
    pattern: Option<Spanned<String>>,
    effective_from: Option<Spanned<toml::Value>>,
    per_call: Option<Spanned<f64>>,
    #[serde(rename = "note")]
    _note: Option<String>,
}

/// The seven rates of a model entry or tier, in [`Rates`] order.
type RawRates<'a> = [(&'static str, Option<&'a Spanned<f64>>); 7];

/// The seven rates of a struct with the rate fields, in [`Rates`] order.
macro_rules! raw_rates {
    ($t:ty) => {
        impl $t {
            fn rates(&self) -> RawRates<'_> {
                [
                    ("input", self.input.as_ref()),
                    ("output", self.output.as_ref()),
                    ("cache_read", self.cache_read.as_ref()),
                    ("cache_write", self.cache_write.as_ref()),
                    ("reasoning", self.reasoning.as_ref()),
                    ("audio_input", self.audio_input.as_ref()),
                    ("audio_output", self.audio_output.as_ref()),
                ]
            }
        }
    };
}

raw_rates!(RawModel);
raw_rates!(RawTier);

type DupKey = (bool, String, Option<String>, Option<i64>);

/// Parses and checks one file on its own (every entry in layer 0); `as` targets are checked
/// by the caller once the table is complete.
pub(super) fn parse_file(text: &str, origin: &Origin) -> Result<PriceTable, PriceError> {
    let file: RawFile = toml::from_str(text).map_err(|e| PriceError {
        problems: vec![shape_problem(text, origin, &e)],
    })?;
    let mut b = Builder {
        text,
        origin,
        problems: Vec::new(),
    };
    let mut table = PriceTable::default();
    // (by regex, name or pattern, provider, effective_from) -> entry number
    let mut seen: HashMap<DupKey, usize> = HashMap::new();
    for (i, raw) in file.model.iter().enumerate() {
        let Some(entry) = b.model(i + 1, raw) else {
            continue;
        };
        let (is_regex, key) = match &entry.matcher {
            Matcher::Name(n) => (false, n.clone()),
            Matcher::Regex(_, source) => (true, source.clone()),
        };
        let key = (is_regex, key, entry.provider.clone(), entry.effective_from);
        if let Some(&number) = seen.get(&key) {
            let field = if is_regex { "match" } else { "name" };
            let kind = ProblemKind::Duplicate {
                kind: EntryKind::Model,
                number,
            };
            b.push(&entry.at, field, entry.line, kind);
            continue;
        }
        seen.insert(key, i + 1);
        table.models.push(entry);
    }
    seen.clear();
    for (i, raw) in file.tool.iter().enumerate() {
        let Some((entry, at, line)) = b.tool(i + 1, raw) else {
            continue;
        };
        let (is_regex, key) = match &entry.matcher {
            Matcher::Name(n) => (false, n.clone()),
            Matcher::Regex(_, source) => (true, source.clone()),
        };
        let key = (is_regex, key, None, entry.effective_from);
        if let Some(&number) = seen.get(&key) {
            let field = if is_regex { "match" } else { "name" };
            let kind = ProblemKind::Duplicate {
                kind: EntryKind::Tool,
                number,
            };
            b.push(&at, field, line, kind);
            continue;
        }
        seen.insert(key, i + 1);
        table.tools.push(entry);
    }
    if b.problems.is_empty() {
        Ok(table)
    } else {
        Err(PriceError {
            problems: b.problems,
        })
    }
}

struct Builder<'a> {
    text: &'a str,
    origin: &'a Origin,
    problems: Vec<PriceProblem>,
}

impl Builder<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        line_of(self.text, span.start)
    }

    /// The line of the earliest of these spans.
    fn first_line(&self, spans: impl IntoIterator<Item = Option<Range<usize>>>) -> Option<usize> {
        spans
            .into_iter()
            .flatten()
            .map(|s| s.start)
            .min()
            .map(|start| line_of(self.text, start))
    }

    fn push(&mut self, at: &EntryAt, field: &str, line: Option<usize>, kind: ProblemKind) {
        self.problems.push(PriceProblem {
            file: self.origin.file(),
            line,
            entry: Some(at.clone()),
            field: Some(field.to_owned()),
            kind,
        });
    }

    fn model(&mut self, number: usize, raw: &RawModel) -> Option<ModelEntry> {
        let before = self.problems.len();
        let at = EntryAt {
            kind: EntryKind::Model,
            number,
            name: label(raw.name.as_ref(), raw.pattern.as_ref()),
        };
        let rates = raw.rates();
        let entry_line = self.first_line(
            [
                raw.name.as_ref().map(Spanned::span),
                raw.pattern.as_ref().map(Spanned::span),
                raw.provider.as_ref().map(Spanned::span),
                raw.effective_from.as_ref().map(Spanned::span),
                raw.as_model.as_ref().map(Spanned::span),
            ]
            .into_iter()
            .chain(rates.iter().map(|(_, v)| v.map(Spanned::span)))
            .chain(
                raw.tiers
                    .iter()
                    .map(|t| t.above.as_ref().map(Spanned::span)),
            ),
        );
        let matcher = self.matcher(
            &at,
            entry_line,
            raw.name.as_ref(),
            raw.pattern.as_ref(),
            normalise_model,
        );
        let mut provider = None;
        if let Some(p) = &raw.provider {
            let canonical = canonical_provider(p.get_ref());
            if canonical.is_empty() {
                self.push(
                    &at,
                    "provider",
                    Some(self.line(p.span())),
                    ProblemKind::Empty,
                );
            }
            provider = Some(canonical);
        }
        let (effective_from, since) = self.date(&at, raw.effective_from.as_ref());
        let mut line = entry_line;
        let price = match &raw.as_model {
            Some(target) => {
                line = Some(self.line(target.span()));
                for (field, value) in rates {
                    if let Some(value) = value {
                        let at_line = Some(self.line(value.span()));
                        self.push(&at, field, at_line, ProblemKind::AsWithPrice);
                    }
                }
                if !raw.tiers.is_empty() {
                    self.push(&at, "tiers", line, ProblemKind::AsWithPrice);
                }
                let target = normalise_model(target.get_ref());
                if target.is_empty() {
                    self.push(&at, "as", line, ProblemKind::Empty);
                }
                ModelPrice::As(target)
            }
            None => ModelPrice::Rates {
                base: self.rates(&at, "", entry_line, rates),
                tiers: self.tiers(&at, entry_line, &raw.tiers),
            },
        };
        if self.problems.len() > before {
            return None;
        }
        let matcher = matcher?;
        let id = format!(
            "{}:{}{}{}",
            self.origin.label(),
            provider
                .as_ref()
                .map(|p| format!("{p}/"))
                .unwrap_or_default(),
            matcher_key(&matcher),
            since.map(|s| format!("@{s}")).unwrap_or_default(),
        );
        Some(ModelEntry {
            id,
            matcher,
            provider,
            effective_from,
            price,
            layer: 0,
            origin: self.origin.clone(),
            at,
            line,
        })
    }

    /// The entry, and where problems about it point.
    fn tool(
        &mut self,
        number: usize,
        raw: &RawTool,
    ) -> Option<(ToolEntry, EntryAt, Option<usize>)> {
        let before = self.problems.len();
        let at = EntryAt {
            kind: EntryKind::Tool,
            number,
            name: label(raw.name.as_ref(), raw.pattern.as_ref()),
        };
        let entry_line = self.first_line([
            raw.name.as_ref().map(Spanned::span),
            raw.pattern.as_ref().map(Spanned::span),
            raw.effective_from.as_ref().map(Spanned::span),
            raw.per_call.as_ref().map(Spanned::span),
        ]);
        let matcher = self.matcher(
            &at,
            entry_line,
            raw.name.as_ref(),
            raw.pattern.as_ref(),
            normalise_tool,
        );
        let (effective_from, since) = self.date(&at, raw.effective_from.as_ref());
        let per_call = match &raw.per_call {
            Some(value) => {
                let usd = *value.get_ref();
                if !is_price(usd) {
                    let line = Some(self.line(value.span()));
                    self.push(&at, "per_call", line, ProblemKind::BadPrice(usd));
                }
                usd
            }
            None => {
                self.push(&at, "per_call", entry_line, ProblemKind::Missing);
                0.0
            }
        };
        if self.problems.len() > before {
            return None;
        }
        let matcher = matcher?;
        let id = format!(
            "{}:tool:{}{}",
            self.origin.label(),
            matcher_key(&matcher),
            since.map(|s| format!("@{s}")).unwrap_or_default(),
        );
        let entry = ToolEntry {
            id,
            matcher,
            effective_from,
            per_call,
            layer: 0,
        };
        Some((entry, at, entry_line))
    }

    fn matcher(
        &mut self,
        at: &EntryAt,
        line: Option<usize>,
        name: Option<&Spanned<String>>,
        pattern: Option<&Spanned<String>>,
        normalise: fn(&str) -> String,
    ) -> Option<Matcher> {
        match (name, pattern) {
            (None, None) => {
                self.push(at, "name", line, ProblemKind::NoName);
                None
            }
            (Some(_), Some(pattern)) => {
                let line = Some(self.line(pattern.span()));
                self.push(at, "match", line, ProblemKind::NameAndMatch);
                None
            }
            (Some(name), None) => {
                let normalised = normalise(name.get_ref());
                if normalised.is_empty() {
                    let line = Some(self.line(name.span()));
                    self.push(at, "name", line, ProblemKind::Empty);
                    return None;
                }
                Some(Matcher::Name(normalised))
            }
            (None, Some(pattern)) => {
                let source = pattern.get_ref();
                let line = Some(self.line(pattern.span()));
                if source.trim().is_empty() {
                    self.push(at, "match", line, ProblemKind::Empty);
                    return None;
                }
                // Compiled alone first, so an error quotes the pattern as written rather than
                // the anchored, case-insensitive one that is used.
                let built = Regex::new(source).and_then(|_| {
                    RegexBuilder::new(&format!("^(?:{source})$"))
                        .case_insensitive(true)
                        .build()
                });
                match built {
                    Ok(re) => Some(Matcher::Regex(re, source.clone())),
                    Err(e) => {
                        self.push(at, "match", line, ProblemKind::BadRegex(regex_error(&e)));
                        None
                    }
                }
            }
        }
    }

    /// `effective_from` in Unix nanoseconds, and as written (for the id).
    fn date(
        &mut self,
        at: &EntryAt,
        raw: Option<&Spanned<toml::Value>>,
    ) -> (Option<i64>, Option<String>) {
        let Some(raw) = raw else {
            return (None, None);
        };
        let line = Some(self.line(raw.span()));
        let text = match raw.get_ref() {
            toml::Value::String(s) => s.trim().to_owned(),
            toml::Value::Datetime(d) => d.to_string(),
            other => {
                let kind = ProblemKind::BadDate {
                    value: other.type_str().to_owned(),
                    why: "expected a date such as \"2024-10-01\" or an RFC 3339 time".to_owned(),
                };
                self.push(at, "effective_from", line, kind);
                return (None, None);
            }
        };
        match parse_effective(&text) {
            Ok(ns) => (Some(ns), Some(text)),
            Err(why) => {
                let kind = ProblemKind::BadDate { value: text, why };
                self.push(at, "effective_from", line, kind);
                (None, None)
            }
        }
    }

    /// Checks every rate (`prefix` names a tier); `input` and `output` are required.
    fn rates(
        &mut self,
        at: &EntryAt,
        prefix: &str,
        line: Option<usize>,
        fields: RawRates<'_>,
    ) -> Rates {
        let mut v: [Option<f64>; 7] = [None; 7];
        for (slot, (field, value)) in v.iter_mut().zip(fields) {
            let Some(value) = value else {
                continue;
            };
            let usd = *value.get_ref();
            if !is_price(usd) {
                let at_line = Some(self.line(value.span()));
                self.push(
                    at,
                    &format!("{prefix}{field}"),
                    at_line,
                    ProblemKind::BadPrice(usd),
                );
            }
            *slot = Some(usd);
        }
        for (slot, field) in [(v[0], "input"), (v[1], "output")] {
            if slot.is_none() {
                self.push(at, &format!("{prefix}{field}"), line, ProblemKind::Missing);
            }
        }
        Rates {
            input: v[0].unwrap_or(0.0),
            output: v[1].unwrap_or(0.0),
            cache_read: v[2],
            cache_write: v[3],
            reasoning: v[4],
            audio_input: v[5],
            audio_output: v[6],
        }
    }

    fn tiers(&mut self, at: &EntryAt, entry_line: Option<usize>, raw: &[RawTier]) -> Vec<Tier> {
        let mut tiers = Vec::with_capacity(raw.len());
        let mut previous: Option<i64> = None;
        for (k, tier) in raw.iter().enumerate() {
            let prefix = format!("tiers[{}].", k + 1);
            let rates = tier.rates();
            let line = self
                .first_line(
                    std::iter::once(tier.above.as_ref().map(Spanned::span))
                        .chain(rates.iter().map(|(_, v)| v.map(Spanned::span))),
                )
                .or(entry_line);
            let above = match &tier.above {
                Some(above) => {
                    let tokens = *above.get_ref();
                    let at_line = Some(self.line(above.span()));
                    let field = format!("{prefix}above");
                    if tokens <= 0 {
                        self.push(at, &field, at_line, ProblemKind::BadThreshold(tokens));
                    } else if let Some(previous) = previous
                        && tokens <= previous
                    {
                        let kind = ProblemKind::TiersNotAscending {
                            previous,
                            above: tokens,
                        };
                        self.push(at, &field, at_line, kind);
                    }
                    previous = Some(tokens);
                    tokens
                }
                None => {
                    self.push(at, &format!("{prefix}above"), line, ProblemKind::Missing);
                    0
                }
            };
            let rates = self.rates(at, &prefix, line, rates);
            tiers.push(Tier { above, rates });
        }
        tiers
    }
}

fn is_price(usd: f64) -> bool {
    usd.is_finite() && usd >= 0.0
}

fn normalise_tool(name: &str) -> String {
    name.trim().to_lowercase()
}

fn matcher_key(matcher: &Matcher) -> &str {
    match matcher {
        Matcher::Name(name) => name,
        Matcher::Regex(_, source) => source,
    }
}

fn label(name: Option<&Spanned<String>>, pattern: Option<&Spanned<String>>) -> Option<String> {
    name.or(pattern).map(|s| s.get_ref().clone())
}

/// The last line of the regex crate's message (`unclosed character class`); the lines before
/// it repeat the pattern with a caret.
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    last.trim().trim_start_matches("error: ").to_owned()
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn shape_problem(text: &str, origin: &Origin, error: &toml::de::Error) -> PriceProblem {
    let span = error.span();
    let (entry, field) = span
        .as_ref()
        .map_or((None, None), |s| locate(text, s.start));
    PriceProblem {
        file: origin.file(),
        line: span.map(|s| line_of(text, s.start)),
        entry,
        field,
        kind: ProblemKind::Toml(error.message().trim().to_owned()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Header {
    Model,
    Tool,
    /// `[[model.tiers]]` and the like: still inside the entry.
    Sub,
    Other,
}

fn header(line: &str) -> Option<Header> {
    let t = line.trim();
    let (double, rest) = match t.strip_prefix("[[") {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('[')?),
    };
    let inner = rest.split(']').next().unwrap_or_default().trim();
    Some(match inner {
        "model" if double => Header::Model,
        "tool" if double => Header::Tool,
        s if s.starts_with("model.") || s.starts_with("tool.") => Header::Sub,
        _ => Header::Other,
    })
}

/// The entry block and the key of the line holding byte `offset`, found from the text itself
/// (the TOML parser only gives the offset of its error).
fn locate(text: &str, offset: usize) -> (Option<EntryAt>, Option<String>) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (mut models, mut tools) = (0, 0);
    let mut current: Option<(EntryKind, usize, usize)> = None;
    let mut hit = None;
    let mut end = 0;
    for (i, line) in lines.iter().enumerate() {
        match header(line) {
            Some(Header::Model) => {
                models += 1;
                current = Some((EntryKind::Model, models, i));
            }
            Some(Header::Tool) => {
                tools += 1;
                current = Some((EntryKind::Tool, tools, i));
            }
            Some(Header::Other) => current = None,
            Some(Header::Sub) | None => {}
        }
        end += line.len();
        if offset < end {
            hit = Some(i);
            break;
        }
    }
    let field = hit.and_then(|i| lines.get(i).copied()).and_then(key_of);
    let entry = current.map(|(kind, number, start)| EntryAt {
        kind,
        number,
        name: lines
            .iter()
            .skip(start + 1)
            .take_while(|l| {
                !matches!(
                    header(l),
                    Some(Header::Model | Header::Tool | Header::Other)
                )
            })
            .copied()
            .find_map(label_of),
    });
    (entry, field)
}

/// `input` of `input = -1`.
fn key_of(line: &str) -> Option<String> {
    let t = line.trim_start();
    let end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(t.len());
    let (key, rest) = t.split_at(end);
    (!key.is_empty() && rest.trim_start().starts_with('=')).then(|| key.to_owned())
}

/// `gpt-4o` of `name = "gpt-4o"` (or of a `match` line).
fn label_of(line: &str) -> Option<String> {
    let key = key_of(line)?;
    if key != "name" && key != "match" {
        return None;
    }
    let (_, value) = line.split_once('=')?;
    let value = value.trim_start();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &value[1..];
    let close = body.find(quote)?;
    Some(body[..close].to_owned())
}

/// `"2024-10-01"` (midnight UTC) or RFC 3339 with a zone (`2024-10-01T09:30:00+02:00`, `T` or
/// a space between date and time, up to nine fraction digits) to Unix nanoseconds.
pub(super) fn parse_effective(s: &str) -> Result<i64, String> {
    const SHAPE: &str =
        "expected \"YYYY-MM-DD\" or an RFC 3339 time such as \"2024-10-01T00:00:00Z\"";
    let b = s.trim().as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        b.get(from..from + len)?.iter().try_fold(0i64, |acc, &d| {
            if d.is_ascii_digit() {
                Some(acc * 10 + i64::from(d - b'0'))
            } else {
                None
            }
        })
    };
    let is = |i: usize, c: u8| b.get(i) == Some(&c);
    let (Some(year), Some(month), Some(day)) = (digits(0, 4), digits(5, 2), digits(8, 2)) else {
        return Err(SHAPE.to_owned());
    };
    if !is(4, b'-') || !is(7, b'-') {
        return Err(SHAPE.to_owned());
    }
    if !(1..=12).contains(&month) {
        return Err(format!("there is no month {month}"));
    }
    if !(1..=days_in_month(year, month)).contains(&day) {
        return Err(format!("{year:04}-{month:02} has no day {day}"));
    }
    let days = crate::model::days_from_civil(year, month as u32, day as u32);
    let mut secs = i128::from(days) * 86_400;
    let mut nanos: i128 = 0;
    if b.len() > 10 {
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
            return Err(SHAPE.to_owned());
        }
        let (Some(h), Some(m), Some(sec)) = (digits(11, 2), digits(14, 2), digits(17, 2)) else {
            return Err(SHAPE.to_owned());
        };
        if !is(13, b':') || !is(16, b':') {
            return Err(SHAPE.to_owned());
        }
        if h > 23 || m > 59 || sec > 60 {
            return Err(format!("there is no time {h:02}:{m:02}:{sec:02}"));
        }
        secs += i128::from(h * 3600 + m * 60 + sec);
        let mut i = 19;
        if is(i, b'.') {
            i += 1;
            let start = i;
            while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
                if i - start < 9 {
                    nanos = nanos * 10 + i128::from(d - b'0');
                }
                i += 1;
            }
            if i == start {
                return Err(SHAPE.to_owned());
            }
            for _ in (i - start).min(9)..9 {
                nanos *= 10;
            }
        }
        let zone = b.get(i..).unwrap_or_default();
        let offset = match zone {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), ..] if zone.len() == 6 && zone.get(3) == Some(&b':') => {
                let (Some(oh), Some(om)) = (digits(i + 1, 2), digits(i + 4, 2)) else {
                    return Err(SHAPE.to_owned());
                };
                if oh > 23 || om > 59 {
                    return Err(SHAPE.to_owned());
                }
                let offset = oh * 3600 + om * 60;
                if *sign == b'-' { -offset } else { offset }
            }
            [] => return Err("a time needs a zone: Z or an offset such as +02:00".to_owned()),
            _ => return Err(SHAPE.to_owned()),
        };
        secs -= i128::from(offset);
    }
    i64::try_from(secs * 1_000_000_000 + nanos)
        .map_err(|_| "outside the years 1677 to 2262 that a timestamp can hold".to_owned())
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}
