//! Live inputs: following files (appends, half-written lines, rotation, truncation, new
//! files in a folder) with exact counts, and the OTLP/HTTP receiver (JSON, protobuf made by
//! the official opentelemetry-proto package, gzip, and every refusal).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;
use sightline::ingest::IngestOptions;
use sightline::ingest::otlp_http::{Receiver, ReceiverConfig};
use sightline::ingest::tail::Follower;
use sightline::store::Store;

use crate::util::{Dir, agentgen, corpus};

fn line(i: usize) -> String {
    format!(
        "{{\"ts\":\"2024-06-01T12:00:{:02}.{:03}Z\",\"level\":\"info\",\"msg\":\"line {i}\"}}\n",
        i / 1000 % 60,
        i % 1000
    )
}

fn lines(from: usize, to: usize) -> String {
    (from..to).map(line).collect()
}

fn logs(store: &Store) -> i64 {
    store
        .reader()
        .unwrap()
        .query_row("SELECT COUNT(*) FROM logs", [], |r| r.get(0))
        .unwrap()
}

fn messages(store: &Store) -> Vec<String> {
    let c = store.reader().unwrap();
    let mut st = c.prepare("SELECT message FROM logs ORDER BY ts").unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn append(p: &Path, s: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap();
    f.write_all(s.as_bytes()).unwrap();
}

#[test]
fn following_a_file_counts_every_line_exactly_once() {
    let dir = Dir::new();
    let log = dir.path("app.log");
    let store = Store::open(&dir.db()).unwrap();
    let mut f = Follower::new(vec![log.clone()], IngestOptions::default());
    // Not there yet: waited for, not an error.
    assert!(f.pass(&store).errors.is_empty());
    append(&log, &lines(0, 100));
    f.pass(&store);
    assert_eq!(logs(&store), 100);
    // A half-written last line is not counted until it is complete.
    let l = line(100);
    append(&log, &l[..20]);
    f.pass(&store);
    assert_eq!(logs(&store), 100);
    append(&log, &l[20..]);
    append(&log, &lines(101, 150));
    f.pass(&store);
    assert_eq!(logs(&store), 150);

    // Rotation: lines land in the old file after the last pass, then it is renamed and a
    // new file starts. Both parts are read, nothing twice.
    append(&log, &lines(150, 170));
    std::fs::rename(&log, dir.path("app.log.1")).unwrap();
    append(&log, &lines(170, 200));
    f.pass(&store);
    assert_eq!(logs(&store), 200);
    f.pass(&store);
    assert_eq!(logs(&store), 200);

    // copytruncate: the content is copied away and the file emptied, then written again.
    append(&log, &lines(200, 210));
    f.pass(&store);
    assert_eq!(logs(&store), 210);
    std::fs::copy(&log, dir.path("app.log.2")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    f.pass(&store);
    append(&log, &lines(210, 260));
    f.pass(&store);
    assert_eq!(logs(&store), 260);
    let m = messages(&store);
    let want: Vec<String> = (0..260).map(|i| format!("line {i}")).collect();
    assert_eq!(m, want);
    store.close();
}

#[test]
fn a_followed_folder_picks_up_new_files() {
    let dir = Dir::new();
    let folder = dir.path("logs");
    std::fs::create_dir_all(&folder).unwrap();
    append(&folder.join("a.jsonl"), &lines(0, 10));
    let store = Store::open(&dir.db()).unwrap();
    let mut f = Follower::new(vec![folder.clone()], IngestOptions::default());
    f.pass(&store);
    assert_eq!(logs(&store), 10);
    append(&folder.join("b.jsonl"), &lines(10, 25));
    append(&folder.join("a.jsonl"), &lines(25, 30));
    f.pass(&store);
    assert_eq!(logs(&store), 30);
    store.close();
}

#[test]
fn ingest_follow_keeps_up_with_agentgen_live_including_rotation() {
    let dir = Dir::new();
    let log = dir.path("live.log");
    let mut writer = Command::new("python3")
        .arg(crate::util::shared().join("agentgen/agentgen.py"))
        .args([
            "live",
            "--style",
            "mixed",
            "--rate",
            "300",
            "--duration",
            "6",
            "--rotate-every",
            "2",
            "--warmup",
            "5",
            "-o",
        ])
        .arg(&log)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let follow = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("--db")
        .arg(dir.db())
        .args(["ingest", "--follow", "--duration", "9s"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(writer.wait().unwrap().success());
    assert!(
        follow.status.success(),
        "{}",
        String::from_utf8_lossy(&follow.stderr)
    );
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.path("live.log.truth.json")).unwrap()).unwrap();
    let written = truth["live"]["lines_written"].as_i64().unwrap();
    let store = Store::open(&dir.db()).unwrap();
    assert_eq!(logs(&store), written, "{truth}");
    let skipped: i64 = store
        .reader()
        .unwrap()
        .query_row("SELECT COUNT(*) FROM skipped_lines", [], |r| r.get(0))
        .unwrap();
    assert_eq!(skipped, 0, "a half-written line was stored as skipped");
    store.close();
}

/// POSTs `body` to the receiver; returns status and body.
fn post(addr: &str, path: &str, ctype: &str, gzip: bool, body: &[u8]) -> (u16, Vec<u8>) {
    let mut req = ureq::post(&format!("http://{addr}{path}")).set("Content-Type", ctype);
    let body = if gzip {
        req = req.set("Content-Encoding", "gzip");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(body).unwrap();
        e.finish().unwrap()
    } else {
        body.to_vec()
    };
    let resp = match req.send_bytes(&body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let code = resp.status();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut out).unwrap();
    (code, out)
}

/// The Python with opentelemetry-proto installed (scripts/install-deps.sh makes it).
fn proto_python() -> PathBuf {
    let p = std::env::var_os("SIGHTLINE_PROTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/sightline-venv/bin/python")
        });
    assert!(
        p.exists(),
        "{} missing: run scripts/install-deps.sh",
        p.display()
    );
    p
}

