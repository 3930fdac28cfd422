#!/usr/bin/env python3
"""Desktop app benchmark (issue 3): the real app under Xvfb, timed from inside the page.

- cold start: from asking tauri-driver for a session (which starts the app) to the first
  painted log rows, on the demo workspace;
- on a ~10M-record workspace: from changing the level filter, and from typing a search, to
  the first page of matching rows painted (measured in the page with performance.now() and
  requestAnimationFrame; the search figure includes the UI's 150 ms typing debounce);
- frame times while scrolling the list continuously for 3 s;
- resident memory of the app (and of its WebKit processes) idle on that workspace.

Runs (issue 4), on a workspace holding one 100,000-span run and one 1,000-span run
(bench/big_run.py, ingested with the CLI; cached in --runs-work):
- from the click on the run's row in the Runs view to its span rows and its waterfall canvas
  painted, with where that time goes (IPC request to the response's headers, the body, its
  JSON parse, the run's state and the view's DOM, the canvas' first draw and the minimap in
  it), from hooks on fetch, Response.json and the canvas put in place for the measurement;
- frame times while zooming the 100,000-span waterfall with the wheel for 3 s (in and out),
  and while dragging it (pans the time axis and scrolls the rows with the tree), with how
  many frames the canvas redrew in and how long its draws took.

Usage: xvfb-run -a python3 bench/gui_bench.py --app A --cli C --driver D --workspace W.db
       xvfb-run -a python3 bench/gui_bench.py --app A --cli C --driver D --only runs
Prints markdown tables; not a test, nothing is judged here.
"""

import argparse
import json
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

# ---- runs (issue 4) -------------------------------------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))

# Clicks the run's row and waits, inside the page, for the run view's span rows and the
# waterfall's first draw, then for the next frame (the one that shows them). Hooks put in
# place for the measurement only (and removed after) record where the time goes:
#   fetch('ipc://…/runs_get') sent, its response headers (the command ran and serialized),
#   the body read as text (the transfer; its length), JSON.parse of it (Response.json()
#   does the same two steps), the run view in the DOM (RunState built, the view mounted:
#   a MutationObserver), the canvas' first draw (getContext on the waterfall to the end of
#   that frame callback), the minimap's build inside it (getContext on its offscreen canvas
#   to the drawImage that puts it on screen).
OPEN_RUN = r"""
const tid = arguments[0], limit = arguments[1], done = arguments[arguments.length - 1];
const m = {}; const now = () => performance.now();
const oFetch = window.fetch, oJson = Response.prototype.json;
const oGet = HTMLCanvasElement.prototype.getContext, oDrawImage = CanvasRenderingContext2D.prototype.drawImage;
let finished = false;
window.fetch = function (url) {
  const p = oFetch.apply(this, arguments);
  if (String(url).includes('runs_get')) { m.sent = now(); p.then(() => { m.headers = now(); }, () => {}); }
  return p;
};
Response.prototype.json = function () {
  if (!this.url.includes('runs_get')) return oJson.call(this);
  m.bodyStart = now();
  return this.text().then((t) => { m.body = now(); m.bytes = t.length; const v = JSON.parse(t); m.parsed = now(); return v; });
};
HTMLCanvasElement.prototype.getContext = function () {
  if (this.dataset.testid === 'waterfall') {
    if (m.drawStart === undefined && document.querySelector(`[data-testid=run-view][data-trace-id='${tid}']`)) {
      m.drawStart = now();
      queueMicrotask(() => { m.drawEnd = now(); });
    }
  } else if (m.drawStart !== undefined && m.drawEnd === undefined && m.miniStart === undefined) {
    m.miniStart = now();
  }
  return oGet.apply(this, arguments);
};
CanvasRenderingContext2D.prototype.drawImage = function () {
  if (m.miniStart !== undefined && m.miniEnd === undefined) m.miniEnd = now();
  return oDrawImage.apply(this, arguments);
};
const mo = new MutationObserver(() => {
  if (m.dom === undefined && document.querySelector(`[data-testid=run-view][data-trace-id='${tid}']`)) m.dom = now();
});
mo.observe(document.body, { childList: true, subtree: true });
function restore() {
  window.fetch = oFetch; Response.prototype.json = oJson;
  HTMLCanvasElement.prototype.getContext = oGet; CanvasRenderingContext2D.prototype.drawImage = oDrawImage;
  mo.disconnect();
}
function finish(v) {
  if (finished) return; finished = true; restore();
  m.total = v;
  for (const k of Object.keys(m)) if (k !== 'bytes' && k !== 'total') m[k] -= t0;
  m.spanRows = document.querySelectorAll('[data-testid=span-row]').length;
  done(m);
}
const t0 = now();
try {
  document.querySelector(`[data-testid=run-row][data-trace-id='${tid}']`).click();
} catch (e) { restore(); throw e; }
function check() {
  if (finished) return;
  const view = document.querySelector(`[data-testid=run-view][data-trace-id='${tid}']`);
  if (view && m.drawEnd !== undefined && view.querySelector('[data-testid=span-row]')) {
    m.seen = now();
    requestAnimationFrame(() => finish(now() - t0));
  } else if (now() - t0 > limit) {
    finish(-1);
  } else {
    requestAnimationFrame(check);
  }
}
requestAnimationFrame(check);
"""

