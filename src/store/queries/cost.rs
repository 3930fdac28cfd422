//! Cost and tokens of LLM and tool calls, per model, provider, tool, agent, run or time
//! bucket; and the calls no price covers.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, params};

use crate::error::Result;

/// What costs are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostBy {
    /// LLM calls per model.
    Model,
    /// LLM calls per provider.
    Provider,
    /// Tool calls per tool (their per-call price, when the price file has one).
    Tool,
    /// LLM and tool calls per agent: the nearest enclosing agent span's name, so a
    /// sub-agent's calls are its own.
    Agent,
    /// LLM and tool calls per run (trace).
    Run,
    /// LLM calls per trigger: the tool or sub-agent whose result the call went on from
    /// (see [`by_trigger`]).
    Trigger,
    Hour,
    Day,
}

impl CostBy {
    pub fn parse(s: &str) -> Option<CostBy> {
        Some(match s {
            "model" => CostBy::Model,
            "provider" => CostBy::Provider,
            "tool" => CostBy::Tool,
            "agent" => CostBy::Agent,
            "run" => CostBy::Run,
            "trigger" => CostBy::Trigger,
            "hour" => CostBy::Hour,
            "day" => CostBy::Day,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct CostQuery {
    pub by: CostBy,
    /// Calls that started in `[since, until)` (Unix ns).
    pub since_ns: Option<i64>,
    pub until_ns: Option<i64>,
    /// Only this trace's calls (its `traces.id`).
    pub trace_ref: Option<i64>,
}

/// One group's calls, tokens and cost.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CostRow {
    pub key: String,
    /// For `--by run`: the run's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub calls: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub cost_usd: f64,
    /// Calls whose cost the data stated.
    pub stated: u64,
    /// Calls costed from the price file.
    pub computed: u64,
    /// LLM calls with tokens that no price covers (their cost is unknown, not zero).
    pub unpriced: u64,
}

/// Calls to a model that no price entry covers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Unpriced {
    pub model: String,
    pub provider: Option<String>,
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// Which calls a query covers: those that started in `[lo, hi)` (bound as `?1`, `?2`), of
/// one trace or all.
#[derive(Debug, Clone, Copy)]
struct Scope {
    lo: i64,
    hi: i64,
    trace: Option<i64>,
}

impl Scope {
    fn of(q: &CostQuery) -> Scope {
        Scope {
            lo: q.since_ns.unwrap_or(i64::MIN),
            hi: q.until_ns.unwrap_or(i64::MAX),
            trace: q.trace_ref,
        }
    }

    /// `AND s.trace_ref = N` for one trace (an integer, so formatting it in is safe).
    fn trace_sql(&self, alias: &str) -> String {
        self.trace
            .map(|t| format!(" AND {alias}.trace_ref = {t}"))
            .unwrap_or_default()
    }

    /// The calls (LLM and tool spans, and any span with a cost) in scope.
    fn calls(&self) -> String {
        format!(
            "FROM spans s WHERE (s.kind IN (2, 3) OR s.cost IS NOT NULL)
             AND s.start_ns >= ?1 AND s.start_ns < ?2{}",
            self.trace_sql("s")
        )
    }
}

/// The columns every grouping sums, after its key.
const SUMS: &str = "count(*), total(s.status = 2), total(s.input_tokens), total(s.output_tokens),
     total(s.cache_read_tokens), total(s.cache_write_tokens), total(s.cost),
     total(s.cost_source = 1 OR (s.cost_source IS NULL AND s.cost IS NOT NULL)),
     total(s.cost_source = 2),
     total(s.kind = 2 AND s.cost IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL))";

fn sums(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<CostRow> {
    let n = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, f64>(at + i)?.max(0.0) as u64) };
    Ok(CostRow {
        calls: r.get::<_, i64>(at)?.max(0) as u64,
        errors: n(1)?,
        input_tokens: n(2)?,
        output_tokens: n(3)?,
        cache_read_tokens: n(4)?,
        cache_write_tokens: n(5)?,
        cost_usd: r.get(at + 6)?,
        stated: n(7)?,
        computed: n(8)?,
        unpriced: n(9)?,
        ..CostRow::default()
    })
}

/// Cost per group, most expensive first (time buckets in time order).
pub fn cost(conn: &Connection, q: &CostQuery) -> Result<Vec<CostRow>> {
    let sc = Scope::of(q);
    let (lo, hi) = (sc.lo, sc.hi);
    let calls = sc.calls();
    let bucketed = |size: i64| -> Result<Vec<CostRow>> {
        let sql = format!(
            "SELECT {}, {SUMS} {calls} GROUP BY 1 ORDER BY 1",
            bucket_sql(3)
        );
        let mut st = conn.prepare(&sql)?;
        let rows = st.query_map(params![lo, hi, size], |r| {
            let b: i64 = r.get(0)?;
            let mut row = sums(r, 1)?;
            row.key = crate::model::format_rfc3339_nanos(b);
            Ok(row)
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    };
    let mut out = match q.by {
        CostBy::Hour => return bucketed(3_600_000_000_000),
        CostBy::Day => return bucketed(86_400_000_000_000),
        CostBy::Run => {
            let sql = format!(
                "SELECT t.trace_id, r.name, {SUMS} {calls}
                 GROUP BY s.trace_ref",
            )
            .replace(
                "FROM spans s WHERE",
                "FROM spans s JOIN traces t ON t.id = s.trace_ref
                 LEFT JOIN runs r ON r.trace_ref = s.trace_ref WHERE",
            );
            let mut st = conn.prepare(&sql)?;
            let rows = st.query_map(params![lo, hi], |r| {
                let mut row = sums(r, 2)?;
                row.key = r.get(0)?;
                row.name = r.get(1)?;
                Ok(row)
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        }
        by => grouped(conn, by, &sc, None)?
            .into_iter()
            .map(|(_, row)| row)
            .collect(),
    };
    out.sort_by(|a, b| {
        b.cost_usd
            .total_cmp(&a.cost_usd)
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(out)
}

/// Cost per group and time bucket of `bucket_ns` (calls bucketed by start time), for the
/// groupings that name something (model, provider, tool, agent, trigger); in bucket order,
/// then key order. Buckets without calls are absent.
pub fn cost_per_bucket(
    conn: &Connection,
    q: &CostQuery,
    bucket_ns: i64,
) -> Result<Vec<(i64, CostRow)>> {
    let sc = Scope::of(q);
    let by = match q.by {
        CostBy::Run | CostBy::Hour | CostBy::Day => CostBy::Model,
        by => by,
    };
    let mut rows: Vec<(i64, CostRow)> = grouped(conn, by, &sc, Some(bucket_ns.max(1)))?
        .into_iter()
        .map(|(b, row)| (b.unwrap_or(0), row))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.key.cmp(&b.1.key)));
    Ok(rows)
}

/// The SQL of a call's time bucket: its start floored to a multiple of parameter `?n`.
fn bucket_sql(n: u8) -> String {
    format!("(s.start_ns - ((s.start_ns % ?{n}) + ?{n}) % ?{n})")
}

/// Rows per (bucket, key) for the named groupings; `bucket` None puts everything in one.
fn grouped(
    conn: &Connection,
    by: CostBy,
    sc: &Scope,
    bucket: Option<i64>,
) -> Result<Vec<(Option<i64>, CostRow)>> {
    let (lo, hi, calls) = (sc.lo, sc.hi, sc.calls());
    let (key_sql, filter) = match by {
        CostBy::Provider => ("s.provider", "AND s.kind = 2"),
        CostBy::Tool => ("s.tool_name", "AND s.kind = 3"),
        CostBy::Agent => return by_agent(conn, sc, bucket),
        CostBy::Trigger => return by_trigger(conn, sc, bucket),
        _ => ("s.model", "AND s.kind = 2"),
    };
    let b = bucket.map_or_else(|| "NULL".to_string(), |_| bucket_sql(3));
    let sql = format!("SELECT {b}, {key_sql}, {SUMS} {calls} {filter} GROUP BY 1, 2 ORDER BY 1, 2");
    let mut st = conn.prepare(&sql)?;
    let map = |r: &rusqlite::Row<'_>| {
        let key: Option<String> = r.get(1)?;
        let mut row = sums(r, 2)?;
        row.key = key.unwrap_or_else(|| NONE.into());
        Ok((r.get::<_, Option<i64>>(0)?, row))
    };
    let rows = match bucket {
        Some(size) => st.query_map(params![lo, hi, size], map)?,
        None => st.query_map(params![lo, hi], map)?,
    };
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The group of calls that have none (no model, outside any agent...).
const NONE: &str = "(none)";

/// An agent span's name: its `gen_ai.agent.name` or `agent.name` attribute (OTLP), its
/// `agent` / `agent_name` field (log lines), else the span name.
const AGENT_NAME: &str = "COALESCE(
    json_extract(s.attrs, '$.attributes.\"gen_ai.agent.name\"'),
    json_extract(s.attrs, '$.attributes.\"agent.name\"'),
    json_extract(s.attrs, '$.\"gen_ai.agent.name\"'),
    json_extract(s.attrs, '$.agent_name'),
    json_extract(s.attrs, '$.agent'),
    s.name)";

/// The traces that have calls of kind `kinds` in scope.
fn traces_with_calls(sc: &Scope, kinds: &str) -> String {
    format!(
        "s.trace_ref IN
         (SELECT DISTINCT trace_ref FROM spans c
          WHERE {kinds} AND c.start_ns >= ?1 AND c.start_ns < ?2{})",
        sc.trace_sql("c")
    )
}

fn add_into(g: &mut CostRow, part: &CostRow) {
    g.calls += part.calls;
    g.errors += part.errors;
    g.input_tokens += part.input_tokens;
    g.output_tokens += part.output_tokens;
    g.cache_read_tokens += part.cache_read_tokens;
    g.cache_write_tokens += part.cache_write_tokens;
    g.cost_usd += part.cost_usd;
    g.stated += part.stated;
    g.computed += part.computed;
    g.unpriced += part.unpriced;
}

/// Calls grouped by their nearest enclosing agent span (see [`AGENT_NAME`]); calls outside
/// any agent span go to "(none)".
fn by_agent(
    conn: &Connection,
    sc: &Scope,
    bucket: Option<i64>,
) -> Result<Vec<(Option<i64>, CostRow)>> {
    let (lo, hi, calls) = (sc.lo, sc.hi, sc.calls());
    // Every agent span of the traces that have calls in the range, and each span's parent.
    let mut parents: HashMap<(i64, String), (Option<String>, Option<String>)> = HashMap::new();
    let mut st = conn.prepare(&format!(
        "SELECT s.trace_ref, s.span_id, s.parent_span_id,
                CASE WHEN s.kind = 1 THEN {AGENT_NAME} END
         FROM spans s WHERE {}",
        traces_with_calls(sc, "(c.kind IN (2, 3) OR c.cost IS NOT NULL)")
    ))?;
    let mut rows = st.query(params![lo, hi])?;
    while let Some(r) = rows.next()? {
        parents.insert((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?));
    }
    let agent_of = |trace: i64, parent: Option<String>| -> String {
        let mut at = parent;
        // Bounded: a malformed trace may loop.
        for _ in 0..256 {
            let Some(id) = at else { break };
            match parents.get(&(trace, id)) {
                Some((_, Some(agent))) => return agent.clone(),
                Some((p, None)) => at = p.clone(),
                None => break,
            }
        }
        NONE.into()
    };
    let b = bucket.map_or_else(|| "NULL".to_string(), |_| bucket_sql(3));
    let sql = format!("SELECT s.trace_ref, s.parent_span_id, {b}, {SUMS} {calls} GROUP BY 1, 2, 3");
    let mut st = conn.prepare(&sql)?;
    let mut rows = match bucket {
        Some(size) => st.query(params![lo, hi, size])?,
        None => st.query(params![lo, hi])?,
    };
    let mut groups: BTreeMap<(Option<i64>, String), CostRow> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let part = sums(r, 3)?;
        let key = agent_of(r.get(0)?, r.get(1)?);
        let at: Option<i64> = r.get(2)?;
        let g = groups.entry((at, key.clone())).or_insert_with(|| CostRow {
            key,
            ..CostRow::default()
        });
        add_into(g, &part);
    }
    Ok(groups.into_iter().map(|((b, _), row)| (b, row)).collect())
}
/// The trigger of LLM calls with no tool or sub-agent result before them: the agent's input
/// (the user's query, or the task a parent agent delegated).
pub const TRIGGER_INPUT: &str = "(input)";
/// The trigger of an LLM call that went on from the previous call's output alone.
pub const TRIGGER_LLM: &str = "(llm)";

/// LLM spend attributed to what triggered each call. Within an agent (the nearest enclosing
/// agent span, or the whole trace outside any), a call was triggered by the tool calls and
/// sub-agents of that agent that finished after the previous call started and no later than
/// this call started: their results are what the call went on from. A call with none is a
/// retry when the previous call failed (it inherits that call's triggers), the agent's first
/// call ([`TRIGGER_INPUT`]), or a call chained on the previous call's output
/// ([`TRIGGER_LLM`]). Keys are `tool:NAME` and `agent:NAME`. A call triggered by several
/// (parallel tool calls) counts once in each group and its cost and tokens are split
/// equally between them, so the groups add up to the total.
fn by_trigger(
    conn: &Connection,
    sc: &Scope,
    bucket: Option<i64>,
) -> Result<Vec<(Option<i64>, CostRow)>> {
    let (lo, hi, calls) = (sc.lo, sc.hi, sc.calls());
    // Every span of the traces with LLM calls in the range, trace by trace.
    let mut st = conn.prepare(&format!(
        "SELECT s.trace_ref, s.span_id, s.parent_span_id, s.kind, s.start_ns, s.end_ns,
                s.status, CASE s.kind WHEN 1 THEN {AGENT_NAME}
                                      WHEN 3 THEN COALESCE(s.tool_name, s.name) END
         FROM spans s WHERE {}
         ORDER BY s.trace_ref",
        traces_with_calls(sc, "c.kind = 2")
    ))?;
    let mut rows = st.query(params![lo, hi])?;
    let mut triggers: HashMap<(i64, String), Vec<String>> = HashMap::new();
    let mut trace: Vec<TraceSpan> = Vec::new();
    let mut at_trace = None;
    while let Some(r) = rows.next()? {
        let t: i64 = r.get(0)?;
        if at_trace != Some(t) {
            if let Some(prev) = at_trace {
                for (id, trig) in call_triggers(&trace) {
                    triggers.insert((prev, id), trig);
                }
            }
            trace.clear();
            at_trace = Some(t);
        }
        trace.push(TraceSpan {
            id: r.get(1)?,
            parent: r.get(2)?,
            kind: r.get(3)?,
            start: r.get(4)?,
            end: r.get(5)?,
            failed: r.get::<_, i64>(6)? == 2,
            label: r.get(7)?,
        });
    }
    if let Some(prev) = at_trace {
        for (id, trig) in call_triggers(&trace) {
            triggers.insert((prev, id), trig);
        }
    }
    // Each LLM call in the range, with its bucket, shared out between its triggers.
    let b = bucket.map_or_else(|| "NULL".to_string(), |_| bucket_sql(3));
    let mut st = conn.prepare(&format!(
        "SELECT s.trace_ref, s.span_id, {b}, {SUMS} {calls} AND s.kind = 2 GROUP BY s.id"
    ))?;
    let mut rows = match bucket {
        Some(size) => st.query(params![lo, hi, size])?,
        None => st.query(params![lo, hi])?,
    };
    let mut groups: BTreeMap<(Option<i64>, String), CostRow> = BTreeMap::new();
    let input = vec![TRIGGER_INPUT.to_string()];
    while let Some(r) = rows.next()? {
        let call = sums(r, 3)?;
        let at: Option<i64> = r.get(2)?;
        let keys = triggers
            .get(&(r.get(0)?, r.get(1)?))
            .filter(|k| !k.is_empty())
            .unwrap_or(&input);
        let n = keys.len() as u64;
        for (i, key) in keys.iter().enumerate() {
            // Integer tokens: the first share takes the remainder.
            let share = |v: u64| v / n + if i == 0 { v % n } else { 0 };
            let part = CostRow {
                input_tokens: share(call.input_tokens),
                output_tokens: share(call.output_tokens),
                cache_read_tokens: share(call.cache_read_tokens),
                cache_write_tokens: share(call.cache_write_tokens),
                cost_usd: call.cost_usd / n as f64,
                ..call.clone()
            };
            let g = groups.entry((at, key.clone())).or_insert_with(|| CostRow {
                key: key.clone(),
                ..CostRow::default()
            });
            add_into(g, &part);
        }
    }
    Ok(groups.into_iter().map(|((b, _), row)| (b, row)).collect())
}

/// A span of one trace, as [`call_triggers`] needs it.
#[derive(Debug)]
struct TraceSpan {
    id: String,
    parent: Option<String>,
    kind: i64,
    start: i64,
    end: i64,
    failed: bool,
    /// An agent's name, or a tool's.
    label: Option<String>,
}

/// The triggers of every LLM call of one trace (see [`by_trigger`]), by span id.
fn call_triggers(spans: &[TraceSpan]) -> Vec<(String, Vec<String>)> {
    let index: HashMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    // The nearest enclosing agent span; bounded, as a malformed trace may loop.
    let scope = |i: usize| -> Option<usize> {
        let mut at = spans[i].parent.as_deref();
        for _ in 0..256 {
            let j = *index.get(at?)?;
            if spans[j].kind == 1 {
                return Some(j);
            }
            at = spans[j].parent.as_deref();
        }
        None
    };
    let mut scopes: HashMap<Option<usize>, (Vec<usize>, Vec<usize>)> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        match s.kind {
            2 => scopes.entry(scope(i)).or_default().0.push(i),
            1 | 3 => scopes.entry(scope(i)).or_default().1.push(i),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (_, (mut calls, done)) in scopes {
        calls.sort_by(|&a, &b| (spans[a].start, &spans[a].id).cmp(&(spans[b].start, &spans[b].id)));
        let mut prev: Option<(i64, bool, Vec<String>)> = None;
        for c in calls {
            let call = &spans[c];
            let after = prev.as_ref().map_or(i64::MIN, |p| p.0);
            let mut trig: Vec<String> = done
                .iter()
                .map(|&d| &spans[d])
                .filter(|d| d.end > after && d.end <= call.start)
                .map(|d| {
                    let name = d.label.as_deref().unwrap_or("?");
                    if d.kind == 1 {
                        format!("agent:{name}")
                    } else {
                        format!("tool:{name}")
                    }
                })
                .collect();
            trig.sort();
            trig.dedup();
            if trig.is_empty() {
                trig = match &prev {
                    Some((_, true, t)) => t.clone(),
                    Some(_) => vec![TRIGGER_LLM.to_string()],
                    None => vec![TRIGGER_INPUT.to_string()],
                };
            }
            out.push((call.id.clone(), trig.clone()));
            prev = Some((call.start, call.failed, trig));
        }
    }
    out
}

/// LLM calls with tokens whose model no price covers, most calls first.
pub fn unpriced(conn: &Connection, q: &CostQuery) -> Result<Vec<Unpriced>> {
    let sc = Scope::of(q);
    let (lo, hi) = (sc.lo, sc.hi);
    let mut st = conn.prepare(&format!(
        "SELECT s.model, s.provider, count(*), total(s.input_tokens), total(s.output_tokens)
         FROM spans s
         WHERE s.kind = 2 AND s.cost IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
           AND s.start_ns >= ?1 AND s.start_ns < ?2{}
         GROUP BY s.model, s.provider ORDER BY 3 DESC, 1",
        sc.trace_sql("s")
    ))?;
    let rows = st.query_map(params![lo, hi], |r| {
        Ok(Unpriced {
            model: r.get(0)?,
            provider: r.get(1)?,
            calls: r.get::<_, i64>(2)?.max(0) as u64,
            input_tokens: r.get::<_, f64>(3)?.max(0.0) as u64,
            output_tokens: r.get::<_, f64>(4)?.max(0.0) as u64,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The most expensive runs that started in the query's range (or its one run), most
/// expensive first.
pub fn top_runs(conn: &Connection, q: &CostQuery, limit: u32) -> Result<Vec<super::spans::RunRow>> {
    let sc = Scope::of(q);
    let sql = format!(
        "SELECT {} FROM runs r JOIN traces t ON t.id = r.trace_ref
         WHERE r.start_ns >= ?1 AND r.start_ns < ?2{}
         ORDER BY r.cost DESC, r.start_ns, r.trace_ref LIMIT ?3",
        super::spans::RUN_COLUMNS,
        sc.trace_sql("r")
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(
        params![sc.lo, sc.hi, i64::from(limit)],
        super::spans::run_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Totals over the query's range (or its one run): runs, and what their calls used.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Summary {
    pub runs: u64,
    pub failed_runs: u64,
    pub llm_calls: u64,
    pub tool_calls: u64,
    /// Failed LLM and tool calls.
    pub failed_calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    /// LLM calls with tokens but no price.
    pub unpriced_calls: u64,
    /// Run durations, seconds (nearest rank).
    pub run_p50_s: Option<f64>,
    pub run_p95_s: Option<f64>,
}

pub fn summary(conn: &Connection, q: &CostQuery) -> Result<Summary> {
    let sc = Scope::of(q);
    let mut s = Summary::default();
    let mut durations: Vec<f64> = Vec::new();
    let mut st = conn.prepare(&format!(
        "SELECT r.end_ns - r.start_ns, r.status FROM runs r
         WHERE r.start_ns >= ?1 AND r.start_ns < ?2{}",
        sc.trace_sql("r")
    ))?;
    let mut rows = st.query(params![sc.lo, sc.hi])?;
    while let Some(r) = rows.next()? {
        durations.push(r.get::<_, i64>(0)?.max(0) as f64 / 1e9);
        s.failed_runs += u64::from(r.get::<_, i64>(1)? == 2);
    }
    s.runs = durations.len() as u64;
    durations.sort_by(f64::total_cmp);
    if !durations.is_empty() {
        s.run_p50_s = Some(super::latency::nearest_rank(&durations, 50.0));
        s.run_p95_s = Some(super::latency::nearest_rank(&durations, 95.0));
    }
    let sql = format!(
        "SELECT total(s.kind = 2), total(s.kind = 3), total(s.kind IN (2, 3) AND s.status = 2),
                total(s.input_tokens), total(s.output_tokens), total(s.cost),
                total(s.kind = 2 AND s.cost IS NULL AND s.model IS NOT NULL
                      AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL))
         {}",
        sc.calls()
    );
    conn.query_row(&sql, params![sc.lo, sc.hi], |r| {
        let n = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, f64>(i)?.max(0.0) as u64) };
        s.llm_calls = n(0)?;
        s.tool_calls = n(1)?;
        s.failed_calls = n(2)?;
        s.input_tokens = n(3)?;
        s.output_tokens = n(4)?;
        s.cost_usd = r.get(5)?;
        s.unpriced_calls = n(6)?;
        Ok(())
    })?;
    Ok(s)
}

/// The time extent `(first, last)` of what a chart over `[since, until)` shows: the calls'
/// start times (`by_end` false) or every span's end time (`by_end` true), of one trace or all.
pub fn extent(
    conn: &Connection,
    by_end: bool,
    trace_ref: Option<i64>,
) -> Result<Option<(i64, i64)>> {
    let sc = Scope {
        lo: i64::MIN,
        hi: i64::MAX,
        trace: trace_ref,
    };
    let sql = if by_end {
        format!(
            "SELECT min(s.end_ns), max(s.end_ns) FROM spans s WHERE ?1 <= ?2{}",
            sc.trace_sql("s")
        )
    } else {
        format!("SELECT min(s.start_ns), max(s.start_ns) {}", sc.calls())
    };
    let (lo, hi): (Option<i64>, Option<i64>) =
        conn.query_row(&sql, params![sc.lo, sc.hi], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(lo.zip(hi))
}

/// The first start and the last end of the runs that started in the query's range (or of
/// its one run).
pub fn run_extent(conn: &Connection, q: &CostQuery) -> Result<Option<(i64, i64)>> {
    let sc = Scope::of(q);
    let (lo, hi): (Option<i64>, Option<i64>) = conn.query_row(
        &format!(
            "SELECT min(r.start_ns), max(r.end_ns) FROM runs r
             WHERE r.start_ns >= ?1 AND r.start_ns < ?2{}",
            sc.trace_sql("r")
        ),
        params![sc.lo, sc.hi],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(lo.zip(hi))
}
