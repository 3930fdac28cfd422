//! Model and tool prices, and the cost of an LLM call.
//!
//! Prices live in a TOML file, not in code: `prices.toml` beside this module is embedded in the
//! binary, and a workspace's own `prices.toml` is layered over it (its entries win), so a team
//! can add its fine-tunes, local models and negotiated prices without a release. The format is
//! described at the top of `prices.toml`: per model USD per million input, output, cache-read,
//! cache-write, reasoning and audio tokens, matched by name (dated variants included) or regex,
//! optionally for one provider, from an optional date (old runs keep old prices), with tiers
//! chosen by prompt size, or priced `as` another model; and optional per-call tool prices.
//!
//! Every entry has a short stable id (`builtin:gpt-4o`, `workspace:azure/gpt-4o@2025-01-01`)
//! that a priced span records, so a cost can always be traced to the numbers behind it.
//!
//! What a loaded table guarantees: no negative or non-finite price, valid regexes and dates,
//! ascending tiers, no duplicate entry, and every `as` names a priced model without a loop. A
//! bad file reports all such problems at once, each naming the file, line, entry and field
//! (a TOML syntax or shape error stops the TOML parser, so that one comes alone). An unknown
//! model has no cost rather than a guessed one.
//!
//! Lookup is a linear scan: a table holds tens of entries and a call is priced once, at ingest.

mod parse;

use std::cmp::Reverse;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

pub use parse::{EntryAt, EntryKind, PriceError, PriceProblem, ProblemKind};

/// The price file shipped with the app.
const BUILTIN_TEXT: &str = include_str!("prices.toml");

static BUILTIN: LazyLock<PriceTable> = LazyLock::new(|| {
    // A unit test proves the embedded file loads; were it ever broken, no prices beat a panic
    // at the first LLM span of an ingest.
    PriceTable::parse(BUILTIN_TEXT, Origin::Builtin).unwrap_or_default()
});

/// Where a price entry comes from; the first part of its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The `prices.toml` embedded in the app.
    Builtin,
    /// A workspace's own price file.
    Workspace(PathBuf),
}

impl Origin {
    fn label(&self) -> &'static str {
        match self {
            Origin::Builtin => "builtin",
            Origin::Workspace(_) => "workspace",
        }
    }

    /// The file, as error messages name it.
    pub fn file(&self) -> String {
        match self {
            Origin::Builtin => "built-in prices.toml".to_owned(),
            Origin::Workspace(path) => path.display().to_string(),
        }
    }
}

/// USD per million tokens. The optional rates fall back as the price file describes:
/// cache reads, cache writes and audio input to `input`; reasoning and audio output to `output`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rates {
    pub input: f64,
    pub output: f64,
    pub cache_read: Option<f64>,
    pub cache_write: Option<f64>,
    pub reasoning: Option<f64>,
    pub audio_input: Option<f64>,
    pub audio_output: Option<f64>,
}

impl Rates {
    /// The cost of `call` in USD at these rates.
    ///
    /// `input` counts every prompt token, cached and audio ones included (as OpenAI, OTel
    /// GenAI and OpenInference report them): `cache_read` and `audio_input` of them are billed
    /// at their own rates. Cache writes are extra tokens (Anthropic style). `reasoning` and
    /// `audio_output` are part of `output`. Reasoning and audio counts are only split off when
    /// the entry prices them, so a call without such a rate costs exactly what it did before
    /// those fields existed.
    pub fn cost(&self, call: &Usage<'_>) -> f64 {
        let input = tokens(call.input);
        let cached = tokens(call.cache_read).min(input);
        let audio_in = if self.audio_input.is_some() {
            tokens(call.audio_input).min(input - cached)
        } else {
            0.0
        };
        let output = tokens(call.output);
        let reasoning = if self.reasoning.is_some() {
            tokens(call.reasoning).min(output)
        } else {
            0.0
        };
        let audio_out = if self.audio_output.is_some() {
            tokens(call.audio_output).min(output - reasoning)
        } else {
            0.0
        };
        // The first four terms in this order, so a plain call's cost is bit-identical to the
        // one computed by the table this file replaced (and by agentgen's truth).
        ((input - cached - audio_in) * self.input
            + cached * self.cache_read.unwrap_or(self.input)
            + tokens(call.cache_write) * self.cache_write.unwrap_or(self.input)
            + (output - reasoning - audio_out) * self.output
            + audio_in * self.audio_input.unwrap_or(self.input)
            + reasoning * self.reasoning.unwrap_or(self.output)
            + audio_out * self.audio_output.unwrap_or(self.output))
            / 1e6
    }
}

