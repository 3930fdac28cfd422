//! Exposition parsing: the official OpenMetrics parser test suite and the corpus files.

use sightline::ingest::prom_text::{parse_exposition, parse_openmetrics};

use crate::util::corpus;

#[test]
fn openmetrics_parser_test_suite_agrees_case_by_case() {
    let dir = corpus("prom/openmetrics-parsers-testsuite");
    let mut wrong = Vec::new();
    let mut n = 0;
    for case in std::fs::read_dir(&dir).unwrap() {
        let case = case.unwrap().path();
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(case.join("test.json")).unwrap()).unwrap();
        let should = meta["shouldParse"].as_bool().unwrap();
        let text = std::fs::read(case.join(meta["file"].as_str().unwrap())).unwrap();
        let got = parse_openmetrics(&text);
        n += 1;
        if got.is_ok() != should {
            wrong.push(format!(
                "{}: should {}parse, got {:?}",
                case.file_name().unwrap().to_string_lossy(),
                if should { "" } else { "not " },
                got.map(|e| e.sample_count())
            ));
        }
    }
    assert_eq!(n, 211);
    assert!(
        wrong.is_empty(),
        "{} of {n} cases disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every exposition file of the corpus: (file, OpenMetrics?, families, samples, problems).
/// Families and samples are what Python's prometheus_client 0.26 parser reads from the same
/// files; where it refuses a file (a negative histogram sum, a counter family already named
/// `_total`, a sample without a value), the counts are the file's own lines.
const CORPUS_EXPOSITIONS: &[(&str, bool, usize, usize, usize)] = &[
    (
        "generated_client_python_openmetrics-1.0.om.txt",
        true,
        6,
        24,
        0,
    ),
    ("generated_client_python_text-0.0.4.prom", false, 9, 24, 0),
    ("node_exporter_e2e-output.txt", false, 1228, 3027, 0),
    (
        "node_exporter_textfile_client_side_timestamp.prom",
        false,
        2,
        2,
        0,
    ),
    (
        "node_exporter_textfile_different_metric_types.prom",
        false,
        2,
        22,
        0,
    ),
    ("node_exporter_textfile_histogram.prom", false, 1, 13, 0),
    ("node_exporter_textfile_summary.prom", false, 1, 20, 0),
    ("prometheus-common_expfmt_text.prom", false, 37, 248, 0),
    (
        "prometheus-docs_exposition_formats_example.prom",
        false,
        6,
        20,
        1,
    ),
    ("prometheus_textparse_1histogram.om.txt", true, 1, 42, 0),
    (
        "prometheus_textparse_alltypes.237mfs.prom.txt",
        true,
        237,
        1857,
        0,
    ),
    ("prometheus_textparse_alltypes.5mfs.om.txt", true, 5, 53, 0),
    (
        "promtool_dump-openmetrics-roundtrip-test.prom",
        true,
        5,
        14,
        0,
    ),
    ("promtool_metrics-test.prom", false, 4, 27, 0),
];

#[test]
fn every_corpus_exposition_parses_to_its_families_and_samples() {
    let mut seen = 0;
    for f in std::fs::read_dir(corpus("prom")).unwrap() {
        let f = f.unwrap().path();
        if f.is_dir() || f.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let &(_, om, families, samples, problems) = CORPUS_EXPOSITIONS
            .iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("{name}: a corpus file this test does not know"));
        let e = parse_exposition(&std::fs::read(&f).unwrap(), None)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (
                e.openmetrics,
                e.families.len(),
                e.sample_count(),
                e.problems.len()
            ),
            (om, families, samples, problems),
            "{name}: {:?}",
            e.problems
        );
        seen += 1;
    }
    assert_eq!(seen, CORPUS_EXPOSITIONS.len());
    // The one bad line of the docs example is named with its place.
    let e = parse_exposition(
        &std::fs::read(corpus(
            "prom/prometheus-docs_exposition_formats_example.prom",
        ))
        .unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(e.problems[0].line, 10);
    assert!(
        e.problems[0].message.contains("no value"),
        "{:?}",
        e.problems
    );
}
