//! Bundles: agentgen bundles open to exactly their truth, hostile archives are refused or
//! contained, exports reopen to the same counts, and redaction leaves no planted secret.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{Dir, agentgen, sightline, stderr};

fn ingest_json(db: &Path, args: &[&str]) -> Value {
    let mut a = vec!["ingest", "--json"];
    a.extend_from_slice(args);
    let o = sightline(db, &a);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)))
}

fn count(db: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

const SCRAPED_SAMPLES: &str = "SELECT COUNT(*) FROM samples sm JOIN series s ON s.id = sm.series_id \
     LEFT JOIN metric_families f ON f.name = s.family WHERE COALESCE(f.derived, 0) = 0";

/// Runs, spans, log records and scraped samples of a workspace.
fn counts(db: &Path) -> [i64; 4] {
    [
        count(db, "SELECT COUNT(*) FROM runs"),
        count(db, "SELECT COUNT(*) FROM spans"),
        count(db, "SELECT COUNT(*) FROM logs"),
        count(db, SCRAPED_SAMPLES),
    ]
}

/// The entries of a zip, by name.
fn zip_entries(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        out.insert(e.name().unwrap().to_string(), b);
    }
    out
}

fn sample_lines(text: &str) -> i64 {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count() as i64
}

fn rules_in(text: &str) -> u64 {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("- alert:") || t.starts_with("- record:")
        })
        .count() as u64
}

#[test]
fn agentgen_bundles_open_to_exactly_their_truth_and_twice_adds_nothing() {
    for name in ["run.zip", "run.tar.gz"] {
        let dir = Dir::new();
        let bundle = dir.path(name);
        let truth = agentgen(&["bundle", "--runs", "60", "--seed", "7"], &bundle);
        let r = ingest_json(&dir.db(), &[bundle.to_str().unwrap()]);
        assert_eq!(r["errors"].as_array().unwrap().len(), 0, "{r}");
        let b = &r["bundles"][0];
        assert_eq!(b["problems"].as_array().unwrap().len(), 0, "{b}");
        assert!(b["manifest"].as_str().unwrap().contains("agentgen"), "{b}");
        let unpacked = PathBuf::from(b["unpacked_to"].as_str().unwrap());
        assert!(
            unpacked.starts_with(dir.path("workspace.db.files")),
            "{unpacked:?}"
        );

        let log_records: i64 = truth["bundle"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["records"].as_i64())
            .sum();
        let prom: i64 = walk(&unpacked)
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "prom"))
            .map(|p| sample_lines(&std::fs::read_to_string(p).unwrap()))
            .sum();
        let rules_text = std::fs::read_to_string(unpacked.join("rules.yml")).unwrap();
        assert_eq!(
            counts(&dir.db()),
            [
                truth["runs"].as_i64().unwrap(),
                truth["spans"]["total"].as_i64().unwrap(),
                log_records,
                prom
            ],
            "{name}"
        );
        let rf = &r["rule_files"][0];
        assert_eq!(rf["rules"].as_u64().unwrap(), rules_in(&rules_text), "{rf}");
        assert!(rf["groups_added"].as_u64().unwrap() >= 1, "{rf}");
        // The rules are now the workspace's own (what the app and its alert loop run).
        let c = rusqlite::Connection::open(dir.db()).unwrap();
        let listed: String = c
            .query_row(
                "SELECT value FROM alert_config WHERE key = 'rules'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        for l in rules_text.lines() {
            if let Some(a) = l.trim_start().strip_prefix("- alert:") {
                assert!(listed.contains(a.trim()), "{a} not in {listed}");
            }
        }

        let again = ingest_json(&dir.db(), &[bundle.to_str().unwrap()]);
        assert_eq!(again["records_added"], 0);
        assert_eq!(again["spans_added"], 0);
        assert_eq!(again["samples_added"], 0);
        assert_eq!(again["bundles"][0]["already_unpacked"], true);
        assert_eq!(again["rule_files"][0]["groups_added"], 0);
        assert!(again["rule_files"][0]["groups_present"].as_u64().unwrap() >= 1);
        assert_eq!(
            counts(&dir.db())[1],
            truth["spans"]["total"].as_i64().unwrap(),
            "{name} twice"
        );

        // The same files as a plain folder, into another workspace: the same counts.
        let folder = Dir::new();
        copy_dir(&unpacked, &folder.path("bundle"));
        let rf = ingest_json(&folder.db(), &[folder.path("bundle").to_str().unwrap()]);
        assert_eq!(rf["bundles"][0]["format"], "folder");
        assert_eq!(rf["bundles"][0]["problems"].as_array().unwrap().len(), 0);
        assert_eq!(counts(&folder.db()), counts(&dir.db()));
    }
}

