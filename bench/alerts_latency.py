#!/usr/bin/env python3
"""Alert latency benchmark (issue 6): from a log line written, or a sample exposed on a
scraped /metrics endpoint, to the desktop notification received by a notification server.

Runs `sightline watch` with a 1 s group interval, `for: 0s`, 1 s scrapes and followed logs,
on a private session D-Bus whose notification server is the tests' recorder
(tests/support/notify_recorder.py, which stamps each Notify call on arrival). Each trial
makes a new alert (a new log file with one error line, or a new `flag{trial=..}` series on
the endpoint) so every trial is a first notification, not a repeat.

    python3 bench/alerts_latency.py [--sightline target/release/sightline] [--trials 10]

Prints a markdown table. Not a test: nothing is judged here.
"""

import argparse
import http.server
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SUPPORT = os.path.join(ROOT, "tests", "support")

RULES = """groups:
  - name: latency
    interval: 1s
    rules:
      - alert: LogError
        expr: count by (source) (sightline_log_records_total{level="error"}) > 0
        annotations:
          summary: "log {{ $labels.source }}"
      - alert: Flag
        expr: flag > 0
        annotations:
          summary: "flag {{ $labels.trial }}"
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sightline", default=os.path.join(ROOT, "target", "release", "sightline"))
    ap.add_argument("--trials", type=int, default=10)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="sightline-latency-")
    procs = []
    try:
        bus = subprocess.Popen(["dbus-daemon", f"--config-file={os.path.join(SUPPORT, 'session-bus.conf')}",
                                "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        procs.append(bus)
        address = bus.stdout.readline().strip()
        log = os.path.join(tmp, "notifications.jsonl")
        rec = subprocess.Popen(["/usr/bin/python3", os.path.join(SUPPORT, "notify_recorder.py"),
                                "--address", address, "--log", log], stdout=subprocess.PIPE, text=True)
        procs.append(rec)
        assert rec.stdout.readline().strip() == "ready"

        flags = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = "# TYPE flag gauge\n" + "".join(f'flag{{trial="{t}"}} 1\n' for t in list(flags))
                b = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

            def log_message(self, *args):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{srv.server_address[1]}/metrics"

        logs = os.path.join(tmp, "logs")
        os.makedirs(logs)
        rules = os.path.join(tmp, "rules.yml")
        open(rules, "w").write(RULES)
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address, XDG_CACHE_HOME=os.path.join(tmp, "cache"))
        watch = subprocess.Popen([a.sightline, "--db", os.path.join(tmp, "w.db"), "watch", "--rules", rules,
                                  "--follow", logs, "--scrape", url, "--scrape-interval", "1s",
                                  "--group-by", "...", "--group-wait", "0s", "--group-interval", "1s"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(watch)
        time.sleep(3)

        def arrived(needle, timeout=15):
            end = time.time() + timeout
            while time.time() < end:
                if os.path.exists(log):
                    for line in open(log):
                        n = json.loads(line)
                        if needle in n["summary"]:
                            return n["t"]
                time.sleep(0.02)
            raise SystemExit(f"no notification for {needle!r}")

        rng = random.Random(6)
        results = {"log line written": [], "sample exposed": []}
        for k in range(a.trials):
            name = f"trial{k}.jsonl"
            t0 = time.time()
            with open(os.path.join(logs, name), "w") as f:
                ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0)) + f".{int(t0 % 1 * 1000):03d}Z"
                f.write(json.dumps({"time": ts, "level": "error", "msg": "boom"}) + "\n")
            results["log line written"].append(arrived(f"log {name}") - t0)
            time.sleep(rng.uniform(0.0, 1.0))
            t0 = time.time()
            flags.append(str(k))
            results["sample exposed"].append(arrived(f"flag {k}") - t0)
            # A random phase against the 1 s evaluation and scrape cycles.
            time.sleep(rng.uniform(1.0, 2.0))
        print("| path | to the desktop notification (s): median / p95 / max | trials |\n|---|---|---|")
        for what, v in results.items():
            v = sorted(v)
            p95 = v[min(len(v) - 1, int(len(v) * 0.95))]
            print(f"| {what} | {statistics.median(v):.2f} / {p95:.2f} / {max(v):.2f} | {len(v)} |")
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())
