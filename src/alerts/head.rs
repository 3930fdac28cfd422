//! Recent samples kept in memory between evaluation cycles, so a live rule group does not
//! read its windows from SQLite again every few seconds: each cycle reads only what the
//! `sample_writes` log says was written since (usually the last scrape), like Prometheus'
//! head block. Derived series (`sightline_*`) are rewritten rather than appended and are
//! always read from the workspace.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use promql_parser::label::{MatchOp, Matcher};
use rusqlite::Connection;

use crate::promql::{Labels, NAME, PromqlError, Samples, Series, SeriesSource};
use crate::store::queries::series::{StoreSource, matching_series, metric_samples, series_by_id};
use crate::store::writer::{FedBatch, FnvBuild, SampleFeed};

/// Metrics whose names start with this are derived and never kept.
const DERIVED_PREFIX: &str = "sightline_";

#[derive(Debug, Default)]
struct Entry {
    /// Held: every sample of the metric in `[lo, hi]` as of the last read.
    lo: i64,
    hi: i64,
    /// Samples from this time on may have changed since they were read.
    dirty_from: Option<i64>,
    /// The earliest time asked for in the current cycle (what to keep at the next).
    wanted_lo: i64,
    /// Cycles since a rule last asked for the metric.
    idle: u32,
    /// Not read yet.
    fresh: bool,
    /// By series id.
    series: HashMap<i64, (Labels, Samples), FnvBuild>,
    /// The ids in label order, as handed out; `None` after series came or went.
    order: Option<Vec<i64>>,
}

/// The cache; lives as long as the live loop.
#[derive(Debug, Default)]
pub struct HeadCache {
    entries: RefCell<HashMap<String, Entry, FnvBuild>>,
    /// Metric name and labels of the series ids met (`None`: no such series).
    known: RefCell<Known>,
    last_seq: Option<i64>,
    feed: Option<Arc<SampleFeed>>,
    /// Batches taken from the feed (for tests).
    fed: usize,
}

type Known = HashMap<i64, Option<(Arc<str>, Labels)>, FnvBuild>;

/// A metric no rule asked for in this many cycles is dropped.
const MAX_IDLE: u32 = 16;

/// Most series kept per metric; larger metrics are read from the workspace each time.
const MAX_SERIES: usize = 50_000;

fn sql_err(e: impl std::fmt::Display) -> PromqlError {
    PromqlError::Source(e.to_string())
}

impl HeadCache {
    /// A cache that takes what the process' own writer commits from its feed instead of
    /// reading it back (anything else written is still read from the workspace).
    pub fn with_feed(feed: Arc<SampleFeed>) -> HeadCache {
        feed.subscribe();
        HeadCache {
            feed: Some(feed),
            ..HeadCache::default()
        }
    }

