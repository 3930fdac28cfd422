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

/// `agentgen live` appending mixed-style lines to `log` (mid-stream: 5 s of warm-up).
fn agentgen_live(log: &Path, args: &[&str]) -> std::process::Child {
    Command::new("python3")
        .arg(crate::util::shared().join("agentgen/agentgen.py"))
        .args(["live", "--style", "mixed", "--warmup", "5"])
        .args(args)
        .arg("-o")
        .arg(log)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
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
fn a_file_with_nothing_complete_yet_is_empty_not_an_error_and_is_read_once_lines_come() {
    use sightline::ingest::{FileStatus, ingest};
    let dir = Dir::new();
    let log = dir.path("agent.log");
    std::fs::write(&log, "").unwrap();
    let store = Store::open(&dir.db()).unwrap();
    let r = ingest(
        &store,
        std::slice::from_ref(&log),
        &IngestOptions::default(),
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.files[0].status, FileStatus::Empty);
    // Blank lines and a first line still being written: nothing complete yet either.
    append(&log, "\n\n{\"ts\":\"2024-06-01T12:00:00Z\",\"level\":\"in");
    let mut f = Follower::new(vec![log.clone()], IngestOptions::default());
    let r = f.pass(&store);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.files[0].status, FileStatus::Empty);
    assert_eq!(logs(&store), 0);
    append(&log, "fo\",\"msg\":\"started\"}\n");
    append(&log, &lines(1, 4));
    let r = f.pass(&store);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.files[0].status, FileStatus::Ingested);
    assert_eq!(logs(&store), 4);
    // A file that is not a log is still refused, with its first bad line.
    let text = dir.path("notes.txt");
    std::fs::write(&text, "dear diary\nnot json\n").unwrap();
    let r = ingest(
        &store,
        std::slice::from_ref(&text),
        &IngestOptions::default(),
    );
    assert_eq!(r.files[0].status, FileStatus::NotJson);
    assert!(r.errors[0].error.contains("no JSON"), "{:?}", r.errors);
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
fn a_first_line_written_while_a_pass_reads_the_empty_file_is_read_once() {
    // A pass reads a file's first bytes (its fingerprint), looks its source up, then reads
    // the content. A first line landing in between once left the new source with an empty
    // fingerprint: the next pass did not recognise it, read the line again as a second
    // source of the same path (and the app's source filter broke on the repeated path).
    let dir = Dir::new();
    let store = Store::open(&dir.db()).unwrap();
    let rounds = 60;
    for round in 0..rounds {
        let log = dir.path(&format!("agent{round}.log"));
        std::fs::write(&log, "").unwrap();
        let mut f = Follower::new(vec![log.clone()], IngestOptions::default());
        let writer = {
            let log = log.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_micros(round as u64 * 97 % 3000));
                append(&log, &line(round));
            })
        };
        while !writer.is_finished() {
            f.pass(&store);
        }
        writer.join().unwrap();
        f.pass(&store);
        f.pass(&store);
    }
    assert_eq!(logs(&store), rounds as i64);
    let c = store.reader().unwrap();
    let repeated: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM (SELECT path FROM sources GROUP BY path HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(repeated, 0);
    let short: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sources WHERE length(fingerprint) < MIN(offset, 1024)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(short, 0, "a fingerprint shorter than what was read");
    store.close();
}

