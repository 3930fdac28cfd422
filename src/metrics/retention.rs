//! Retention and downsampling of metric samples, so weeks of 1-second scrapes stay small.
//!
//! Relative to the newest sample in the workspace (so a recorded bundle keeps its own full
//! resolution however old it is): samples stay raw for `raw`, then one per minute (the last of
//! each minute) until `minute`, then one per five minutes, and are deleted after `keep`.
//! Each tier resumes where it stopped, so a run only touches samples that newly aged.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;

/// The tiers' ages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub raw_ms: i64,
    pub minute_ms: i64,
    pub keep_ms: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw_ms: 2 * 3_600_000,
            minute_ms: 2 * 86_400_000,
            keep_ms: 15 * 86_400_000,
        }
    }
}

/// What a compaction removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompactReport {
    pub thinned: u64,
    pub expired: u64,
}

fn thin(tx: &rusqlite::Transaction<'_>, tier: i64, step: i64, hi: i64) -> Result<u64> {
    let done: Option<i64> = tx
        .query_row(
            "SELECT done_until FROM sample_compaction WHERE tier = ?1",
            [tier],
            |r| r.get(0),
        )
        .optional()?;
    // Start at the first whole step after what was done (or at the oldest sample).
    let lo = match done {
        Some(d) => d,
        None => match tx.query_row("SELECT min(t) FROM samples", [], |r| {
            r.get::<_, Option<i64>>(0)
        })? {
            Some(m) => m.div_euclid(step) * step,
            None => return Ok(0),
        },
    };
    let hi = hi.div_euclid(step) * step;
    if hi <= lo {
        return Ok(0);
    }
    let n = tx.execute(
        "DELETE FROM samples WHERE (series_id, t) IN (
             SELECT series_id, t FROM (
                 SELECT series_id, t,
                        row_number() OVER (PARTITION BY series_id, t / ?3 ORDER BY t DESC) AS rn
                 FROM samples WHERE t >= ?1 AND t < ?2)
             WHERE rn > 1)",
        params![lo, hi, step],
    )?;
    tx.execute(
        "INSERT INTO sample_compaction (tier, done_until) VALUES (?1, ?2)
         ON CONFLICT (tier) DO UPDATE SET done_until = excluded.done_until",
        params![tier, hi],
    )?;
    Ok(n as u64)
}

/// Applies the tiers to the workspace (run on the writer's connection).
pub fn compact(conn: &mut Connection, r: &Retention) -> Result<CompactReport> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let Some(newest) = tx.query_row("SELECT max(t) FROM samples", [], |row| {
        row.get::<_, Option<i64>>(0)
    })?
    else {
        return Ok(CompactReport::default());
    };
    let mut rep = CompactReport::default();
    rep.thinned += thin(&tx, 1, 60_000, newest - r.raw_ms)?;
    rep.thinned += thin(&tx, 2, 300_000, newest - r.minute_ms)?;
    rep.expired = tx.execute("DELETE FROM samples WHERE t < ?1", [newest - r.keep_ms])? as u64;
    if rep.thinned > 0 || rep.expired > 0 {
        crate::store::writer::log_sample_write(&tx, i64::MIN)?;
    }
    tx.commit()?;
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_thin_and_expire_relative_to_the_newest_sample() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::store::open::open_writer(&dir.path().join("w.db")).unwrap();
        conn.execute(
            "INSERT INTO series (id, metric, labels) VALUES (1, 'x', '{}')",
            [],
        )
        .unwrap();
        // 3 days of 10 s samples.
        let day = 86_400_000;
        let tx = conn.transaction().unwrap();
        let mut t = 0;
        while t <= 3 * day {
            tx.execute(
                "INSERT INTO samples (series_id, t, v) VALUES (1, ?1, ?2)",
                params![t, t / 1000],
            )
            .unwrap();
            t += 10_000;
        }
        tx.commit().unwrap();
        let r = Retention {
            raw_ms: 3_600_000,
            minute_ms: day,
            keep_ms: 2 * day + 12 * 3_600_000,
        };
        let rep = compact(&mut conn, &r).unwrap();
        assert!(rep.thinned > 0 && rep.expired > 0);
        let count = |lo: i64, hi: i64| -> i64 {
            conn.query_row(
                "SELECT count(*) FROM samples WHERE t >= ?1 AND t < ?2",
                [lo, hi],
                |r| r.get(0),
            )
            .unwrap()
        };
        let newest = 3 * day;
        // Raw in the last hour: 360 samples.
        assert_eq!(count(newest - 3_600_000, newest), 360);
        // One a minute between 1 h and 1 day old.
        assert_eq!(count(newest - day, newest - 3_600_000), 23 * 60);
        // One per 5 minutes older than a day, and nothing past the keep age.
        assert_eq!(count(newest - 2 * day, newest - day), 24 * 12);
        assert_eq!(count(0, newest - r.keep_ms), 0);
        // The last sample of each minute is the one kept.
        let v: i64 = conn
            .query_row(
                "SELECT t FROM samples WHERE t >= ?1 ORDER BY t LIMIT 1",
                [newest - 2 * 3_600_000],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(v % 60_000, 50_000);
        // A second run has nothing new to do.
        assert_eq!(compact(&mut conn, &r).unwrap(), CompactReport::default());
    }
}