    /// Starts a cycle: learns what was written since the last one and drops what no rule
    /// asked for in the last cycle. Returns the view to evaluate the cycle with.
    pub fn cycle<'a>(&'a mut self, conn: &'a Connection) -> Result<HeadView<'a>, PromqlError> {
        let (seq, min_t): (Option<i64>, Option<i64>) = conn
            .query_row(
                "SELECT max(seq), min(min_t) FROM sample_writes WHERE seq > ?1",
                [self.last_seq.unwrap_or(i64::MIN)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql_err)?;
        // Rows pruned before this loop saw them: what changed is unknown, start over.
        let oldest: Option<i64> = conn
            .query_row("SELECT min(seq) FROM sample_writes", [], |r| r.get(0))
            .map_err(sql_err)?;
        if let (Some(last), Some(oldest)) = (self.last_seq, oldest)
            && oldest > last + 1
        {
            self.last_seq = None;
        }
        match (self.last_seq, seq) {
            // The log was pruned past what we saw, or this is the first cycle: start over.
            (None, _) => self.entries.get_mut().clear(),
            (Some(last), Some(upto)) => {
                // Everything written since came through our own writer: take it from the
                // feed. Otherwise read again from the oldest time written.
                match self.feed.as_ref().and_then(|f| f.since(last, upto)) {
                    Some(batches) => {
                        self.apply(conn, &batches)?;
                        self.fed += batches.len();
                    }
                    None => {
                        let from = min_t.unwrap_or(i64::MIN);
                        for e in self.entries.get_mut().values_mut() {
                            e.dirty_from = Some(e.dirty_from.map_or(from, |d| d.min(from)));
                        }
                    }
                }
            }
            (Some(_), None) => {}
        }
        if let Some(s) = seq {
            self.last_seq = Some(s);
        } else if self.last_seq.is_none() {
            self.last_seq = Some(
                conn.query_row("SELECT COALESCE(max(seq), 0) FROM sample_writes", [], |r| {
                    r.get(0)
                })
                .map_err(sql_err)?,
            );
        }
        let entries = self.entries.get_mut();
        entries.retain(|_, e| e.idle < MAX_IDLE);
        for e in entries.values_mut() {
            if e.wanted_lo == i64::MAX {
                e.idle += 1;
                continue;
            }
            e.idle = 0;
            // Samples before the earliest time asked for are dropped once they are a quarter
            // of what is held: trimming every series a little every cycle touched all of them.
            if e.wanted_lo > e.lo && e.wanted_lo <= e.hi && (e.wanted_lo - e.lo) * 4 >= e.hi - e.lo
            {
                for (_, s) in e.series.values_mut() {
                    let cut = s.partition_point(|p| p.0 < e.wanted_lo);
                    if cut > 0 {
                        s.make_mut().drain(..cut);
                    }
                }
                let n = e.series.len();
                e.series.retain(|_, (_, s)| !s.is_empty());
                if e.series.len() != n {
                    e.order = None;
                }
                e.lo = e.wanted_lo;
            }
            e.wanted_lo = i64::MAX;
        }
        Ok(HeadView {
            cache: self,
            src: StoreSource::new(conn),
            conn,
        })
    }

    /// Puts samples handed over by the feed in place.
    fn apply(&mut self, conn: &Connection, batches: &[FedBatch]) -> Result<(), PromqlError> {
        let entries = self.entries.get_mut();
        let known = self.known.get_mut();
        for (_, rows) in batches {
            for &(id, t, v) in rows.iter() {
                let Some((metric, labels)) = lookup(conn, known, id)? else {
                    continue;
                };
                let Some(e) = entries.get_mut(&**metric) else {
                    continue;
                };
                if e.fresh || t < e.lo {
                    continue;
                }
                let (_, s) = e.series.entry(id).or_insert_with(|| {
                    e.order = None;
                    (labels.clone(), Samples::default())
                });
                put(s.make_mut(), t, v);
            }
        }
        Ok(())
    }
}

/// A series' metric and labels, looked up once.
fn lookup<'k>(
    conn: &Connection,
    known: &'k mut Known,
    id: i64,
) -> Result<&'k Option<(Arc<str>, Labels)>, PromqlError> {
    Ok(match known.entry(id) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => e.insert(
            series_by_id(conn, id)
                .map_err(sql_err)?
                .map(|(m, l)| (Arc::from(m), l)),
        ),
    })
}

/// Inserts one sample in time order (replacing one at the same time).
fn put(v: &mut Vec<(i64, f64)>, t: i64, val: f64) {
    if v.last().is_none_or(|p| p.0 < t) {
        v.push((t, val));
        return;
    }
    match v.binary_search_by_key(&t, |p| p.0) {
        Ok(i) => v[i].1 = val,
        Err(i) => v.insert(i, (t, val)),
    }
}

/// One cycle's source: the cache, topped up from the workspace.
pub struct HeadView<'a> {
    cache: &'a HeadCache,
    src: StoreSource<'a>,
    conn: &'a Connection,
}

impl std::fmt::Debug for HeadView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeadView")
    }
}

