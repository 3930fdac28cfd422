//! Metric series: the PromQL source over the workspace, and the metric browser's queries.

use std::collections::{BTreeMap, HashMap};

use promql_parser::label::Matcher;
use rusqlite::{Connection, params};

use crate::error::Result;
use crate::promql::{Labels, NAME, PromqlError, Series, SeriesSource, stale_nan};

/// Reads series for PromQL from a workspace connection.
pub struct StoreSource<'c> {
    conn: &'c Connection,
}

impl std::fmt::Debug for StoreSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreSource")
    }
}

impl<'c> StoreSource<'c> {
    pub fn new(conn: &'c Connection) -> Self {
        StoreSource { conn }
    }
}

fn sql_err(e: rusqlite::Error) -> PromqlError {
    PromqlError::Source(e.to_string())
}

/// A stored value back to f64 (`NaN` and `stale` are stored as text).
pub fn value_from_sql(v: rusqlite::types::ValueRef<'_>) -> f64 {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Real(f) => f,
        ValueRef::Integer(i) => i as f64,
        ValueRef::Text(b"stale") => stale_nan(),
        _ => f64::NAN,
    }
}

fn labels_of(metric: &str, json: &str) -> Labels {
    let map: BTreeMap<String, String> = serde_json::from_str(json).unwrap_or_default();
    Labels::new(std::iter::once((NAME.to_string(), metric.to_string())).chain(map))
}

/// Series (id, labels) whose labels satisfy the matchers.
pub fn matching_series(conn: &Connection, matchers: &[Matcher]) -> Result<Vec<(i64, Labels)>> {
    // An equality on the name narrows by index; everything else is checked in memory.
    let name_eq = crate::promql::name_equality(matchers).map(|m| m.value.clone());
    let mut out = Vec::new();
    let mut push = |id: i64, metric: String, labels: String| {
        let l = labels_of(&metric, &labels);
        if l.matches(matchers) {
            out.push((id, l));
        }
    };
    match name_eq {
        Some(n) => {
            let mut st =
                conn.prepare_cached("SELECT id, metric, labels FROM series WHERE metric = ?1")?;
            let mut rows = st.query(params![n])?;
            while let Some(r) = rows.next()? {
                push(r.get(0)?, r.get(1)?, r.get(2)?);
            }
        }
        None => {
            let mut st = conn.prepare_cached("SELECT id, metric, labels FROM series")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                push(r.get(0)?, r.get(1)?, r.get(2)?);
            }
        }
    }
    Ok(out)
}

/// One series' metric name and labels, by id.
pub fn series_by_id(conn: &Connection, id: i64) -> Result<Option<(String, Labels)>> {
    let mut st = conn.prepare_cached("SELECT metric, labels FROM series WHERE id = ?1")?;
    let mut rows = st.query([id])?;
    Ok(match rows.next()? {
        Some(r) => {
            let (metric, json): (String, String) = (r.get(0)?, r.get(1)?);
            let labels = labels_of(&metric, &json);
            Some((metric, labels))
        }
        None => None,
    })
}

/// Every sample of a metric in `[lo, hi]` as (series id, time, value): each series' samples
/// in time order, the series in no particular order.
pub fn metric_samples(
    conn: &Connection,
    metric: &str,
    lo: i64,
    hi: i64,
    mut f: impl FnMut(i64, i64, f64),
) -> Result<()> {
    let mut st = conn.prepare_cached(
        "SELECT s.series_id, s.t, s.v FROM series se \
         JOIN samples s ON s.series_id = se.id AND s.t >= ?2 AND s.t <= ?3 \
         WHERE se.metric = ?1",
    )?;
    let mut rows = st.query(params![metric, lo, hi])?;
    while let Some(r) = rows.next()? {
        f(r.get(0)?, r.get(1)?, value_from_sql(r.get_ref(2)?));
    }
    Ok(())
}