fn to_proto(signal: &str, json: &Path, out: &Path) -> Vec<u8> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/otlp_json_to_proto.py");
    let s = Command::new(proto_python())
        .arg(script)
        .arg(signal)
        .arg(json)
        .arg(out)
        .status()
        .unwrap();
    assert!(
        s.success(),
        "otlp_json_to_proto {signal} {}",
        json.display()
    );
    std::fs::read(out).unwrap()
}

fn count(store: &Store, sql: &str) -> i64 {
    store
        .reader()
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn the_otlp_receiver_takes_json_and_protobuf_and_refuses_what_it_must() {
    let dir = Dir::new();
    let store = Arc::new(Store::open(&dir.db()).unwrap());
    let rx = Receiver::start(
        store.clone(),
        ReceiverConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            max_body_bytes: 4 << 20,
            workers: 2,
        },
    )
    .unwrap();
    let addr = rx.addr().to_string();
    let j = "application/json";
    let pb = "application/x-protobuf";

    // agentgen traces as JSON (60 runs) and as protobuf (another 40 runs, gzipped).
    let a = dir.path("a.json");
    let ta = agentgen(&["otlp", "--runs", "60", "--seed", "1"], &a);
    let (code, body) = post(&addr, "/v1/traces", j, false, &std::fs::read(&a).unwrap());
    assert_eq!((code, body.as_slice()), (200, &b"{}"[..]));
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM spans"),
        ta["spans"]["total"].as_i64().unwrap()
    );
    let b = dir.path("b.json");
    let tb = agentgen(&["otlp", "--runs", "40", "--seed", "2"], &b);
    let bin = to_proto("traces", &b, &dir.path("b.bin"));
    let (code, body) = post(&addr, "/v1/traces", pb, true, &bin);
    assert_eq!(
        (code, body.len()),
        (200, 0),
        "an empty protobuf response is full success"
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM spans"),
        ta["spans"]["total"].as_i64().unwrap() + tb["spans"]["total"].as_i64().unwrap()
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM runs"),
        ta["runs"].as_i64().unwrap() + tb["runs"].as_i64().unwrap()
    );
    // The same request again adds nothing (spans are keyed by their ids).
    post(&addr, "/v1/traces", pb, false, &bin);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM spans"),
        ta["spans"]["total"].as_i64().unwrap() + tb["spans"]["total"].as_i64().unwrap()
    );

    // The corpus: logs and metrics, JSON and protobuf.
    let logs_json = corpus("otlp/otlp-proto_examples_logs.json");
    let n_logs = count(&store, "SELECT COUNT(*) FROM logs");
    let (code, _) = post(
        &addr,
        "/v1/logs",
        j,
        false,
        &std::fs::read(&logs_json).unwrap(),
    );
    assert_eq!(code, 200);
    let per_request = count(&store, "SELECT COUNT(*) FROM logs") - n_logs;
    assert!(per_request > 0);
    let lbin = to_proto("logs", &logs_json, &dir.path("l.bin"));
    let (code, _) = post(&addr, "/v1/logs", pb, false, &lbin);
    assert_eq!(code, 200);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM logs") - n_logs,
        2 * per_request
    );
    let m_json = corpus("otlp/otlp-proto_examples_metrics.json");
    let (code, _) = post(
        &addr,
        "/v1/metrics",
        j,
        false,
        &std::fs::read(&m_json).unwrap(),
    );
    assert_eq!(code, 200);
    let mbin = to_proto("metrics", &m_json, &dir.path("m.bin"));
    assert_eq!(post(&addr, "/v1/metrics", pb, true, &mbin).0, 200);
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM series WHERE metric = 'my_histogram_bucket'"
        ) >= 1
    );

    // Partial success: one span of three has no id.
    let partial = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"ok1","startTimeUnixNano":"1717243200000000000","endTimeUnixNano":"1717243201000000000"},
        {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"","name":"bad","startTimeUnixNano":"1717243200000000000","endTimeUnixNano":"1717243201000000000"},
        {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","name":"ok2","startTimeUnixNano":"1717243200000000000","endTimeUnixNano":"1717243201000000000"}]}]}]}"#;
    let (code, body) = post(&addr, "/v1/traces", j, false, partial);
    assert_eq!(code, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["partialSuccess"]["rejectedSpans"], "1", "{v}");
    assert!(
        !v["partialSuccess"]["errorMessage"]
            .as_str()
            .unwrap()
            .is_empty()
    );

    // Refusals, each with a google.rpc.Status saying why.
    let refuse = |path: &str, ctype: &str, body: &[u8], want: u16| {
        let (code, resp) = post(&addr, path, ctype, false, body);
        assert_eq!(
            code,
            want,
            "{path} {ctype}: {}",
            String::from_utf8_lossy(&resp)
        );
        if ctype == j {
            let v: Value = serde_json::from_slice(&resp).unwrap();
            assert!(!v["message"].as_str().unwrap().is_empty());
        }
    };
    refuse("/v1/traces", j, b"{\"resourceSpans\": [", 400);
    refuse("/v1/traces", j, b"[1,2]", 400);
    refuse("/v1/traces", pb, b"\x0a\xff\xff\xff\xff\x0f", 400);
    refuse("/v1/logs", j, &std::fs::read(&a).unwrap(), 400);
    refuse("/v1/traces", "text/plain", b"{}", 415);
    refuse("/v2/traces", j, b"{}", 404);
    refuse("/v1/traces", j, &vec![b' '; 5 << 20], 413);
    let get = ureq::get(&format!("http://{addr}/v1/traces")).call();
    assert!(matches!(get, Err(ureq::Error::Status(405, _))));
    // A gzip body that is not gzip.
    let bad_gz = ureq::post(&format!("http://{addr}/v1/traces"))
        .set("Content-Type", j)
        .set("Content-Encoding", "gzip")
        .send_bytes(b"not gzip at all");
    assert!(matches!(bad_gz, Err(ureq::Error::Status(400, _))));
    let stats = rx.stats();
    assert!(stats.rejected_requests >= 9.0, "{stats:?}");
    rx.stop();
    if let Ok(s) = Arc::try_unwrap(store) {
        s.close();
    }
}
