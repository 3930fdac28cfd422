//! PromQL over Sightline's own series.
//!
//! Queries are parsed by the `promql-parser` crate and evaluated here, over any
//! [`SeriesSource`]: the workspace's stored series (scraped and derived alike), or the
//! in-memory [`MemSource`] that rule unit tests load their `input_series` into.
//!
//! The semantics follow Prometheus 2.x, the version `promtool` on Debian 12 ships and the one
//! the differential tests compare with: selector windows are closed at both ends
//! (`[t - range, t]`), the lookback delta is 5 minutes, a staleness marker ends a series at
//! once, and `rate`/`increase`/`delta` extrapolate to the window's edges the way Prometheus does.
//!
//! ```
//! use sightline::promql::{MemSource, Query, Value};
//! let mut src = MemSource::default();
//! src.add(&[("__name__", "up"), ("job", "agent")], &[(0, 1.0), (60_000, 0.0)]);
//! let v = Query::parse("up == 0").unwrap().instant(&src, 60_000).unwrap();
//! let Value::Vector(v) = v else { panic!() };
//! assert_eq!(v.len(), 1);
//! ```

mod eval;
mod functions;

pub(crate) use functions::format_value_plain;
pub mod gofmt;

use std::collections::{BTreeMap, HashMap};

use promql_parser::label::Matcher;
pub use promql_parser::parser::Expr;

pub use eval::{Evaluator, Memo, RangeResult, valid_label_name};

/// The bit pattern Prometheus writes for a staleness marker.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// A staleness marker value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether a sample value is a staleness marker.
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Default lookback of an instant selector, in milliseconds.
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// Label name holding the metric name.
pub const NAME: &str = "__name__";

/// One label's name or value: shared, so copying a label set (which evaluation does for every
/// series it passes along) copies pointers, not strings.
type Str = std::sync::Arc<str>;

/// A label set, sorted by name, names unique. `__name__` sorts first. Shared: cloning one
/// (which evaluation does for every series it passes along) is a reference count; and the
/// set without its name, which every function and operator asks for, is made once.
#[derive(Clone, serde::Serialize)]
#[serde(into = "BTreeMap<String, String>")]
pub struct Labels(std::sync::Arc<LabelSet>);

#[derive(Default)]
struct LabelSet {
    pairs: Box<[(Str, Str)]>,
    without_name: std::sync::OnceLock<Labels>,
    /// The last few `keep` results: aggregations group the same series the same way every
    /// evaluation.
    kept: std::sync::Mutex<Vec<(Box<[String]>, Labels)>>,
}

impl Labels {
    fn of(pairs: impl Into<Box<[(Str, Str)]>>) -> Labels {
        Labels(std::sync::Arc::new(LabelSet {
            pairs: pairs.into(),
            without_name: std::sync::OnceLock::new(),
            kept: std::sync::Mutex::new(Vec::new()),
        }))
    }

    fn pairs(&self) -> &[(Str, Str)] {
        &self.0.pairs
    }
}

impl Default for Labels {
    fn default() -> Self {
        Labels::of(Vec::new())
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.pairs() == other.pairs()
    }
}

impl Eq for Labels {}

impl std::hash::Hash for Labels {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.pairs().hash(h)
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Labels {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.pairs().cmp(other.pairs())
    }
}

impl std::fmt::Debug for Labels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Labels").field(&self.pairs()).finish()
    }
}

impl From<Labels> for BTreeMap<String, String> {
    fn from(l: Labels) -> Self {
        l.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

impl Labels {
    /// Builds a label set from pairs in any order; empty values are dropped (Prometheus treats
    /// an empty label as absent), a later duplicate name wins.
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut v: Vec<(Str, Str)> = Vec::new();
        for (k, val) in pairs {
            let (k, val): (String, String) = (k.into(), val.into());
            match v.iter_mut().find(|(n, _)| **n == *k) {
                Some(slot) => slot.1 = val.into(),
                None => v.push((k.into(), val.into())),
            }
        }
        v.retain(|(_, val)| !val.is_empty());
        v.sort();
        Labels::of(v)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs()
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| &**v)
    }

    /// The metric name, if any.
    pub fn name(&self) -> Option<&str> {
        self.get(NAME)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs().iter().map(|(k, v)| (&**k, &**v))
    }

