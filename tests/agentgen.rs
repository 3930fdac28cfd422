//! agentgen's logs, every style, clean and noisy, plain and gzip, against its `.truth.json`:
//! records, records per level, distinct trace ids, and skipped lines per reason (with the
//! line numbers of the invalid-UTF-8 and oversize lines).

use std::collections::BTreeMap;

use serde_json::Value;
use sightline::ingest::{FileStatus, SkipReason};
use sightline::store::Store;
use sightline::store::queries::logs::count_traces;

use crate::util::{Dir, agentgen};

const RUNS: &str = "150";

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// The level of every record agentgen writes follows from the simulation: failures of runs
/// and tools are errors, failed LLM attempts that are retried are warnings, starts and
/// completions are info, iterations and tool starts are debug. The `events` style writes
/// one event per call with no level: failed ones are errors, the rest info.
fn expected_levels(style: &str, t: &Value) -> BTreeMap<String, u64> {
    let foreign = n(&t["lines"]["noise_by_kind"]["foreign_json"]);
    let mut m = BTreeMap::new();
    if style == "events" {
        let err = n(&t["llm_errors"]) + n(&t["tool_errors"]) + n(&t["runs_failed"]);
        m.insert("error".into(), err);
        m.insert("info".into(), n(&t["lines"]["records"]) - err + foreign);
    } else {
        m.insert("error".into(), n(&t["runs_failed"]) + n(&t["tool_errors"]));
        m.insert("warn".into(), n(&t["llm_errors"]));
        m.insert(
            "info".into(),
            n(&t["runs"]) + n(&t["runs_ok"]) + n(&t["llm_calls"]) - n(&t["llm_errors"])
                + n(&t["tool_calls"])
                - n(&t["tool_errors"])
                + foreign,
        );
        m.insert(
            "debug".into(),
            n(&t["spans"]["by_kind"]["CHAIN"]) + n(&t["tool_calls"]),
        );
    }
    m.retain(|_, v| *v > 0);
    m
}

fn check(style: &str, noise: &str, ext: &str) {
    let d = Dir::new();
    let file = d.path(&format!("{style}.jsonl{ext}"));
    let t = agentgen(
        &[
            "logs",
            "--style",
            style,
            "--runs",
            RUNS,
            "--noise-rate",
            noise,
        ],
        &file,
    );
    let what = format!("{style} noise={noise} {ext}");
    let r = d.ingest(std::slice::from_ref(&file));
    assert!(r.errors.is_empty(), "{what}: {:?}", r.errors);
    let f = &r.files[0];
    assert_eq!(f.status, FileStatus::Ingested, "{what}");
    let lines = &t["lines"];
    let foreign = n(&lines["noise_by_kind"]["foreign_json"]);
    assert_eq!(f.records_added, n(&lines["records"]) + foreign, "{what}");

    // Skipped lines: each noise kind, plus the two special lines, at their line numbers.
    let mut want: BTreeMap<SkipReason, u64> = BTreeMap::new();
    for (kind, reason) in [
        ("non_json", SkipReason::NonJson),
        ("truncated_json", SkipReason::TruncatedJson),
        ("blank", SkipReason::Blank),
        ("json_not_object", SkipReason::JsonNotObject),
    ] {
        let c = n(&lines["noise_by_kind"][kind]);
        if c > 0 {
            want.insert(reason, c);
        }
    }
    let specials = &lines["special_line_numbers"];
    if let Some(l) = specials.get("invalid_utf8") {
        want.insert(SkipReason::InvalidUtf8, 1);
        assert!(
            f.skipped_lines
                .iter()
                .any(|s| s.line == n(l) && s.reason == SkipReason::InvalidUtf8),
            "{what}: invalid UTF-8 line {l} not reported"
        );
    }
    if let Some(l) = specials.get("huge_line") {
        want.insert(SkipReason::LineTooLong, 1);
        assert!(
            f.skipped_lines
                .iter()
                .any(|s| s.line == n(l) && s.reason == SkipReason::LineTooLong),
            "{what}: oversize line {l} not reported"
        );
    }
    assert_eq!(f.skipped_by_reason, want, "{what}");
    if noise != "0" {
        assert!(!want.is_empty(), "{what}: noise expected");
    }

    let s = d.stats();
    let by_level: BTreeMap<String, u64> = s["by_level"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), n(v)))
        .filter(|(_, v)| *v > 0)
        .collect();
    if style == "mixed" {
        // Which runs used the `events` style is not in the truth; every failure is still
        // exactly one error or warning record.
        let failures = n(&t["llm_errors"]) + n(&t["tool_errors"]) + n(&t["runs_failed"]);
        let got = by_level.get("error").copied().unwrap_or(0)
            + by_level.get("warn").copied().unwrap_or(0);
        assert_eq!(got, failures, "{what}: {by_level:?}");
    } else {
        assert_eq!(by_level, expected_levels(style, &t), "{what}");
    }
    let skipped_total: u64 = want.values().sum();
    assert_eq!(n(&s["skipped"]), skipped_total, "{what}");

    let store = Store::open_read_only(&d.db()).unwrap();
    let traces = count_traces(&store.reader().unwrap()).unwrap();
    assert_eq!(traces, n(&t["runs"]), "{what}: distinct trace ids");
}

#[test]
fn zap_clean_and_noisy() {
    check("zap", "0", "");
    check("zap", "0.01", "");
}

#[test]
fn loguru_clean_and_noisy() {
    check("loguru", "0", "");
    check("loguru", "0.01", "");
}

#[test]
fn structlog_clean_and_noisy() {
    check("structlog", "0", "");
    check("structlog", "0.01", "");
}

#[test]
fn pino_clean_and_noisy() {
    check("pino", "0", "");
    check("pino", "0.01", "");
}

#[test]
fn events_clean_and_noisy() {
    check("events", "0", "");
    check("events", "0.01", "");
}

#[test]
fn mixed_clean_and_noisy() {
    check("mixed", "0", "");
    check("mixed", "0.01", "");
}

#[test]
fn gzip_noisy() {
    check("zap", "0.01", ".gz");
    check("mixed", "0.01", ".gz");
}

#[test]
fn mixed_file_reports_each_dialect() {
    let d = Dir::new();
    let file = d.path("mixed.jsonl");
    agentgen(&["logs", "--style", "mixed", "--runs", "200"], &file);
    let r = d.ingest(&[file]);
    let f = &r.files[0];
    assert_eq!(f.format.as_deref(), Some("mixed"));
    for dialect in ["zap", "loguru", "structlog", "pino", "agent-events"] {
        assert!(
            f.formats.get(dialect).copied().unwrap_or(0) > 0,
            "{dialect} missing from {:?}",
            f.formats
        );
    }
}
