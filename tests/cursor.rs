//! Idempotent, resumable ingest on real files: the same file twice, a file that grows, a
//! half-written last line, rotation and truncation, and SIGKILL in the middle of an ingest.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sightline::ingest::{FileStatus, SkipReason};
use sightline::store::Store;
use sightline::store::queries::logs::{LogQuery, list};

use crate::util::{Dir, agentgen};

fn line(i: usize) -> String {
    format!(
        "{{\"level\":\"info\",\"ts\":{}.5,\"msg\":\"event {i}\",\"trace_id\":\"{:032x}\"}}\n",
        1_717_243_200 + i,
        i % 7 + 1
    )
}

fn lines(from: usize, to: usize) -> String {
    (from..to).map(line).collect()
}

fn records(d: &Dir) -> u64 {
    d.stats()["records"].as_u64().unwrap()
}

/// (line, message) of every record, in file order: duplicates or gaps show here.
fn lines_seen(d: &Dir) -> Vec<u64> {
    let store = Store::open_read_only(&d.db()).unwrap();
    let mut v: Vec<u64> = list(&store.reader().unwrap(), &LogQuery::default())
        .unwrap()
        .into_iter()
        .map(|r| r.line)
        .collect();
    v.sort();
    v
}

#[test]
fn same_file_twice_adds_nothing() {
    let d = Dir::new();
    let f = d.write("a.jsonl", lines(0, 100));
    let r1 = d.ingest(std::slice::from_ref(&f));
    assert_eq!(r1.records_added, 100);
    let r2 = d.ingest(std::slice::from_ref(&f));
    assert_eq!(r2.records_added, 0);
    assert_eq!(r2.files[0].status, FileStatus::Unchanged);
    assert_eq!(records(&d), 100);
    // A copy under another name is the same content: nothing either.
    std::fs::copy(&f, d.path("copy.jsonl")).unwrap();
    let r3 = d.ingest(&[d.path("copy.jsonl")]);
    assert_eq!(r3.records_added, 0);
    assert_eq!(records(&d), 100);
}

#[test]
fn grown_file_adds_only_new_lines() {
    let d = Dir::new();
    let f = d.write("a.jsonl", lines(0, 10));
    assert_eq!(d.ingest(std::slice::from_ref(&f)).records_added, 10);
    d.append("a.jsonl", lines(10, 25));
    let r = d.ingest(std::slice::from_ref(&f));
    assert_eq!(r.records_added, 15);
    assert_eq!(r.files[0].resumed_from_line, Some(11));
    assert_eq!(lines_seen(&d), (1..=25).collect::<Vec<u64>>());
}

#[test]
fn short_file_that_grows_keeps_its_identity() {
    // Fewer bytes than the fingerprint window at first.
    let d = Dir::new();
    let f = d.write("tiny.jsonl", lines(0, 1));
    assert_eq!(d.ingest(std::slice::from_ref(&f)).records_added, 1);
    d.append("tiny.jsonl", lines(1, 40));
    assert_eq!(d.ingest(std::slice::from_ref(&f)).records_added, 39);
    assert_eq!(lines_seen(&d), (1..=40).collect::<Vec<u64>>());
}

#[test]
fn half_written_last_line_is_read_when_complete() {
    let d = Dir::new();
    let full = lines(0, 6);
    let cut = full.len() - 20;
    let f = d.write("a.jsonl", &full[..cut]);
    let r = d.ingest(std::slice::from_ref(&f));
    assert_eq!(r.records_added, 5);
    assert_eq!(
        r.files[0]
            .skipped_by_reason
            .get(&SkipReason::IncompleteLastLine),
        Some(&1)
    );
    d.append("a.jsonl", &full[cut..]);
    d.append("a.jsonl", lines(6, 8));
    let r = d.ingest(std::slice::from_ref(&f));
    assert_eq!(r.records_added, 3);
    assert_eq!(r.files[0].skipped, 0, "{:?}", r.files[0].skipped_lines);
    assert_eq!(lines_seen(&d), (1..=8).collect::<Vec<u64>>());
    // The incomplete line was never stored as skipped.
    assert_eq!(d.stats()["skipped"], 0);
}