impl SeriesSource for StoreSource<'_> {
    fn select(
        &self,
        matchers: &[Matcher],
        lo: i64,
        hi: i64,
    ) -> std::result::Result<Vec<Series>, PromqlError> {
        let found =
            matching_series(self.conn, matchers).map_err(|e| PromqlError::Source(e.to_string()))?;
        let mut out: Vec<Series> = Vec::with_capacity(found.len());
        // Rows are gathered per series whatever order SQLite yields them in (the join walks
        // series by series in time order; nothing here depends on it).
        let read = |rows: &mut rusqlite::Rows<'_>,
                    acc: &mut HashMap<i64, Vec<(i64, f64)>>|
         -> rusqlite::Result<()> {
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let t: i64 = r.get(1)?;
                let v = value_from_sql(r.get_ref(2)?);
                acc.entry(id).or_default().push((t, v));
            }
            Ok(())
        };
        let by_id: HashMap<i64, Labels> = found.into_iter().collect();
        let mut acc: HashMap<i64, Vec<(i64, f64)>> = HashMap::new();
        let name_eq = crate::promql::name_equality(matchers);
        match name_eq {
            // One statement for the whole metric: SQLite seeks each series' time range.
            Some(n) => {
                let mut st = self
                    .conn
                    .prepare_cached(
                        "SELECT s.series_id, s.t, s.v FROM series se \
                         JOIN samples s ON s.series_id = se.id AND s.t >= ?2 AND s.t <= ?3 \
                         WHERE se.metric = ?1",
                    )
                    .map_err(sql_err)?;
                let mut rows = st.query(params![n.value, lo, hi]).map_err(sql_err)?;
                read(&mut rows, &mut acc).map_err(sql_err)?;
            }
            None => {
                let mut st = self
                    .conn
                    .prepare_cached(
                        "SELECT series_id, t, v FROM samples WHERE series_id = ?1 AND t >= ?2 \
                         AND t <= ?3 ORDER BY t",
                    )
                    .map_err(sql_err)?;
                for id in by_id.keys() {
                    let mut rows = st.query(params![id, lo, hi]).map_err(sql_err)?;
                    read(&mut rows, &mut acc).map_err(sql_err)?;
                }
            }
        }
        for (id, mut samples) in acc {
            // Series the name matched but the other matchers did not are left out here.
            let Some(labels) = by_id.get(&id) else {
                continue;
            };
            if !samples.is_sorted_by_key(|p| p.0) {
                samples.sort_by_key(|p| p.0);
            }
            out.push(Series {
                labels: labels.clone(),
                samples: samples.into(),
            });
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }
}

/// A metric name with what the browser shows about it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetricInfo {
    pub name: String,
    /// counter, gauge, histogram, summary, … or unknown.
    pub kind: String,
    pub help: String,
    pub unit: String,
    pub series: u32,
    /// Computed from logs and spans, not scraped.
    pub derived: bool,
}

/// Every metric name (sample name) with its family's metadata and its series count.
pub fn list_metrics(conn: &Connection) -> Result<Vec<MetricInfo>> {
    let mut st = conn.prepare_cached(
        "SELECT s.metric, COALESCE(f.kind, 'unknown'), COALESCE(f.help, ''), COALESCE(f.unit, ''),
                count(*), COALESCE(f.derived, 0)
         FROM series s LEFT JOIN metric_families f ON f.name = s.family
         GROUP BY s.metric ORDER BY s.metric",
    )?;
    let rows = st.query_map([], |r| {
        Ok(MetricInfo {
            name: r.get(0)?,
            kind: r.get(1)?,
            help: r.get(2)?,
            unit: r.get(3)?,
            series: r.get::<_, i64>(4)? as u32,
            derived: r.get::<_, i64>(5)? != 0,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn series_labels(conn: &Connection, metric: Option<&str>) -> Result<Vec<Labels>> {
    let mut out = Vec::new();
    let mut st =
        conn.prepare_cached("SELECT metric, labels FROM series WHERE ?1 IS NULL OR metric = ?1")?;
    let mut rows = st.query(params![metric])?;
    while let Some(r) = rows.next()? {
        let m: String = r.get(0)?;
        let l: String = r.get(1)?;
        out.push(labels_of(&m, &l));
    }
    Ok(out)
}

/// Label names used by a metric's series (or by all series).
pub fn label_names(conn: &Connection, metric: Option<&str>) -> Result<Vec<String>> {
    let mut names = std::collections::BTreeSet::new();
    for l in series_labels(conn, metric)? {
        for (k, _) in l.iter() {
            if k != NAME {
                names.insert(k.to_string());
            }
        }
    }
    Ok(names.into_iter().collect())
}

/// Values a label takes (on a metric's series, or on all).
pub fn label_values(conn: &Connection, label: &str, metric: Option<&str>) -> Result<Vec<String>> {
    if label == NAME {
        return Ok(list_metrics(conn)?.into_iter().map(|m| m.name).collect());
    }
    let mut vals = std::collections::BTreeSet::new();
    for l in series_labels(conn, metric)? {
        if let Some(v) = l.get(label) {
            vals.insert(v.to_string());
        }
    }
    Ok(vals.into_iter().collect())
}

/// How many series and samples the workspace holds, and the time span of the samples.
pub fn sample_stats(conn: &Connection) -> Result<(u64, u64, Option<i64>, Option<i64>)> {
    let series: i64 = conn.query_row("SELECT count(*) FROM series", [], |r| r.get(0))?;
    let (n, lo, hi): (i64, Option<i64>, Option<i64>) =
        conn.query_row("SELECT count(*), min(t), max(t) FROM samples", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    Ok((series as u64, n as u64, lo, hi))
}
