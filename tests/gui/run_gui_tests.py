#!/usr/bin/env python3
"""GUI end-to-end tests: the real app in a real window (Xvfb), driven through tauri-driver
and WebKitWebDriver with plain WebDriver HTTP calls.

Each test starts the built app on a fresh temp workspace, does what a user does (files on
the command line, a path typed into the Sources view, the level filter, the search box, the
keyboard, the native File menu and its GTK file chooser, files dragged in from another X
client: those three through xdotool and tests/gui/drag_source.py) and checks what the window
shows against an independent oracle: the `sightline` CLI reading the same workspace, the
corpus' known counts and agentgen's truth file.
Screenshots go to $GUI_ARTIFACTS (default target/gui-artifacts). Ends with the line
'N passed, N failed'.

Usage: xvfb-run -a python3 tests/gui/run_gui_tests.py --app PATH --cli PATH --driver PATH
"""

import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("SIGHTLINE_SHARED", os.path.join(ROOT, "..", "shared"))
ARTIFACTS = os.environ.get("GUI_ARTIFACTS", os.path.join(ROOT, "target", "gui-artifacts"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class WebDriver:
    """The few WebDriver endpoints the tests need."""

    def __init__(self, url):
        self.url = url
        self.session = None

    def _req(self, method, path, body=None, timeout=60):
        """One WebDriver call. tauri-driver proxies to WebKitWebDriver over a kept-alive
        connection that WebKitWebDriver sometimes resets between calls; the proxy then fails
        the call without having delivered it, so such failures are retried."""
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(4):
            req = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return json.loads(r.read() or b"{}").get("value")
            except urllib.error.HTTPError as e:
                text = e.read()[:500]
                if e.code >= 500 and b"javascript error" not in text and attempt < 3 and b"no such" not in text:
                    time.sleep(0.3)
                    continue
                raise RuntimeError(f"{method} {path}: {e.code} {text!r}") from None
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
                if attempt == 3:
                    raise
                time.sleep(0.3)

    def start(self, app, args, env_note=""):
        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": app, "args": args}}}}
        v = self._req("POST", "/session", caps, timeout=120)
        self.session = v["sessionId"]

    def quit(self):
        if self.session:
            try:
                self._req("DELETE", f"/session/{self.session}")
            except Exception:
                pass
            self.session = None

    def s(self, path):
        return f"/session/{self.session}{path}"

    def js(self, script, *args):
        return self._req("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})

    def find_all(self, css):
        els = self._req("POST", self.s("/elements"), {"using": "css selector", "value": css})
        return [list(e.values())[0] for e in els]

    def click(self, el):
        self._req("POST", self.s(f"/element/{el}/click"), {})

    def type(self, el, text):
        self._req("POST", self.s(f"/element/{el}/value"), {"text": text})

    def clear(self, el):
        self._req("POST", self.s(f"/element/{el}/clear"), {})

    def text(self, el):
        return self._req("GET", self.s(f"/element/{el}/text"))

    def keys(self, text):
        """Key presses sent to the focused element (the document when nothing is)."""
        actions = []
        for ch in text:
            actions += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self._req("POST", self.s("/actions"), {"actions": [{"type": "key", "id": "kb", "actions": actions}]})
        self._req("DELETE", self.s("/actions"))

    def screenshot(self, name):
        """The X display as the user sees it (ImageMagick's `import`), which works whatever
        WebKit's compositing mode; WebDriver's own screenshot otherwise."""
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, name + ".png")
        time.sleep(0.2)  # let the last frame reach the screen
        if shutil.which("import") and os.environ.get("DISPLAY"):
            subprocess.run(["import", "-window", "root", path], check=True, timeout=30,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return path
        png = base64.b64decode(self._req("GET", self.s("/screenshot")))
        with open(path, "wb") as f:
            f.write(png)
        return path


def wait(what, fn, timeout=30.0, interval=0.1):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # the page may be re-rendering
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class Ctx:
    def __init__(self, opts):
        self.opts = opts
        self.tmp = tempfile.mkdtemp(prefix="sightline-gui-")
        self.db = os.path.join(self.tmp, "workspace.db")
        self.driver_proc = None
        self.wd = None
        self.helpers = []  # processes a test starts besides the app (the drag source)
        self.keep = False  # a failed test's folder (workspace, inputs, logs) stays to look at

    def cli(self, *args):
        out = subprocess.run([self.opts.cli, "--db", self.db, *args], capture_output=True, text=True, check=True)
        return out.stdout

    def cli_count(self, *args):
        return len([l for l in self.cli("logs", "--json", *args).splitlines() if l.strip()])

    def launch(self, args=(), env_extra=None):
        port = free_port()
        env = dict(os.environ)
        env.update(env_extra or {})
        env["SIGHTLINE_DB"] = self.db
        env["XDG_DATA_HOME"] = os.path.join(self.tmp, "xdg")
        env["XDG_CONFIG_HOME"] = os.path.join(self.tmp, "xdg-config")
        env["HOME"] = self.tmp
        self.driver_log = open(os.path.join(self.tmp, "tauri-driver.log"), "w")
        # Its own WebKitWebDriver port and process group: a driver left over from the previous
        # test must never answer this one.
        self.driver_proc = subprocess.Popen([self.opts.driver, "--port", str(port), "--native-port", str(free_port())],
                                            env=env, stdout=self.driver_log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.wd = WebDriver(f"http://127.0.0.1:{port}")
        wait("tauri-driver", lambda: self.wd._req("GET", "/status", timeout=2).get("ready"), timeout=30)
        self.wd.start(os.path.abspath(self.opts.app), list(args))
        wait("the app's first paint", lambda: self.wd.find_all("[data-testid=row-count],[data-testid=empty-state]"), timeout=40)
        return self.wd

    def spawn(self, name, argv):
        """A helper process whose stdout and stderr go to <tmp>/<name>.log; ended by close()."""
        log = open(os.path.join(self.tmp, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        p.log_path = log.name
        self.helpers.append(p)
        return p

    def close(self):
        for p in self.helpers:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        if self.wd:
            self.wd.quit()
        if self.driver_proc:
            # tauri-driver, WebKitWebDriver and the app: the whole group goes.
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.driver_proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.driver_proc.wait(5)
                    time.sleep(0.3)
                except subprocess.TimeoutExpired:
                    continue
            try:
                os.killpg(self.driver_proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.keep:
            print("  kept:", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def row_count(wd):
    els = wd.find_all("[data-testid=row-count]")
    if not els:
        return None
    t = wd.text(els[0]).strip()
    return int(t) if t.isdigit() else None


def wait_count(wd, n, what):
    wait(f"{what}: row-count == {n}", lambda: row_count(wd) == n, timeout=30)


def rows(wd):
    return wd.js("return [...document.querySelectorAll('[data-testid=log-row]')].map(r => ({"
                 "level: r.dataset.level, line: r.dataset.line, selected: r.dataset.selected, text: r.textContent}))")


def wait_rows(wd, what, pred=lambda rs: True, min_rows=1):
    """Waits until at least `min_rows` rows are painted and `pred` holds for them (rows
    still loading carry no test id, so a count can be right before the rows are)."""
    return wait(what, lambda: (lambda rs: rs if len(rs) >= min_rows and pred(rs) else None)(rows(wd)))


def set_level(wd, value):
    wd.js("const s = document.querySelector('[data-testid=level-filter]'); s.value = arguments[0];"
          "s.dispatchEvent(new Event('change', {bubbles: true}));", value)


def search(wd, text):
    el = wd.find_all("[data-testid=search]")[0]
    wd.clear(el)
    if text:
        wd.type(el, text)


def ingest_typed_path(wd, path):
    wd.click(wd.find_all("[data-testid=nav-sources]")[0])
    el = wait("the add-path input", lambda: wd.find_all("[data-testid=add-path]"))[0]
    wd.clear(el)
    wd.type(el, path)
    wd.click(wd.find_all("[data-testid=add-path-submit]")[0])


def corpus_log(name):
    """A corpus file by its real path: what a file chooser or a drop hands the app."""
    return os.path.realpath(os.path.join(SHARED, "corpus", "logs", name))


def report_files(wd):
    """The last ingest report as {path: records added}."""
    return wd.js("return Object.fromEntries([...document.querySelectorAll('[data-testid=report-file]')]"
                 ".map(e => [e.dataset.path, Number(e.dataset.records)]))")


def wait_report(wd, expected):
    got = wait(f"an ingest report on {len(expected)} file(s)", lambda: (lambda r: r if len(r) >= len(expected) else None)(report_files(wd)))
    assert got == expected, (got, expected)


def no_error_shown(wd):
    shown = [wd.text(e) for e in wd.find_all("[data-testid=error-banner],[data-testid=path-error]")]
    assert not shown, shown


# The native menu, the GTK file chooser and drag and drop live outside the web page, so they
# are driven as a user drives them: real key presses and pointer moves through the X server's
# XTEST extension (xdotool). There is no window manager under Xvfb: windows stay where they
# are put, and the input focus is given explicitly.

def xdo(*args, check=True, timeout=15):
    if not shutil.which("xdotool"):
        raise AssertionError("xdotool is not installed (scripts/install-deps.sh installs it)")
    r = subprocess.run(["xdotool", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"xdotool {' '.join(map(str, args))}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def x_windows(title_regex=None):
    """The ids of the mapped windows, or of those whose title matches (an extended regex)."""
    return [int(w) for w in xdo("search", "--onlyvisible", "--name", title_regex or ".", check=False).split()]


def x_geometry(window):
    g = dict(l.split("=", 1) for l in xdo("getwindowgeometry", "--shell", window).split())
    return int(g["X"]), int(g["Y"]), int(g["WIDTH"]), int(g["HEIGHT"])


def app_window():
    return wait("the app's X window", lambda: x_windows("^Sightline( — .*)?$"), timeout=15)[0]


def x_keys(window, *keys):
    """Key presses (xdotool names: ctrl+o, Return) after giving `window` the input focus."""
    xdo("windowfocus", "--sync", window)
    for k in keys:
        time.sleep(0.3)
        xdo("key", "--clearmodifiers", k)


def choose_in_file_chooser(wd, title, path, shot):
    """Picks `path` in the GTK file chooser titled `title` as a user does with the keyboard:
    Alt+Home leaves the "Recent" page the chooser opens on (there a typed folder is not
    taken), Ctrl+L opens the location entry, the path is typed, Return picks it."""
    dialog = wait(f"the file chooser {title!r}", lambda: x_windows(f"^{title}$"), timeout=20)[0]
    x_keys(dialog, "alt+Home", "ctrl+l")
    time.sleep(0.3)
    xdo("type", "--delay", "20", path)
    time.sleep(0.5)  # the entry's completion settles
    wd.screenshot(shot)
    xdo("key", "Return")
    wait(f"the file chooser {title!r} to close", lambda: not x_windows(f"^{title}$"), timeout=20)


def gtk_python():
    """A Python with GTK 3 bindings for the drag source: this one, or Debian's (python3-gi
    belongs to the system Python, not to a pyenv or venv one)."""
    probe = "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk"
    for exe in dict.fromkeys([sys.executable, "/usr/bin/python3"]):
        if exe and os.path.exists(exe) and subprocess.run([exe, "-c", probe], capture_output=True, timeout=30).returncode == 0:
            return exe
    raise AssertionError("no python3 with GTK 3 bindings (python3-gi, gir1.2-gtk-3.0: scripts/install-deps.sh)")


def helper_says(p, word, timeout=20):
    """Waits for a line starting with `word` from a helper started by Ctx.spawn; its words."""
    def seen():
        lines = open(p.log_path).read().splitlines()
        hit = [l for l in lines if l.split()[:1] == [word]]
        if hit:
            return hit[-1]
        if p.poll() is not None:
            return f"(exited {p.returncode}) " + " | ".join(lines[-5:])
        return None
    line = wait(f"{word} from {os.path.basename(p.log_path)}", seen, timeout=timeout)
    assert line.split()[:1] == [word], line
    return line.split()[1:]


# ------------------------------------------------------------------------------------------
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


@test
def corpus_file_from_the_command_line_shows_its_records(ctx):
    f = os.path.join(SHARED, "corpus", "logs", "bunyan_all.log")
    wd = ctx.launch([f])
    wait_count(wd, 14, "bunyan_all.log from the command line")   # known corpus count
    assert ctx.cli_count() == 14
    r = wait_rows(wd, "14 rows painted", min_rows=14)
    levels = {x["level"] for x in r}
    assert {"trace", "debug", "info", "warn", "error", "fatal"} <= levels, levels
    wd.screenshot("corpus-bunyan")
    # The skipped lines report: comments, blanks and the non-JSON line, with line numbers.
    wd.click(wd.find_all("[data-testid=nav-sources]")[0])
    wait("the source row", lambda: wd.find_all("[data-testid=source-row]"))
    # A table row: WebKit's driver will not click a <tr>, so the click is dispatched.
    wd.js("document.querySelector('[data-testid=source-row]').click()")
    skipped = wait("skipped lines", lambda: wd.js(
        "return [...document.querySelectorAll('[data-testid=skipped-line]')].map(e => [e.dataset.line, e.dataset.reason])"))
    assert ["19", "non_json"] in skipped, skipped
    assert len(skipped) == 6, skipped


@test
def noisy_agentgen_file_typed_in_sources_then_filter_search_and_detail(ctx):
    f = os.path.join(ctx.tmp, "agent.jsonl")
    subprocess.run([sys.executable, os.path.join(SHARED, "agentgen", "agentgen.py"), "logs", "--style", "mixed",
                    "--runs", "120", "--noise-rate", "0.01", "-o", f], check=True, capture_output=True)
    truth = json.load(open(f + ".truth.json"))
    expected = truth["lines"]["records"] + truth["lines"]["noise_by_kind"]["foreign_json"]
    wd = ctx.launch()
    ingest_typed_path(wd, f)
    report = wait("the ingest report", lambda: wd.find_all("[data-testid=report-file]"), timeout=60)
    rec = wd.js("return document.querySelector('[data-testid=report-file]').dataset.records")
    assert int(rec) == expected, (rec, expected)
    skipped_lines = wd.js("return [...document.querySelectorAll('[data-testid=ingest-report] [data-testid=skipped-line]')].map(e => e.dataset.reason)")
    assert "non_json" in skipped_lines and "line_too_long" in skipped_lines, skipped_lines
    wd.screenshot("ingest-report")
    wd.click(wd.find_all("[data-testid=nav-logs]")[0])
    wait_count(wd, expected, "all records")
    # Level filter: what the window counts equals what the CLI counts on the same workspace.
    set_level(wd, "error+")
    wait_count(wd, ctx.cli_count("--level", "error+"), "error+")
    wait_rows(wd, "only error rows painted", lambda rs: all(x["level"] in ("error", "fatal") for x in rs))
    failures = truth["llm_errors"] + truth["tool_errors"] + truth["runs_failed"]
    set_level(wd, "warn+")
    wait_count(wd, failures, "warn+ == every failure once (agentgen truth)")
    set_level(wd, "all")
    # Full-text search.
    search(wd, "tool call failed")
    n = ctx.cli_count("--search", "tool call failed")
    assert n > 0
    wait_count(wd, n, "search")
    wait_rows(wd, "search results painted", lambda rs: all("tool call failed" in x["text"] for x in rs))
    # Detail pane: select the first row and press Enter.
    first = wait("a row", lambda: wd.find_all("[data-testid=log-row]"))[0]
    wd.click(first)
    wd.keys("\ue007")  # Enter
    wait("the detail pane", lambda: wd.find_all("[data-testid=detail]"))
    msg = wd.text(wd.find_all("[data-testid=detail-message]")[0])
    assert "tool call failed" in msg, msg
    raw = wd.text(wait("raw line", lambda: wd.find_all("[data-testid=detail-raw]"))[0])
    assert "tool call failed" in raw, raw
    assert wd.find_all("[data-testid=detail-attrs]")
    wd.screenshot("detail")
    wd.keys("\ue00c")  # Esc
    wait("detail closed", lambda: not wd.find_all("[data-testid=detail]"))


@test
def keyboard_next_error_and_keymap(ctx):
    demo_dir = os.path.join(ctx.tmp, "demo")
    ctx.cli("demo", "-o", demo_dir, "--ingest")
    wd = ctx.launch()
    wait_count(wd, ctx.cli_count(), "demo files")
    wd.js("document.activeElement && document.activeElement.blur()")
    wd.keys("e")
    sel = wait("a selected error row", lambda: [x for x in rows(wd) if x["selected"] == "true"])
    assert sel[0]["level"] in ("error", "fatal"), sel
    wd.keys("\ue007")  # Enter: the error in detail (the README's screenshot)
    wait("the detail pane", lambda: wd.find_all("[data-testid=detail-raw]"))
    wd.screenshot("readme-demo-error-detail")
    wd.keys("\ue00c")
    wait("detail closed", lambda: not wd.find_all("[data-testid=detail]"))
    wd.keys("j")
    wait("selection moved", lambda: [x for x in rows(wd) if x["selected"] == "true" and x != sel[0]])
    wd.keys("?")
    wait("the key map", lambda: wd.find_all("[data-testid=keymap]"))
    wd.screenshot("keymap")
    wd.keys("\ue00c")
    wait("key map closed", lambda: not wd.find_all("[data-testid=keymap]"))
    wd.keys("/")
    focused = wd.js("return document.activeElement && document.activeElement.dataset.testid")
    assert focused == "search", focused
    wd.keys("\ue00c")
    wd.screenshot("explorer")


@test
def untrusted_log_text_is_shown_as_text_and_nothing_runs(ctx):
    f = os.path.join(ctx.tmp, "xss.jsonl")
    payloads = [
        "<script>window.__pwned = 1</script>",
        "<img src=x onerror=\"window.__pwned = 2\">",
        "<a href=\"javascript:window.__pwned=3\">click me</a>",
        "javascript:window.__pwned=4",
    ]
    with open(f, "w") as out:
        for i, p in enumerate(payloads):
            out.write(json.dumps({"level": "error", "ts": 1717243200 + i, "msg": p, "link": p}) + "\n")
    wd = ctx.launch([f])
    wait_count(wd, 4, "xss records")
    texts = " ".join(x["text"] for x in wait_rows(wd, "4 rows painted", min_rows=4))
    for p in payloads[:3]:
        assert p in texts, (p, texts)
    for r in wd.find_all("[data-testid=log-row]"):
        wd.click(r)
        wd.keys("\ue007")
        wait("detail", lambda: wd.find_all("[data-testid=detail]"))
        time.sleep(0.2)
    assert wd.js("return window.__pwned === undefined"), "a payload ran"
    assert wd.js("return document.querySelectorAll('[data-testid=log-list] img, [data-testid=detail] img, [data-testid=log-list] a[href], [data-testid=detail] a[href]').length") == 0
    wd.screenshot("xss-as-text")


@test
def errors_are_shown_in_plain_words_and_the_app_stays_usable(ctx):
    wd = ctx.launch()
    missing = os.path.join(ctx.tmp, "no-such-file.jsonl")
    ingest_typed_path(wd, missing)
    banner = wait("an error in place", lambda: [wd.text(e) for e in wd.find_all("[data-testid=error-banner],[data-testid=path-error]") if wd.text(e)])
    text = " ".join(banner)
    assert "no-such-file.jsonl" in text, text
    assert "{" not in text and "\"type\"" not in text, f"raw JSON shown: {text}"
    wd.screenshot("error-in-place")
    # Still usable: the demo opens.
    wd.click(wd.find_all("[data-testid=nav-logs]")[0])
    demo = wait("the open-demo button", lambda: wd.find_all("[data-testid=open-demo]"))
    wd.click(demo[0])
    wait("the demo badge", lambda: wd.find_all("[data-testid=demo-badge]"), timeout=60)
    wait("demo rows", lambda: (row_count(wd) or 0) > 300)
    wd.screenshot("demo")


@test
def file_menu_open_files_by_ctrl_o_reads_the_chosen_file(ctx):
    f = corpus_log("zap_example_test_outputs.ndjson")
    wd = ctx.launch()
    wait_count(wd, 0, "a new workspace")
    # The accelerator of the native File > Open Files… item (muda), not a key the page handles.
    x_keys(app_window(), "ctrl+o")
    choose_in_file_chooser(wd, "Open log files", f, "file-chooser-open-files")
    wait_count(wd, 26, "zap_example_test_outputs.ndjson through File > Open Files")  # known corpus count
    assert ctx.cli_count() == 26
    wait_report(wd, {f: 26})
    wait_rows(wd, "26 rows painted", lambda rs: all("zap_example_test_o" in x["text"] for x in rs), min_rows=26)
    no_error_shown(wd)
    wd.screenshot("open-files-ctrl-o")


@test
def file_menu_open_folder_by_ctrl_shift_o_reads_every_file_in_it(ctx):
    folder = os.path.join(os.path.realpath(ctx.tmp), "picked")
    os.makedirs(folder)
    for name in ("bunyan_log1.log", "logrus_readme.ndjson"):
        shutil.copy(corpus_log(name), folder)
    wd = ctx.launch()
    wait_count(wd, 0, "a new workspace")
    x_keys(app_window(), "ctrl+shift+o")
    # The trailing slash: otherwise the entry completes one itself and Return only takes that.
    choose_in_file_chooser(wd, "Open a folder of logs", folder + "/", "file-chooser-open-folder")
    wait_count(wd, 10, "the folder through File > Open Folder")   # 4 + 6, known corpus counts
    assert ctx.cli_count() == 10
    wait_report(wd, {os.path.join(folder, "bunyan_log1.log"): 4, os.path.join(folder, "logrus_readme.ndjson"): 6})
    texts = " ".join(x["text"] for x in wait_rows(wd, "10 rows painted", min_rows=10))
    assert "bunyan_log1.log" in texts and "logrus_readme.ndjson" in texts, texts
    no_error_shown(wd)
    wd.screenshot("open-folder-ctrl-shift-o")


@test
def file_menu_by_mouse_cancelled_dialog_changes_nothing_then_a_file_opens(ctx):
    f = corpus_log("bunyan_log1.log")
    wd = ctx.launch()
    wait_count(wd, 0, "a new workspace")
    win = app_window()

    def file_menu_item(n, shot=None):
        """Clicks "File" in the menu bar, then picks its n-th item with the keyboard."""
        before = set(x_windows())
        x, y, _, _ = x_geometry(win)
        xdo("mousemove", x + 20, y + 12, "click", "1")   # "File", the menu bar's first item
        wait("the File menu", lambda: set(x_windows()) - before, timeout=10)
        time.sleep(0.3)
        if shot:
            wd.screenshot(shot)
        # The open menu has the keyboard grab: the keys go to it, no focus change (that would close it).
        for _ in range(n):
            xdo("key", "Down")
            time.sleep(0.1)
        xdo("key", "Return")

    file_menu_item(1, "file-menu")
    dialog = wait("the file chooser", lambda: x_windows("^Open log files$"), timeout=20)[0]
    x_keys(dialog, "Escape")   # Cancel
    wait("the file chooser to close", lambda: not x_windows("^Open log files$"), timeout=20)
    time.sleep(1.0)  # what a cancelled pick would do, it has done by now
    assert row_count(wd) == 0 and ctx.cli_count() == 0
    assert wd.find_all("[data-testid=empty-state]")
    no_error_shown(wd)
    file_menu_item(1)
    choose_in_file_chooser(wd, "Open log files", f, "file-chooser-after-cancel")
    wait_count(wd, 4, "bunyan_log1.log through the File menu")   # known corpus count
    wait_report(wd, {f: 4})
    no_error_shown(wd)


@test
def files_dragged_from_another_app_and_dropped_on_the_window_are_read(ctx):
    # One corpus file as it is, one copied to a path with spaces (file:// URIs percent-encode them).
    clef = corpus_log("clef-tool_example.clef")
    spaced = os.path.join(os.path.realpath(ctx.tmp), "dropped logs", "bunyan withreq.log")
    os.makedirs(os.path.dirname(spaced))
    shutil.copy(corpus_log("bunyan_withreq.log"), spaced)
    wd = ctx.launch()
    wait_count(wd, 0, "a new workspace")
    ax, ay, aw, ah = x_geometry(app_window())
    sw, sh = map(int, xdo("getdisplaygeometry").split())
    # A real XDND drag source (GTK 3) offering text/uri-list, placed over the app's lower right.
    src = ctx.spawn("drag-source", [gtk_python(), os.path.join(HERE, "drag_source.py"), "--timeout", "90",
                                    "--x", str(sw - 300), "--y", str(sh - 240), "--width", "240", "--height", "160",
                                    clef, spaced])
    sx, sy, swid, shei = map(int, helper_says(src, "READY"))
    start = (sx + swid // 2, sy + shei // 2)
    target = (ax + aw // 2, ay + ah // 2)
    assert not (sx <= target[0] < sx + swid and sy <= target[1] < sy + shei), "the drop point is on the drag source"
    overlay = "return [...document.querySelectorAll('[data-testid=drop-overlay]')].map(e => e.textContent.trim())"
    pressed = False
    try:
        xdo("mousemove", *start)
        time.sleep(0.2)
        xdo("mousedown", "1")
        pressed = True
        steps = 30
        for i in range(1, steps + 1):
            xdo("mousemove", start[0] + (target[0] - start[0]) * i // steps, start[1] + (target[1] - start[1]) * i // steps)
            time.sleep(0.03)
        helper_says(src, "BEGIN", timeout=10)
        # Hovering: the page shows its drop overlay (the drag-enter event reached the UI). The
        # pointer keeps moving a little: XDND position messages only come with motion.
        side = [4]

        def hovering():
            side[0] = -side[0]
            xdo("mousemove_relative", "--", side[0], 0)
            return wd.js(overlay)

        wait("the drop overlay", hovering, timeout=10)
        assert wd.js(overlay) == ["Drop files or folders to read them"], wd.js(overlay)
        wd.screenshot("drop-hover")
        xdo("mouseup", "1")
        pressed = False
    finally:
        if pressed:  # never leave the button down for the next test
            xdo("mouseup", "1", check=False)
    assert helper_says(src, "END", timeout=15) == ["ok"], "the drop was refused"
    wait_count(wd, 18, "the dropped files")   # 15 + 3, known corpus counts
    assert ctx.cli_count() == 18
    wait_report(wd, {clef: 15, spaced: 3})
    wait("the drop overlay to go", lambda: wd.js(overlay) == [])
    texts = " ".join(x["text"] for x in wait_rows(wd, "18 rows painted", min_rows=18))
    assert "bunyan withreq.log" in texts and "clef-tool_example.clef" in texts, texts
    no_error_shown(wd)
    wd.screenshot("dropped-files")



@test
def a_run_opens_as_a_waterfall_replays_to_its_cost_and_shows_a_conversation(ctx):
    """agentgen OTLP from the command line: the Runs view lists every run of the truth; the
    most expensive opens as a waterfall of its spans; the replay played from the start ends
    at the truth's cost and tokens; an LLM span shows its conversation."""
    f = os.path.join(ctx.tmp, "traces.json")
    subprocess.run([sys.executable, os.path.join(SHARED, "agentgen", "agentgen.py"), "otlp", "--runs", "6",
                    "--seed", "21", "-o", f], check=True, capture_output=True)
    truth = json.load(open(f + ".truth.json"))
    cols = truth["per_run"]["columns"]
    runs = [dict(zip(cols, r)) for r in truth["per_run"]["rows"]]
    wd = ctx.launch([f])
    wd.click(wait("the Runs tab", lambda: wd.find_all("[data-testid=nav-runs]"))[0])
    wait("every run of the truth listed",
         lambda: len(wd.find_all("[data-testid=run-row]")) == truth["runs"])
    listed = set(wd.js("return [...document.querySelectorAll('[data-testid=run-row]')].map(e => e.dataset.traceId)"))
    assert listed == {r["trace_id"] for r in runs}, listed
    wd.screenshot("runs-list")
    run = max(runs, key=lambda r: r["cost_usd"])
    tid = run["trace_id"]
    wd.js("document.querySelector(`[data-testid=run-row][data-trace-id='${arguments[0]}']`).click()", tid)
    wait("the run view", lambda: wd.find_all(f"[data-testid=run-view][data-trace-id='{tid}']"))
    assert wd.find_all("[data-testid=waterfall]"), "no waterfall canvas"
    spans = json.loads(ctx.cli("run", tid, "--json"))["spans"]
    assert len(spans) == run["spans"], (len(spans), run["spans"])
    shown = wait("span rows", lambda: wd.js(
        "return [...document.querySelectorAll('[data-testid=span-row]')].map(e => [e.dataset.spanId, e.dataset.kind])"))
    ids = {s["span_id"]: s["kind"] for s in spans}
    assert len(shown) == min(len(spans), len(shown)) and len(shown) >= min(len(spans), 10), shown
    for sid, kind in shown:
        assert ids.get(sid) == kind, (sid, kind)
    # The tree lists the spans in the engine's order.
    assert [x[0] for x in shown] == [s["span_id"] for s in spans[:len(shown)]]
    wd.screenshot("run-waterfall")
    # Replay from the start at 100x to the end.
    wd.click(wd.find_all("[data-testid=replay-start]")[0])
    wait("the replay at its start", lambda: wd.text(wd.find_all("[data-testid=replay-cost]")[0]).strip() == "$0.000000")
    wd.js("const s = document.querySelector('[data-testid=replay-speed]'); s.value = '100';"
          "s.dispatchEvent(new Event('change', {bubbles: true}));")
    wd.click(wd.find_all("[data-testid=replay-play]")[0])
    want_tokens = run["input_tokens"] + run["output_tokens"]

    def at_end():
        # One read of both, so they come from the same frame.
        cost, tokens = wd.js("return ['cost', 'tokens'].map(k => "
                             "document.querySelector(`[data-testid=replay-${k}]`).textContent.trim())")
        return (cost, tokens) if tokens == str(want_tokens) else None
    cost, _ = wait("the replay to reach the end", at_end, timeout=60)
    assert abs(float(cost.lstrip("$")) - run["cost_usd"]) < 1e-6, (cost, run["cost_usd"])
    wd.screenshot("run-replay-end")
    # An LLM span's conversation.
    llm = next(s for s in spans if s["kind"] == "llm")
    wd.js("document.querySelector(`[data-testid=span-row][data-span-id='${arguments[0]}']`).click()", llm["span_id"])
    roles = wait("the conversation", lambda: wd.js(
        "return [...document.querySelectorAll('[data-testid=span-detail] [data-testid=chat-message]')].map(e => e.dataset.role)"))
    assert "user" in roles, roles
    assert "system" in roles or "assistant" in roles, roles
    wd.screenshot("run-llm-conversation")
    no_error_shown(wd)

@test
def costs_view_legend_and_top_runs_follow_the_truth(ctx):
    """agentgen OTLP from the command line: the Costs view's cost chart has one legend entry
    per model with the truth's cost, its top-runs table lists the runs by the truth's cost
    and sorts; the other charts draw; a run opens in the Runs view from the table."""
    f = os.path.join(ctx.tmp, "costs.json")
    subprocess.run([sys.executable, os.path.join(SHARED, "agentgen", "agentgen.py"), "otlp", "--runs", "30",
                    "--seed", "31", "-o", f], check=True, capture_output=True)
    truth = json.load(open(f + ".truth.json"))
    cols = truth["per_run"]["columns"]
    runs = [dict(zip(cols, r)) for r in truth["per_run"]["rows"]]
    wd = ctx.launch([f])
    wd.click(wait("the Costs tab", lambda: wd.find_all("[data-testid=nav-costs]"))[0])
    # The run list of the Runs view is filled once the ingest is done; the Costs view follows.
    models = truth["cost_usd"]["by_model"]
    legend = wait("a legend entry per model", lambda: (lambda items: items if len(items) == len(models) else None)(
        wd.js("return [...document.querySelectorAll('[data-testid=costs-legend][data-kind=cost] "
              "[data-testid=costs-legend-item]')].map(e => [e.dataset.label, Number(e.dataset.total), "
              "e.querySelector('.total').textContent.trim()])")), timeout=60)
    for label, total, text in legend:
        assert label in models, (label, models)
        assert abs(total - models[label]) <= 1e-8 * 40, (label, total, models[label])
        assert text.startswith("$"), text
    # Largest first, as the engine orders them.
    assert [x[1] for x in legend] == sorted((x[1] for x in legend), reverse=True), legend
    # The card is its own query: it may still show what an earlier refresh during the ingest
    # saw, and must come to the truth's total.
    # (A failed assert is kept by wait() as the last thing seen.)
    def card_at_total():
        v = wd.js("const c = document.querySelector('[data-testid=costs-card-cost]'); return c ? c.dataset.value : null")
        assert v is not None and abs(float(v) - truth["cost_usd"]["total"]) < 1e-6, (v, truth["cost_usd"]["total"])
        return True
    wait("the cost card at the truth's total", card_at_total)

    def table():
        return wd.js("return [...document.querySelectorAll('[data-testid=costs-run-row]')]"
                     ".map(e => [e.dataset.traceId, Number(e.dataset.cost)])")
    rows = wait("every run in the top-runs table", lambda: (lambda t: t if len(t) == len(runs) else None)(table()))
    by_cost = sorted(runs, key=lambda r: -r["cost_usd"])
    assert [r[0] for r in rows][:5] == [r["trace_id"] for r in by_cost][:5], rows[:5]
    for tid, cost in rows:
        want = next(r["cost_usd"] for r in runs if r["trace_id"] == tid)
        assert abs(cost - want) < 1e-6, (tid, cost, want)
    wd.screenshot("costs-view")
    # Sorting by cost again turns the order round.
    wd.click(wd.find_all("[data-testid=costs-sort-cost]")[0])
    wait("cheapest first", lambda: table()[0][0] == by_cost[-1]["trace_id"])
    # The other charts draw, with the series the engine gives them.
    for kind in ["tokens", "latency", "errors"]:
        wd.click(wd.find_all(f"[data-testid=costs-tab-{kind}]")[0])
        labels = wait(f"the {kind} chart", lambda: wd.js(
            f"const c = document.querySelector('[data-testid=costs-legend][data-kind={kind}]');"
            "return c ? [...c.querySelectorAll('[data-testid=costs-legend-item]')].map(e => e.dataset.label) : null"))
        want = {"tokens": {"input", "output"}, "latency": {"llm", "tool", "agent", "chain"},
                "errors": {"llm", "tool", "agent"}}[kind]
        assert set(labels) == want, (kind, labels)
    wd.screenshot("costs-latency")
    # A run opens from the table.
    tid = by_cost[0]["trace_id"]
    wd.js("document.querySelector(`[data-testid=costs-run-row][data-trace-id='${arguments[0]}']`).click()", tid)
    wait("the run view", lambda: wd.find_all(f"[data-testid=run-view][data-trace-id='{tid}']"))
    no_error_shown(wd)


def chart_state(wd):
    """[series drawn, points drawn] of the Metrics view's chart, or None when none is shown."""
    return wd.js("const c = document.querySelector('[data-testid=chart]');"
                 "return c ? [Number(c.dataset.series), Number(c.dataset.points)] : null")


def type_query(wd, text):
    q = wd.find_all("[data-testid=query-input]")[0]
    wd.clear(q)
    wd.type(q, text)
    return q


@test
def metrics_scrape_target_added_in_sources_charts_live_and_queries_answer(ctx):
    """agentgen serve as a live /metrics endpoint, added as a scrape target in the Sources view
    with a 1 s interval: its row turns up with samples; the Metrics view lists its counters; a
    rate of the request counter, written with completions, charts at least one series whose
    points grow as scrapes arrive; its GET /metrics series (one request per scrape) reads about
    1/s; a query that does not parse is answered under the box in the engine's words and a good
    one charts again; pausing the target shows in its row."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    serve = ctx.spawn("agentgen-serve", [sys.executable, os.path.join(SHARED, "agentgen", "agentgen.py"), "serve",
                                         "--port", str(port), "--speed", "10", "--duration", "600"])

    def answering():
        if serve.poll() is not None:
            raise AssertionError(f"agentgen serve exited {serve.returncode}: {open(serve.log_path).read()[-500:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return b"# TYPE agent_requests_total counter" in r.read()
        except (urllib.error.URLError, OSError):
            return False
    wait("agentgen serve to answer", answering, timeout=20)

    wd = ctx.launch()
    wd.click(wd.find_all("[data-testid=nav-sources]")[0])
    wd.type(wait("the target URL box", lambda: wd.find_all("[data-testid=target-add-url]"))[0], url)
    interval = wd.find_all("[data-testid=target-add-interval]")[0]
    wd.clear(interval)
    wd.type(interval, "1")
    wd.click(wd.find_all("[data-testid=target-add-submit]")[0])
    row = f"[data-testid=target-row][data-url='{url}']"
    wait("the target's row", lambda: wd.find_all(row))
    wait("the target up", lambda: wd.find_all(row + "[data-state=up]"), timeout=30)
    samples = wait("samples in the target's row", lambda: (lambda v: int(v) if v and int(v) > 0 else None)(
        wd.js("return document.querySelector(arguments[0]).dataset.samples", row)))
    # agentgen only adds series as its simulation goes on, so a scrape read before now cannot
    # have had more samples than the endpoint gives now (a few synthetic series allowed).
    with urllib.request.urlopen(url, timeout=5) as r:
        exposed = sum(1 for l in r.read().decode().splitlines() if l.strip() and not l.startswith("#"))
    assert 0 < samples <= exposed + 5, (samples, exposed)
    assert not wd.find_all(f"[data-testid=target-error][data-url='{url}']"), "an up target shows an error"
    wd.screenshot("scrape-target-up")

    wd.click(wd.find_all("[data-testid=nav-metrics]")[0])
    wait("the metrics view", lambda: wd.find_all("[data-testid=metrics-view]"))
    metric = "[data-testid=metric-row][data-metric=agent_requests_total]"
    wait("agent_requests_total listed", lambda: wd.find_all(metric), timeout=30)
    kinds = wd.js("return Object.fromEntries([...document.querySelectorAll('[data-testid=metric-row]')]"
                  ".map(e => [e.dataset.metric, e.dataset.kind]))")
    # Families agentgen writes from its first scrape on, with their TYPE lines.
    assert kinds.get("agent_requests_total") == "counter", kinds
    assert kinds.get("agent_active_sessions") == "gauge", kinds
    # The last five minutes: a step of a second, so each scrape adds a point.
    wd.click(wd.find_all("[data-testid=range-preset][data-range='5m']")[0])

    # Written as a user writes it: the name completed from the list, then Tab.
    q = type_query(wd, "rate(agent_req")
    items = wait("completions", lambda: wd.js(
        "return [...document.querySelectorAll('[data-testid=autocomplete-item]')].map(e => e.dataset.label)"))
    assert "agent_requests_total" in items, items
    wd.keys("\ue015" * items.index("agent_requests_total") + "\ue004")  # Down to it, Tab
    wait("the completed name", lambda: wd.js("return document.querySelector('[data-testid=query-input]').value")
         == "rate(agent_requests_total")
    wd.type(q, "[10s])")
    wd.click(wd.find_all("[data-testid=query-run]")[0])
    series, points = wait("a chart with points", lambda: (lambda c: c if c and c[0] >= 1 and c[1] >= 1 else None)(
        chart_state(wd)), timeout=30)
    legend = wd.js("return [...document.querySelectorAll('[data-testid=chart-legend-item]')]"
                   ".map(e => [e.textContent, e.dataset.value])")
    assert len(legend) == series, (legend, series)
    assert not wd.find_all("[data-testid=query-error]")
    wd.screenshot("metrics-live-first")

    # Live: the chart runs the query again as scrapes arrive and gains points.
    assert wait("the live mark", lambda: wd.find_all("[data-testid=live]"), timeout=10)
    wait("the chart to gain points", lambda: (lambda c: c if c and c[1] >= points + 2 else None)(chart_state(wd)),
         timeout=30)
    # GET /metrics counts agentgen's own scrapes: one a second, so its rate settles at about
    # 1/s (the first windows, with two or three samples, extrapolate lower; the chart is live).
    seen = []

    def scrape_rate():
        vals = wd.js("return [...document.querySelectorAll('[data-testid=chart-legend-item]')]"
                     ".filter(e => e.textContent.includes('endpoint=\"/metrics\"')).map(e => e.dataset.value)")
        rates = [float(v) for v in vals if v not in ("", None)]
        seen.append(rates)
        return rates if rates and all(0.5 < r < 2.0 for r in rates) else None
    rates = wait("the rate of agentgen's GET /metrics to settle near 1/s", scrape_rate,
                 timeout=30)
    assert rates, seen[-5:]
    wd.screenshot("metrics-live-later")

    # A query that does not parse: the engine's words under the box, no chart.
    type_query(wd, "sum(rate(agent_requests_total[10s]")
    wd.keys("\ue007")  # Enter runs
    err = wait("the query error", lambda: [t for t in (wd.text(e) for e in wd.find_all("[data-testid=query-error]")) if t.strip()])
    assert '"type"' not in err[0] and '"data"' not in err[0], f"raw error shown: {err[0]}"
    assert chart_state(wd) is None, "a chart is shown under a query that failed"
    wd.screenshot("metrics-query-error")
    # Fixed, it charts again: one series, the total.
    type_query(wd, "sum(rate(agent_requests_total[10s]))")
    wd.keys("\ue007")
    wait("the total charted", lambda: (lambda c: c and c[0] == 1 and c[1] >= 1)(chart_state(wd)), timeout=20)
    assert not wd.find_all("[data-testid=query-error]")

    # Paused in Sources, the target says so.
    wd.click(wd.find_all("[data-testid=nav-sources]")[0])
    wd.js("document.querySelector(arguments[0] + ' [data-testid=target-pause]').click()", row)
    wait("the target paused", lambda: wd.find_all(row + "[data-state=paused]"), timeout=15)
    wd.screenshot("scrape-target-paused")
    wd.js("document.querySelector(arguments[0] + ' [data-testid=target-pause]').click()", row)
    wait("the target up again", lambda: wd.find_all(row + "[data-state=up]"), timeout=30)
    no_error_shown(wd)


def private_bus_with_recorder(ctx):
    """A private session D-Bus (no services started on demand) with the notification recorder
    of the Rust tests owning org.freedesktop.Notifications. Returns (address, log path)."""
    support = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support")
    bus = subprocess.Popen(["dbus-daemon", f"--config-file={os.path.join(support, 'session-bus.conf')}",
                            "--nofork", "--print-address=1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, start_new_session=True)
    bus.log_path = os.devnull
    ctx.helpers.append(bus)
    address = bus.stdout.readline().strip()
    assert address.startswith("unix:"), address
    log = os.path.join(ctx.tmp, "notifications.jsonl")
    rec = ctx.spawn("recorder", ["/usr/bin/python3", os.path.join(support, "notify_recorder.py"),
                                 "--address", address, "--log", log])
    helper_says(rec, "ready")
    return address, log


@test
def alerts_view_rule_editor_validates_fires_notifies_on_the_desktop_and_silences(ctx):
    """The Alerts view lists the built-in agent rules; the rule editor reports a broken rule
    with its line as it is typed and refuses to save it; a valid rule saved with "quiet when
    focused" off fires within seconds: its row shows firing with its value, the nav badge and
    the window title count it, the desktop notification arrives on a private D-Bus (recorded:
    app name, summary, urgency) and the notification log shows it sent; "Silence 1h" on the row
    adds an active silence."""
    address, log = private_bus_with_recorder(ctx)
    wd = ctx.launch(env_extra={"DBUS_SESSION_BUS_ADDRESS": address})
    wd.click(wd.find_all("[data-testid=nav-alerts]")[0])
    wait("the built-in rules", lambda: wd.find_all("[data-testid=rule-row][data-rule=LLMErrorRateHigh]"))
    wait("the built-in loop rule", lambda: wd.find_all("[data-testid=rule-row][data-rule=ToolCallLoop]"))
    wait("the rule editor", lambda: wd.find_all("[data-testid=rule-editor-text]"))

    def set_text(text):
        # As typing would: the textarea's value, then an input event.
        wd.js("const e = document.querySelector('[data-testid=rule-editor-text]'); e.value = arguments[0];"
              "e.dispatchEvent(new Event('input', {bubbles: true}))", text)
    set_text("groups:\n  - name: gui\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n")
    problem = wait("a problem reported as typed", lambda: wd.find_all("[data-testid=rule-problem]"))[0]
    assert "Broken" in wd.text(problem) and "parse" in wd.text(problem), wd.text(problem)
    assert wd.js("return document.querySelector('[data-testid=rule-save]').disabled"), "a broken rule can be saved"
    if wd.js("return document.querySelector('[data-testid=setting-quiet-when-focused]').checked"):
        wd.click(wd.find_all("[data-testid=setting-quiet-when-focused]")[0])
    wd.click(wd.find_all("[data-testid=settings-save]")[0])
    set_text("groups:\n  - name: gui\n    interval: 1s\n    rules:\n      - alert: GuiAlways\n"
                    "        expr: vector(42)\n        labels:\n          severity: critical\n"
                    "        annotations:\n          summary: answer is {{ $value }}\n")
    wait("the rule checked clean", lambda: not wd.find_all("[data-testid=rule-problem]")
         and not wd.js("return document.querySelector('[data-testid=rule-save]').disabled"))
    wd.click(wd.find_all("[data-testid=rule-save]")[0])
    row = "[data-testid=alert-row][data-alertname=GuiAlways][data-state=firing]"
    wait("the alert firing in the view", lambda: wd.find_all(row), timeout=20)
    assert "42" in wd.text(wd.find_all(row)[0]), wd.text(wd.find_all(row)[0])
    badge = wait("the nav badge", lambda: wd.find_all("[data-testid=alerts-badge]"))[0]
    assert wd.text(badge).strip() == "1", wd.text(badge)
    wait("the window title counting it", lambda: x_windows("^Sightline — 1 alert firing$"))

    def recorded():
        if not os.path.exists(log):
            return None
        notes = [json.loads(l) for l in open(log) if l.strip()]
        return [n for n in notes if n["summary"].startswith("GuiAlways")] or None
    note = wait("the desktop notification on the private bus", recorded, timeout=20)[0]
    assert note["app_name"] == "Sightline" and note["urgency"] == 2, note
    assert note["summary"] == "GuiAlways: answer is 42", note
    wait("the notification logged as sent", lambda: wd.find_all("[data-testid=notification-row][data-outcome=sent]"))
    wd.screenshot("alerts-firing")
    wd.click(wd.find_all(row + " [data-testid=alert-silence]")[0])
    wait("an active silence", lambda: wd.find_all("[data-testid=silence-row][data-state=active]"))
    wd.screenshot("alerts-silenced")


def runs_listed(wd):
    return len(wd.find_all("[data-testid=run-row]"))


@test
def live_demo_from_the_empty_state_grows_the_runs_and_its_incident_notifies_the_desktop(ctx):
    """"Start live demo" on the empty workspace switches to the live demo: the Runs list grows
    on its own (no click) as runs arrive through the log, /metrics and OTLP; a run opens with
    its spans while the session goes on; the status bar shows it live; the incident after 20 s
    makes the built-in rules fire, and the desktop notification arrives on a private D-Bus.
    Stopping the demo stops the growth."""
    address, log = private_bus_with_recorder(ctx)
    wd = ctx.launch(env_extra={"DBUS_SESSION_BUS_ADDRESS": address})
    wd.click(wait("the start button", lambda: wd.find_all("[data-testid=start-live-demo]"))[0])
    wait("the Runs view", lambda: wd.find_all("[data-testid=runs-list]"), timeout=20)
    wait("the live indicator", lambda: wd.find_all("[data-testid=live-indicator]"))
    first = wait("the first runs", lambda: runs_listed(wd) >= 2 and runs_listed(wd), timeout=30)
    wait("more runs, with no click", lambda: runs_listed(wd) > first, timeout=30)
    wd.screenshot("live-demo-runs")
    # A run opens while the session goes on (the list keeps its place).
    tid = wd.js("const r = document.querySelector('[data-testid=run-row]'); r.click(); return r.dataset.traceId")
    wait("the run view", lambda: wd.find_all(f"[data-testid=run-view][data-trace-id='{tid}']"))
    wait("its spans", lambda: wd.find_all("[data-testid=span-row]"))

    def notified():
        if not os.path.exists(log):
            return None
        notes = [json.loads(l) for l in open(log) if l.strip()]
        return [n for n in notes if n["app_name"] == "Sightline"] or None
    notes = wait("a desktop notification from the incident", notified, timeout=90)
    assert any("search_web" in n["summary"] or "gpt-4o-mini" in n["summary"] for n in notes), notes
    wd.screenshot("live-demo-notified")
    wd.click(wd.find_all("[data-testid=nav-sources]")[0])
    wd.click(wait("the demo's stop button", lambda: wd.find_all("[data-testid=live-demo-stop]"))[0])
    wait("the demo stopped", lambda: not wd.find_all("[data-testid=live-demo-stop]"))
    no_error_shown(wd)


@test
def a_log_opened_in_the_app_is_followed_as_agentgen_writes_it(ctx):
    """A log file opened from the command line is read as it grows: opened while still empty
    (the agent has not written yet) it is followed, not refused; agentgen's live writer
    (half-written lines included) appends to it, the row count follows on its own, and ends
    at exactly the lines written; the Sources view lists it as followed."""
    f = os.path.join(ctx.tmp, "agent.log")
    open(f, "w").close()
    wd = ctx.launch([f])
    followed = lambda: wd.js(
        "return [...document.querySelectorAll('[data-testid=followed-row]')].map(e => e.dataset.path)")
    wait("the sources nav", lambda: wd.find_all("[data-testid=nav-sources]"))
    wd.click(wd.find_all("[data-testid=nav-sources]")[0])
    wait("the empty file listed as followed", lambda: followed() == [f])
    no_error_shown(wd)
    wd.click(wd.find_all("[data-testid=nav-logs]")[0])
    with open(f, "a") as out:
        out.write('{"ts":"2024-06-01T12:00:00Z","level":"info","msg":"agent service started"}\n')
    wait_count(wd, 1, "the first line")
    writer = subprocess.Popen([sys.executable, os.path.join(SHARED, "agentgen", "agentgen.py"), "live",
                               "--style", "mixed", "--rate", "150", "--duration", "8", "--warmup", "5",
                               "-o", f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx.helpers.append(writer)
    writer.log_path = os.devnull
    wait("rows arriving while it writes", lambda: (row_count(wd) or 0) > 0 and writer.poll() is None, timeout=20)
    assert writer.wait(30) == 0
    written = json.load(open(f + ".truth.json"))["live"]["lines_written"]
    wait_count(wd, written + 1, "every line written")
    wd.click(wd.find_all("[data-testid=nav-sources]")[0])
    wait("the file still listed as followed", lambda: followed() == [f])
    no_error_shown(wd)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("-k", default="")
    opts = ap.parse_args()
    passed = failed = 0
    for t in TESTS:
        if opts.k and opts.k not in t.__name__:
            continue
        ctx = Ctx(opts)
        start = time.time()
        try:
            t(ctx)
            passed += 1
            print(f"test gui::{t.__name__} ... ok ({time.time() - start:.1f}s)", flush=True)
        except Exception:
            failed += 1
            ctx.keep = True
            print(f"test gui::{t.__name__} ... FAILED", flush=True)
            traceback.print_exc()
            try:
                if ctx.wd and ctx.wd.session:
                    print("  screenshot:", ctx.wd.screenshot("FAILED-" + t.__name__))
            except Exception:
                pass
            log = os.path.join(ctx.tmp, "tauri-driver.log")
            if os.path.exists(log):
                print("  tauri-driver log (tail):")
                print("".join(open(log).readlines()[-30:]))
            for p in ctx.helpers:
                if os.path.exists(p.log_path):
                    print(f"  {os.path.basename(p.log_path)} (tail):")
                    print("".join(open(p.log_path).readlines()[-15:]))
        finally:
            ctx.close()
    print(f"gui: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
