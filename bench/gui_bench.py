#!/usr/bin/env python3
"""Desktop app benchmark (issue 3): the real app under Xvfb, timed from inside the page.

- cold start: from asking tauri-driver for a session (which starts the app) to the first
  painted log rows, on the demo workspace;
- on a ~10M-record workspace: from changing the level filter, and from typing a search, to
  the first page of matching rows painted (measured in the page with performance.now() and
  requestAnimationFrame; the search figure includes the UI's 150 ms typing debounce);
- frame times while scrolling the list continuously for 3 s;
- resident memory of the app (and of its WebKit processes) idle on that workspace.

Usage: xvfb-run -a python3 bench/gui_bench.py --app A --cli C --driver D --workspace W.db
Prints a markdown table; not a test, nothing is judged here.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "gui"))
from run_gui_tests import Ctx, wait  # noqa: E402

PAINTED = """
const [testid, want, t0k] = [arguments[0], arguments[1], arguments[2]];
const done = arguments[arguments.length - 1];
"""


def first_rows(wd):
    return wd.find_all("[data-testid=log-row]")


def timed_change(wd, kind, value):
    """Changes the level filter or the search box inside the page and times until the first
    page of matching rows is painted."""
    script = """
const kind = arguments[0], value = arguments[1], done = arguments[arguments.length - 1];
const t0 = performance.now();
if (kind === 'level') {
  const s = document.querySelector('[data-testid=level-filter]');
  s.value = value; s.dispatchEvent(new Event('change', {bubbles: true}));
} else {
  const i = document.querySelector('[data-testid=search]');
  i.value = value; i.dispatchEvent(new Event('input', {bubbles: true}));
}
const ok = (r) => kind === 'level'
  ? (value === 'all' || r.dataset.level === 'error' || r.dataset.level === 'fatal')
  : r.textContent.toLowerCase().includes(value.split(' ')[0]);
function check() {
  const rows = [...document.querySelectorAll('[data-testid=log-row]')];
  if (rows.length > 0 && rows.every(ok)) {
    requestAnimationFrame(() => done(performance.now() - t0));
  } else if (performance.now() - t0 > 20000) {
    done(-1);
  } else {
    requestAnimationFrame(check);
  }
}
requestAnimationFrame(check);
"""
    return wd._req("POST", wd.s("/execute/async"), {"script": script, "args": [kind, value]}, timeout=60)


def scroll_frames(wd, seconds=3.0):
    script = """
const secs = arguments[0], done = arguments[arguments.length - 1];
const list = document.querySelector('[data-testid=log-list]');
const deltas = []; let last = performance.now(); const end = last + secs * 1000;
function step(now) {
  deltas.push(now - last); last = now;
  list.scrollTop += 90;
  if (now < end) requestAnimationFrame(step); else done(deltas);
}
requestAnimationFrame(step);
"""
    return wd._req("POST", wd.s("/execute/async"), {"script": script, "args": [seconds]}, timeout=60)


def tree_rss_kb(root_pid):
    """RSS of a process and all its descendants, by name."""
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = open(f"/proc/{p}/stat").read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError, IndexError):
            pass
    out = {}
    todo = [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            name = open(f"/proc/{pid}/comm").read().strip()
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    out[name] = out.get(name, 0) + int(line.split()[1])
        except OSError:
            pass
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--workspace", required=True, help="a ~10M-record workspace")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--word", default="failed")
    opts = ap.parse_args()
    rows = []

    # Cold start on the demo workspace.
    starts = []
    for _ in range(opts.rounds):
        ctx = Ctx(opts)
        try:
            ctx.cli("demo", "-o", os.path.join(ctx.tmp, "demo"), "--ingest")
            t0 = time.time()
            wd = ctx.launch()
            wait("rows", lambda: first_rows(wd), timeout=30, interval=0.01)
            starts.append(time.time() - t0)
        finally:
            ctx.close()
    rows.append(("cold start to first painted rows, demo workspace (median of %d)" % opts.rounds,
                 "%.2f s" % statistics.median(starts), "< 1.5 s"))

    # The 10M workspace.
    ctx = Ctx(opts)
    ctx.db = os.path.abspath(opts.workspace)
    try:
        t0 = time.time()
        wd = ctx.launch()
        wait("rows", lambda: first_rows(wd), timeout=60, interval=0.02)
        big_start = time.time() - t0
        n = wd.js("return document.querySelector('[data-testid=row-count]').textContent")
        level_ms, search_ms = [], []
        for _ in range(opts.rounds):
            level_ms.append(timed_change(wd, "level", "error+"))
            level_ms.append(timed_change(wd, "level", "all"))
        for w in [opts.word, "timed out", "tool call"][: max(1, opts.rounds)]:
            time.sleep(0.5)  # a pause before typing, as a person makes
            search_ms.append(timed_change(wd, "search", w))
            time.sleep(0.5)
            timed_change(wd, "search", "")
        frames = scroll_frames(wd)[1:]
        time.sleep(3)
        app_pid = int(subprocess.run(["pgrep", "-n", "-f", os.path.abspath(opts.app)],
                                     capture_output=True, text=True).stdout.split()[0])
        rss = tree_rss_kb(app_pid)
        rows.append((f"cold start to first painted rows, {n}-record workspace", "%.2f s" % big_start, "-"))
        rows.append((f"level filter change to first page painted, {n} records (median of {len(level_ms)})",
                     "%.0f ms" % statistics.median(level_ms), "< 200 ms"))
        rows.append((f"search typed after a pause to first page painted (median of {len(search_ms)}: " + ", ".join("%.0f" % x for x in search_ms) + " ms)",
                     "%.0f ms" % statistics.median(search_ms), "< 200 ms"))
        rows.append(("scroll frame time p50 / p95 / max (%d frames, 90 px per frame, Xvfb software rendering)" % len(frames),
                     "%.1f / %.1f / %.1f ms" % (pct(frames, 50), pct(frames, 95), max(frames)), "16.7 ms = 60 fps"))
        print("rss by process (KB):", rss, file=sys.stderr)
        app_only = rss.get("sightline-app", 0)
        total = sum(rss.values())
        rows.append(("idle RSS: sightline-app process / with its WebKit processes",
                     "%d MB / %d MB" % (app_only // 1024, total // 1024), "< 300 MB"))
    finally:
        ctx.db = os.path.join(ctx.tmp, "x.db")
        ctx.close()

    print("| what | value | target |\n|---|---|---|")
    for r in rows:
        print("| %s | %s | %s |" % r)


if __name__ == "__main__":
    main()
