//! The queries the app pages through, on a real workspace: counts, pages, next error, the
//! raw line of a record, the sources list; and the demo and ingest progress.

use std::sync::{Arc, Mutex};

use sightline::ingest::{IngestOptions, IngestProgress};
use sightline::model::Level;
use sightline::store::Store;
use sightline::store::queries::{logs, sources};

use crate::util::Dir;

fn demo_workspace() -> (Dir, Vec<std::path::PathBuf>) {
    let d = Dir::new();
    let files = sightline::demo::write_demo(&d.path("demo")).unwrap();
    let r = d.ingest(&files);
    assert!(r.errors.is_empty());
    (d, files)
}

#[test]
fn demo_is_deterministic_and_realistic() {
    let a = Dir::new();
    let b = Dir::new();
    let fa = sightline::demo::write_demo(&a.path("x")).unwrap();
    let fb = sightline::demo::write_demo(&b.path("x")).unwrap();
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
    }
    let (d, _) = demo_workspace();
    let s = d.stats();
    assert!(s["records"].as_u64().unwrap() > 300);
    for f in ["zap", "structlog", "pino"] {
        assert!(s["by_format"][f].as_u64().unwrap() > 0, "{f}");
    }
    assert!(s["by_level"]["error"].as_u64().unwrap() > 0);
    assert!(s["by_level"]["warn"].as_u64().unwrap() > 0);
    assert!(s["skipped"].as_u64().unwrap() > 0);
}

#[test]
fn pages_counts_and_next_error() {
    let (d, _) = demo_workspace();
    let store = Store::open_read_only(&d.db()).unwrap();
    let c = store.reader().unwrap();
    let all = logs::LogQuery::default();
    let total = logs::count(&c, &all).unwrap();
    let listed = logs::list(&c, &all).unwrap();
    assert_eq!(total, listed.len() as u64);
    // Pages tile the list exactly.
    let mut paged = Vec::new();
    let mut off = 0;
    while off < total {
        paged.extend(logs::page(&c, &all, off, 97).unwrap());
        off += 97;
    }
    let ids: Vec<i64> = paged.iter().map(|r| r.id).collect();
    assert_eq!(ids, listed.iter().map(|r| r.id).collect::<Vec<_>>());
    // Level-only counts come from the counters and agree with a scan.
    let errs = logs::LogQuery {
        levels: vec![Level::Error, Level::Fatal],
        ..Default::default()
    };
    let n_err = logs::count(&c, &errs).unwrap();
    assert_eq!(n_err, logs::list(&c, &errs).unwrap().len() as u64);
    let searched = logs::LogQuery {
        search: Some("timed out".into()),
        ..Default::default()
    };
    assert_eq!(
        logs::count(&c, &searched).unwrap(),
        logs::list(&c, &searched).unwrap().len() as u64
    );
    // Next and previous error from the top.
    let first_err = listed.iter().position(|r| r.level >= Level::Error).unwrap() as u64;
    assert_eq!(
        logs::next_at_level(&c, &all, 0, Level::Error, true).unwrap(),
        Some(first_err)
    );
    let second = logs::next_at_level(&c, &all, first_err, Level::Error, true)
        .unwrap()
        .unwrap();
    assert!(second > first_err);
    assert!(listed[second as usize].level >= Level::Error);
    assert_eq!(
        logs::next_at_level(&c, &all, second, Level::Error, false).unwrap(),
        Some(first_err)
    );
    assert_eq!(
        logs::next_at_level(&c, &all, first_err, Level::Error, false).unwrap(),
        None
    );
}

#[test]
fn raw_line_reads_back_from_plain_and_gzip_files() {
    let (d, _) = demo_workspace();
    let store = Store::open_read_only(&d.db()).unwrap();
    let c = store.reader().unwrap();
    for r in logs::list(&c, &logs::LogQuery::default())
        .unwrap()
        .iter()
        .step_by(37)
    {
        let (path, gz, off, len) = logs::raw_location(&c, r.id).unwrap().unwrap();
        let raw = sightline::ingest::read_raw(path.as_ref(), gz, off, len, 1 << 20).unwrap();
        let text = String::from_utf8(raw).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(v.is_object(), "{text}");
        assert!(
            text.contains(&r.message) || text.contains("\"event\""),
            "{text}"
        );
    }
}