    pub fn len(&self) -> usize {
        self.pairs().len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs().is_empty()
    }

    /// Sets (or with an empty value, removes) one label.
    pub fn set(&mut self, name: &str, value: &str) {
        let mut v = self.pairs().to_vec();
        match v.binary_search_by(|(n, _)| (**n).cmp(name)) {
            Ok(i) if value.is_empty() => {
                v.remove(i);
            }
            Ok(i) => v[i].1 = value.into(),
            Err(_) if value.is_empty() => return,
            Err(i) => v.insert(i, (name.into(), value.into())),
        }
        *self = Labels::of(v);
    }

    pub fn remove(&mut self, name: &str) {
        if self.get(name).is_some() {
            *self = Labels::of(
                self.pairs()
                    .iter()
                    .filter(|(n, _)| &**n != name)
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        }
    }

    /// The same labels without `__name__`.
    pub fn without_name(&self) -> Labels {
        if self.name().is_none() {
            return self.clone();
        }
        self.0
            .without_name
            .get_or_init(|| {
                Labels::of(
                    self.pairs()
                        .iter()
                        .filter(|(n, _)| &**n != NAME)
                        .cloned()
                        .collect::<Vec<_>>(),
                )
            })
            .clone()
    }

    /// Only the named labels.
    pub fn keep(&self, names: &[String]) -> Labels {
        let make = || {
            Labels::of(
                self.pairs()
                    .iter()
                    .filter(|(n, _)| names.iter().any(|k| **k == **n))
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        };
        let Ok(mut kept) = self.0.kept.lock() else {
            return make();
        };
        if let Some((_, l)) = kept.iter().find(|(n, _)| **n == *names) {
            return l.clone();
        }
        let l = make();
        if kept.len() >= 4 {
            kept.remove(0);
        }
        kept.push((names.into(), l.clone()));
        l
    }

    /// All labels but the named ones and `__name__`.
    pub fn drop_with_name(&self, names: &[String]) -> Labels {
        Labels::of(
            self.pairs()
                .iter()
                .filter(|(n, _)| &**n != NAME && !names.iter().any(|k| **k == **n))
                .cloned()
                .collect::<Vec<_>>(),
        )
    }

    /// Whether every matcher accepts this label set (a missing label reads as "").
    pub fn matches<'m>(&self, matchers: impl IntoIterator<Item = &'m Matcher>) -> bool {
        matchers
            .into_iter()
            .all(|m| m.is_match(self.get(&m.name).unwrap_or("")))
    }

    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

impl std::fmt::Display for Labels {
    /// Prometheus' own notation: `name{a="b", c="d"}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self.name().unwrap_or("");
        f.write_str(name)?;
        let rest: Vec<_> = self.pairs().iter().filter(|(n, _)| &**n != NAME).collect();
        if rest.is_empty() && !name.is_empty() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, (k, v)) in rest.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}=\"{}\"", escape_label_value(v))?;
        }
        f.write_str("}")
    }
}

/// Escapes a label value the way the text format and PromQL string literals do.
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One series with samples, time-ordered. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Series {
    pub labels: Labels,
    pub samples: Samples,
}

/// Samples of one series in time order, in a buffer that windows of it share: cutting a
/// selector's window out of what was read (which evaluation does for every series of every
/// selector) copies nothing.
#[derive(Clone, Default)]
pub struct Samples {
    buf: std::sync::Arc<Vec<(i64, f64)>>,
    /// A window of `buf`; `None` for all of it.
    range: Option<(usize, usize)>,
}

impl Samples {
    /// The part in `[lo, hi]`.
    pub fn window(&self, lo: i64, hi: i64) -> Samples {
        let a = first_at_or_after(self, lo);
        // Windows usually end at the newest sample.
        let b = if self.last().is_some_and(|p| p.0 <= hi) {
            self.len()
        } else {
            a + self[a..].partition_point(|p| p.0 <= hi)
        };
        let at = self.range.map_or(0, |r| r.0);
        Samples {
            buf: self.buf.clone(),
            range: Some((at + a, at + b)),
        }
    }

