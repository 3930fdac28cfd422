//! Latency percentiles of spans (and whole runs) per operation and time bucket.
//!
//! Percentiles are exact: every duration of a group is read and sorted, and the p-th
//! percentile is the nearest-rank value (the smallest duration with at least p% of the group
//! at or below it), as agentgen's truth files and most APM tools define it. Sorting is
//! O(n log n) per group; one million spans sort in well under a second, so no sketch is
//! needed at the sizes a local workspace holds.

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::model::{SpanKind, SpanStatus};

/// What latencies are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyBy {
    /// Span kind: agent, llm, tool, chain, retriever, other.
    Kind,
    /// Span name (`chat gpt-4o`, `execute_tool search`, `agent.research`...).
    Operation,
    /// LLM calls per model.
    Model,
    /// Tool calls per tool.
    Tool,
    /// Whole runs (root span to last span end), one group.
    Run,
}

impl LatencyBy {
    pub fn parse(s: &str) -> Option<LatencyBy> {
        Some(match s {
            "kind" => LatencyBy::Kind,
            "operation" | "op" | "name" => LatencyBy::Operation,
            "model" => LatencyBy::Model,
            "tool" => LatencyBy::Tool,
            "run" => LatencyBy::Run,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct LatencyQuery {
    pub by: LatencyBy,
    /// Spans that ended in `[since, until)` (Unix ns).
    pub since_ns: Option<i64>,
    pub until_ns: Option<i64>,
    /// Split each group into buckets of this size (by end time).
    pub bucket_ns: Option<i64>,
    /// Only this trace's spans (its `traces.id`).
    pub trace_ref: Option<i64>,
}

/// Latency of one group (in one bucket), in seconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LatencyRow {
    pub key: String,
    /// Bucket start (Unix ns), when bucketed.
    pub bucket_ns: Option<i64>,
    pub count: u64,
    pub errors: u64,
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// The nearest-rank `p`-th percentile (0 < p <= 100) of sorted values.
pub fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn latency(conn: &Connection, q: &LatencyQuery) -> Result<Vec<LatencyRow>> {
    let since = q.since_ns.unwrap_or(i64::MIN);
    let until = q.until_ns.unwrap_or(i64::MAX);
    let sql = match q.by {
        LatencyBy::Run => {
            "SELECT 'run', end_ns, end_ns - start_ns, status FROM runs \
             WHERE end_ns >= ?1 AND end_ns < ?2"
        }
        LatencyBy::Kind => {
            "SELECT kind, end_ns, end_ns - start_ns, status FROM spans \
             WHERE end_ns >= ?1 AND end_ns < ?2"
        }
        LatencyBy::Operation => {
            "SELECT name, end_ns, end_ns - start_ns, status FROM spans \
             WHERE end_ns >= ?1 AND end_ns < ?2"
        }
        LatencyBy::Model => {
            "SELECT COALESCE(model, 'unknown'), end_ns, end_ns - start_ns, status FROM spans \
             WHERE (kind IN (2, 3) OR cost IS NOT NULL) AND kind = 2 \
             AND end_ns >= ?1 AND end_ns < ?2"
        }
        LatencyBy::Tool => {
            "SELECT COALESCE(tool_name, name), end_ns, end_ns - start_ns, status FROM spans \
             WHERE (kind IN (2, 3) OR cost IS NOT NULL) AND kind = 3 \
             AND end_ns >= ?1 AND end_ns < ?2"
        }
    };
    // A trace id is an integer: formatting it in is safe.
    let sql = match q.trace_ref {
        Some(t) => format!("{sql} AND trace_ref = {t}"),
        None => sql.to_string(),
    };
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params![since, until])?;
    // Group keys are few (operations, models, tools) and rows many: each distinct key is
    // copied once, rows find their group by the key's text without allocating.
    type Map<K, V> = std::collections::HashMap<K, V, crate::store::writer::FnvBuild>;
    let mut keys: Map<String, usize> = Default::default();
    let mut groups: Map<(usize, Option<i64>), (Vec<f64>, u64)> = Default::default();
    let bucket_ns = q.bucket_ns.filter(|b| *b > 0);
    while let Some(r) = rows.next()? {
        let key = match q.by {
            LatencyBy::Kind => SpanKind::from_i64(r.get(0)?).as_str(),
            _ => match r.get_ref(0)? {
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or("?"),
                _ => "?",
            },
        };
        let k = match keys.get(key) {
            Some(k) => *k,
            None => {
                let k = keys.len();
                keys.insert(key.to_owned(), k);
                k
            }
        };
        let end: i64 = r.get(1)?;
        let dur_ns: i64 = r.get(2)?;
        let failed = SpanStatus::from_i64(r.get(3)?) == SpanStatus::Error;
        let bucket = bucket_ns.map(|b| end.div_euclid(b) * b);
        let g = groups.entry((k, bucket)).or_default();
        g.0.push(dur_ns.max(0) as f64 / 1e9);
        g.1 += u64::from(failed);
    }
    let mut names = vec![String::new(); keys.len()];
    for (name, k) in keys {
        names[k] = name;
    }
    let mut out: Vec<LatencyRow> = groups
        .into_iter()
        .map(|((k, bucket_ns), (mut d, errors))| {
            d.sort_unstable_by(|a, b| a.total_cmp(b));
            let n = d.len();
            LatencyRow {
                key: names[k].clone(),
                bucket_ns,
                count: n as u64,
                errors,
                min: d[0],
                mean: d.iter().sum::<f64>() / n as f64,
                p50: nearest_rank(&d, 50.0),
                p90: nearest_rank(&d, 90.0),
                p95: nearest_rank(&d, 95.0),
                p99: nearest_rank(&d, 99.0),
                max: d[n - 1],
            }
        })
        .collect();
    // As before: by key, then bucket.
    out.sort_by(|a, b| a.key.cmp(&b.key).then(a.bucket_ns.cmp(&b.bucket_ns)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_is_the_smallest_value_with_p_percent_at_or_below() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 50.0), 5.0);
        assert_eq!(nearest_rank(&v, 90.0), 9.0);
        assert_eq!(nearest_rank(&v, 95.0), 10.0);
        assert_eq!(nearest_rank(&v, 100.0), 10.0);
        assert_eq!(nearest_rank(&[3.0], 1.0), 3.0);
        assert!(nearest_rank(&[], 50.0).is_nan());
    }
}
