//! Scraping a real /metrics endpoint on 127.0.0.1 (agentgen serve), healthy and faulty.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sightline::ingest::scrape::{ScrapeConfig, ScrapeManager, scrape_once};
use sightline::store::Store;

use crate::util::{Dir, shared, sightline, stdout};

pub(crate) struct Served(Child, pub(crate) u16);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `agentgen serve` with a fault, once it answers (or, for faults that never answer well,
/// once its port is open).
pub(crate) fn serve(fault: &str, extra: &[&str]) -> Served {
    let port = free_port();
    let child = Command::new("python3")
        .arg(shared().join("agentgen/agentgen.py"))
        .args([
            "serve",
            "--port",
            &port.to_string(),
            "--duration",
            "60",
            "--speed",
            "20",
            "--fault",
            fault,
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "agentgen serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Served(child, port)
}

fn url(s: &Served) -> String {
    format!("http://127.0.0.1:{}/metrics", s.1)
}

fn query(dir: &Dir, expr: &str, at: Option<&str>) -> Value {
    let mut a = vec!["query", expr, "--json"];
    if let Some(t) = at {
        a.extend(["--at", t]);
    }
    let o = sightline(&dir.db(), &a);
    assert!(o.status.success(), "{}", crate::util::stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn scalar(v: &Value) -> f64 {
    v["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_healthy_target_is_scraped_with_up_duration_and_sample_count() {
    let s = serve("none", &[]);
    let dir = Dir::new();
    let o = sightline(
        &dir.db(),
        &[
            "scrape",
            &url(&s),
            "--interval",
            "1s",
            "--duration",
            "3500ms",
            "--label",
            "job=agent",
        ],
    );
    assert!(o.status.success(), "{}", crate::util::stderr(&o));
    let lines = stdout(&o);
    let ups = lines.lines().filter(|l| l.contains("  up  ")).count();
    assert!(ups >= 3, "{lines}");
    let v = query(&dir, "up", None);
    assert_eq!(v["result"][0]["metric"]["job"], "agent");
    assert_eq!(
        v["result"][0]["metric"]["instance"],
        format!("127.0.0.1:{}", s.1)
    );
    assert_eq!(scalar(&v), 1.0);
    assert!(scalar(&query(&dir, "scrape_samples_scraped", None)) > 10.0);
    assert!(scalar(&query(&dir, "scrape_duration_seconds", None)) > 0.0);
    // Every scrape is stored: one `up` sample each.
    assert_eq!(
        scalar(&query(&dir, "count_over_time(up[1m])", None)) as usize,
        ups
    );
    // Counters from the target answer rate().
    let v = query(&dir, "sum(rate(agent_requests_total[10s]))", None);
    assert!(scalar(&v) > 0.0, "{v}");
}

#[test]
fn faulty_targets_are_recorded_backed_off_and_never_lose_what_was_scraped() {
    for (fault, extra, expect) in [
        ("500", vec![], "HTTP 500"),
        ("slow", vec!["--slow-seconds", "4"], "timed out"),
        ("garbage", vec![], "not a metrics exposition"),
        ("huge", vec!["--huge-series", "300000"], "limit"),
    ] {
        let s = serve(fault, &extra);
        let dir = Dir::new();
        let o = sightline(
            &dir.db(),
            &[
                "scrape",
                &url(&s),
                "--interval",
                "1s",
                "--timeout",
                "1s",
                "--duration",
                "4s",
                "--body-limit-mib",
                "2",
            ],
        );
        assert!(o.status.success(), "{fault}: {}", crate::util::stderr(&o));
        let out = stdout(&o);
        let downs: Vec<&str> = out.lines().filter(|l| l.contains("  down  ")).collect();
        assert!(!downs.is_empty(), "{fault}: {out}");
        assert!(downs.iter().any(|l| l.contains(expect)), "{fault}: {out}");
        // Backing off: after failures in a row the next try is more than one interval away.
        if downs.len() >= 3 {
            assert!(
                out.contains("failure 2 in a row") || out.contains("failure 3 in a row"),
                "{fault}: {out}"
            );
        }
        // up=0 is written for each failed scrape.
        let v = query(&dir, "min_over_time(up[1m])", None);
        assert_eq!(scalar(&v), 0.0, "{fault}: {v}");
        if fault == "garbage" {
            // The reason names where the body went wrong.
            assert!(out.contains("line ") && out.contains("column "), "{out}");
        }
    }
}

#[test]
fn a_flapping_target_keeps_its_earlier_samples_and_its_series_go_stale_when_it_is_down() {
    let s = serve("flap", &["--flap-period", "2"]);
    let dir = Dir::new();
    let o = sightline(
        &dir.db(),
        &[
            "scrape",
            &url(&s),
            "--interval",
            "1s",
            "--timeout",
            "1s",
            "--duration",
            "7s",
        ],
    );
    let out = stdout(&o);
    let ups = out.lines().filter(|l| l.contains("  up  ")).count();
    let downs = out.lines().filter(|l| l.contains("  down  ")).count();
    assert!(ups >= 1 && downs >= 1, "{out}");
    // Samples from the up phases are all there.
    let v = query(&dir, "sum_over_time(up[1m])", None);
    assert_eq!(scalar(&v) as usize, ups, "{v}");
    // Right after a failed scrape, the target's own series are stale (gone), `up` is 0.
    let store = Store::open(&dir.db()).unwrap();
    let conn = store.reader().unwrap();
    let t_down: i64 = conn
        .query_row(
            "SELECT min(s.t) FROM samples s JOIN series r ON r.id = s.series_id WHERE r.metric = 'up' AND s.v = 0
             AND s.t > (SELECT min(s2.t) FROM samples s2 JOIN series r2 ON r2.id = s2.series_id WHERE r2.metric = 'up' AND s2.v = 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    store.close();
    let at = format!("{}", t_down as f64 / 1000.0);
    let v = query(&dir, "agent_requests_total", Some(&at));
    assert!(v["result"].as_array().unwrap().is_empty(), "{v}");
    let v = query(&dir, "agent_requests_total offset 1s", Some(&at));
    assert!(!v["result"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn targets_are_kept_in_the_workspace_paused_resumed_and_removed() {
    let s = serve("none", &[]);
    let dir = Dir::new();
    let store = Store::open(&dir.db()).unwrap();
    let m = ScrapeManager::start(&store, None).unwrap();
    let mut cfg = ScrapeConfig::new(&url(&s)).unwrap();
    cfg.interval_ms = 1000;
    let t = m.add(cfg).unwrap();
    let t0 = Instant::now();
    while m.get(t.id).unwrap().health.state != "up" {
        assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", m.get(t.id));
        std::thread::sleep(Duration::from_millis(100));
    }
    let p = m.set_paused(t.id, true).unwrap();
    assert!(p.paused);
    assert_eq!(p.health.state, "paused");
    let before = m.get(t.id).unwrap().health.scrapes;
    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(
        m.get(t.id).unwrap().health.scrapes,
        before,
        "a paused target is not scraped"
    );
    drop(m);
    store.close();
    // Reopened, the workspace still has the target, still paused.
    let store = Store::open(&dir.db()).unwrap();
    let m = ScrapeManager::start(&store, None).unwrap();
    let l = m.list().unwrap();
    assert_eq!(l.len(), 1);
    assert!(l[0].paused);
    m.set_paused(l[0].id, false).unwrap();
    m.remove(l[0].id).unwrap();
    assert!(m.list().unwrap().is_empty());
    assert!(
        m.add(ScrapeConfig {
            url: "ftp://x".into(),
            ..ScrapeConfig::new("http://a/").unwrap()
        })
        .is_err()
    );
}

#[test]
fn one_scrape_of_the_corpus_served_over_http_reads_like_the_file() {
    // A tiny HTTP server on 127.0.0.1 serving an OpenMetrics corpus file with its content type.
    let body = std::fs::read(crate::util::corpus(
        "prom/generated_client_python_openmetrics-1.0.om.txt",
    ))
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut c, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let n = c.read(&mut buf).unwrap();
        let req = String::from_utf8_lossy(&buf[..n]).to_string();
        write!(c, "HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
        c.write_all(&body).unwrap();
        req
    });
    let cfg = ScrapeConfig::new(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    let o = scrape_once(&cfg, 1_700_000_000_000);
    let req = h.join().unwrap();
    assert!(
        req.contains("application/openmetrics-text"),
        "content negotiation: {req}"
    );
    assert!(o.error.is_none(), "{:?}", o.error);
    assert_eq!(o.scraped, 24);
    assert_eq!(o.meta.len(), 6);
    assert!(
        o.samples
            .iter()
            .all(|s| s.labels.iter().any(|(k, _)| k == "instance"))
    );
}