    /// The samples to change in place (copied first if this is a window, or if another
    /// holder shares them).
    pub fn make_mut(&mut self) -> &mut Vec<(i64, f64)> {
        if self.range.is_some() {
            *self = Samples::from(self.to_vec());
        }
        std::sync::Arc::make_mut(&mut self.buf)
    }
}

/// The index of the first sample at or after `t`, searched from the newest end: windows are
/// near the end of what is held, and a search from the start would touch (and miss the cache
/// on) old samples no one reads.
pub fn first_at_or_after(s: &[(i64, f64)], t: i64) -> usize {
    let n = s.len();
    let mut hi = n;
    let mut step = 1;
    loop {
        let i = n.saturating_sub(step);
        if i == 0 || s[i].0 < t {
            return i + s[i..hi].partition_point(|p| p.0 < t);
        }
        hi = i;
        step *= 2;
    }
}

impl std::ops::Deref for Samples {
    type Target = [(i64, f64)];
    fn deref(&self) -> &[(i64, f64)] {
        match self.range {
            None => &self.buf,
            Some((a, b)) => &self.buf[a..b],
        }
    }
}

impl From<Vec<(i64, f64)>> for Samples {
    fn from(v: Vec<(i64, f64)>) -> Self {
        Samples {
            buf: std::sync::Arc::new(v),
            range: None,
        }
    }
}

impl FromIterator<(i64, f64)> for Samples {
    fn from_iter<I: IntoIterator<Item = (i64, f64)>>(it: I) -> Self {
        Samples::from(it.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> IntoIterator for &'a Samples {
    type Item = &'a (i64, f64);
    type IntoIter = std::slice::Iter<'a, (i64, f64)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for Samples {
    fn eq(&self, other: &Self) -> bool {
        // NaN != NaN as in the slices of old; bit-exact comparison is the caller's choice.
        **self == **other
    }
}

impl std::fmt::Debug for Samples {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl serde::Serialize for Samples {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// What an expression evaluates to at one instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(f64),
    Vector(Vec<Sample>),
    /// A range vector: only as the argument of a function.
    Matrix(Vec<Series>),
    String(String),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::Vector(_) => "instant vector",
            Value::Matrix(_) => "range vector",
            Value::String(_) => "string",
        }
    }
}

/// Where series come from. Implementations return every series whose labels satisfy all
/// matchers, with its samples in `[lo, hi]` (inclusive, milliseconds) in time order,
/// staleness markers included. Series with no sample in the window may be left out, and a
/// cache may hand out more than the window (what it holds): the evaluator cuts the windows
/// it needs itself.
pub trait SeriesSource {
    fn select(&self, matchers: &[Matcher], lo: i64, hi: i64) -> Result<Vec<Series>, PromqlError>;
}

/// The part of a series' samples (in time order) in `[lo, hi]`, if any; shares them.
pub fn windowed(labels: &Labels, samples: &Samples, lo: i64, hi: i64) -> Option<Series> {
    let w = samples.window(lo, hi);
    (!w.is_empty()).then(|| Series {
        labels: labels.clone(),
        samples: w,
    })
}

/// Series held in memory (rule unit tests, tests, small tools).
#[derive(Debug, Default, Clone)]
pub struct MemSource {
    series: BTreeMap<Labels, Samples>,
}

impl MemSource {
    /// Adds samples to a series (creating it), keeping time order; a sample at an existing
    /// time replaces the old one.
    pub fn add(&mut self, labels: &[(&str, &str)], samples: &[(i64, f64)]) {
        self.add_labels(Labels::new(labels.iter().copied()), samples);
    }

