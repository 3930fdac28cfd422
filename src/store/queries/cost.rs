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
}

/// One group's calls, tokens and cost.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
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
pub struct Unpriced {
    pub model: String,
    pub provider: Option<String>,
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// The calls (LLM and tool spans, and any span with a cost) in the range.
const CALLS: &str = "FROM spans s WHERE (s.kind IN (2, 3) OR s.cost IS NOT NULL)
     AND s.start_ns >= ?1 AND s.start_ns < ?2";

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

fn range(q: &CostQuery) -> (i64, i64) {
    (
        q.since_ns.unwrap_or(i64::MIN),
        q.until_ns.unwrap_or(i64::MAX),
    )
}

/// Cost per group, most expensive first (time buckets in time order).
pub fn cost(conn: &Connection, q: &CostQuery) -> Result<Vec<CostRow>> {
    let (lo, hi) = range(q);
    let keyed = |key_sql: &str, filter: &str| -> Result<Vec<CostRow>> {
        let sql = format!("SELECT {key_sql}, {SUMS} {CALLS} {filter} GROUP BY 1 ORDER BY 1");
        let mut st = conn.prepare(&sql)?;
        let rows = st.query_map(params![lo, hi], |r| {
            let key: Option<String> = r.get(0)?;
            let mut row = sums(r, 1)?;
            row.key = key.unwrap_or_else(|| "(none)".into());
            Ok(row)
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    };
    let bucketed = |size: i64| -> Result<Vec<CostRow>> {
        let sql = format!(
            "SELECT (s.start_ns - ((s.start_ns % ?3) + ?3) % ?3) AS b, {SUMS} {CALLS}
             GROUP BY b ORDER BY b"
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
        CostBy::Model => keyed("s.model", "AND s.kind = 2")?,
        CostBy::Provider => keyed("s.provider", "AND s.kind = 2")?,
        CostBy::Tool => keyed("s.tool_name", "AND s.kind = 3")?,
        CostBy::Hour => return bucketed(3_600_000_000_000),
        CostBy::Day => return bucketed(86_400_000_000_000),
        CostBy::Run => {
            let sql = format!(
                "SELECT t.trace_id, r.name, {SUMS} {CALLS}
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
        CostBy::Agent => by_agent(conn, lo, hi)?,
    };
    out.sort_by(|a, b| {
        b.cost_usd
            .total_cmp(&a.cost_usd)
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(out)
}

/// Calls grouped by their nearest enclosing agent span, named by its `gen_ai.agent.name` or
/// `agent.name` attribute (OTLP), its `agent` / `agent_name` field (log lines), else the span
/// name; calls outside any agent span go to "(none)".
fn by_agent(conn: &Connection, lo: i64, hi: i64) -> Result<Vec<CostRow>> {
    // Every agent span of the traces that have calls in the range, and each span's parent.
    let mut parents: HashMap<(i64, String), (Option<String>, Option<String>)> = HashMap::new();
    let mut st = conn.prepare(
        "SELECT s.trace_ref, s.span_id, s.parent_span_id,
                CASE WHEN s.kind = 1 THEN COALESCE(
                    json_extract(s.attrs, '$.attributes.\"gen_ai.agent.name\"'),
                    json_extract(s.attrs, '$.attributes.\"agent.name\"'),
                    json_extract(s.attrs, '$.\"gen_ai.agent.name\"'),
                    json_extract(s.attrs, '$.agent_name'),
                    json_extract(s.attrs, '$.agent'),
                    s.name) END
         FROM spans s WHERE s.trace_ref IN
             (SELECT DISTINCT trace_ref FROM spans c
              WHERE (c.kind IN (2, 3) OR c.cost IS NOT NULL)
                AND c.start_ns >= ?1 AND c.start_ns < ?2)",
    )?;
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
        "(none)".into()
    };
    let sql = format!(
        "SELECT s.trace_ref, s.parent_span_id, {SUMS} {CALLS} GROUP BY s.trace_ref, s.parent_span_id"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params![lo, hi])?;
    let mut groups: BTreeMap<String, CostRow> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let part = sums(r, 2)?;
        let key = agent_of(r.get(0)?, r.get(1)?);
        let g = groups.entry(key.clone()).or_insert_with(|| CostRow {
            key,
            ..CostRow::default()
        });
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
    Ok(groups.into_values().collect())
}

/// LLM calls with tokens whose model no price covers, most calls first.
pub fn unpriced(conn: &Connection, q: &CostQuery) -> Result<Vec<Unpriced>> {
    let (lo, hi) = range(q);
    let mut st = conn.prepare(
        "SELECT s.model, s.provider, count(*), total(s.input_tokens), total(s.output_tokens)
         FROM spans s
         WHERE s.kind = 2 AND s.cost IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
           AND s.start_ns >= ?1 AND s.start_ns < ?2
         GROUP BY s.model, s.provider ORDER BY 3 DESC, 1",
    )?;
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
