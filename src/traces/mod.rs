//! Spans of one trace assembled into a run: the tree in display order, token and cost
//! roll-ups per subtree, the critical path, and flags for spans whose parent never arrived.
//!
//! Everything here is iterative (no recursion): a 100,000-span run may be a chain 100,000
//! deep.

pub mod detail;

use serde::Serialize;

use crate::error::Result;
use crate::model::{Span, SpanKind, SpanStatus};
use crate::store::Store;
use crate::store::queries::spans::{self, RunRow};

/// A span placed in its run.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunSpan {
    pub span_id: String,
    pub parent_span_id: Option<String>,
    /// Index of the parent in [`RunView::spans`]; `None` for a top-level span.
    pub parent: Option<u32>,
    pub depth: u32,
    /// Number of direct children.
    pub children: u32,
    pub name: String,
    pub kind: SpanKind,
    pub status: SpanStatus,
    pub status_message: Option<String>,
    pub start_ns: i64,
    pub end_ns: i64,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost: Option<f64>,
    pub tool_name: Option<String>,
    /// LLM tokens and cost of this span and everything below it.
    pub subtree_input_tokens: i64,
    pub subtree_output_tokens: i64,
    pub subtree_cost: f64,
    /// On the run's critical path (the chain of spans that set its end).
    pub critical: bool,
    /// Its parent is not in the trace (never arrived, or a cycle): shown under the root.
    pub orphan: bool,
}

/// A run with all its spans in tree order (each span after its parent, siblings by start).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunView {
    pub run: RunRow,
    pub spans: Vec<RunSpan>,
    pub orphans: u32,
    /// Sum of the self time of the critical spans: how long the run would take if
    /// everything off the path were free.
    pub critical_path_ns: i64,
}

/// A run's spans as columns: what the desktop's Run view reads, and nothing more.
///
/// A 100,000-span [`RunView`] is ~46 MB of JSON (22 named fields per span, times in 19
/// digits), and moving and parsing it in the web view took longer than anything else in
/// opening the run. Here each field is one array over the spans, at the positions of
/// [`RunView::spans`] (tree order); repeated text is an index into a table; times are ns
/// after the run's start, which a JS number holds exactly for runs up to ~104 days where
/// absolute ns lose their last digits; what few spans carry is listed for those spans only.
/// Depth, child counts and subtree roll-ups are left out (the view derives them from
/// `parent`), and so are provider, model and the parent's span id (the span's detail has them).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunColumns {
    pub run: RunRow,
    pub orphans: u32,
    /// As [`RunView::critical_path_ns`].
    pub critical_path_ns: i64,
    pub span_id: Vec<String>,
    /// Position of each span's parent; -1 for a top-level span.
    pub parent: Vec<i64>,
    /// Span and tool names, each once: `name` and `tool_name` index it.
    pub names: Vec<String>,
    pub name: Vec<u32>,
    /// -1 for a span that names no tool.
    pub tool_name: Vec<i64>,
    /// The kinds the spans have, each once: `kind` indexes it.
    pub kinds: Vec<SpanKind>,
    pub kind: Vec<u8>,
    /// The statuses the spans have, each once: `status` indexes it.
    pub statuses: Vec<SpanStatus>,
    pub status: Vec<u8>,
    /// Start of each span, ns after `run.start_ns` (negative if the span began before it).
    pub start: Vec<i64>,
    /// End of each span, ns after `run.start_ns`.
    pub end: Vec<i64>,
    /// Positions of the spans with a cost or a token count, ascending; `cost`,
    /// `input_tokens` and `output_tokens` are theirs, in the same order.
    pub metered: Vec<u32>,
    pub cost: Vec<Option<f64>>,
    pub input_tokens: Vec<Option<i64>>,
    pub output_tokens: Vec<Option<i64>>,
    /// Positions of the spans on the critical path, ascending.
    pub critical: Vec<u32>,
    /// Positions of the orphans, ascending.
    pub orphan: Vec<u32>,
    /// Positions of the spans with a status message, ascending; `message` holds them.
    pub message_at: Vec<u32>,
    pub message: Vec<String>,
}