#[test]
fn a_new_workspace_is_named_after_the_bundle() {
    let dir = Dir::new();
    let bundle = dir.path("failed-run.zip");
    let truth = agentgen(&["bundle", "--runs", "5"], &bundle);
    let o = sightline(
        &dir.db(),
        &["ingest", "--new-workspace", bundle.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let new = dir.path("failed-run.db");
    assert!(new.exists());
    assert!(!dir.db().exists());
    assert_eq!(counts(&new)[0], truth["runs"].as_i64().unwrap());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for f in walk(from) {
        let dest = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, dest).unwrap();
    }
}

fn hostile(out: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/hostile_archives.py");
    let s = Command::new("python3")
        .arg(script)
        .arg(out)
        .status()
        .unwrap();
    assert!(s.success());
}

/// Problems of the first bundle, as "entry: problem" lines.
fn problems(r: &Value) -> Vec<String> {
    r["bundles"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                p["entry"].as_str().unwrap(),
                p["problem"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn hostile_archives_are_refused_or_contained_with_reasons() {
    let dir = Dir::new();
    let arch = dir.path("archives");
    hostile(&arch);
    let outside = Path::new("/tmp/evil_abs.jsonl");
    let _ = std::fs::remove_file(outside);
    let case = |name: &str, extra: &[&str]| -> Value {
        let ws = dir.path(&format!("ws-{name}/workspace.db"));
        std::fs::create_dir_all(ws.parent().unwrap()).unwrap();
        let mut args: Vec<&str> = extra.to_vec();
        let p = arch.join(name);
        args.push(p.to_str().unwrap());
        ingest_json(&ws, &args)
    };
    let has = |r: &Value, entry: &str, why: &str| {
        let ps = problems(r);
        assert!(
            ps.iter().any(|p| p.starts_with(entry) && p.contains(why)),
            "{entry}: {why} not in {ps:#?}"
        );
    };
    for name in ["zip_slip.zip", "tar_slip.tar"] {
        let r = case(name, &[]);
        assert_eq!(r["records_added"], 3, "{name}: {r}");
        has(&r, "../evil.jsonl", "leaves the bundle");
        has(&r, "/tmp/evil_abs.jsonl", "absolute path");
    }
    let r = case("zip_slip.zip", &[]);
    has(&r, "logs/../../evil2.jsonl", "leaves the bundle");
    has(&r, "C:\\evil.jsonl", "absolute path");
    for name in ["symlink.zip", "symlink.tar.gz"] {
        let r = case(name, &[]);
        assert_eq!(r["records_added"], 3, "{name}: {r}");
        has(&r, "passwd", "pointing outside");
        has(&r, "up.jsonl", "pointing outside");
    }
    has(&case("symlink.tar.gz", &[]), "hard", "pointing outside");
    has(
        &case("symlink.zip", &[]),
        "inside.jsonl",
        "links are not followed",
    );
    for name in ["bomb.zip", "bomb.tar.gz"] {
        let r = case(name, &[]);
        assert_eq!(r["records_added"], 3, "{name}: {r}");
        has(&r, "zeros.jsonl", "decompression bomb");
        // The cap is configurable: a looser ratio lets it through (it is only zeros).
        let r = case(name, &["--max-ratio", "100000"]);
        assert!(problems(&r).is_empty(), "{name}: {r}");
    }
    let r = case("many.zip", &["--max-entries", "100"]);
    assert!(
        r["bundles"][0]["error"]
            .as_str()
            .unwrap()
            .contains("entry cap"),
        "{r}"
    );
    assert_eq!(r["records_added"], 3);
    let r = case("many.zip", &["--max-bundle-bytes", "100"]);
    assert!(problems(&r).iter().any(|p| p.contains("total cap")), "{r}");
    let r = case("dup.zip", &[]);
    assert_eq!(r["records_added"], 3, "the first good.jsonl is kept: {r}");
    has(&r, "good.jsonl", "duplicate");
    let r = case("nested.zip", &[]);
    assert_eq!(r["records_added"], 3, "three levels by default: {r}");
    assert!(
        problems(&r)
            .iter()
            .any(|p| p.contains("nested deeper than 3"))
    );
    // A deeper cap unpacks the levels the first open left out.
    let r = case("nested.zip", &["--max-depth", "5"]);
    assert_eq!(r["records_added"], 2, "{r}");
    assert_eq!(
        count(
            &dir.path("ws-nested.zip/workspace.db"),
            "SELECT COUNT(*) FROM logs"
        ),
        5
    );
    for name in ["truncated.zip", "truncated.tar.gz"] {
        let r = case(name, &[]);
        let err = r["bundles"][0]["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            err.contains("cut short") || err.contains("truncated"),
            "{name}: {r}"
        );
        // What could be read is kept: the good file and the lines before the cut.
        assert!(r["records_added"].as_u64().unwrap() > 1000, "{name}: {r}");
        let again = case(name, &[]);
        assert_eq!(again["records_added"], 0, "{name} twice: {again}");
    }
    let r = case("garbage.zip", &[]);
    assert!(
        r["bundles"][0]["error"]
            .as_str()
            .unwrap()
            .contains("not a readable zip"),
        "{r}"
    );

    // Nothing was written outside the workspaces' own folders.
    assert!(
        !outside.exists(),
        "an absolute entry escaped to {outside:?}"
    );
    for f in walk(dir.tmp.path()) {
        let rel = f.strip_prefix(dir.tmp.path()).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .to_string();
        assert!(first == "archives" || first.starts_with("ws-"), "{rel:?}");
        if first.starts_with("ws-") {
            let inside = rel
                .components()
                .nth(1)
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .to_string();
            assert!(
                inside.starts_with("workspace.db"),
                "{rel:?} is outside the workspace"
            );
            if f.extension().is_some_and(|e| e == "jsonl") {
                let text = std::fs::read_to_string(&f).unwrap_or_default();
                assert!(!text.contains("escaped"), "{rel:?} holds an escaped entry");
            }
        }
    }
}

#[test]
fn an_export_reopens_to_the_same_counts_and_is_readable_elsewhere() {
    let dir = Dir::new();
    let bundle = dir.path("in.zip");
    let truth = agentgen(&["bundle", "--runs", "40", "--seed", "3"], &bundle);
    ingest_json(&dir.db(), &[bundle.to_str().unwrap()]);
    let before = counts(&dir.db());
    let out = dir.path("out.zip");
    let o = sightline(
        &dir.db(),
        &["export", "-o", out.to_str().unwrap(), "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rep: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        rep["runs"].as_f64().unwrap(),
        truth["runs"].as_f64().unwrap()
    );
    let entries = zip_entries(&out);
    let manifest: Value = serde_json::from_slice(&entries["manifest.json"]).unwrap();
    assert_eq!(manifest["generator"]["name"], "sightline");
    assert_eq!(manifest["counts"]["spans"].as_i64().unwrap(), before[1]);
    for f in manifest["files"].as_array().unwrap() {
        let body = &entries[f["path"].as_str().unwrap()];
        assert_eq!(f["bytes"].as_u64().unwrap(), body.len() as u64);
        use sha2::Digest;
        let sha: String = sha2::Sha256::digest(body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f["sha256"].as_str().unwrap(), sha);
    }
    // OTLP/JSON any collector reads: one request per line, hex ids, string nanos.
    let traces = String::from_utf8(entries["traces/traces.jsonl"].clone()).unwrap();
    let first: Value = serde_json::from_str(traces.lines().next().unwrap()).unwrap();
    let span = &first["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["traceId"].as_str().unwrap().len(), 32);
    assert!(span["startTimeUnixNano"].is_string());
    // Metrics as OpenMetrics, ending as the format says.
    let om = String::from_utf8(entries["metrics/samples.om"].clone()).unwrap();
    assert!(om.ends_with("# EOF\n"));
    assert_eq!(sample_lines(&om), before[3]);

    let other = Dir::new();
    let r = ingest_json(&other.db(), &[out.to_str().unwrap()]);
    assert_eq!(
        r["bundles"][0]["problems"].as_array().unwrap().len(),
        0,
        "{r}"
    );
    assert_eq!(counts(&other.db()), before);

    // One run: its spans and its log lines, nothing else.
    let c = rusqlite::Connection::open(dir.db()).unwrap();
    let (tid, spans, logs): (String, i64, i64) = c
        .query_row(
            "SELECT t.trace_id, (SELECT COUNT(*) FROM spans s WHERE s.trace_ref = t.id),
                    (SELECT COUNT(*) FROM logs l WHERE l.trace_ref = t.id)
             FROM traces t JOIN runs r ON r.trace_ref = t.id ORDER BY t.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let one = dir.path("one.zip");
    let o = sightline(
        &dir.db(),
        &["export", "-o", one.to_str().unwrap(), "--run", &tid],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let third = Dir::new();
    ingest_json(&third.db(), &[one.to_str().unwrap()]);
    let got = counts(&third.db());
    assert_eq!((got[0], got[1], got[2]), (1, spans, logs));
}

#[test]
fn redaction_masks_every_planted_secret_and_changes_nothing_else() {
    let dir = Dir::new();
    // Built from pieces so this file holds no secret-shaped string.
    let secrets: Vec<(&str, String)> = vec![
        (
            "openai_key",
            format!("sk-proj-{}", "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE"),
        ),
        (
            "anthropic_key",
            format!("sk-ant-api03-{}", "x7Yq2Lm9Pz4Rt6Wv8Nb3Kd5Fh1Jc0Gs"),
        ),
        ("aws_access_key", format!("AKIA{}", "IOSFODNN7EXAMPLQ")),
        (
            "github_token",
            format!("ghp_{}", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
        ),
        (
            "slack_token",
            format!("xoxb-{}", "1234567890-0987654321-AbCdEfGhIjKlMnOp"),
        ),
        (
            "jwt",
            format!(
                "eyJhbGciOiJIUzI1NiJ9.{}.{}",
                "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
            ),
        ),
        ("email", format!("{}@{}", "jane.doe", "example.com")),
    ];
    let url_pw = format!("hunter2{}", "Pw9");
    let bearer = format!("{}{}", "Zm9vYmFyYmF6cXV4", "MTIzNDU2Nzg5MA");
    let field_pw = format!("{}{}", "correct-horse", "-battery");
    let mut lines = Vec::new();
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for (i, (kind, s)) in secrets.iter().enumerate() {
        lines.push(format!(
            r#"{{"ts":"2024-06-01T12:00:{i:02}Z","level":"info","msg":"calling with {s}"}}"#
        ));
        *expected.entry(kind.to_string()).or_default() += 1;
    }
    lines.push(format!(
        r#"{{"ts":"2024-06-01T12:01:00Z","level":"warn","msg":"db at postgres://app:{url_pw}@db.internal:5432/main"}}"#
    ));
    *expected.entry("url_password".into()).or_default() += 1;
    lines.push(format!(
        r#"{{"ts":"2024-06-01T12:01:01Z","level":"info","msg":"request","headers":{{"x":"Bearer {bearer}"}}}}"#
    ));
    *expected.entry("bearer_token".into()).or_default() += 1;
    lines.push(format!(
        r#"{{"ts":"2024-06-01T12:01:02Z","level":"info","msg":"login","user":{{"name":"jd","db_secret_value":"{field_pw}"}}}}"#
    ));
    *expected.entry("field".into()).or_default() += 1;
    let clean: Vec<String> = (0..20)
        .map(|i| {
            format!(
                r#"{{"ts":"2024-06-01T12:02:{i:02}Z","level":"info","msg":"step {i} of run 4bf92f3577b34da6a3ce929d0e0e4736 model gpt-4o-mini took 1.25s","path":"/var/log/app.log","id":"550e8400-e29b-41d4-a716-44665544000{}"}}"#,
                i % 10
            )
        })
        .collect();
    lines.extend(clean.iter().cloned());
    let log = dir.write("app.jsonl", lines.join("\n") + "\n");
    let r = ingest_json(&dir.db(), &[log.to_str().unwrap()]);
    assert_eq!(r["records_added"].as_u64().unwrap(), lines.len() as u64);
    let out = dir.path("redacted.zip");
    let o = sightline(
        &dir.db(),
        &[
            "export",
            "-o",
            out.to_str().unwrap(),
            "--redact",
            "--redact-field",
            "db_secret_value",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let entries = zip_entries(&out);
    let all: Vec<u8> = entries.values().flatten().copied().collect();
    let all = String::from_utf8_lossy(&all);
    let mut planted: Vec<String> = secrets.iter().map(|s| s.1.clone()).collect();
    planted.extend([url_pw, bearer, field_pw]);
    for s in &planted {
        for w in s.as_bytes().windows(8) {
            let w = std::str::from_utf8(w).unwrap();
            assert!(!all.contains(w), "a piece of a secret survived: {w:?}");
        }
    }
    let manifest: Value = serde_json::from_slice(&entries["manifest.json"]).unwrap();
    let by_kind: BTreeMap<String, u64> =
        serde_json::from_value(manifest["redaction"]["by_kind"].clone()).unwrap();
    assert_eq!(by_kind, expected);
    assert!(
        manifest["redaction"]["places"][0]["place"]
            .as_str()
            .unwrap()
            .starts_with("logs/app.jsonl:")
    );
    // Lines without secrets are byte for byte what was written.
    let exported = String::from_utf8(entries["logs/app.jsonl"].clone()).unwrap();
    let exported: Vec<&str> = exported.lines().collect();
    assert_eq!(exported.len(), lines.len());
    for c in &clean {
        assert!(exported.contains(&c.as_str()), "{c} changed");
    }
    // The redacted bundle still opens to the same records.
    let other = Dir::new();
    let r = ingest_json(&other.db(), &[out.to_str().unwrap()]);
    assert_eq!(r["records_added"].as_u64().unwrap(), lines.len() as u64);
}
