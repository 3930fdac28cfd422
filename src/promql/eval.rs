//! The evaluator: one expression at one instant, or at every step of a range.
//!
//! Before evaluating, the tree is walked once to learn the time window each selector needs
//! over the whole query, so each selector reads its series from the source once; every step
//! then works on those series in memory.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::UNIX_EPOCH;

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{
    AggregateExpr, AtModifier, BinaryExpr, Expr, LabelModifier, Offset, VectorMatchCardinality,
    VectorSelector,
};

use super::functions;
use super::{
    LOOKBACK_MS, Labels, NAME, PromqlError, Sample, Series, SeriesSource, Value, is_stale,
};

type R<T> = Result<T, PromqlError>;

/// The series of a range query, sorted by labels.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RangeResult {
    pub series: Vec<Series>,
    /// Whether the expression was a scalar (one series with no labels).
    pub scalar: bool,
}

/// Evaluates expressions over one source for one query's time span.
pub struct Evaluator<'s> {
    src: &'s dyn SeriesSource,
    /// The query's first and last instants (for `@ start()` / `@ end()` and planning).
    start: i64,
    end: i64,
    /// Subquery step when the subquery gives none.
    default_step: i64,
    pub lookback: i64,
    windows: HashMap<String, (i64, i64)>,
    memo: Option<&'s Memo>,
    /// The planned windows by metric name; `None` once a selector does not name its metric
    /// with `__name__=`.
    named: Option<HashMap<String, (i64, i64)>>,
    cache: RefCell<HashMap<String, Rc<Vec<Series>>>>,
}

impl std::fmt::Debug for Evaluator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("start", &self.start)
            .field("end", &self.end)
            .field("lookback", &self.lookback)
            .finish_non_exhaustive()
    }
}

/// A selected range: the series, and the window they were cut to (for extrapolation).
pub(crate) struct Range {
    pub series: Vec<Series>,
    pub lo: i64,
    pub hi: i64,
    pub range_ms: i64,
}