impl HeadView<'_> {
    /// Reads a metric's samples in `[lo, hi]` into the entry (which holds nothing in that
    /// window: it was cut before).
    fn read_into(&self, e: &mut Entry, metric: &str, lo: i64, hi: i64) -> Result<(), PromqlError> {
        let mut got: HashMap<i64, Vec<(i64, f64)>> = HashMap::new();
        metric_samples(self.conn, metric, lo, hi, |id, t, v| {
            got.entry(id).or_default().push((t, v))
        })
        .map_err(sql_err)?;
        let mut known = self.cache.known.borrow_mut();
        if e.fresh {
            // All the metric's labels in one read.
            let name = Matcher::new(MatchOp::Equal, NAME, metric);
            let metric: Arc<str> = Arc::from(metric);
            for (id, l) in matching_series(self.conn, &[name]).map_err(sql_err)? {
                known.insert(id, Some((metric.clone(), l)));
            }
        }
        for (id, mut new) in got {
            if !new.is_sorted_by_key(|p| p.0) {
                new.sort_by_key(|p| p.0);
            }
            let s = match e.series.get_mut(&id) {
                Some((_, s)) => s,
                None => {
                    let Some((_, labels)) = lookup(self.conn, &mut known, id)? else {
                        continue;
                    };
                    e.order = None;
                    &mut e
                        .series
                        .entry(id)
                        .or_insert_with(|| (labels.clone(), Samples::default()))
                        .1
                }
            };
            let v = s.make_mut();
            let at = v.partition_point(|p| p.0 < lo);
            let tail: Vec<(i64, f64)> = v.split_off(at);
            v.extend(new);
            v.extend(tail.into_iter().filter(|p| p.0 > hi));
        }
        Ok(())
    }
}

fn cut(series: &mut HashMap<i64, (Labels, Samples), FnvBuild>, lo: i64, hi: i64) {
    for (_, v) in series.values_mut() {
        let a = v.partition_point(|p| p.0 < lo);
        let b = v.partition_point(|p| p.0 <= hi);
        if a < b {
            v.make_mut().drain(a..b);
        }
    }
}