# Drives the waterfall for `secs` seconds, one input event per frame, and records each frame's
# interval (requestAnimationFrame). 'wheel': one wheel event per frame over the middle of the rows, 40 frames zooming
# in, 40 out, and so on. 'drag': a pointer drag across the rows, swinging sideways (pans the
# time axis) while moving up 3 px per frame (scrolls the rows, and the span tree with them).
# A hook on the waterfall canvas' getContext (which its draw() calls first) counts redraws
# and times each (to the end of its frame callback).
FRAMES = r"""
const secs = arguments[0], mode = arguments[1], done = arguments[arguments.length - 1];
const c = document.querySelector('[data-testid=waterfall]');
const r = c.getBoundingClientRect();
const now = () => performance.now();
let draws = 0; const drawMs = [];
c.getContext = function () {
  draws++; const t = now();
  queueMicrotask(() => drawMs.push(now() - t));
  return HTMLCanvasElement.prototype.getContext.apply(this, arguments);
};
const cx = r.left + r.width / 2, y0 = r.bottom - 30;
const opts = (x, y) => ({ bubbles: true, cancelable: true, clientX: x, clientY: y, pointerId: 1,
                          pointerType: 'mouse', button: 0, buttons: 1, isPrimary: true });
if (mode === 'drag') c.dispatchEvent(new PointerEvent('pointerdown', opts(cx, y0)));
const deltas = [], redrew = []; let last = now(), i = 0, seen = 0; const end = last + secs * 1000;
function input() {
  if (mode === 'wheel') {
    c.dispatchEvent(new WheelEvent('wheel', { bubbles: true, cancelable: true, deltaMode: 0,
      deltaY: Math.floor(i / 40) % 2 ? 100 : -100, clientX: cx, clientY: r.top + 46 + 150 }));
  } else {
    c.dispatchEvent(new PointerEvent('pointermove', opts(cx + 200 * Math.sin(i / 15), y0 - 3 * i)));
  }
  i++;
}
function step(t) {
  deltas.push(t - last); last = t;
  redrew.push(draws - seen); seen = draws;
  if (t < end) {
    requestAnimationFrame(step);
    // The event as a task of its own between frames, as real input arrives (an event sent
    // from inside a frame callback would be drawn a frame late, and only every other frame).
    setTimeout(input, 0);
  } else {
    if (mode === 'drag') c.dispatchEvent(new PointerEvent('pointerup', opts(cx, y0 - 3 * i)));
    delete c.getContext;
    done({ deltas, redrew, drawMs });
  }
}
requestAnimationFrame(step);
"""


