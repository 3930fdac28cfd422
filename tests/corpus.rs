//! Every real third-party sample in `../shared/corpus/logs` (and the JSON log shapes in
//! `../shared/corpus/otlp`) ingests: format, record and skipped counts per file, and the
//! fields that are easy to get wrong (levels by number, times in odd shapes, templates).

use std::collections::BTreeMap;

use serde_json::Value;
use sightline::ingest::{FileStatus, SkipReason};
use sightline::store::Store;
use sightline::store::queries::logs::{LogQuery, list};

use crate::util::{Dir, corpus};

type Expect = (
    &'static str,
    &'static str,
    u64,
    &'static [(SkipReason, u64)],
);

const LOGS: &[Expect] = &[
    (
        "logs/bunyan_all.log",
        "bunyan",
        14,
        &[
            (SkipReason::Comment, 3),
            (SkipReason::Blank, 2),
            (SkipReason::NonJson, 1),
        ],
    ),
    ("logs/bunyan_log1.log", "bunyan", 4, &[]),
    ("logs/bunyan_withreq.log", "bunyan", 3, &[]),
    ("logs/clef-tool_example.clef", "clef", 15, &[]),
    ("logs/serilog_clef_readme.clef", "clef", 2, &[]),
    ("logs/ecs_logging_intro.ndjson", "ecs", 3, &[]),
    ("logs/ecs_logging_python_stdlib_pretty.json", "ecs", 1, &[]),
    ("logs/ecs_logging_spec.json", "json", 1, &[]),
    ("logs/generated/ecs_logging_python.ndjson", "ecs", 3, &[]),
    (
        "logs/generated/logrus_v1.9.3_jsonformatter.ndjson",
        "logrus",
        4,
        &[],
    ),
    (
        "logs/generated/loguru_0.7.3_serialize.ndjson",
        "loguru",
        7,
        &[],
    ),
    ("logs/generated/pino_10.4.0_default.ndjson", "pino", 5, &[]),
    (
        "logs/generated/python-json-logger.ndjson",
        "python-json-logger",
        4,
        &[],
    ),
    (
        "logs/generated/structlog_jsonrenderer.ndjson",
        "structlog",
        4,
        &[],
    ),
    (
        "logs/generated/zap_v1.28.0_production.ndjson",
        "zap",
        4,
        &[],
    ),
    ("logs/logrus_readme.ndjson", "logrus", 6, &[]),
    ("logs/pino_readme.ndjson", "pino", 2, &[]),
    ("logs/slog_jsonhandler_godoc.ndjson", "slog", 1, &[]),
    ("logs/structlog_docs_orjson.ndjson", "structlog", 1, &[]),
    (
        "logs/structlog_docs_stdlib_jsonrenderer.ndjson",
        "structlog",
        1,
        &[],
    ),
    (
        "logs/tracing-subscriber_json_rustdoc.ndjson",
        "tracing",
        1,
        &[],
    ),
    (
        "logs/tracing-subscriber_json_test_expectations.ndjson",
        "tracing",
        7,
        &[],
    ),
    ("logs/zap_example_test_outputs.ndjson", "zap", 26, &[]),
    ("otlp/otlp-proto_examples_logs.json", "otlp-logs", 1, &[]),
    (
        "otlp/agentops_otel-python-logrecord-to_json.json",
        "otel-python",
        8,
        &[],
    ),
];

#[test]
fn each_corpus_log_file_has_its_format_and_counts() {
    for (rel, format, records, skipped) in LOGS {
        let d = Dir::new();
        let r = d.ingest(&[corpus(rel)]);
        assert!(r.errors.is_empty(), "{rel}: {:?}", r.errors);
        let f = &r.files[0];
        assert_eq!(f.status, FileStatus::Ingested, "{rel}");
        assert_eq!(f.format.as_deref(), Some(*format), "{rel}: {:?}", f.formats);
        assert_eq!(f.records_added, *records, "{rel}");
        let want: BTreeMap<SkipReason, u64> = skipped.iter().copied().collect();
        assert_eq!(f.skipped_by_reason, want, "{rel}: {:?}", f.skipped_lines);
    }
}