#[test]
fn sources_list_has_counts_and_skips() {
    let (d, files) = demo_workspace();
    let store = Store::open_read_only(&d.db()).unwrap();
    let c = store.reader().unwrap();
    let list = sources::list(&c).unwrap();
    assert_eq!(list.len(), files.len());
    let total: u64 = list.iter().map(|s| s.records).sum();
    assert_eq!(total, d.stats()["records"].as_u64().unwrap());
    let tools = list
        .iter()
        .find(|s| s.path.ends_with("tool-server.jsonl"))
        .unwrap();
    assert!(tools.skipped > 0);
    let skips = sources::skipped_lines(&c, tools.id, 100).unwrap();
    assert_eq!(skips.len() as u64, tools.skipped);
    assert!(skips.iter().all(|s| s.reason == "non_json"));
    let gz = list.iter().find(|s| s.path.ends_with(".gz")).unwrap();
    // Said as the ingest report says it.
    let mixed = Dir::new();
    let f = mixed.path("mixed.jsonl");
    crate::util::agentgen(&["logs", "--style", "mixed", "--runs", "40"], &f);
    let report_format = mixed.ingest(&[f]).files[0].format.clone();
    let ms = Store::open_read_only(&mixed.db()).unwrap();
    let listed = sources::list(&ms.reader().unwrap()).unwrap();
    assert_eq!(report_format.as_deref(), Some("mixed"));
    assert_eq!(listed[0].format, report_format);
    assert_eq!(gz.compression.as_deref(), Some("gzip"));
    assert_eq!(gz.format.as_deref(), Some("pino"));
}

#[test]
fn progress_reports_bytes_and_records_and_cancel_stops() {
    let d = Dir::new();
    let file = d.path("z.jsonl");
    crate::util::agentgen(&["logs", "--style", "zap", "--runs", "400"], &file);
    let seen: Arc<Mutex<Vec<IngestProgress>>> = Arc::default();
    let s2 = seen.clone();
    let opts = IngestOptions {
        batch_records: 500,
        progress: Some(Arc::new(move |p: &IngestProgress| {
            s2.lock().unwrap().push(p.clone())
        })),
        ..IngestOptions::default()
    };
    let store = Store::open(&d.db()).unwrap();
    let r = sightline::ingest::ingest(&store, std::slice::from_ref(&file), &opts);
    let seen = seen.lock().unwrap();
    assert!(seen.len() > 3);
    let last = seen.last().unwrap();
    assert_eq!(last.records, r.records_added);
    assert_eq!(last.bytes_done, last.bytes_total);
    assert_eq!(last.files_done, 1);
    assert!(seen.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done));

    // Cancel after the first batch: what was committed stays, and a rerun completes.
    let d2 = Dir::new();
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let c2 = cancel.clone();
    let opts = IngestOptions {
        batch_records: 500,
        cancel: Some(cancel.clone()),
        progress: Some(Arc::new(move |_: &IngestProgress| {
            c2.store(true, std::sync::atomic::Ordering::Relaxed)
        })),
        ..IngestOptions::default()
    };
    let store2 = Store::open(&d2.db()).unwrap();
    let r1 = sightline::ingest::ingest(&store2, std::slice::from_ref(&file), &opts);
    assert_eq!(r1.files[0].status, sightline::ingest::FileStatus::Cancelled);
    assert!(r1.records_added > 0 && r1.records_added < r.records_added);
    let r2 = sightline::ingest::ingest(
        &store2,
        std::slice::from_ref(&file),
        &IngestOptions::default(),
    );
    store2.close();
    assert_eq!(r1.records_added + r2.records_added, r.records_added);
}

/// All three ways a search page is found (from sparse matches, walking the time index
/// against the match set, or probing the FTS index per row for very dense matches) give the
/// same records in the same order as the plain listing.
#[test]
fn every_search_plan_agrees_with_the_listing() {
    let d = Dir::new();
    let mut text = String::new();
    let n = 66_000u64;
    // Written newest first, so that time order is not insertion order.
    for i in (0..n).rev() {
        let word = if i % 2 == 0 { "beta" } else { "gamma" };
        let delta = if i % 12 == 5 { " delta" } else { "" };
        let rare = if i % 5000 == 7 { " rare" } else { "" };
        text.push_str(&format!(
            "{{\"level\":\"info\",\"ts\":{}.{:03},\"msg\":\"alpha {word}{delta}{rare} {i}\"}}\n",
            1_717_243_200 + i / 10,
            (i % 10) * 100
        ));
    }
    let f = d.write("many.jsonl", text);
    d.ingest(&[f]);
    let store = Store::open_read_only(&d.db()).unwrap();
    let c = store.reader().unwrap();
    // beta: half the records (probe); delta: one in twelve, 5,500 matches (walk with the
    // set); rare: 14 (from the matches); and no match at all.
    for word in ["beta", "delta", "rare", "nothing-like-it", "alpha beta"] {
        let q = logs::LogQuery {
            search: Some(word.into()),
            ..Default::default()
        };
        let listed: Vec<i64> = logs::list(&c, &q).unwrap().iter().map(|r| r.id).collect();
        assert_eq!(logs::count(&c, &q).unwrap(), listed.len() as u64, "{word}");
        for offset in [0u64, 150, 5_400] {
            let page: Vec<i64> = logs::page(&c, &q, offset, 200)
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect();
            let want: Vec<i64> = listed
                .iter()
                .skip(offset as usize)
                .take(200)
                .copied()
                .collect();
            assert_eq!(page, want, "{word} at {offset}");
        }
    }
}