#[test]
fn complete_last_record_without_newline_counts_once() {
    let d = Dir::new();
    let text = lines(0, 3);
    let f = d.write("a.jsonl", text.trim_end());
    assert_eq!(d.ingest(std::slice::from_ref(&f)).records_added, 3);
    d.append("a.jsonl", "\n");
    d.append("a.jsonl", lines(3, 5));
    let r = d.ingest(std::slice::from_ref(&f));
    assert_eq!(r.records_added, 2);
    assert_eq!(r.files[0].skipped, 0, "{:?}", r.files[0].skipped_lines);
    assert_eq!(lines_seen(&d), vec![1, 2, 3, 4, 5]);
}

#[test]
fn rotation_rename_and_recreate() {
    let d = Dir::new();
    d.write("logs/app.log", lines(0, 20));
    assert_eq!(d.ingest(&[d.path("logs")]).records_added, 20);
    std::fs::rename(d.path("logs/app.log"), d.path("logs/app.log.1")).unwrap();
    d.write("logs/app.log", lines(100, 105));
    let r = d.ingest(&[d.path("logs")]);
    assert_eq!(r.records_added, 5, "{:#?}", r.files);
    assert_eq!(records(&d), 25);
}

#[test]
fn copytruncate_then_new_content() {
    let d = Dir::new();
    let f = d.write("a.jsonl", lines(0, 30));
    assert_eq!(d.ingest(std::slice::from_ref(&f)).records_added, 30);
    // Truncated in place, then new lines written.
    d.write("a.jsonl", lines(500, 503));
    let r = d.ingest(std::slice::from_ref(&f));
    assert_eq!(r.records_added, 3);
    assert_eq!(records(&d), 33);
}

#[test]
fn gzip_twice_adds_nothing() {
    let d = Dir::new();
    let f = d.path("z.jsonl.gz");
    agentgen(&["logs", "--style", "pino", "--runs", "30"], &f);
    let a = d.ingest(std::slice::from_ref(&f)).records_added;
    assert!(a > 0);
    assert_eq!(d.ingest(std::slice::from_ref(&f)).records_added, 0);
    assert_eq!(records(&d), a);
}

/// SIGKILL the CLI in the middle of an ingest, several times, then let it finish: the
/// workspace holds exactly the file's records, none lost, none twice.
#[test]
fn sigkill_mid_ingest_then_resume_loses_nothing_and_duplicates_nothing() {
    let d = Dir::new();
    let file = d.path("big.jsonl");
    let truth = agentgen(
        &[
            "logs",
            "--style",
            "zap",
            "--runs",
            "1500",
            "--noise-rate",
            "0.01",
        ],
        &file,
    );
    let lines = &truth["lines"];
    let expected = lines["records"].as_u64().unwrap()
        + lines["noise_by_kind"]["foreign_json"].as_u64().unwrap();
    let db = d.db();
    // Kills that landed after some batches were committed and before the end.
    let mut mid_kills = 0;
    for round in 0..10 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sightline"))
            .arg("--db")
            .arg(&db)
            .args(["ingest", "--batch-records", "300"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let wait = Duration::from_millis(30 + 20 * round);
        let start = Instant::now();
        while start.elapsed() < wait && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(2));
        }
        let killed = child.try_wait().unwrap().is_none();
        if killed {
            child.kill().unwrap(); // SIGKILL on Unix
        }
        child.wait().unwrap();
        if killed && db.exists() {
            let n = records(&d);
            if n > 0 && n < expected {
                mid_kills += 1;
            }
        }
        if mid_kills >= 3 {
            break;
        }
    }
    assert!(mid_kills >= 1, "no kill landed in the middle of the ingest");
    let out = d.cli(&["ingest", file.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(records(&d), expected);
    let seen = lines_seen(&d);
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(seen.len(), dedup.len(), "a line was stored twice");
    // Skipped lines were recorded once each too.
    let skipped: u64 = d.stats()["skipped"].as_u64().unwrap();
    let noise = lines["noise_total"].as_u64().unwrap()
        - lines["noise_by_kind"]["foreign_json"].as_u64().unwrap();
    assert_eq!(skipped, noise);
}