def build_runs_workspace(opts):
    """A workspace with one run of --runs-spans spans and one of 1,000 (another seed, so
    another trace id), made once and kept in --runs-work. Returns (db, big id, small id)."""
    work = os.path.abspath(opts.runs_work)
    os.makedirs(work, exist_ok=True)
    files = []
    for n, seed in ((opts.runs_spans, 7), (1000, 8)):
        f = os.path.join(work, f"big-run-{n}-seed{seed}.json")
        if not os.path.exists(f + ".id"):
            with open(f + ".tmp-id", "w") as out:
                subprocess.run([sys.executable, os.path.join(HERE, "big_run.py"), f, str(n), str(seed)],
                               check=True, stdout=out)
            os.replace(f + ".tmp-id", f + ".id")
        files.append((f, open(f + ".id").read().strip()))
    db = os.path.join(work, f"runs-{opts.runs_spans}-1000.db")
    if not os.path.exists(db + ".done"):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        t0 = time.time()
        subprocess.run([opts.cli, "--db", db, "ingest", files[0][0], files[1][0]], check=True,
                       stdout=subprocess.DEVNULL)
        print("ingested %s in %.1f s" % (db, time.time() - t0), file=sys.stderr)
        open(db + ".done", "w").close()
    return db, files[0][1], files[1][1]


def open_run(wd, tid, timeout_ms=60000):
    m = wd._req("POST", wd.s("/execute/async"), {"script": OPEN_RUN, "args": [tid, timeout_ms]},
                timeout=timeout_ms / 1000 + 30)
    if m["total"] < 0:
        raise RuntimeError(f"run {tid} not painted within {timeout_ms} ms: {m}")
    return m


def back_to_list(wd, tid):
    wd.click(wd.find_all("[data-testid=run-back]")[0])
    wait("the runs list", lambda: wd.find_all(f"[data-testid=run-row][data-trace-id='{tid}']"), timeout=30)


# Phases of an open, from the marks (ms since the click): (label, from, to).
PHASES = [
    ("click to IPC request sent", None, "sent"),
    ("IPC request to response headers (runs_get: load the run, tree, serialize)", "sent", "headers"),
    ("response body read (transfer to the page)", "headers", "body"),
    ("JSON.parse of the body", "body", "parsed"),
    ("parsed to run view in the DOM (RunState: tree, replay index; Svelte mounts the view)", "parsed", "dom"),
    ("run view in the DOM to the canvas' first draw starting (next animation frame)", "dom", "drawStart"),
    ("the canvas' first draw (rows on screen + minimap)", "drawStart", "drawEnd"),
    ("  of which the minimap of all spans", "miniStart", "miniEnd"),
    ("first draw done to the next frame (painted)", "drawEnd", "total"),
]


def phase(m, a, b):
    if (a is not None and a not in m) or b not in m:
        return None
    return m[b] - (m[a] if a is not None else 0.0)


def frame_row(what, res, skip=2):
    d = res["deltas"][skip:]
    redrew = res["redrew"][skip:]
    drawn = sum(1 for x in redrew if x > 0)
    draws = res["drawMs"]
    return (f"{what} ({len(d)} frames in 3 s; canvas redrawn in {drawn} of them; "
            f"draw() p50 / p95 {pct(draws, 50):.1f} / {pct(draws, 95):.1f} ms)" if draws else f"{what} ({len(d)} frames)",
            "%.1f / %.1f / %.1f ms" % (pct(d, 50), pct(d, 95), max(d)), "16 ms median")