/// Whatever is added to the corpus later must ingest too: every file under `logs/` that is
/// not documentation gives records and no error.
#[test]
fn every_file_under_corpus_logs_ingests() {
    let d = Dir::new();
    let r = d.ingest(&[corpus("logs")]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let mut n = 0;
    for f in &r.files {
        if f.path.ends_with(".md") {
            assert_eq!(f.status, FileStatus::NotJson, "{}", f.path);
            continue;
        }
        n += 1;
        assert_eq!(f.status, FileStatus::Ingested, "{}", f.path);
        assert!(f.records_added > 0, "{}", f.path);
    }
    assert!(n >= 23, "only {n} log files found");
    let total: u64 = r.files.iter().map(|f| f.records_added).sum();
    assert_eq!(d.stats()["records"], total);
}

fn rows(d: &Dir, rel: &str) -> Vec<sightline::store::queries::logs::LogRow> {
    let r = d.ingest(&[corpus(rel)]);
    assert!(r.errors.is_empty());
    let store = Store::open_read_only(&d.db()).unwrap();
    let mut rows = list(&store.reader().unwrap(), &LogQuery::default()).unwrap();
    rows.sort_by_key(|r| r.line);
    rows
}

fn attrs(r: &sightline::store::queries::logs::LogRow) -> Value {
    serde_json::from_str(&r.attrs).unwrap()
}

#[test]
fn bunyan_numeric_levels_map_and_stay_in_attrs() {
    let d = Dir::new();
    let rows = rows(&d, "logs/bunyan_all.log");
    let levels: Vec<&str> = rows.iter().take(7).map(|r| r.level.as_str()).collect();
    assert_eq!(
        levels,
        ["trace", "debug", "info", "warn", "error", "error", "fatal"]
    );
    assert_eq!(attrs(&rows[5])["level"], 55);
    assert_eq!(rows[0].ts_rfc3339(), "2012-02-08T22:56:50.856000000Z");
    // The object that is not bunyan is kept, with nothing lost.
    let hi = rows.iter().find(|r| r.line == 20).unwrap();
    assert_eq!(attrs(hi), serde_json::json!({"hi": "there"}));
}

#[test]
fn logrus_go_time_string_with_zone_is_converted() {
    let d = Dir::new();
    let rows = rows(&d, "logs/logrus_readme.ndjson");
    // 2014-03-10 19:57:38.562264131 -0400 EDT
    assert_eq!(rows[0].ts_rfc3339(), "2014-03-10T23:57:38.562264131Z");
    assert_eq!(rows[1].level.as_str(), "warn");
    assert_eq!(rows[4].level.as_str(), "fatal");
    assert_eq!(attrs(&rows[0])["animal"], "walrus");
}

#[test]
fn clef_templates_render_and_levels_default_to_info() {
    let d = Dir::new();
    let rows = rows(&d, "logs/clef-tool_example.clef");
    assert_eq!(rows[3].message, "Loop 3");
    assert!(rows.iter().all(|r| r.level.as_str() == "info"));
    assert_eq!(rows[0].ts_rfc3339(), "2017-04-20T04:24:47.025171900Z");
    let d = Dir::new();
    let rows = self::rows(&d, "logs/serilog_clef_readme.clef");
    assert_eq!(rows[0].message, "Hello, \"nblumhardt\"");
    assert_eq!(rows[1].message, "Hello, \"nblumhardt\"");
}

#[test]
fn loguru_record_fields_are_found() {
    let d = Dir::new();
    let rows = rows(&d, "logs/generated/loguru_0.7.3_serialize.ndjson");
    assert_eq!(rows[0].message, "agent run started");
    assert_eq!(rows[0].ts_rfc3339(), "2026-11-20T21:53:21.942874000Z");
    assert!(rows.iter().any(|r| r.level.as_str() == "warn"));
    let a = attrs(&rows[0]);
    assert_eq!(a["record"]["level"]["name"], "INFO");
    assert!(a["record"].get("message").is_none());
    assert!(a["text"].as_str().unwrap().contains("agent run started"));
}

#[test]
fn ecs_ids_dotted_and_nested() {
    let d = Dir::new();
    let rows = rows(&d, "logs/ecs_logging_intro.ndjson");
    assert_eq!(
        rows[2].trace_id.as_deref(),
        Some("2869b25b5469590610fea49ac04af7da")
    );
    assert_eq!(rows[2].level.as_str(), "debug");
    let d = Dir::new();
    let rows = self::rows(&d, "logs/generated/ecs_logging_python.ndjson");
    assert_eq!(rows[1].span_id.as_deref(), Some("00f067aa0ba902b7"));
    assert_eq!(
        rows[1].trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(rows[2].level.as_str(), "error");
}

#[test]
fn pretty_printed_object_is_one_record() {
    let d = Dir::new();
    let rows = rows(&d, "logs/ecs_logging_python_stdlib_pretty.json");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].message, "Example message!");
    assert_eq!(rows[0].line, 1);
    assert_eq!(attrs(&rows[0])["log"]["origin"]["function"], "func");
}

