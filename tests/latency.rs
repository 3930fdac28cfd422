//! `sightline latency` against agentgen's truth: exact nearest-rank percentiles per span kind
//! and per operation, and buckets that add up.

use serde_json::Value;

use crate::util::{Dir, agentgen, json_lines, sightline, stderr};

fn rows(dir: &Dir, args: &[&str]) -> Vec<Value> {
    let mut a = vec!["latency", "--json"];
    a.extend_from_slice(args);
    let o = sightline(&dir.db(), &a);
    assert!(o.status.success(), "{}", stderr(&o));
    json_lines(&o.stdout)
}

fn assert_matches(got: &Value, want: &Value, what: &str) {
    assert_eq!(got["count"], want["count"], "{what}: count");
    for f in ["p50", "p95", "p99", "min", "max", "mean"] {
        let (g, w) = (got[f].as_f64().unwrap(), want[f].as_f64().unwrap());
        // The truth is rounded to the microsecond.
        assert!((g - w).abs() <= 1.5e-6, "{what}: {f} {g} != {w}");
    }
}

#[test]
fn latency_percentiles_per_kind_and_operation_match_the_truth() {
    let dir = Dir::new();
    let otlp = dir.path("runs.json");
    let truth = agentgen(&["otlp", "--runs", "300", "--seed", "77"], &otlp);
    assert!(
        sightline(&dir.db(), &["ingest", otlp.to_str().unwrap()])
            .status
            .success()
    );
    let by_kind = rows(&dir, &["--by", "kind"]);
    let want = truth["latency_seconds"]["by_kind"].as_object().unwrap();
    assert_eq!(by_kind.len(), want.len(), "{by_kind:?}");
    for r in &by_kind {
        let k = r["key"].as_str().unwrap().to_uppercase();
        assert_matches(r, &want[&k], &k);
    }
    let by_op = rows(&dir, &["--by", "operation"]);
    let want = truth["latency_seconds"]["by_operation"]
        .as_object()
        .unwrap();
    assert_eq!(by_op.len(), want.len());
    for r in &by_op {
        let k = r["key"].as_str().unwrap();
        assert_matches(r, &want[k], k);
    }
    // Per hour: the buckets split each operation's spans without losing any.
    let hourly = rows(&dir, &["--by", "operation", "--per", "hour"]);
    for r in &by_op {
        let k = r["key"].as_str().unwrap();
        let n: u64 = hourly
            .iter()
            .filter(|h| h["key"] == k)
            .map(|h| h["count"].as_u64().unwrap())
            .sum();
        assert_eq!(n, r["count"].as_u64().unwrap(), "{k}");
    }
    // Tools by name: the same numbers as their `execute_tool <name>` operations.
    for r in rows(&dir, &["--by", "tool"]) {
        let k = format!("execute_tool {}", r["key"].as_str().unwrap());
        assert_matches(&r, &want[&k], &k);
    }
}