fn tokens(n: Option<i64>) -> f64 {
    n.unwrap_or(0).max(0) as f64
}

/// Prices for calls whose prompt is larger than `above` tokens: they apply to the whole call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tier {
    pub above: i64,
    pub rates: Rates,
}

/// What a model entry says about price.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelPrice {
    /// Its own rates, with tiers in ascending order of `above`.
    Rates { base: Rates, tiers: Vec<Tier> },
    /// Priced as if it were this (normalised) model name: an estimate.
    As(String),
}

/// How an entry picks the names it prices.
#[derive(Debug, Clone)]
enum Matcher {
    /// A normalised name: itself and its `-`/`@`/`:` variants.
    Name(String),
    /// A case-insensitive regex over the whole normalised name, and its source as written.
    Regex(Regex, String),
}

impl Matcher {
    fn same_regex(&self, other: &Matcher) -> bool {
        matches!((self, other), (Matcher::Regex(_, a), Matcher::Regex(_, b)) if a == b)
    }
}

/// One `[[model]]` entry of a loaded table.
#[derive(Debug, Clone)]
pub struct ModelEntry {
    id: String,
    matcher: Matcher,
    provider: Option<String>,
    effective_from: Option<i64>,
    price: ModelPrice,
    /// 0 for the top file (a workspace's), one more for each file below it.
    layer: usize,
    origin: Origin,
    at: EntryAt,
    /// The line problems about this entry point at (its `as`, else its first field).
    line: Option<usize>,
}

impl ModelEntry {
    /// `<origin>:[provider/]<name or match>[@effective_from]`, e.g. `builtin:o3@2025-06-10`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The normalised name, when the entry matches by name.
    pub fn name(&self) -> Option<&str> {
        match &self.matcher {
            Matcher::Name(n) => Some(n),
            Matcher::Regex(..) => None,
        }
    }

    /// The regex as written, when the entry matches by regex.
    pub fn pattern(&self) -> Option<&str> {
        match &self.matcher {
            Matcher::Regex(_, source) => Some(source),
            Matcher::Name(_) => None,
        }
    }

    /// The canonical provider the entry is restricted to.
    pub fn provider(&self) -> Option<&str> {
        self.provider.as_deref()
    }

    /// Unix nanoseconds from which the entry is in force; `None` is since forever.
    pub fn effective_from_ns(&self) -> Option<i64> {
        self.effective_from
    }

    pub fn price(&self) -> &ModelPrice {
        &self.price
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    fn in_force(&self, at_ns: i64) -> bool {
        self.effective_from.is_none_or(|t| t <= at_ns)
    }

    fn serves(&self, provider: Option<&str>) -> bool {
        match (self.provider.as_deref(), provider) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => true,
        }
    }

    /// How well the entry's provider fits the call's: a provider-specific entry beats a
    /// generic one for a call that names its provider, and loses to it for one that does not.
    fn fit(&self, provider: Option<&str>) -> u8 {
        match (self.provider.is_some(), provider.is_some()) {
            (true, true) => 2,
            (false, _) => 1,
            (true, false) => 0,
        }
    }

    fn since(&self) -> i64 {
        self.effective_from.unwrap_or(i64::MIN)
    }

    fn problem(&self, field: &str, kind: ProblemKind) -> PriceProblem {
        PriceProblem {
            file: self.origin.file(),
            line: self.line,
            entry: Some(self.at.clone()),
            field: Some(field.to_owned()),
            kind,
        }
    }
}

/// One `[[tool]]` entry of a loaded table.
#[derive(Debug, Clone)]
pub struct ToolEntry {
    id: String,
    matcher: Matcher,
    effective_from: Option<i64>,
    per_call: f64,
    layer: usize,
}

impl ToolEntry {
    /// `<origin>:tool:<name or match>[@effective_from]`, e.g. `workspace:tool:web_search`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// USD per call.
    pub fn per_call(&self) -> f64 {
        self.per_call
    }

    fn in_force(&self, at_ns: i64) -> bool {
        self.effective_from.is_none_or(|t| t <= at_ns)
    }