impl RunView {
    /// The view as [`RunColumns`], for the desktop's Run view.
    pub fn compact(self) -> RunColumns {
        let RunView {
            run,
            spans,
            orphans,
            critical_path_ns,
        } = self;
        let n = spans.len();
        let origin = run.start_ns;
        let mut names = Names::default();
        let mut c = RunColumns {
            run,
            orphans,
            critical_path_ns,
            span_id: Vec::with_capacity(n),
            parent: Vec::with_capacity(n),
            names: Vec::new(),
            name: Vec::with_capacity(n),
            tool_name: Vec::with_capacity(n),
            kinds: Vec::new(),
            kind: Vec::with_capacity(n),
            statuses: Vec::new(),
            status: Vec::with_capacity(n),
            start: Vec::with_capacity(n),
            end: Vec::with_capacity(n),
            metered: Vec::new(),
            cost: Vec::new(),
            input_tokens: Vec::new(),
            output_tokens: Vec::new(),
            critical: Vec::new(),
            orphan: Vec::new(),
            message_at: Vec::new(),
            message: Vec::new(),
        };
        for (k, s) in spans.into_iter().enumerate() {
            let at = k as u32;
            c.span_id.push(s.span_id);
            c.parent.push(s.parent.map_or(-1, i64::from));
            c.name.push(names.slot(s.name));
            c.tool_name
                .push(s.tool_name.map_or(-1, |t| i64::from(names.slot(t))));
            c.kind.push(slot(&mut c.kinds, s.kind));
            c.status.push(slot(&mut c.statuses, s.status));
            c.start.push(s.start_ns.saturating_sub(origin));
            c.end.push(s.end_ns.saturating_sub(origin));
            if s.cost.is_some() || s.input_tokens.is_some() || s.output_tokens.is_some() {
                c.metered.push(at);
                c.cost.push(s.cost);
                c.input_tokens.push(s.input_tokens);
                c.output_tokens.push(s.output_tokens);
            }
            if s.critical {
                c.critical.push(at);
            }
            if s.orphan {
                c.orphan.push(at);
            }
            if let Some(m) = s.status_message {
                c.message_at.push(at);
                c.message.push(m);
            }
        }
        c.names = names.table;
        c
    }
}

/// A table of distinct names, each given the index of its first use.
#[derive(Default)]
struct Names {
    table: Vec<String>,
    index: std::collections::HashMap<String, u32>,
}

impl Names {
    fn slot(&mut self, name: String) -> u32 {
        if let Some(&i) = self.index.get(&name) {
            return i;
        }
        let i = self.table.len() as u32;
        self.index.insert(name.clone(), i);
        self.table.push(name);
        i
    }
}

/// The index of `v` in a small table of distinct values, adding it on first use (the
/// tables here hold a few enum values).
fn slot<T: PartialEq + Copy>(table: &mut Vec<T>, v: T) -> u8 {
    match table.iter().position(|t| *t == v) {
        Some(i) => i as u8,
        None => {
            table.push(v);
            (table.len() - 1) as u8
        }
    }
}

