//! Recent samples kept in memory between evaluation cycles, so a live rule group does not
//! read its windows from SQLite again every few seconds: each cycle reads only what the
//! `sample_writes` log says was written since (usually the last scrape), like Prometheus'
//! head block. Derived series (`sightline_*`) are rewritten rather than appended and are
//! always read from the workspace.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use promql_parser::label::{MatchOp, Matcher};
use rusqlite::Connection;

use crate::promql::{Labels, NAME, PromqlError, Series, SeriesSource, windowed};
use crate::store::queries::series::StoreSource;

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
    series: BTreeMap<Labels, Vec<(i64, f64)>>,
}

/// The cache; lives as long as the live loop.
#[derive(Debug, Default)]
pub struct HeadCache {
    entries: RefCell<HashMap<String, Entry>>,
    last_seq: Option<i64>,
}

/// A metric no rule asked for in this many cycles is dropped.
const MAX_IDLE: u32 = 16;

/// Most series kept per metric; larger metrics are read from the workspace each time.
const MAX_SERIES: usize = 50_000;

impl HeadCache {
    /// Starts a cycle: learns what was written since the last one and drops what no rule
    /// asked for in the last cycle. Returns the view to evaluate the cycle with.
    pub fn cycle<'a>(&'a mut self, conn: &'a Connection) -> Result<HeadView<'a>, PromqlError> {
        let err = |e: rusqlite::Error| PromqlError::Source(e.to_string());
        let (seq, min_t): (Option<i64>, Option<i64>) = conn
            .query_row(
                "SELECT max(seq), min(min_t) FROM sample_writes WHERE seq > ?1",
                [self.last_seq.unwrap_or(i64::MIN)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)?;
        // Rows pruned before this loop saw them: what changed is unknown, start over.
        let oldest: Option<i64> = conn
            .query_row("SELECT min(seq) FROM sample_writes", [], |r| r.get(0))
            .map_err(err)?;
        if let (Some(last), Some(oldest)) = (self.last_seq, oldest)
            && oldest > last + 1
        {
            self.last_seq = None;
        }
        let mut entries = self.entries.borrow_mut();
        match (self.last_seq, seq) {
            // The log was pruned past what we saw, or this is the first cycle: start over.
            (None, _) => entries.clear(),
            (Some(_), Some(_)) => {
                let from = min_t.unwrap_or(i64::MIN);
                for e in entries.values_mut() {
                    e.dirty_from = Some(e.dirty_from.map_or(from, |d| d.min(from)));
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
                .map_err(err)?,
            );
        }
        entries.retain(|_, e| e.idle < MAX_IDLE);
        for e in entries.values_mut() {
            if e.wanted_lo == i64::MAX {
                e.idle += 1;
                continue;
            }
            e.idle = 0;
            if e.wanted_lo > e.lo && e.wanted_lo <= e.hi {
                for s in e.series.values_mut() {
                    let cut = s.partition_point(|p| p.0 < e.wanted_lo);
                    s.drain(..cut);
                }
                e.series.retain(|_, s| !s.is_empty());
                e.lo = e.wanted_lo;
            }
            e.wanted_lo = i64::MAX;
        }
        drop(entries);
        Ok(HeadView {
            cache: self,
            src: StoreSource::new(conn),
        })
    }
}

/// One cycle's source: the cache, topped up from the workspace.
pub struct HeadView<'a> {
    cache: &'a HeadCache,
    src: StoreSource<'a>,
}

impl std::fmt::Debug for HeadView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeadView")
    }
}

fn read_into(
    src: &StoreSource<'_>,
    name: &Matcher,
    lo: i64,
    hi: i64,
    into: &mut BTreeMap<Labels, Vec<(i64, f64)>>,
) -> Result<(), PromqlError> {
    for s in src.select(std::slice::from_ref(name), lo, hi)? {
        let v = into.entry(s.labels).or_default();
        // `[lo, hi]` was cut from every series before this read; the new samples go in place.
        let at = v.partition_point(|p| p.0 < lo);
        let tail: Vec<(i64, f64)> = v.split_off(at);
        v.extend(s.samples);
        v.extend(tail.into_iter().filter(|p| p.0 > hi));
    }
    Ok(())
}

fn cut(into: &mut BTreeMap<Labels, Vec<(i64, f64)>>, lo: i64, hi: i64) {
    for v in into.values_mut() {
        let a = v.partition_point(|p| p.0 < lo);
        let b = v.partition_point(|p| p.0 <= hi);
        v.drain(a..b);
    }
}

impl SeriesSource for HeadView<'_> {
    fn select(&self, matchers: &[Matcher], lo: i64, hi: i64) -> Result<Vec<Series>, PromqlError> {
        let Some(name) = matchers
            .iter()
            .find(|m| m.name == NAME && matches!(m.op, MatchOp::Equal))
            .filter(|m| !m.value.starts_with(DERIVED_PREFIX))
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
            series: BTreeMap::new(),
        });
        e.wanted_lo = e.wanted_lo.min(lo);
        if e.fresh {
            read_into(&self.src, name, lo, hi, &mut e.series)?;
            e.fresh = false;
        } else {
            // Older than held: read the gap before.
            if lo < e.lo {
                let (a, b) = (lo, e.lo - 1);
                cut(&mut e.series, a, b);
                read_into(&self.src, name, a, b, &mut e.series)?;
                e.lo = lo;
            }
            // What was written since the last read. Nothing logged means nothing new: the
            // held window just grows.
            if let Some(d) = e.dirty_from.take() {
                let (from, to) = (d.max(e.lo), hi.max(e.hi));
                if from <= to {
                    cut(&mut e.series, from, to);
                    read_into(&self.src, name, from, to, &mut e.series)?;
                    e.series.retain(|_, s| !s.is_empty());
                }
            }
            e.hi = e.hi.max(hi);
        }
        let out: Vec<Series> = e
            .series
            .iter()
            .filter(|(l, _)| l.matches(matchers))
            .filter_map(|(l, s)| windowed(l, s, lo, hi))
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
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("w.db")).unwrap();
        let conn = store.reader().unwrap();
        let mut cache = HeadCache::default();
        let mut pts: Vec<(&str, i64, f64)> = (0..100).map(|i| ("a", i * 1000, i as f64)).collect();
        write(&store, &pts);
        let check = |cache: &mut HeadCache, windows: &[(i64, i64)]| {
            let view = cache.cycle(&conn).unwrap();
            let direct = StoreSource::new(&conn);
            for &(lo, hi) in windows {
                let mut got = view.select(&name(), lo, hi).unwrap();
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