    fn since(&self) -> i64 {
        self.effective_from.unwrap_or(i64::MIN)
    }
}

/// The entry that prices a model at a time.
#[derive(Debug, Clone, Copy)]
pub struct ModelMatch<'a> {
    /// The entry whose name or regex matched the call's model.
    pub entry: &'a ModelEntry,
    /// The entry whose rates apply: `entry` itself, or where its `as` led.
    pub priced_by: &'a ModelEntry,
    base: &'a Rates,
    tiers: &'a [Tier],
}

impl ModelMatch<'_> {
    /// What a span records: the entry's id, or `<alias id>><target id>` for an estimate,
    /// e.g. `workspace:acme-ft>builtin:gpt-4o-mini`.
    pub fn id(&self) -> String {
        if self.is_estimate() {
            format!("{}>{}", self.entry.id, self.priced_by.id)
        } else {
            self.entry.id.clone()
        }
    }

    /// Whether the price is another model's (`as`).
    pub fn is_estimate(&self) -> bool {
        !std::ptr::eq(self.entry, self.priced_by)
    }

    /// The rates for a call with this many prompt tokens: the highest tier it exceeds, else
    /// the base rates.
    pub fn rates(&self, prompt_tokens: i64) -> &Rates {
        self.tiers
            .iter()
            .rev()
            .find(|t| prompt_tokens > t.above)
            .map_or(self.base, |t| &t.rates)
    }
}

/// The entry that prices a tool call at a time.
#[derive(Debug, Clone, Copy)]
pub struct ToolMatch<'a> {
    pub entry: &'a ToolEntry,
}

impl ToolMatch<'_> {
    pub fn id(&self) -> &str {
        &self.entry.id
    }

    /// USD per call.
    pub fn per_call(&self) -> f64 {
        self.entry.per_call
    }
}

/// One LLM call's model and token counts, as a span reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage<'a> {
    pub model: &'a str,
    /// As the span names it (`openai`, `gcp.gemini`, `vertexai`…); folded to a canonical name.
    pub provider: Option<&'a str>,
    /// Every prompt token, cached and audio ones included.
    pub input: Option<i64>,
    /// Every completion token, reasoning and audio ones included.
    pub output: Option<i64>,
    pub cache_read: Option<i64>,
    pub cache_write: Option<i64>,
    pub reasoning: Option<i64>,
    pub audio_input: Option<i64>,
    pub audio_output: Option<i64>,
}

impl Usage<'_> {
    /// The prompt size that picks a tier: input tokens (cache reads included) and cache writes.
    pub fn prompt_tokens(&self) -> i64 {
        self.input
            .unwrap_or(0)
            .max(0)
            .saturating_add(self.cache_write.unwrap_or(0).max(0))
    }
}

/// The outcome of pricing a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Priced {
    /// USD, and the id of the entry (or alias>target) the numbers come from.
    Computed { usd: f64, entry_id: String },
    /// No entry prices this model at this time.
    NoPrice,
    /// The call reports neither input nor output tokens.
    NoUsage,
}

impl Priced {
    pub fn usd(&self) -> Option<f64> {
        match self {
            Priced::Computed { usd, .. } => Some(*usd),
            Priced::NoPrice | Priced::NoUsage => None,
        }
    }
}

/// A loaded price file, or a workspace file layered over the built-in one.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    /// Top layer first, file order within a layer.
    models: Vec<ModelEntry>,
    tools: Vec<ToolEntry>,
}