impl<'s> Evaluator<'s> {
    pub fn new(src: &'s dyn SeriesSource, start: i64, end: i64, default_step: i64) -> Self {
        Evaluator {
            src,
            start,
            end,
            default_step: default_step.max(1),
            lookback: LOOKBACK_MS,
            windows: HashMap::new(),
            memo: None,
            named: Some(HashMap::new()),
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// The metrics evaluating `expr` at `t` reads, by name, each with the window it reads
    /// (what [`Self::instant`] will ask its source for); `None` when a selector does not name
    /// its metric with `__name__=` (so what it reads is not known by name).
    pub fn reads(expr: &Expr, t: i64) -> Option<HashMap<String, (i64, i64)>> {
        struct Nothing;
        impl SeriesSource for Nothing {
            fn select(&self, _: &[Matcher], _: i64, _: i64) -> R<Vec<Series>> {
                Ok(Vec::new())
            }
        }
        let mut ev = Evaluator::new(&Nothing, t, t, 60_000);
        ev.plan(expr, t, t);
        ev.named
    }

    /// Shares the values of functions over ranges and of aggregations with every other
    /// evaluation given the same `memo`. Only for evaluations over one unchanging source:
    /// a value is taken again for the same expression text at the same time.
    pub fn with_memo(mut self, memo: &'s Memo) -> Self {
        self.memo = Some(memo);
        self
    }

    /// Evaluates `expr` at `t`.
    pub fn instant(mut self, expr: &Expr, t: i64) -> R<Value> {
        self.plan(expr, t, t);
        self.eval(expr, t)
    }

    /// Evaluates `expr` at every step of the evaluator's span.
    pub fn range(mut self, expr: &Expr, step: i64) -> R<RangeResult> {
        let (start, end) = (self.start, self.end);
        self.plan(expr, start, end);
        let mut out: HashMap<Labels, Vec<(i64, f64)>> = HashMap::new();
        let mut scalar = false;
        let mut t = start;
        while t <= end {
            match self.eval(expr, t)? {
                Value::Scalar(v) => {
                    scalar = true;
                    out.entry(Labels::default()).or_default().push((t, v));
                }
                Value::Vector(v) => {
                    let mut seen = std::collections::HashSet::new();
                    for s in v {
                        if !seen.insert(s.labels.clone()) {
                            return Err(PromqlError::Eval(format!(
                                "vector cannot contain metrics with the same labelset: {}",
                                s.labels
                            )));
                        }
                        out.entry(s.labels).or_default().push((t, s.value));
                    }
                }
                other => {
                    return Err(PromqlError::Eval(format!(
                        "a range query needs a scalar or an instant vector, got a {}",
                        other.type_name()
                    )));
                }
            }
            t += step;
        }
        let mut series: Vec<Series> = out
            .into_iter()
            .map(|(labels, samples)| Series {
                labels,
                samples: samples.into(),
            })
            .collect();
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(RangeResult { series, scalar })
    }

    // ---- planning ----

    fn at_ms(&self, at: &Option<AtModifier>) -> Option<i64> {
        at.as_ref().map(|a| match a {
            AtModifier::Start => self.start,
            AtModifier::End => self.end,
            AtModifier::At(st) => match st.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_millis() as i64,
                Err(e) => -(e.duration().as_millis() as i64),
            },
        })
    }

    /// Evaluation time of a selector asked at `t`: `@` replaces it, `offset` moves it back.
    fn shifted(&self, t: i64, at: &Option<AtModifier>, offset: &Option<Offset>) -> i64 {
        at_shift(self.at_ms(at).unwrap_or(t), offset)
    }

    fn plan(&mut self, e: &Expr, lo: i64, hi: i64) {
        match e {
            Expr::VectorSelector(vs) => {
                let (a, b) = (
                    self.shifted(lo, &vs.at, &vs.offset),
                    self.shifted(hi, &vs.at, &vs.offset),
                );
                self.widen(vs, a - self.lookback, b);
            }
            Expr::MatrixSelector(ms) => {
                let r = ms.range.as_millis() as i64;
                let (a, b) = (
                    self.shifted(lo, &ms.vs.at, &ms.vs.offset),
                    self.shifted(hi, &ms.vs.at, &ms.vs.offset),
                );
                self.widen(&ms.vs, a - r, b);
            }
            Expr::Subquery(sq) => {
                let r = sq.range.as_millis() as i64;
                let (a, b) = (
                    self.shifted(lo, &sq.at, &sq.offset),
                    self.shifted(hi, &sq.at, &sq.offset),
                );
                self.plan(&sq.expr, a - r, b);
            }
            Expr::Aggregate(ag) => {
                self.plan(&ag.expr, lo, hi);
                if let Some(p) = &ag.param {
                    self.plan(p, lo, hi);
                }
            }
            Expr::Unary(u) => self.plan(&u.expr, lo, hi),
            Expr::Binary(b) => {
                self.plan(&b.lhs, lo, hi);
                self.plan(&b.rhs, lo, hi);
            }
            Expr::Paren(p) => self.plan(&p.expr, lo, hi),
            Expr::Call(c) => {
                for a in &c.args.args {
                    self.plan(a, lo, hi);
                }
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }

    fn widen(&mut self, vs: &VectorSelector, lo: i64, hi: i64) {
        let w = self.windows.entry(selector_key(vs)).or_insert((lo, hi));
        w.0 = w.0.min(lo);
        w.1 = w.1.max(hi);
        if let Some(named) = &mut self.named {
            for g in matcher_groups(vs) {
                // As `series_of` asks: the group's matchers, then the name.
                let Some(name) = super::name_equality(g)
                    .map(|m| &m.value)
                    .or(vs.name.as_ref())
                else {
                    self.named = None;
                    return;
                };
                let w = named.entry(name.clone()).or_insert((lo, hi));
                w.0 = w.0.min(lo);
                w.1 = w.1.max(hi);
            }
        }
    }

    /// The series of a selector over its planned window, read once per query.
    fn series_of(&self, vs: &VectorSelector, lo: i64, hi: i64) -> R<Rc<Vec<Series>>> {
        let key = selector_key(vs);
        if let Some(s) = self.cache.borrow().get(&key) {
            return Ok(s.clone());
        }
        let (wlo, whi) = self
            .windows
            .get(&key)
            .copied()
            .map(|(a, b)| (a.min(lo), b.max(hi)))
            .unwrap_or((lo, hi));
        let groups = matcher_groups(vs);
        let several = groups.len() > 1;
        let mut all: Vec<Series> = Vec::new();
        let mut seen: std::collections::HashSet<Labels> = std::collections::HashSet::new();
        for g in groups {
            let mut g = g.to_vec();
            if let Some(n) = &vs.name {
                g.push(Matcher::new(MatchOp::Equal, NAME, n));
            }
            for s in self.src.select(&g, wlo, whi)? {
                // `or` groups can select a series twice; keep it once.
                if !several || seen.insert(s.labels.clone()) {
                    all.push(s);
                }
            }
        }
        all.sort_by(|a, b| a.labels.cmp(&b.labels));
        let rc = Rc::new(all);
        self.cache.borrow_mut().insert(key, rc.clone());
        Ok(rc)
    }

    // ---- evaluation ----

    pub(crate) fn eval(&self, e: &Expr, t: i64) -> R<Value> {
        match e {
            Expr::NumberLiteral(n) => Ok(Value::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(Value::String(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t),
            Expr::Unary(u) => match self.eval(&u.expr, t)? {
                Value::Scalar(v) => Ok(Value::Scalar(-v)),
                Value::Vector(v) => Ok(Value::Vector(
                    v.into_iter()
                        .map(|s| Sample {
                            labels: s.labels.without_name(),
                            value: -s.value,
                        })
                        .collect(),
                )),
                other => Err(type_error("unary minus", &other)),
            },
            Expr::VectorSelector(vs) => self.select_instant(vs, t).map(Value::Vector),
            Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                self.eval_range(e, t).map(|r| Value::Matrix(r.series))
            }
            Expr::Call(c) => match self.memo {
                Some(memo) if c.args.args.iter().any(|a| is_range(a)) => {
                    memo.get_or_eval(e, t, || functions::call(self, c, t))
                }
                _ => functions::call(self, c, t),
            },
            Expr::Aggregate(ag) => match self.memo {
                Some(memo) => memo.get_or_eval(e, t, || self.aggregate(ag, t)),
                None => self.aggregate(ag, t),
            },
            Expr::Binary(b) => self.binary(b, t),
            Expr::Extension(_) => Err(PromqlError::Unsupported("an extension expression".into())),
        }
    }

    pub(crate) fn eval_scalar(&self, e: &Expr, t: i64, what: &str) -> R<f64> {
        match self.eval(e, t)? {
            Value::Scalar(v) => Ok(v),
            other => Err(type_error(what, &other)),
        }
    }

    pub(crate) fn eval_vector(&self, e: &Expr, t: i64, what: &str) -> R<Vec<Sample>> {
        match self.eval(e, t)? {
            Value::Vector(v) => Ok(v),
            other => Err(type_error(what, &other)),
        }
    }

    /// The latest sample of each series at `t` within the lookback window.
    fn select_instant(&self, vs: &VectorSelector, t: i64) -> R<Vec<Sample>> {
        Ok(self
            .select_instant_timed(vs, t)?
            .into_iter()
            .map(|(s, _)| s)
            .collect())
    }

    /// Like [`Self::select_instant`], with each sample's own time.
    pub(crate) fn select_instant_timed(
        &self,
        vs: &VectorSelector,
        t: i64,
    ) -> R<Vec<(Sample, i64)>> {
        let ts = self.shifted(t, &vs.at, &vs.offset);
        let series = self.series_of(vs, ts - self.lookback, ts)?;
        let mut out = Vec::new();
        for s in series.iter() {
            let i = if s.samples.last().is_some_and(|p| p.0 <= ts) {
                s.samples.len()
            } else {
                crate::promql::first_at_or_after(&s.samples, ts.saturating_add(1))
            };
            if i == 0 {
                continue;
            }
            let (st, v) = s.samples[i - 1];
            if st < ts - self.lookback || is_stale(v) {
                continue;
            }
            out.push((
                Sample {
                    labels: s.labels.clone(),
                    value: v,
                },
                st,
            ));
        }
        Ok(out)
    }

    /// A range selector or a subquery evaluated at `t`.
    pub(crate) fn eval_range(&self, e: &Expr, t: i64) -> R<Range> {
        match e {
            Expr::MatrixSelector(ms) => {
                let r = ms.range.as_millis() as i64;
                let hi = self.shifted(t, &ms.vs.at, &ms.vs.offset);
                let lo = hi - r;
                let series = self.series_of(&ms.vs, lo, hi)?;
                let mut out = Vec::new();
                for s in series.iter() {
                    let mut samples = s.samples.window(lo, hi);
                    // Staleness markers are rare: copy only the windows that hold one.
                    if samples.iter().any(|p| is_stale(p.1)) {
                        samples = samples.iter().copied().filter(|p| !is_stale(p.1)).collect();
                    }
                    if !samples.is_empty() {
                        out.push(Series {
                            labels: s.labels.clone(),
                            samples,
                        });
                    }
                }
                Ok(Range {
                    series: out,
                    lo,
                    hi,
                    range_ms: r,
                })
            }
            Expr::Subquery(sq) => {
                let r = sq.range.as_millis() as i64;
                let step = sq
                    .step
                    .map(|d| d.as_millis() as i64)
                    .filter(|s| *s > 0)
                    .unwrap_or(self.default_step);
                let hi = self.shifted(t, &sq.at, &sq.offset);
                let lo = hi - r;
                // Steps are aligned to multiples of the step, as Prometheus does.
                let mut st = lo.div_euclid(step) * step;
                if st < lo {
                    st += step;
                }
                let mut acc: HashMap<Labels, Vec<(i64, f64)>> = HashMap::new();
                let mut order: Vec<Labels> = Vec::new();
                while st <= hi {
                    let v = match self.eval(&sq.expr, st)? {
                        Value::Scalar(v) => vec![Sample {
                            labels: Labels::default(),
                            value: v,
                        }],
                        Value::Vector(v) => v,
                        other => return Err(type_error("a subquery", &other)),
                    };
                    for s in v {
                        if is_stale(s.value) {
                            continue;
                        }
                        let e = acc.entry(s.labels.clone()).or_insert_with(|| {
                            order.push(s.labels.clone());
                            Vec::new()
                        });
                        e.push((st, s.value));
                    }
                    st += step;
                }
                let series = order
                    .into_iter()
                    .filter_map(|l| {
                        acc.remove(&l).map(|samples| Series {
                            labels: l,
                            samples: samples.into(),
                        })
                    })
                    .collect();
                Ok(Range {
                    series,
                    lo,
                    hi,
                    range_ms: r,
                })
            }
            Expr::Paren(p) => self.eval_range(&p.expr, t),
            other => Err(PromqlError::Eval(format!(
                "expected a range vector (like x[5m]), got {other}"
            ))),
        }
    }

    // ---- aggregation ----

    fn aggregate(&self, ag: &AggregateExpr, t: i64) -> R<Value> {
        let op = ag.op.to_string().to_lowercase();
        let input = self.eval_vector(&ag.expr, t, &format!("{op}()"))?;
        let param = match &ag.param {
            Some(p) => Some(self.eval(p, t)?),
            None => None,
        };
        let grouping = |l: &Labels| -> Labels {
            match &ag.modifier {
                Some(LabelModifier::Include(ls)) => l.keep(&ls.labels),
                Some(LabelModifier::Exclude(ls)) => l.drop_with_name(&ls.labels),
                None => Labels::default(),
            }
        };
        // Groups in order of first appearance.
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut groups: Vec<(Labels, Vec<Sample>)> = Vec::new();
        let count_values_label = match (&op[..], &param) {
            ("count_values", Some(Value::String(s))) => {
                if !valid_label_name(s) {
                    return Err(PromqlError::Eval(format!("invalid label name {s:?}")));
                }
                Some(s.clone())
            }
            ("count_values", _) => {
                return Err(PromqlError::Eval(
                    "count_values needs a label name string".into(),
                ));
            }
            _ => None,
        };
        for s in input {
            let mut key = grouping(&s.labels);
            if let Some(lbl) = &count_values_label {
                key.set(lbl, &functions::format_value_plain(s.value));
            }
            let i = *index.entry(key.clone()).or_insert_with(|| {
                groups.push((key, Vec::new()));
                groups.len() - 1
            });
            groups[i].1.push(s);
        }
        let mut out = Vec::new();
        let scalar_param = |what: &str| -> R<f64> {
            match &param {
                Some(Value::Scalar(v)) => Ok(*v),
                _ => Err(PromqlError::Eval(format!(
                    "{what} needs a scalar parameter"
                ))),
            }
        };
        for (key, members) in groups {
            let vals = || members.iter().map(|s| s.value);
            let value = match &op[..] {
                "sum" => vals().fold(0.0, |a, b| a + b),
                "avg" => {
                    let mut mean = 0.0f64;
                    let mut n = 0.0f64;
                    for v in vals() {
                        n += 1.0;
                        if n == 1.0 {
                            mean = v;
                            continue;
                        }
                        if mean.is_infinite() {
                            if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                                continue;
                            }
                            if !v.is_infinite() && !v.is_nan() {
                                continue;
                            }
                        }
                        mean += v / n - mean / n;
                    }
                    mean
                }
                "min" => vals().fold(f64::NAN, |a, b| if a > b || a.is_nan() { b } else { a }),
                "max" => vals().fold(f64::NAN, |a, b| if a < b || a.is_nan() { b } else { a }),
                "count" | "count_values" => members.len() as f64,
                "group" => 1.0,
                "stddev" | "stdvar" => {
                    let (mut n, mut mean, mut m2) = (0.0f64, 0.0f64, 0.0f64);
                    for v in vals() {
                        n += 1.0;
                        let d = v - mean;
                        mean += d / n;
                        m2 += d * (v - mean);
                    }
                    let var = m2 / n;
                    if op == "stddev" { var.sqrt() } else { var }
                }
                "quantile" => {
                    let q = scalar_param("quantile")?;
                    functions::quantile(q, vals().collect())
                }
                "topk" | "bottomk" => {
                    let k = scalar_param(&op)?;
                    if k.is_nan() || k < 1.0 {
                        continue;
                    }
                    let k = if k > members.len() as f64 {
                        members.len()
                    } else {
                        k as usize
                    };
                    let mut m = members;
                    let top = op == "topk";
                    m.sort_by(|a, b| {
                        // NaN sorts last either way.
                        match (a.value.is_nan(), b.value.is_nan()) {
                            (true, true) => std::cmp::Ordering::Equal,
                            (true, false) => std::cmp::Ordering::Greater,
                            (false, true) => std::cmp::Ordering::Less,
                            _ if top => b.value.total_cmp(&a.value),
                            _ => a.value.total_cmp(&b.value),
                        }
                    });
                    m.truncate(k);
                    out.extend(m);
                    continue;
                }
                other => return Err(PromqlError::Unsupported(format!("aggregation {other}()"))),
            };
            out.push(Sample { labels: key, value });
        }
        Ok(Value::Vector(out))
    }

    // ---- binary operators ----

    fn binary(&self, b: &BinaryExpr, t: i64) -> R<Value> {
        let op = b.op.to_string().to_lowercase();
        let lhs = self.eval(&b.lhs, t)?;
        let rhs = self.eval(&b.rhs, t)?;
        let return_bool = b.return_bool();
        let is_cmp = b.op.is_comparison_operator();
        match (lhs, rhs) {
            (Value::Scalar(l), Value::Scalar(r)) => {
                let (v, keep) = elem_op(&op, l, r)?;
                if is_cmp {
                    // The parser only lets scalar comparisons through with `bool`.
                    Ok(Value::Scalar(if keep { 1.0 } else { 0.0 }))
                } else {
                    Ok(Value::Scalar(v))
                }
            }
            (Value::Vector(v), Value::Scalar(s)) => {
                self.vector_scalar(&op, v, s, false, is_cmp, return_bool)
            }
            (Value::Scalar(s), Value::Vector(v)) => {
                self.vector_scalar(&op, v, s, true, is_cmp, return_bool)
            }
            (Value::Vector(l), Value::Vector(r)) => {
                let modifier = b.modifier.as_ref();
                let matching = modifier.and_then(|m| m.matching.as_ref());
                let card = modifier
                    .map(|m| m.card.clone())
                    .unwrap_or(VectorMatchCardinality::OneToOne);
                if b.op.is_set_operator() {
                    return Ok(Value::Vector(set_op(&op, l, r, matching)));
                }
                vector_binop(&op, l, r, matching, &card, return_bool, is_cmp).map(Value::Vector)
            }
            (l, r) => Err(PromqlError::Eval(format!(
                "operator {op} cannot combine a {} and a {}",
                l.type_name(),
                r.type_name()
            ))),
        }
    }

    fn vector_scalar(
        &self,
        op: &str,
        v: Vec<Sample>,
        s: f64,
        scalar_left: bool,
        is_cmp: bool,
        return_bool: bool,
    ) -> R<Value> {
        let mut out = Vec::with_capacity(v.len());
        for smp in v {
            let (l, r) = if scalar_left {
                (s, smp.value)
            } else {
                (smp.value, s)
            };
            let (mut value, mut keep) = elem_op(op, l, r)?;
            if is_cmp && scalar_left {
                value = r;
            }
            if return_bool {
                value = if keep { 1.0 } else { 0.0 };
                keep = true;
            }
            if keep {
                let labels = if return_bool || !is_cmp {
                    smp.labels.without_name()
                } else {
                    smp.labels
                };
                out.push(Sample { labels, value });
            }
        }
        Ok(Value::Vector(out))
    }
}

fn at_shift(t: i64, offset: &Option<Offset>) -> i64 {
    match offset {
        Some(Offset::Pos(d)) => t - d.as_millis() as i64,
        Some(Offset::Neg(d)) => t + d.as_millis() as i64,
        None => t,
    }
}

/// Whether an argument is a range vector (a function over it reads many samples a series).
fn is_range(e: &Expr) -> bool {
    match e {
        Expr::MatrixSelector(_) | Expr::Subquery(_) => true,
        Expr::Paren(p) => is_range(&p.expr),
        _ => false,
    }
}

/// Values of expressions already evaluated, by expression text and time, shared by the
/// evaluations of one cycle's rules over one unchanging source (rules that compute the same
/// `rate(x[5m])` or `sum by (job) (...)` compute it once). Threads may share it.
#[derive(Default)]
pub struct Memo {
    values: std::sync::Mutex<HashMap<(String, i64), Value>>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

impl Memo {
    fn get_or_eval(&self, e: &Expr, t: i64, eval: impl FnOnce() -> R<Value>) -> R<Value> {
        let key = (e.to_string(), t);
        if let Some(v) = self.values.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(v);
        }
        // Not under the lock: another thread may compute the same value meanwhile, and
        // both get it right.
        let v = eval()?;
        if let Ok(mut m) = self.values.lock() {
            m.insert(key, v.clone());
        }
        Ok(v)
    }
}

/// A selector's matcher groups (several when it has `or`); each selects on its own.
fn matcher_groups(vs: &VectorSelector) -> &[Vec<Matcher>] {
    if vs.matchers.or_matchers.is_empty() {
        std::slice::from_ref(&vs.matchers.matchers)
    } else {
        &vs.matchers.or_matchers
    }
}

fn selector_key(vs: &VectorSelector) -> String {
    format!("{:?}|{:?}", vs.name, vs.matchers)
}

pub(crate) fn type_error(what: &str, got: &Value) -> PromqlError {
    PromqlError::Eval(format!("{what} got a {}", got.type_name()))
}

/// Whether `s` is a valid label name.
pub fn valid_label_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// One arithmetic or comparison operation: the value and whether a comparison holds.
fn elem_op(op: &str, l: f64, r: f64) -> R<(f64, bool)> {
    Ok(match op {
        "+" => (l + r, true),
        "-" => (l - r, true),
        "*" => (l * r, true),
        "/" => (l / r, true),
        "%" => (l % r, true),
        "^" => (l.powf(r), true),
        "atan2" => (l.atan2(r), true),
        "==" => (l, l == r),
        "!=" => (l, l != r),
        ">" => (l, l > r),
        "<" => (l, l < r),
        ">=" => (l, l >= r),
        "<=" => (l, l <= r),
        other => return Err(PromqlError::Unsupported(format!("operator {other}"))),
    })
}

/// The labels two sides are matched on.
fn signature(l: &Labels, matching: Option<&LabelModifier>) -> Labels {
    match matching {
        Some(LabelModifier::Include(ls)) => l.keep(&ls.labels),
        Some(LabelModifier::Exclude(ls)) => l.drop_with_name(&ls.labels),
        None => l.without_name(),
    }
}

fn set_op(
    op: &str,
    l: Vec<Sample>,
    r: Vec<Sample>,
    matching: Option<&LabelModifier>,
) -> Vec<Sample> {
    let rsigs: std::collections::HashSet<Labels> =
        r.iter().map(|s| signature(&s.labels, matching)).collect();
    match op {
        "and" => l
            .into_iter()
            .filter(|s| rsigs.contains(&signature(&s.labels, matching)))
            .collect(),
        "unless" => l
            .into_iter()
            .filter(|s| !rsigs.contains(&signature(&s.labels, matching)))
            .collect(),
        _ => {
            let lsigs: std::collections::HashSet<Labels> =
                l.iter().map(|s| signature(&s.labels, matching)).collect();
            let mut out = l;
            out.extend(
                r.into_iter()
                    .filter(|s| !lsigs.contains(&signature(&s.labels, matching))),
            );
            out
        }
    }
}

fn vector_binop(
    op: &str,
    lhs: Vec<Sample>,
    rhs: Vec<Sample>,
    matching: Option<&LabelModifier>,
    card: &VectorMatchCardinality,
    return_bool: bool,
    is_cmp: bool,
) -> R<Vec<Sample>> {
    if lhs.is_empty() || rhs.is_empty() {
        return Ok(Vec::new());
    }
    let one_to_many = matches!(card, VectorMatchCardinality::OneToMany(_));
    let include: &[String] = match card {
        VectorMatchCardinality::ManyToOne(ls) | VectorMatchCardinality::OneToMany(ls) => &ls.labels,
        _ => &[],
    };
    // The "many" side is walked, the "one" side is looked up.
    let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let mut one_by_sig: HashMap<Labels, Sample> = HashMap::new();
    for s in one {
        let sig = signature(&s.labels, matching);
        if one_by_sig.contains_key(&sig) {
            let side = if one_to_many { "left" } else { "right" };
            return Err(PromqlError::Eval(format!(
                "found duplicate series for the match group {sig} on the {side} hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side"
            )));
        }
        one_by_sig.insert(sig, s);
    }
    let one_to_one = matches!(card, VectorMatchCardinality::OneToOne);
    let mut matched: HashMap<Labels, std::collections::HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for ms in many {
        let sig = signature(&ms.labels, matching);
        let Some(os) = one_by_sig.get(&sig) else {
            continue;
        };
        let (vl, vr) = if one_to_many {
            (os.value, ms.value)
        } else {
            (ms.value, os.value)
        };
        let (mut value, keep) = elem_op(op, vl, vr)?;
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        // The result's labels come from the "many" side.
        let mut labels = if !is_cmp || return_bool {
            ms.labels.without_name()
        } else {
            ms.labels.clone()
        };
        if one_to_one {
            match matching {
                Some(LabelModifier::Include(ls)) => labels = labels.keep(&ls.labels),
                Some(LabelModifier::Exclude(ls)) => {
                    for n in &ls.labels {
                        labels.remove(n);
                    }
                }
                None => {}
            }
        }
        for n in include {
            match os.labels.get(n) {
                Some(v) => labels.set(n, v),
                None => labels.remove(n),
            }
        }
        let seen = matched.entry(sig).or_default();
        if one_to_one {
            if !seen.is_empty() {
                return Err(PromqlError::Eval(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                ));
            }
            seen.insert(Labels::default());
        } else if !seen.insert(labels.clone()) {
            return Err(PromqlError::Eval(
                "multiple matches for labels: grouping labels must ensure unique matches".into(),
            ));
        }
        out.push(Sample { labels, value });
    }
    Ok(out)
}