/// Builds the tree of a trace's spans. `spans` may come in any order.
pub fn assemble(run: RunRow, spans: Vec<Span>) -> RunView {
    let n = spans.len();
    let mut by_id: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(n);
    for (i, s) in spans.iter().enumerate() {
        by_id.entry(s.span_id.as_str()).or_insert(i);
    }
    // Parent of each span (input index), and the top-level spans.
    let mut parent_of: Vec<Option<usize>> = vec![None; n];
    let mut orphan = vec![false; n];
    let mut tops: Vec<usize> = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match s.parent_span_id.as_deref() {
            None => tops.push(i),
            Some(p) => match by_id.get(p) {
                Some(&pi) if pi != i => parent_of[i] = Some(pi),
                _ => orphan[i] = true,
            },
        }
    }
    let by_start = |a: &usize, b: &usize| {
        (spans[*a].start_ns, spans[*a].end_ns, *a).cmp(&(spans[*b].start_ns, spans[*b].end_ns, *b))
    };
    tops.sort_by(by_start);
    // The root: the earliest top-level span, else the earliest orphan.
    let root = tops
        .first()
        .copied()
        .or_else(|| (0..n).filter(|i| orphan[*i]).min_by(by_start));
    if let Some(r) = root {
        for i in 0..n {
            if orphan[i] && i != r {
                parent_of[i] = Some(r);
            }
        }
        if !tops.contains(&r) {
            tops.insert(0, r);
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, p) in parent_of.iter().enumerate() {
        if let Some(p) = *p {
            children[p].push(i);
        }
    }
    for c in &mut children {
        c.sort_by(by_start);
    }
    // Depth-first order from the top-level spans; anything not reached (a cycle) is
    // attached under the root as an orphan.
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut depth = vec![0u32; n];
    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = tops.iter().rev().copied().collect();
    let walk = |stack: &mut Vec<usize>,
                order: &mut Vec<usize>,
                seen: &mut Vec<bool>,
                depth: &mut Vec<u32>| {
        while let Some(i) = stack.pop() {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            order.push(i);
            for &c in children[i].iter().rev() {
                if !seen[c] {
                    depth[c] = depth[i] + 1;
                    stack.push(c);
                }
            }
        }
    };
    walk(&mut stack, &mut order, &mut seen, &mut depth);
    let mut extra: Vec<usize> = (0..n).filter(|i| !seen[*i]).collect();
    extra.sort_by(by_start);
    for i in extra {
        if seen[i] {
            continue;
        }
        orphan[i] = true;
        parent_of[i] = root;
        depth[i] = root.map_or(0, |r| depth[r] + 1);
        stack.push(i);
        walk(&mut stack, &mut order, &mut seen, &mut depth);
    }
    // A span known only from a point in time (a log line without a duration) that has
    // children spans at least them, so it draws as the bar it was.
    let mut spans = spans;
    for &i in order.iter().rev() {
        if spans[i].start_ns == spans[i].end_ns && !children[i].is_empty() {
            let lo = children[i]
                .iter()
                .map(|c| spans[*c].start_ns)
                .min()
                .unwrap_or(spans[i].start_ns);
            let hi = children[i]
                .iter()
                .map(|c| spans[*c].end_ns)
                .max()
                .unwrap_or(spans[i].end_ns);
            spans[i].start_ns = spans[i].start_ns.min(lo);
            spans[i].end_ns = spans[i].end_ns.max(hi);
        }
    }
    // Positions in display order.
    let mut pos = vec![0u32; n];
    for (k, &i) in order.iter().enumerate() {
        pos[i] = k as u32;
    }
    // Roll-ups: children come after their parent in `order`, so walk it backwards.
    let mut sub_in = vec![0i64; n];
    let mut sub_out = vec![0i64; n];
    let mut sub_cost = vec![0f64; n];
    for &i in order.iter().rev() {
        let s = &spans[i];
        if s.kind == SpanKind::Llm {
            sub_in[i] += s.input_tokens.unwrap_or(0);
            sub_out[i] += s.output_tokens.unwrap_or(0);
            sub_cost[i] += s.cost.unwrap_or(0.0);
        }
        if let Some(p) = parent_of[i] {
            sub_in[p] += sub_in[i];
            sub_out[p] += sub_out[i];
            sub_cost[p] += sub_cost[i];
        }
    }
    // Critical path: from the root, repeatedly the child that finishes last before the
    // point reached so far, then into it.
    let mut critical = vec![false; n];
    let mut critical_path_ns = 0i64;
    if let Some(r) = root {
        // Each critical span counts only within the window its parent left for it, so the
        // path's length never exceeds the run's.
        let mut stack = vec![(r, spans[r].start_ns, spans[r].end_ns)];
        while let Some((i, lo, hi)) = stack.pop() {
            critical[i] = true;
            let mut kids = children[i].clone();
            kids.sort_by(|a, b| spans[*b].end_ns.cmp(&spans[*a].end_ns));
            let mut cursor = hi;
            let mut covered = 0i64;
            for c in kids {
                let cs = &spans[c];
                let (c_lo, c_hi) = (cs.start_ns.max(lo), cs.end_ns.min(cursor));
                if critical[c] || c_lo >= c_hi {
                    continue;
                }
                covered += c_hi - c_lo;
                cursor = c_lo;
                stack.push((c, c_lo, c_hi));
            }
            critical_path_ns += (hi - lo - covered).max(0);
        }
    }
    let orphans = orphan.iter().filter(|o| **o).count() as u32;
    let mut out: Vec<RunSpan> = Vec::with_capacity(n);
    let mut spans: Vec<Option<Span>> = spans.into_iter().map(Some).collect();
    for &i in &order {
        let Some(s) = spans[i].take() else { continue };
        out.push(RunSpan {
            span_id: s.span_id,
            parent_span_id: s.parent_span_id,
            parent: parent_of[i].map(|p| pos[p]),
            depth: depth[i],
            children: children[i].len() as u32,
            name: s.name,
            kind: s.kind,
            status: s.status,
            status_message: s.status_message,
            start_ns: s.start_ns,
            end_ns: s.end_ns,
            provider: s.provider,
            model: s.model,
            input_tokens: s.input_tokens,
            output_tokens: s.output_tokens,
            cost: s.cost,
            tool_name: s.tool_name,
            subtree_input_tokens: sub_in[i],
            subtree_output_tokens: sub_out[i],
            subtree_cost: sub_cost[i],
            critical: critical[i],
            orphan: orphan[i],
        });
    }
    RunView {
        run,
        spans: out,
        orphans,
        critical_path_ns,
    }
}