    pub fn add_labels(&mut self, labels: Labels, samples: &[(i64, f64)]) {
        let s = self.series.entry(labels).or_default().make_mut();
        for &(t, v) in samples {
            match s.binary_search_by_key(&t, |p| p.0) {
                Ok(i) => s[i].1 = v,
                Err(i) => s.insert(i, (t, v)),
            }
        }
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Every series with its samples, in label order.
    pub fn iter(&self) -> impl Iterator<Item = (&Labels, &[(i64, f64)])> {
        self.series.iter().map(|(l, s)| (l, &**s))
    }
}

impl SeriesSource for MemSource {
    fn select(&self, matchers: &[Matcher], lo: i64, hi: i64) -> Result<Vec<Series>, PromqlError> {
        Ok(self
            .series
            .iter()
            .filter(|(l, _)| l.matches(matchers))
            .filter_map(|(l, s)| windowed(l, s, lo, hi))
            .collect())
    }
}

/// Remembers what was read per metric name, so that the rules of one evaluation cycle that
/// select the same metric (with other label matchers or shorter windows) read it once. Only
/// selectors with an equality on `__name__` are cached; the cache lives as long as the cycle.
pub struct CachedSource<'a> {
    base: &'a dyn SeriesSource,
    entries: std::cell::RefCell<Held>,
}

/// Metrics' series as read, by metric name: each with the window `[lo, hi]` it was read over.
/// A source in its own right, which answers only from what it holds and needs no reading, so
/// threads can share it (rules evaluated side by side).
#[derive(Default)]
pub struct Held {
    entries: HashMap<String, (i64, i64, Vec<Series>)>,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("metrics", &self.entries.len())
            .finish()
    }
}

impl Held {
    /// The held series of the metric a `__name__=` matcher names (none if `matchers` has no
    /// such matcher or the metric is not held over `[lo, hi]`), filtered by the other
    /// matchers. What is held is handed out uncut: evaluation cuts its own windows (see
    /// [`SeriesSource`]), and cutting here too was a fifth of a live cycle.
    fn answer(&self, matchers: &[Matcher], lo: i64, hi: i64) -> Option<Vec<Series>> {
        let name = name_equality(matchers)?;
        let (l, h, all) = self.entries.get(&name.value)?;
        if *l > lo || *h < hi {
            return None;
        }
        let rest: Vec<&Matcher> = matchers
            .iter()
            .filter(|m| !std::ptr::eq(*m, name))
            .collect();
        Some(
            all.iter()
                .filter(|s| s.labels.matches(rest.iter().copied()))
                .cloned()
                .collect(),
        )
    }
}

impl SeriesSource for Held {
    fn select(&self, matchers: &[Matcher], lo: i64, hi: i64) -> Result<Vec<Series>, PromqlError> {
        self.answer(matchers, lo, hi).ok_or_else(|| {
            PromqlError::Source(format!(
                "{} over [{lo}, {hi}] was not read ahead",
                matchers
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }
}

/// The `__name__="..."` matcher of a selector, if it has one.
pub fn name_equality(matchers: &[Matcher]) -> Option<&Matcher> {
    matchers
        .iter()
        .find(|m| m.name == NAME && matches!(m.op, promql_parser::label::MatchOp::Equal))
}

impl std::fmt::Debug for CachedSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CachedSource")
    }
}

impl<'a> CachedSource<'a> {
    pub fn new(base: &'a dyn SeriesSource) -> Self {
        CachedSource {
            base,
            entries: Default::default(),
        }
    }

    /// Reads metric `name` over `[lo, hi]` unless that is held already (the window held
    /// grows to cover both).
    pub fn hold(&self, name: &str, lo: i64, hi: i64) -> Result<(), PromqlError> {
        let mut held = self.entries.borrow_mut();
        let (l, h) = match held.entries.get(name) {
            Some((l, h, _)) if *l <= lo && *h >= hi => return Ok(()),
            Some((l, h, _)) => ((*l).min(lo), (*h).max(hi)),
            None => (lo, hi),
        };
        let m = Matcher::new(promql_parser::label::MatchOp::Equal, NAME, name);
        let all = self.base.select(std::slice::from_ref(&m), l, h)?;
        held.entries.insert(name.to_string(), (l, h, all));
        Ok(())
    }

    /// Everything read so far, to share with threads; [`Self::give_back`] returns it.
    pub fn take_held(&self) -> Held {
        std::mem::take(&mut *self.entries.borrow_mut())
    }

    pub fn give_back(&self, held: Held) {
        *self.entries.borrow_mut() = held;
    }
}

impl SeriesSource for CachedSource<'_> {
    fn select(&self, matchers: &[Matcher], lo: i64, hi: i64) -> Result<Vec<Series>, PromqlError> {
        let Some(name) = name_equality(matchers) else {
            return self.base.select(matchers, lo, hi);
        };
        self.hold(&name.value, lo, hi)?;
        Ok(self
            .entries
            .borrow()
            .answer(matchers, lo, hi)
            .unwrap_or_default())
    }
}

/// What can go wrong parsing or evaluating a query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PromqlError {
    #[error("cannot parse PromQL {query:?}: {why}")]
    Parse { query: String, why: String },
    #[error("{0} is not supported")]
    Unsupported(String),
    #[error("{0}")]
    Eval(String),
    #[error("reading series: {0}")]
    Source(String),
}

