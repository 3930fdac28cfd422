#!/usr/bin/env python3
"""Line written to row visible in the app (issue 8): the real app under Xvfb, a log file
opened in it (so followed), single JSON lines appended at random moments.

For each line the time runs from just before the write (wall clock, taken here) to the
animation frame in which the page's row count first shows it (wall clock, taken in the page:
a requestAnimationFrame loop watching `[data-testid=row-count]`). Both clocks are this
machine's, so the difference is the whole path: the follower's 200 ms poll, the ingest,
the watcher's 250 ms `data_version` poll, the data-changed event, the page's refresh and its
paint.

With `--load N` a second followed file gets N lines/s meanwhile (agentgen-style JSON lines
from a writer thread here), so the figure is also taken while the app is busy.

Usage: xvfb-run -a python3 bench/live_gui.py --app A --cli C --driver D [--lines 30] [--load 0]
Prints a markdown table; not a test, nothing is judged here.
"""

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "gui"))
from run_gui_tests import Ctx, wait  # noqa: E402

WATCH = """
window.__seen = [];
let last = null;
const tick = () => {
  const e = document.querySelector('[data-testid=row-count]');
  const t = e ? e.textContent.trim() : null;
  if (t !== last) { last = t; window.__seen.push([Date.now(), t]); }
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"""


def line(i, msg):
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
    return json.dumps({"ts": ts, "level": "info", "msg": msg, "i": i}) + "\n"


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--lines", type=int, default=30)
    ap.add_argument("--load", type=int, default=0, help="lines/s into a second followed file")
    opts = ap.parse_args()
    ctx = Ctx(opts)
    stop = threading.Event()
    try:
        probe = os.path.join(ctx.tmp, "probe.log")
        busy = os.path.join(ctx.tmp, "busy.log")
        with open(probe, "w") as f:
            f.write(line(0, "probe 0"))
        with open(busy, "w") as f:
            f.write(line(0, "busy first"))
        wd = ctx.launch([probe, busy])
        count = lambda: wd.find_all("[data-testid=row-count]") and wd.text(
            wd.find_all("[data-testid=row-count]")[0]).strip()
        wait("the first rows", lambda: count() == "2", timeout=60)
        # Only the probe lines: the count then moves exactly when a probe line shows.
        wd.js("const i = document.querySelector('[data-testid=search]');"
              "i.value = 'probe'; i.dispatchEvent(new Event('input', {bubbles: true}));")
        wait("the search applied", lambda: count() == "1", timeout=30)
        written = {"busy": 1}

        def load():
            # Writes in 20 ms ticks, so the rate holds without a write per line.
            n = 1
            t0 = time.time()
            with open(busy, "a") as f:
                while not stop.is_set():
                    due = int((time.time() - t0) * opts.load)
                    if due > n:
                        f.write("".join(line(i, "busy") for i in range(n, due)))
                        f.flush()
                        n = due
                    time.sleep(0.02)
            written["busy"] = n

        if opts.load:
            threading.Thread(target=load, daemon=True).start()
            time.sleep(2)
        wd.js(WATCH)
        lat = []
        with open(probe, "a") as f:
            for i in range(1, opts.lines + 1):
                time.sleep(random.uniform(0.3, 1.2))
                t = time.time() * 1000
                f.write(line(i, f"probe {i}"))
                f.flush()
                deadline = time.time() + 10
                while time.time() < deadline:
                    seen = wd.js("return window.__seen")
                    after = [s for s in seen if s[1] == str(i + 1) and s[0] >= t]
                    if after:
                        lat.append(after[0][0] - t)
                        break
                    time.sleep(0.01)
                else:
                    print(f"line {i}: not visible after 10 s", file=sys.stderr)
        stop.set()
        print("| what | median | p95 | max | target |")
        print("|---|---|---|---|---|")
        load_s = f", {opts.load} lines/s into another followed file" if opts.load else ""
        print(f"| line written -> row count painted in the app ({len(lat)} lines{load_s}) "
              f"| {statistics.median(lat):.0f} ms | {pct(lat, 95):.0f} ms | {max(lat):.0f} ms | < 1 s |")
    finally:
        stop.set()
        ctx.close()


if __name__ == "__main__":
    main()