#[test]
fn a_pass_that_comes_late_still_reads_a_file_rotated_away_between_two_passes() {
    let dir = Dir::new();
    let log = dir.path("app.log");
    // An older rotation, last written long before following began: not read.
    let old = dir.path("app.log.3");
    append(&old, &lines(900, 910));
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .unwrap();
    append(&log, &lines(0, 10));
    let store = Store::open(&dir.db()).unwrap();
    let mut f = Follower::new(vec![log.clone()], IngestOptions::default());
    f.pass(&store);
    assert_eq!(logs(&store), 10);
    // Two rotations before the next pass: the file in the middle was never the followed one
    // at a pass, and is now app.log.1.
    append(&log, &lines(10, 20));
    std::fs::rename(&log, dir.path("app.log.1")).unwrap();
    append(&log, &lines(20, 30));
    std::fs::rename(dir.path("app.log.1"), dir.path("app.log.2")).unwrap();
    std::fs::rename(&log, dir.path("app.log.1")).unwrap();
    append(&log, &lines(30, 40));
    let r = f.pass(&store);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(logs(&store), 40);
    f.pass(&store);
    let want: Vec<String> = (0..40).map(|i| format!("line {i}")).collect();
    assert_eq!(messages(&store), want);
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
    use std::io::BufRead;
    let dir = Dir::new();
    let log = dir.path("live.log");
    // The follower first (it waits for the file to appear), so that no rotation happens
    // before it watches, however slowly a loaded machine starts it; stopped once it has
    // everything, rather than after a fixed time.
    let mut follow = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("--db")
        .arg(dir.db())
        .args(["ingest", "--follow", "--duration", "120s"])
        .arg(&log)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut err = std::io::BufReader::new(follow.stderr.take().unwrap());
    err.read_line(&mut first).unwrap();
    assert!(first.starts_with("following"), "{first}");
    let mut writer = agentgen_live(
        &log,
        &["--rate", "300", "--duration", "6", "--rotate-every", "3"],
    );
    assert!(writer.wait().unwrap().success());
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.path("live.log.truth.json")).unwrap()).unwrap();
    let written = truth["live"]["lines_written"].as_i64().unwrap();
    let store = Store::open(&dir.db()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while logs(&store) < written && std::time::Instant::now() < deadline {
        assert!(
            follow.try_wait().unwrap().is_none(),
            "the follower stopped early"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    follow.kill().unwrap();
    follow.wait().unwrap();
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
    // The derived series catch up with what arrived: requests put their update off (at most
    // one a second), and an idle receiver runs it.
    let spans = ta["spans"]["total"].as_i64().unwrap() + tb["spans"]["total"].as_i64().unwrap();
    let derived = "SELECT COALESCE(SUM(m), 0) FROM (SELECT MAX(v) AS m FROM samples \
         JOIN series ON series.id = samples.series_id \
         WHERE series.metric = 'sightline_spans_total' GROUP BY series_id)";
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count(&store, derived) != spans && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(count(&store, derived), spans, "sightline_spans_total");

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

/// Runs the `sightline` binary with a private session bus and a private cache; returns its
/// output once it ends (every caller bounds it with --duration).
fn sightline_on_bus(db: &Path, bus: &str, cache: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SIGHTLINE_DB")
        .env("XDG_CACHE_HOME", cache)
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .output()
        .unwrap()
}

fn query_value(db: &Path, expr: &str) -> f64 {
    let o = crate::util::sightline(db, &["query", expr, "--json"]);
    assert!(o.status.success(), "{}", crate::util::stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = v.to_string();
    // An instant vector of one series or a scalar: the number is the last string in it.
    let n = match &v["result"] {
        Value::Array(a) if !a.is_empty() => a[0]["value"][1].clone(),
        Value::Array(_) => return 0.0,
        other => other.get(1).cloned().unwrap_or(Value::Null),
    };
    n.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| n.as_f64())
        .unwrap_or_else(|| panic!("no value in {text}"))
}

/// `sightline demo --live`: the log it appends, the /metrics it serves and the spans it sends
/// over OTLP all land in its workspace, and the incident makes the built-in rules fire a
/// desktop notification on the session bus.
#[test]
fn demo_live_feeds_log_metrics_and_otlp_and_its_incident_notifies_the_desktop() {
    let dir = Dir::new();
    let bus = crate::alerts_live::Bus::start();
    let rec = crate::alerts_live::Recorder::start(&bus, &dir, &[]);
    let out = dir.path("live");
    let o = sightline_on_bus(
        &dir.db(),
        &bus.address,
        &dir.path("cache"),
        &[
            "demo",
            "--live",
            "-o",
            out.to_str().unwrap(),
            "--incident-at",
            "3s",
            "--duration",
            "30s",
        ],
    );
    let (text, err) = (crate::util::stdout(&o), crate::util::stderr(&o));
    assert!(o.status.success(), "{err}");
    assert!(
        text.contains("FIRING   {alertname=\"ToolFailingRepeatedly\"")
            && text.contains("tool=\"search_web\""),
        "the incident did not fire ToolFailingRepeatedly:\n{text}\n{err}"
    );
    let notes = rec.records();
    assert!(
        notes.iter().any(|n| n["app_name"] == "Sightline"
            && n["summary"]
                .as_str()
                .is_some_and(|s| s.contains("search_web"))),
        "no desktop notification about search_web: {notes:?}\n{text}"
    );

    // What the demo says it did, against what the workspace holds.
    let said = err
        .lines()
        .rfind(|l| l.starts_with("live demo:") && l.contains("span(s) sent"))
        .unwrap_or_else(|| panic!("no summary line:\n{err}"));
    let nums: Vec<f64> = said
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let (started, lines_played, spans_sent) = (nums[0], nums[2], nums[3]);
    assert!(started >= 8.0 && spans_sent >= 15.0, "{said}");
    let db = out.join("live-demo.db");
    let log = out.join("agent-runtime.log");
    let in_file = std::fs::read(&log)
        .unwrap()
        .iter()
        .filter(|b| **b == b'\n')
        .count() as i64;
    assert_eq!(in_file as f64, lines_played, "{said}");
    let store = Store::open(&db).unwrap();
    let followed = logs(&store);
    let otlp_spans = count(
        &store,
        "SELECT COUNT(*) FROM spans WHERE name LIKE 'chat %' OR name LIKE 'execute_tool %'",
    );
    store.close();
    // Lines written after the watch's last pass are read by the next ingest, from its cursor.
    assert!(
        followed > 0 && followed <= in_file,
        "{followed} of {in_file}"
    );
    assert_eq!(otlp_spans as f64, spans_sent, "{said}");
    let r = crate::util::sightline(&db, &["ingest", log.to_str().unwrap()]);
    assert!(r.status.success(), "{}", crate::util::stderr(&r));
    let store = Store::open(&db).unwrap();
    assert_eq!(logs(&store), in_file, "a line was read twice or lost");
    let runs = count(&store, "SELECT COUNT(*) FROM runs");
    store.close();
    assert_eq!(runs as f64, started, "{said}");
    // Scraped: the agent's own counters, and `up`.
    assert!(query_value(&db, "sum(agent_tool_calls_total)") > 0.0);
    assert!(query_value(&db, "sum(agent_tool_calls_total{status=\"error\"})") >= 2.0);
    assert_eq!(query_value(&db, "max_over_time(up[5m])"), 1.0);
}

/// agentgen's live log writer and its /metrics server, both with an error burst, against
/// `sightline watch`: every line written is read exactly once, and both bursts end in a
/// desktop notification (one from the log's derived series, one from the scraped counter).
#[test]
fn agentgen_live_log_and_metrics_bursts_against_watch_end_in_desktop_notifications() {
    let dir = Dir::new();
    let log = dir.path("agent.log");
    let rules = dir.write(
        "burst.yml",
        r#"
groups:
  - name: burst
    interval: 1s
    rules:
      - alert: LoggedErrors
        expr: sum(sightline_log_records_total{level="error"}) >= 5
        labels:
          severity: critical
        annotations:
          summary: "{{ $value }} error lines logged"
      - alert: ScrapedLLMErrorBurst
        expr: sum(agent_llm_errors_total) - sum(agent_llm_errors_total offset 3s) >= 6
        for: 1s
        labels:
          severity: critical
        annotations:
          summary: "{{ $value }} LLM errors in 3 s"
"#,
    );
    let bus = crate::alerts_live::Bus::start();
    let rec = crate::alerts_live::Recorder::start(&bus, &dir, &[]);
    let served = crate::scrape::serve(
        "none",
        &[
            "--speed",
            "10",
            "--error-burst-at",
            "5",
            "--burst-duration",
            "8",
        ],
    );
    let mut writer = agentgen_live(
        &log,
        &[
            "--rate",
            "200",
            "--duration",
            "14",
            "--error-burst-at",
            "4",
            "--burst-duration",
            "6",
        ],
    );
    let url = format!("http://127.0.0.1:{}/metrics", served.1);
    let o = sightline_on_bus(
        &dir.db(),
        &bus.address,
        &dir.path("cache"),
        &[
            "watch",
            "--rules",
            rules.to_str().unwrap(),
            "--follow",
            log.to_str().unwrap(),
            "--scrape",
            &url,
            "--scrape-interval",
            "1s",
            "--duration",
            "20s",
        ],
    );
    assert!(writer.wait().unwrap().success());
    let text = crate::util::stdout(&o);
    assert!(o.status.success(), "{}", crate::util::stderr(&o));
    for name in ["LoggedErrors", "ScrapedLLMErrorBurst"] {
        assert!(
            text.contains(&format!("FIRING   {{alertname=\"{name}\"")),
            "{name} did not fire:\n{text}"
        );
    }
    let notes = rec.records();
    for want in ["error lines logged", "LLM errors in 3 s"] {
        assert!(
            notes
                .iter()
                .any(|n| n["summary"].as_str().is_some_and(|s| s.contains(want))),
            "no notification saying {want:?}: {notes:?}"
        );
    }
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.path("agent.log.truth.json")).unwrap()).unwrap();
    let store = Store::open(&dir.db()).unwrap();
    assert_eq!(
        logs(&store),
        truth["live"]["lines_written"].as_i64().unwrap(),
        "{}",
        truth["live"]
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM skipped_lines"), 0);
    store.close();
}