/// A parsed query, ready to evaluate any number of times.
#[derive(Debug, Clone)]
pub struct Query {
    pub text: String,
    pub expr: Expr,
}

impl Query {
    pub fn parse(text: &str) -> Result<Query, PromqlError> {
        let expr = promql_parser::parser::parse(text).map_err(|why| PromqlError::Parse {
            query: text.to_string(),
            why,
        })?;
        Ok(Query {
            text: text.to_string(),
            expr,
        })
    }

    /// Evaluates at one instant (Unix ms).
    pub fn instant(&self, src: &dyn SeriesSource, t: i64) -> Result<Value, PromqlError> {
        Evaluator::new(src, t, t, 60_000).instant(&self.expr, t)
    }

    /// Like [`Self::instant`], sharing values with other evaluations over the same
    /// unchanging source (see [`Evaluator::with_memo`]).
    pub fn instant_memo(
        &self,
        src: &dyn SeriesSource,
        t: i64,
        memo: &Memo,
    ) -> Result<Value, PromqlError> {
        Evaluator::new(src, t, t, 60_000)
            .with_memo(memo)
            .instant(&self.expr, t)
    }

    /// Evaluates at every `step` from `start` to `end` inclusive (Unix ms).
    pub fn range(
        &self,
        src: &dyn SeriesSource,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<RangeResult, PromqlError> {
        if step <= 0 {
            return Err(PromqlError::Eval("the step must be positive".into()));
        }
        if end < start {
            return Err(PromqlError::Eval("the end is before the start".into()));
        }
        if (end - start) / step > 11_000 {
            return Err(PromqlError::Eval(format!(
                "{} points per series is too many; use a larger step (at most 11000 points)",
                (end - start) / step + 1
            )));
        }
        Evaluator::new(src, start, end, step).range(&self.expr, step)
    }
}

/// Parses a series description such as `up{job="api", instance="a:1"}` into labels.
pub fn parse_series_labels(text: &str) -> Result<Labels, PromqlError> {
    let text = text.trim();
    if text.is_empty() || text == "{}" {
        return Ok(Labels::default());
    }
    let expr = promql_parser::parser::parse(text).map_err(|why| PromqlError::Parse {
        query: text.to_string(),
        why,
    })?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(PromqlError::Parse {
            query: text.to_string(),
            why: "expected a series like name{label=\"value\"}".into(),
        });
    };
    let mut pairs = Vec::new();
    if let Some(n) = &vs.name {
        pairs.push((NAME.to_string(), n.clone()));
    }
    for m in &vs.matchers.matchers {
        if !matches!(m.op, promql_parser::label::MatchOp::Equal) {
            return Err(PromqlError::Parse {
                query: text.to_string(),
                why: format!("label {} must be set with =", m.name),
            });
        }
        pairs.push((m.name.clone(), m.value.clone()));
    }
    Ok(Labels::new(pairs))
}

/// Parses a Prometheus duration (`1h30m`, `90s`, `500ms`, `2d`, `1w`, `1y`) or a plain number of
/// seconds into milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<i64> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<f64>() {
        return (n.is_finite() && n >= 0.0).then_some((n * 1000.0).round() as i64);
    }
    let mut total: i64 = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: i64 = s[start..i].parse().ok()?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit: i64 = match &s[ustart..i] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    Some(total)
}