def bench_runs(opts):
    db, big, small = build_runs_workspace(opts)
    ctx = Ctx(opts)
    ctx.db = db
    rows, breakdown = [], []
    try:
        wd = ctx.launch()
        wd.click(wait("the Runs tab", lambda: wd.find_all("[data-testid=nav-runs]"))[0])
        for tid in (big, small):
            wait("the run's row", lambda: wd.find_all(f"[data-testid=run-row][data-trace-id='{tid}']"), timeout=30)
        marks = {}
        for name, tid in (("big", big), ("small", small)):
            marks[name] = []
            for _ in range(opts.tries):
                time.sleep(1.0)  # a pause, as a person makes (the list settles, garbage gets collected)
                marks[name].append(open_run(wd, tid))
                time.sleep(0.5)
                back_to_list(wd, tid)
            print(name, json.dumps(marks[name]), file=sys.stderr)
        for name, n in (("big", opts.runs_spans), ("small", 1000)):
            totals = [m["total"] for m in marks[name]]
            rows.append((f"Run view, click on a {n:,}-span run to span rows + waterfall painted "
                         f"(median of {len(totals)}: " + ", ".join("%.0f" % x for x in totals) + " ms)",
                         "%.0f ms" % statistics.median(totals), "< 1 s"))
        for label, a, b in PHASES:
            cells = []
            for name in ("big", "small"):
                xs = [v for v in (phase(m, a, b) for m in marks[name]) if v is not None]
                cells.append("%.0f ms" % statistics.median(xs) if xs else "-")
            breakdown.append((label, *cells))
        breakdown.append(("runs_get response body size",
                          "%.1f MB" % (statistics.median(m.get("bytes", 0) for m in marks["big"]) / 1e6),
                          "%.2f MB" % (statistics.median(m.get("bytes", 0) for m in marks["small"]) / 1e6)))

        # Frame times on the big run.
        open_run(wd, big)
        time.sleep(2.0)
        wheel = wd._req("POST", wd.s("/execute/async"), {"script": FRAMES, "args": [3.0, "wheel"]}, timeout=120)
        time.sleep(1.0)
        drag = wd._req("POST", wd.s("/execute/async"), {"script": FRAMES, "args": [3.0, "drag"]}, timeout=120)
        for name, res in (("wheel", wheel), ("drag", drag)):
            print(name, "deltas", [round(x, 1) for x in res["deltas"]], "redrew", res["redrew"],
                  "draw ms", [round(x, 1) for x in res["drawMs"]], file=sys.stderr)
        rows.append(frame_row(f"zooming the {opts.runs_spans:,}-span waterfall with the wheel, frame time p50 / p95 / max", wheel))
        rows.append(frame_row("dragging it (pan + scroll rows and tree), frame time p50 / p95 / max", drag))
    finally:
        ctx.db = os.path.join(ctx.tmp, "x.db")
        ctx.close()
    return rows, breakdown


def bench_logs(opts):
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
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--only", choices=["all", "logs", "runs"], default="all",
                    help="logs: cold start and the 10M-record workspace; runs: the Run view (issue 4)")
    ap.add_argument("--workspace", help="a ~10M-record workspace (for the logs part)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--word", default="failed")
    ap.add_argument("--runs-work", default="/tmp/sightline-bench-runs",
                    help="where the runs part keeps its generated OTLP files and workspace")
    ap.add_argument("--runs-spans", type=int, default=100_000, help="spans in the big run")
    ap.add_argument("--tries", type=int, default=5, help="opens of each run (medians reported)")
    opts = ap.parse_args()
    if opts.only in ("all", "logs") and not opts.workspace:
        ap.error("--workspace is needed for the logs part (or use --only runs)")
    rows, breakdown = [], []
    load0 = os.getloadavg()[0]
    if opts.only in ("all", "logs"):
        rows += bench_logs(opts)
    if opts.only in ("all", "runs"):
        r, breakdown = bench_runs(opts)
        rows += r

    print("| what | value | target |\n|---|---|---|")
    for r in rows:
        print("| %s | %s | %s |" % r)
    print(f"\n{os.cpu_count()} CPUs; 1-minute load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after.")
    if breakdown:
        print(f"\nWhere the time to first paint goes (medians, ms since the click; {opts.runs_spans:,} / 1,000 spans):\n")
        print(f"| phase | {opts.runs_spans:,} spans | 1,000 spans |\n|---|---|---|")
        for r in breakdown:
            print("| %s | %s | %s |" % r)


if __name__ == "__main__":
    main()