impl PriceTable {
    /// The prices shipped with the app, parsed once.
    pub fn builtin() -> &'static PriceTable {
        &BUILTIN
    }

    /// Loads a self-contained price file: every `as` must resolve within it. For a workspace
    /// file, whose `as` may name a built-in model, use [`PriceTable::workspace`].
    pub fn parse(text: &str, origin: Origin) -> Result<PriceTable, PriceError> {
        let table = parse::parse_file(text, &origin)?;
        table.check_aliases()?;
        Ok(table)
    }

    /// Loads a workspace's price file (`path` is only for ids and messages) over `base`
    /// (normally [`PriceTable::builtin`]): its entries win, and its `as` may name models of
    /// `base`.
    pub fn workspace(text: &str, path: &Path, base: &PriceTable) -> Result<PriceTable, PriceError> {
        let mut table = parse::parse_file(text, &Origin::Workspace(path.to_path_buf()))?;
        table
            .models
            .extend(base.models.iter().cloned().map(|mut e| {
                e.layer += 1;
                e
            }));
        table.tools.extend(base.tools.iter().cloned().map(|mut e| {
            e.layer += 1;
            e
        }));
        table.check_aliases()?;
        Ok(table)
    }

    pub fn models(&self) -> &[ModelEntry] {
        &self.models
    }

    pub fn tools(&self) -> &[ToolEntry] {
        &self.tools
    }

    /// The entry pricing `model` served by `provider` at `at_ns` (Unix nanoseconds), with any
    /// `as` resolved at the same time.
    ///
    /// Among the entries that apply (provider compatible, in force), a name match beats a
    /// regex; among names the exact name, then the longest, then the upper layer (workspace
    /// over built-in), then the better provider fit, then the latest `effective_from`. Regexes
    /// are tried in order and the first that matches picks the pattern; among that layer's
    /// entries with the same pattern, provider fit and then the latest date decide.
    pub fn model(&self, model: &str, provider: Option<&str>, at_ns: i64) -> Option<ModelMatch<'_>> {
        let provider = provider.map(canonical_provider);
        let entry = self.find_model(&normalise_model(model), provider.as_deref(), at_ns)?;
        let mut priced_by = entry;
        // Bounded: the load-time check rules out loops, but which entry an `as` reaches can
        // depend on the time, and no lookup may spin.
        for _ in 0..=self.models.len() {
            match &priced_by.price {
                ModelPrice::Rates { base, tiers } => {
                    return Some(ModelMatch {
                        entry,
                        priced_by,
                        base,
                        tiers,
                    });
                }
                ModelPrice::As(target) => priced_by = self.find_model(target, None, at_ns)?,
            }
        }
        None
    }

    /// The per-call price of `tool` at `at_ns`: an exact (case-insensitive) name beats a
    /// regex; the upper layer, then the latest `effective_from` win.
    pub fn tool(&self, tool: &str, at_ns: i64) -> Option<ToolMatch<'_>> {
        let name = tool.trim().to_lowercase();
        let applies = |e: &&ToolEntry| e.in_force(at_ns);
        let mut best: Option<(&ToolEntry, (Reverse<usize>, i64))> = None;
        for e in self.tools.iter().filter(applies) {
            if matches!(&e.matcher, Matcher::Name(n) if *n == name) {
                let key = (Reverse(e.layer), e.since());
                if best.as_ref().is_none_or(|(_, k)| key > *k) {
                    best = Some((e, key));
                }
            }
        }
        if let Some((entry, _)) = best {
            return Some(ToolMatch { entry });
        }
        let first = self
            .tools
            .iter()
            .filter(applies)
            .find(|e| matches!(&e.matcher, Matcher::Regex(re, _) if re.is_match(&name)))?;
        let mut entry = first;
        for e in self.tools.iter().filter(applies) {
            if e.layer == first.layer
                && e.matcher.same_regex(&first.matcher)
                && e.since() > entry.since()
            {
                entry = e;
            }
        }
        Some(ToolMatch { entry })
    }

    /// The cost of one LLM call made at `at_ns` (Unix nanoseconds).
    pub fn cost(&self, call: &Usage<'_>, at_ns: i64) -> Priced {
        if call.input.is_none() && call.output.is_none() {
            return Priced::NoUsage;
        }
        let Some(m) = self.model(call.model, call.provider, at_ns) else {
            return Priced::NoPrice;
        };
        Priced::Computed {
            usd: m.rates(call.prompt_tokens()).cost(call),
            entry_id: m.id(),
        }
    }

    fn find_model(&self, name: &str, provider: Option<&str>, at_ns: i64) -> Option<&ModelEntry> {
        type Rank = (bool, usize, Reverse<usize>, u8, i64);
        let applies = |e: &&ModelEntry| e.in_force(at_ns) && e.serves(provider);
        let mut best: Option<(&ModelEntry, Rank)> = None;
        for e in self.models.iter().filter(applies) {
            let Matcher::Name(n) = &e.matcher else {
                continue;
            };
            let Some(exact) = name_hit(n, name) else {
                continue;
            };
            let key = (exact, n.len(), Reverse(e.layer), e.fit(provider), e.since());
            if best.as_ref().is_none_or(|(_, k)| key > *k) {
                best = Some((e, key));
            }
        }
        if let Some((e, _)) = best {
            return Some(e);
        }
        let first = self
            .models
            .iter()
            .filter(applies)
            .find(|e| matches!(&e.matcher, Matcher::Regex(re, _) if re.is_match(name)))?;
        let mut pick = first;
        for e in self.models.iter().filter(applies) {
            if e.layer == first.layer
                && e.matcher.same_regex(&first.matcher)
                && (e.fit(provider), e.since()) > (pick.fit(provider), pick.since())
            {
                pick = e;
            }
        }
        Some(pick)
    }

    /// Every entry an `as` naming `target` could reach at some time: the entries of the best
    /// matching name, else those of every matching regex.
    fn alias_candidates(&self, target: &str) -> Vec<usize> {
        let best = self
            .models
            .iter()
            .filter_map(|e| match &e.matcher {
                Matcher::Name(n) => name_hit(n, target).map(|exact| (exact, n.len(), n.as_str())),
                Matcher::Regex(..) => None,
            })
            .max_by_key(|&(exact, len, _)| (exact, len))
            .map(|(_, _, name)| name);
        let mut found = Vec::new();
        for (i, e) in self.models.iter().enumerate() {
            let hit = match (&e.matcher, best) {
                (Matcher::Name(n), Some(name)) => n == name,
                (Matcher::Regex(re, _), None) => re.is_match(target),
                _ => false,
            };
            if hit {
                found.push(i);
            }
        }
        found
    }

    /// Every `as` names a priced model, and no chain of them loops.
    fn check_aliases(&self) -> Result<(), PriceError> {
        let n = self.models.len();
        let mut problems = Vec::new();
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, e) in self.models.iter().enumerate() {
            let ModelPrice::As(target) = &e.price else {
                continue;
            };
            let found = self.alias_candidates(target);
            if found.is_empty() {
                problems.push(e.problem("as", ProblemKind::UnknownTarget(target.clone())));
            }
            edges[i] = found
                .into_iter()
                .filter(|&j| matches!(self.models[j].price, ModelPrice::As(_)))
                .collect();
        }
        let mut state = vec![Visit::New; n];
        let mut path = Vec::new();
        let mut cycles = Vec::new();
        while let Some(i) = state.iter().position(|s| *s == Visit::New) {
            visit(i, &edges, &mut state, &mut path, &mut cycles);
        }
        for cycle in cycles {
            let Some(&first) = cycle.first() else {
                continue;
            };
            let mut ids: Vec<String> = cycle.iter().map(|&k| self.models[k].id.clone()).collect();
            ids.push(self.models[first].id.clone());
            problems.push(self.models[first].problem("as", ProblemKind::Cycle(ids)));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PriceError { problems })
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    OnPath,
    Done,
}