impl SeriesSource for HeadView<'_> {
    fn select(&self, matchers: &[Matcher], lo: i64, hi: i64) -> Result<Vec<Series>, PromqlError> {
        let Some(name) =
            crate::promql::name_equality(matchers).filter(|m| !m.value.starts_with(DERIVED_PREFIX))
        else {
            return self.src.select(matchers, lo, hi);
        };
        let mut entries = self.cache.entries.borrow_mut();
        let e = entries.entry(name.value.clone()).or_insert_with(|| Entry {
            lo,
            hi,
            dirty_from: None,
            wanted_lo: lo,
            idle: 0,
            fresh: true,
            series: HashMap::default(),
            order: None,
        });
        e.wanted_lo = e.wanted_lo.min(lo);
        if e.fresh {
            self.read_into(e, &name.value, lo, hi)?;
            e.fresh = false;
        } else {
            // Older than held: read the gap before.
            if lo < e.lo {
                let (a, b) = (lo, e.lo - 1);
                cut(&mut e.series, a, b);
                self.read_into(e, &name.value, a, b)?;
                e.lo = lo;
            }
            // What was written since the last read. Nothing logged means nothing new: the
            // held window just grows.
            if let Some(d) = e.dirty_from.take() {
                let (from, to) = (d.max(e.lo), hi.max(e.hi));
                if from <= to {
                    cut(&mut e.series, from, to);
                    self.read_into(e, &name.value, from, to)?;
                    let n = e.series.len();
                    e.series.retain(|_, (_, s)| !s.is_empty());
                    if e.series.len() != n {
                        e.order = None;
                    }
                }
            }
            e.hi = e.hi.max(hi);
        }
        let series = &e.series;
        let order = e.order.get_or_insert_with(|| {
            let mut ids: Vec<i64> = series.keys().copied().collect();
            ids.sort_by(|a, b| series[a].0.cmp(&series[b].0));
            ids
        });
        // Every series held, uncut: evaluation cuts its own windows (see `SeriesSource`), and
        // samples held from before `lo` are never in them. Looking into each series for
        // whether it has a sample in the window cost more than letting evaluation find out.
        // The name is the entry's; only other matchers need looking at each label set.
        let rest: Vec<Matcher> = matchers
            .iter()
            .filter(|m| !std::ptr::eq(*m, name))
            .cloned()
            .collect();
        let out: Vec<Series> = order
            .iter()
            .filter_map(|id| series.get(id))
            .filter(|(l, _)| rest.is_empty() || l.matches(&rest))
            .map(|(l, s)| Series {
                labels: l.clone(),
                samples: s.clone(),
            })
            .collect();
        if e.series.len() > MAX_SERIES {
            entries.remove(&name.value);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::model::MetricSample;
    use crate::store::Store;
    use crate::store::writer::SampleBatch;

    fn write(store: &Store, pts: &[(&str, i64, f64)]) {
        let samples = pts
            .iter()
            .map(|(inst, t, v)| MetricSample {
                metric: "m".into(),
                labels: vec![("instance".into(), (*inst).into())],
                t_ms: *t,
                value: *v,
            })
            .collect();
        store
            .writer()
            .unwrap()
            .write_samples(SampleBatch {
                samples,
                metric_meta: Vec::new(),
            })
            .unwrap();
    }

    fn name() -> Vec<Matcher> {
        vec![Matcher::new(MatchOp::Equal, NAME, "m")]
    }

    /// The cache answers every window exactly as the workspace does, across cycles with
    /// appends, late (older) samples, new series, and compaction.
    #[test]
    fn answers_like_the_workspace_across_writes() {
        across_writes(false);
    }

    /// The same with the writer's feed: appends come from it, not from the workspace.
    #[test]
    fn answers_like_the_workspace_across_writes_from_the_feed() {
        across_writes(true);
    }

    fn across_writes(feed: bool) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("w.db")).unwrap();
        let conn = store.reader().unwrap();
        let mut cache = if feed {
            HeadCache::with_feed(store.writer().unwrap().feed().clone())
        } else {
            HeadCache::default()
        };
        let mut pts: Vec<(&str, i64, f64)> = (0..100).map(|i| ("a", i * 1000, i as f64)).collect();
        write(&store, &pts);
        let check = |cache: &mut HeadCache, windows: &[(i64, i64)]| {
            let view = cache.cycle(&conn).unwrap();
            let direct = StoreSource::new(&conn);
            for &(lo, hi) in windows {
                // What the view hands out may reach outside the window; cut it.
                let mut got: Vec<Series> = view
                    .select(&name(), lo, hi)
                    .unwrap()
                    .iter()
                    .filter_map(|s| crate::promql::windowed(&s.labels, &s.samples, lo, hi))
                    .collect();
                let mut want = direct.select(&name(), lo, hi).unwrap();
                got.sort_by(|a, b| a.labels.cmp(&b.labels));
                want.sort_by(|a, b| a.labels.cmp(&b.labels));
                assert_eq!(got, want, "window [{lo}, {hi}]");
            }
        };
        check(
            &mut cache,
            &[(50_000, 99_000), (10_000, 99_000), (90_000, 95_000)],
        );
        // Appends, a new series, and a late sample inside the held window.
        pts = (100..110).map(|i| ("a", i * 1000, i as f64)).collect();
        pts.push(("b", 105_000, 7.0));
        pts.push(("a", 60_500, -1.0));
        write(&store, &pts);
        check(&mut cache, &[(50_000, 110_000), (0, 110_000)]);
        assert_eq!(cache.fed > 0, feed, "samples taken from the feed");
        // Nothing written: the same answers with a later window.
        check(&mut cache, &[(60_000, 120_000)]);
        // A sample overwritten in place.
        write(&store, &[("a", 70_000, 1e9)]);
        check(&mut cache, &[(60_000, 120_000), (69_000, 71_000)]);
        // Compaction deletes samples: everything is read again.
        store
            .writer()
            .unwrap()
            .exec(|c| {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM samples WHERE t % 2000 = 0 AND t < 90000", [])?;
                crate::store::writer::log_sample_write(&tx, i64::MIN)?;
                tx.commit()?;
                Ok(())
            })
            .unwrap();
        check(&mut cache, &[(60_000, 120_000), (0, 120_000)]);
        drop(conn);
        store.close();
    }
}