/// Formats milliseconds as a Prometheus duration (`1h30m`, `0s`).
pub fn format_duration_ms(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms;
    if rest < 0 {
        out.push('-');
        rest = -rest;
    }
    for (unit, suffix) in [
        (365 * 86_400_000, "y"),
        (7 * 86_400_000, "w"),
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
        (1, "ms"),
    ] {
        if rest >= unit {
            out.push_str(&format!("{}{suffix}", rest / unit));
            rest %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search from the end finds what a plain binary search finds, and windows share.
    #[test]
    fn windows_from_the_end_match_a_binary_search() {
        for n in 0..40usize {
            let s: Vec<(i64, f64)> = (0..n).map(|i| (i as i64 * 10, i as f64)).collect();
            for t in -5..(n as i64 * 10 + 5) {
                assert_eq!(
                    first_at_or_after(&s, t),
                    s.partition_point(|p| p.0 < t),
                    "n {n} t {t}"
                );
                let all = Samples::from(s.clone());
                let w = all.window(t, t + 25);
                let want: Vec<(i64, f64)> = s
                    .iter()
                    .copied()
                    .filter(|p| p.0 >= t && p.0 <= t + 25)
                    .collect();
                assert_eq!(&*w, &want[..]);
                let ww = w.window(t + 10, t + 20);
                let want2: Vec<(i64, f64)> = want
                    .iter()
                    .copied()
                    .filter(|p| p.0 >= t + 10 && p.0 <= t + 20)
                    .collect();
                assert_eq!(&*ww, &want2[..]);
            }
        }
    }

    /// What an instant evaluation reads, by metric name, and the window of each.
    #[test]
    fn reads_names_each_metric_with_its_window() {
        let reads = |q: &str| Evaluator::reads(&Query::parse(q).unwrap().expr, 1_000_000);
        let r =
            reads("rate(a[1m]) / b offset 30s + sum(sum_over_time(a{x=\"y\"}[5m] @ 2))").unwrap();
        let mut got: Vec<_> = r.into_iter().collect();
        got.sort();
        // b: the lookback before its shifted time; a: both windows, the `@` one at 2 s.
        assert_eq!(
            got,
            [
                ("a".to_string(), (2_000 - 300_000, 1_000_000)),
                ("b".to_string(), (970_000 - LOOKBACK_MS, 970_000)),
            ]
        );
        let sub = reads("max_over_time(rate(c[1m])[10m:1m])").unwrap();
        assert_eq!(sub["c"], (1_000_000 - 660_000, 1_000_000));
        assert_eq!(
            reads(r#"{__name__="d", job="j"}"#).unwrap()["d"],
            (1_000_000 - LOOKBACK_MS, 1_000_000)
        );
        assert!(reads(r#"{__name__=~"a|b"}"#).is_none());
        assert!(reads(r#"a + {job="j"}"#).is_none());
        assert!(reads("time()").unwrap().is_empty());
    }

    /// What is held answers only inside the window it was read over.
    #[test]
    fn held_series_answer_only_inside_their_window() {
        let mut src = MemSource::default();
        src.add(&[("__name__", "a"), ("j", "1")], &[(0, 1.0), (10, 2.0)]);
        src.add(&[("__name__", "a"), ("j", "2")], &[(5, 1.0)]);
        let cached = CachedSource::new(&src);
        cached.hold("a", 0, 10).unwrap();
        let held = cached.take_held();
        let name = Matcher::new(promql_parser::label::MatchOp::Equal, NAME, "a");
        let j = Matcher::new(promql_parser::label::MatchOp::Equal, "j", "2");
        assert_eq!(
            held.select(std::slice::from_ref(&name), 0, 10)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(held.select(&[name.clone(), j], 2, 8).unwrap().len(), 1);
        let e = held.select(&[name], -5, 10).unwrap_err().to_string();
        assert!(e.contains("was not read ahead"), "{e}");
        let other = Matcher::new(promql_parser::label::MatchOp::Equal, NAME, "b");
        assert!(held.select(&[other], 0, 10).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("0"), Some(0));
        assert_eq!(parse_duration_ms("2.5"), Some(2500));
        assert_eq!(parse_duration_ms("5x"), None);
        assert_eq!(format_duration_ms(5_400_000), "1h30m");
        assert_eq!(format_duration_ms(0), "0s");
    }

    #[test]
    fn series_labels() {
        let l = parse_series_labels(r#"up{job="a\"b", instance="x"}"#).unwrap();
        assert_eq!(l.name(), Some("up"));
        assert_eq!(l.get("job"), Some("a\"b"));
        assert_eq!(l.to_string(), r#"up{instance="x", job="a\"b"}"#);
        assert!(parse_series_labels("up{a=~\"x\"}").is_err());
    }
}