/// Depth-first search that records each loop once, from where it was entered.
fn visit(
    i: usize,
    edges: &[Vec<usize>],
    state: &mut [Visit],
    path: &mut Vec<usize>,
    cycles: &mut Vec<Vec<usize>>,
) {
    state[i] = Visit::OnPath;
    path.push(i);
    for &j in &edges[i] {
        match state[j] {
            Visit::New => visit(j, edges, state, path, cycles),
            Visit::OnPath => {
                if let Some(pos) = path.iter().position(|&k| k == j) {
                    cycles.push(path[pos..].to_vec());
                }
            }
            Visit::Done => {}
        }
    }
    path.pop();
    state[i] = Visit::Done;
}

/// `Some(true)` for the exact name, `Some(false)` for a dated or versioned variant of it
/// (`gpt-4o-2024-08-06`, `gemini-1.5-pro@002`, `…-v1:0`), `None` otherwise.
fn name_hit(name: &str, model: &str) -> Option<bool> {
    if model == name {
        return Some(true);
    }
    let rest = model.strip_prefix(name)?;
    rest.starts_with(['-', '@', ':']).then_some(false)
}

/// Lowercase, without a `provider/` prefix (`openai/gpt-4o`, `models/gemini-1.5-pro`) or the
/// `anthropic.` of Bedrock ids (`anthropic.claude-3-5-sonnet-20240620-v1:0`).
fn normalise_model(model: &str) -> String {
    let lower = model.trim().to_lowercase();
    let last = lower
        .rsplit_once('/')
        .map_or(lower.as_str(), |(_, last)| last);
    last.strip_prefix("anthropic.").unwrap_or(last).to_owned()
}