/// Loads a run by trace id (or a unique prefix of one). With `attrs`, the spans' attributes
/// come back too (same order as the view's spans).
pub fn load_run(store: &Store, id: &str, attrs: bool) -> Result<(RunView, Vec<String>)> {
    let conn = store.reader()?;
    let (tref, trace_id) = spans::find_run(&conn, id)?;
    let q = spans::RunQuery {
        limit: Some(1),
        trace_id: Some(trace_id.clone()),
        ..Default::default()
    };
    let row = spans::list_runs(&conn, &q)?
        .into_iter()
        .find(|r| r.trace_id == trace_id)
        .ok_or_else(|| crate::error::Error::InvalidArgument {
            what: "run id",
            value: id.to_owned(),
            why: "no run has this trace id".into(),
        })?;
    let all = if attrs {
        spans::trace_spans(&conn, tref, &trace_id)?
    } else {
        spans::trace_spans_lean(&conn, tref, &trace_id)?
    };
    let mut attr_by_id: std::collections::HashMap<String, String> = Default::default();
    if attrs {
        for s in &all {
            attr_by_id.insert(s.span_id.clone(), s.attrs.clone());
        }
    }
    let view = assemble(row, all);
    let attrs_out = if attrs {
        view.spans
            .iter()
            .map(|s| attr_by_id.remove(&s.span_id).unwrap_or_else(|| "{}".into()))
            .collect()
    } else {
        Vec::new()
    };
    Ok((view, attrs_out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Format;

    fn span(id: &str, parent: Option<&str>, start: i64, end: i64, kind: SpanKind) -> Span {
        Span {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_span_id: parent.map(str::to_owned),
            name: id.into(),
            kind,
            start_ns: start,
            end_ns: end,
            status: SpanStatus::Ok,
            status_message: None,
            provider: None,
            model: None,
            input_tokens: (kind == SpanKind::Llm).then_some(10),
            output_tokens: (kind == SpanKind::Llm).then_some(1),
            cache_read_tokens: None,
            cache_write_tokens: None,
            cost: (kind == SpanKind::Llm).then_some(0.5),
            price_ref: None,
            tool_name: None,
            format: Format::OtlpTraces,
            whole: true,
            line: 1,
            attrs: "{}".into(),
        }
    }

    fn row() -> RunRow {
        RunRow {
            trace_id: "t".into(),
            name: "root".into(),
            status: SpanStatus::Ok,
            start_ns: 0,
            end_ns: 100,
            duration_ns: 100,
            spans: 0,
            llm_calls: 0,
            tool_calls: 0,
            errors: 0,
            input_tokens: 0,
            output_tokens: 0,
            cost: 0.0,
        }
    }

    #[test]
    fn tree_rollup_critical_path_orphans() {
        let v = assemble(
            row(),
            vec![
                span("c", Some("a"), 50, 100, SpanKind::Tool),
                span("a", None, 0, 100, SpanKind::Agent),
                span("b", Some("a"), 0, 60, SpanKind::Llm),
                span("d", Some("a"), 10, 20, SpanKind::Llm),
                span("x", Some("missing"), 30, 40, SpanKind::Llm),
            ],
        );
        let names: Vec<_> = v.spans.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "d", "x", "c"]);
        assert_eq!(v.spans[0].subtree_input_tokens, 30);
        assert!((v.spans[0].subtree_cost - 1.5).abs() < 1e-12);
        let crit: Vec<_> = v
            .spans
            .iter()
            .filter(|s| s.critical)
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(crit, ["a", "b", "c"]);
        assert_eq!(v.orphans, 1);
        assert!(v.spans[3].orphan && v.spans[3].parent == Some(0));
    }

    #[test]
    fn compact_columns_hold_what_the_view_has() {
        // Absolute ns past 2^53, as real runs have: the offsets stay exact.
        const T0: i64 = 1_795_165_271_000_000_123;
        let mut spans = vec![
            span("c", Some("a"), T0 + 50, T0 + 100, SpanKind::Tool),
            span("a", None, T0, T0 + 100, SpanKind::Agent),
            span("b", Some("a"), T0, T0 + 60, SpanKind::Llm),
            span("d", Some("a"), T0 + 10, T0 + 20, SpanKind::Llm),
            span("x", Some("missing"), T0 + 30, T0 + 40, SpanKind::Llm),
        ];
        spans[0].status = SpanStatus::Error;
        spans[0].status_message = Some("TimeoutError".into());
        spans[0].tool_name = Some("search_web".into());
        spans[3].name = "b".into();
        let v = assemble(
            RunRow {
                start_ns: T0,
                end_ns: T0 + 100,
                ..row()
            },
            spans,
        );
        let c = v.clone().compact();
        assert_eq!(c.run, v.run);
        assert_eq!(c.orphans, 1);
        assert_eq!(c.critical_path_ns, v.critical_path_ns);
        assert_eq!(c.names, ["a", "b", "x", "c", "search_web"]);
        assert_eq!(c.metered, [1, 2, 3]);
        assert_eq!(c.critical, [0, 1, 4]);
        assert_eq!(c.orphan, [3]);
        assert_eq!(c.message_at, [4]);
        assert_eq!(c.message, ["TimeoutError"]);
        for (k, s) in v.spans.iter().enumerate() {
            let at = k as u32;
            assert_eq!(c.span_id[k], s.span_id);
            assert_eq!(c.parent[k], s.parent.map_or(-1, i64::from));
            assert_eq!(c.names[c.name[k] as usize], s.name);
            let tool = usize::try_from(c.tool_name[k])
                .ok()
                .map(|i| c.names[i].clone());
            assert_eq!(tool, s.tool_name);
            assert_eq!(c.kinds[usize::from(c.kind[k])], s.kind);
            assert_eq!(c.statuses[usize::from(c.status[k])], s.status);
            assert_eq!(T0 + c.start[k], s.start_ns);
            assert_eq!(T0 + c.end[k], s.end_ns);
            let m = c.metered.iter().position(|p| *p == at);
            assert_eq!(m.and_then(|i| c.cost[i]), s.cost);
            assert_eq!(m.and_then(|i| c.input_tokens[i]), s.input_tokens);
            assert_eq!(m.and_then(|i| c.output_tokens[i]), s.output_tokens);
            assert_eq!(c.critical.contains(&at), s.critical);
            assert_eq!(c.orphan.contains(&at), s.orphan);
        }
    }

    #[test]
    fn deep_chain_and_cycle_do_not_overflow() {
        let mut spans = vec![span("0", None, 0, 1_000_000, SpanKind::Agent)];
        for i in 1..200_000i64 {
            spans.push(span(
                &i.to_string(),
                Some(&(i - 1).to_string()),
                i,
                1_000_000 - i,
                SpanKind::Chain,
            ));
        }
        spans.push(span("p", Some("q"), 5, 6, SpanKind::Other));
        spans.push(span("q", Some("p"), 5, 6, SpanKind::Other));
        let v = assemble(row(), spans);
        assert_eq!(v.spans.len(), 200_002);
        assert_eq!(v.spans[199_999].depth, 199_999);
        assert_eq!(v.orphans, 1);
    }
}