#[test]
fn tracing_subscriber_message_in_fields_and_fake_time_is_kept() {
    let d = Dir::new();
    let rows = rows(&d, "logs/tracing-subscriber_json_test_expectations.ndjson");
    assert!(rows.iter().all(|r| r.message == "some json test"));
    // "fake time" is no time: the record says so and keeps the text.
    assert_eq!(attrs(&rows[0])["timestamp"], "fake time");
    assert_ne!(rows[0].flags & sightline::model::flags::TIME_MISSING, 0);
}

#[test]
fn otlp_log_export_and_otel_python_array() {
    let d = Dir::new();
    let rows = rows(&d, "otlp/otlp-proto_examples_logs.json");
    assert_eq!(rows[0].message, "Example log record");
    assert_eq!(rows[0].level.as_str(), "info");
    assert_eq!(
        rows[0].trace_id.as_deref(),
        Some("5b8efff798038103d269b633813fc60c")
    );
    assert_eq!(rows[0].ts, 1_544_712_660_300_000_000);
    let a = attrs(&rows[0]);
    assert_eq!(a["attributes"]["int.attribute"], 10);
    assert_eq!(a["resource"]["service.name"], "my.service");
    let d = Dir::new();
    let rows = self::rows(&d, "otlp/agentops_otel-python-logrecord-to_json.json");
    assert!(
        rows.iter().all(|r| r.trace_id.is_none()),
        "all-zero ids are no ids"
    );
    assert!(rows[0].message.contains("This is red text"));
}

#[test]
fn otlp_metrics_become_series_and_what_is_kept_in_part_is_listed() {
    let d = Dir::new();
    let r = d.ingest(&[corpus("otlp/otlp-proto_examples_metrics.json")]);
    let f = &r.files[0];
    assert_eq!(f.records_added, 0);
    assert_eq!(f.spans_added, 0);
    // counter 1, gauge 1, histogram le=1, le=+Inf, sum, count, exponential sum and count.
    assert_eq!(f.samples_added, 8);
    assert_eq!(f.format.as_deref(), Some("otlp-metrics"));
    // A delta sum, a delta histogram and an exponential histogram are kept in another form.
    assert_eq!(f.skipped_by_reason.get(&SkipReason::PartlyKept), Some(&3));
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let c = rusqlite::Connection::open(d.db()).unwrap();
    let value = |metric: &str, le: Option<&str>| -> f64 {
        c.query_row(
            "SELECT sm.v FROM samples sm JOIN series s ON s.id = sm.series_id
             WHERE s.metric = ?1 AND (?2 IS NULL OR json_extract(s.labels, '$.le') = ?2)",
            rusqlite::params![metric, le],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(value("my_gauge", None), 10.0);
    assert_eq!(value("my_counter", None), 5.0);
    assert_eq!(value("my_histogram_bucket", Some("1")), 1.0);
    assert_eq!(value("my_histogram_bucket", Some("+Inf")), 2.0);
    assert_eq!(value("my_histogram_count", None), 2.0);
    assert_eq!(value("my_exponential_histogram_sum", None), 10.0);
}