/// One name per provider, whichever convention the span followed (OTel GenAI `gen_ai.system`
/// / `gen_ai.provider.name`, OpenInference `llm.provider` / `llm.system`, LangSmith).
fn canonical_provider(provider: &str) -> String {
    let p = provider.trim().to_lowercase();
    let known = match p.as_str() {
        "google" | "gemini" | "gcp.gemini" | "gcp.vertex_ai" | "gcp.gen_ai" | "vertexai"
        | "vertex_ai" | "google_genai" | "google_vertexai" | "google_ai" | "googleai" => "google",
        "mistral" | "mistralai" | "mistral_ai" => "mistral",
        "azure" | "azure_openai" | "az.ai.openai" | "azure.ai.openai" | "az.ai.inference"
        | "azure.ai.inference" => "azure",
        "bedrock" | "aws.bedrock" | "aws_bedrock" | "amazon_bedrock" => "bedrock",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    // `openai.responses`, `openai.chat`: one of the provider's APIs, not another provider.
    if let Some((head, _)) = p.split_once('.')
        && (head == "openai" || head == "anthropic")
    {
        return head.to_owned();
    }
    p
}

/// A workspace's own price file: beside its database, named after it
/// (`workspace.db` → `workspace.prices.toml`).
pub fn workspace_prices_path(db: &Path) -> PathBuf {
    db.with_extension("prices.toml")
}

/// The prices in force for a workspace: its own file (or `over`, when given) layered over the
/// built-in one; the built-in prices alone when there is no such file.
pub fn load_for_workspace(db: &Path, over: Option<&Path>) -> Result<PriceTable, LoadError> {
    let path = over.map_or_else(|| workspace_prices_path(db), Path::to_path_buf);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(PriceTable::workspace(&text, &path, PriceTable::builtin())?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && over.is_none() => {
            Ok(PriceTable::builtin().clone())
        }
        Err(e) => Err(LoadError::Read { path, source: e }),
    }
}

/// Why a workspace's prices could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] PriceError),
}

/// What pricing needs of a span.
#[derive(Debug, Clone, Copy, Default)]
pub struct Call<'a> {
    pub kind: crate::model::SpanKind,
    pub model: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub tool: Option<&'a str>,
    pub start_ns: i64,
    pub input: Option<i64>,
    pub output: Option<i64>,
    pub cache_read: Option<i64>,
    pub cache_write: Option<i64>,
}

/// The computed cost of a call and the id of the price entry: an LLM call from its model and
/// tokens, a tool call from a per-call price. `None` when nothing prices it.
pub fn price_call(c: &Call<'_>, table: &PriceTable) -> Option<(f64, String)> {
    if let Some(model) = c.model {
        let usage = Usage {
            model,
            provider: c.provider,
            input: c.input,
            output: c.output,
            cache_read: c.cache_read,
            cache_write: c.cache_write,
            ..Usage::default()
        };
        if let Priced::Computed { usd, entry_id } = table.cost(&usage, c.start_ns) {
            return Some((usd, entry_id));
        }
    }
    if c.kind == crate::model::SpanKind::Tool
        && let Some(tool) = c.tool
        && let Some(m) = table.tool(tool, c.start_ns)
    {
        return Some((m.per_call(), m.id().to_string()));
    }
    None
}

/// Prices a span unless its data states the cost. Sets `cost` and `price_ref` (both `None`
/// when nothing prices it).
pub fn price_span(s: &mut crate::model::Span, table: &PriceTable) {
    if s.cost.is_some() && s.price_ref.is_none() {
        return;
    }
    let priced = price_call(
        &Call {
            kind: s.kind,
            model: s.model.as_deref(),
            provider: s.provider.as_deref(),
            tool: s.tool_name.as_deref(),
            start_ns: s.start_ns,
            input: s.input_tokens,
            output: s.output_tokens,
            cache_read: s.cache_read_tokens,
            cache_write: s.cache_write_tokens,
        },
        table,
    );
    (s.cost, s.price_ref) = match priced {
        Some((usd, id)) => (Some(usd), Some(id)),
        None => (None, None),
    };
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file())
    }
}

#[cfg(test)]
mod tests;
