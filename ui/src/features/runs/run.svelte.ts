// State of one open run: its span tree and which subtrees are collapsed, the rows on screen,
// the selected span and its detail, the timeline's time window, and the replay.
//
// Everything that grows with the run lives in typed arrays built once when the run opens
// (spans.ts, tree.ts) and is never made reactive: a 100,000-span run costs one pass to
// open and then only what is on screen. What only some actions need is built on first use:
// the replay index (replay.ts) when the playhead first leaves the end (at the end, where a
// run opens, the figures are the run's own totals); the LLM calls by cost at the first `c`;
// the error spans at the first `e`. Reactive state is small (a version number for the
// collapsed set, the scroll offset, the window, the playhead), so Svelte tracks a handful of
// values instead of 100,000 proxies. The tree, the canvas and the replay panel all read the
// same `rows` and `offset`, which is what keeps the tree rows and the canvas rows in line.
//
// A run that is still going grows while it is open: `update` swaps in the new columns and
// carries over what the user set up (collapsed subtrees and the selection, by span id; the
// scroll offset; the window; the playhead), so the tree and the waterfall grow in place.
// "Follow live" (follow.ts) keeps the playhead at the newest moment as the run grows.

import { describeUnknown, runs as api } from "../../api";
import type { RunColumns, RunRow, SpanDetail } from "../../api";
import { MAX_SPACER_PX, offsetToCenter, offsetToReveal, rowsPerPage, visibleRange, type Geometry } from "../logs/virtual";
import { formatCost } from "./format";
import { followAfterGrowth, playheadAfterGrowth, runGrew, runLooksLive, windowAfterGrowth } from "./follow";
import { ReplayIndex, type ReplayState, type ReplayTotals } from "./replay";
import { ERROR, RunSpans, type SpanView } from "./spans";
import { clampWindow, fullWindow, panBy, revealRange, zoomAt, type TimeWindow } from "./timeline";
import { hasChildren, revealIn, rowOf, visibleRows, type SpanTree } from "./tree";

export const ROW_HEIGHT = 22;
/** Height of the strip above the rows: the minimap, then the time axis. The tree's header
 *  has the same height, so tree rows and canvas rows start at the same y. */
export const MINIMAP_HEIGHT = 22;
export const AXIS_HEIGHT = 24;
export const HEAD_HEIGHT = MINIMAP_HEIGHT + AXIS_HEIGHT;
export const SPEEDS: readonly number[] = [1, 2, 5, 10, 25, 50, 100];
const OVERSCAN = 8;
const DETAIL_DELAY_MS = 60;
/** Zoom factor of one +/- key press. */
const KEY_ZOOM = 0.6;

export interface VisibleSpanRow {
  /** Row number among the visible rows. */
  row: number;
  /** Display position of the span (index into `spans`). */
  pos: number;
}

/** What is read from the engine's columns; replaced whole when the run grows. */
interface RunData {
  run: RunRow;
  orphans: number;
  criticalPathNs: number;
  spans: RunSpans;
  /** 1 where the span at that position is collapsed. Changed only through methods that bump `treeVersion`. */
  collapsed: Uint8Array;
  totals: ReplayTotals;
}

function readColumns(view: RunColumns): RunData {
  const spans = new RunSpans(view);
  return {
    run: view.run,
    orphans: view.orphans,
    criticalPathNs: view.critical_path_ns,
    spans,
    collapsed: new Uint8Array(spans.tree.n),
    totals: { cost: view.run.cost, inputTokens: view.run.input_tokens, outputTokens: view.run.output_tokens },
  };
}

export class RunState {
  private data: RunData;
  /** Bumped whenever `update` swaps in new columns (the waterfall redraws its minimap). */
  dataVersion = $state(0);

  get run(): RunRow {
    return this.data.run;
  }

  get orphans(): number {
    return this.data.orphans;
  }

  get criticalPathNs(): number {
    return this.data.criticalPathNs;
  }

  /** The spans as columns in display (pre-)order; `tree` and `replay` use these positions. */
  get spans(): RunSpans {
    return this.data.spans;
  }

  get tree(): SpanTree {
    return this.data.spans.tree;
  }

  /** 1 where the span at that position is collapsed. Changed only through methods that bump `treeVersion`. */
  get collapsed(): Uint8Array {
    return this.data.collapsed;
  }

  private get totals(): ReplayTotals {
    return this.data.totals;
  }

  private replayIndex: ReplayIndex | null = null;
  private endStateCache: ReplayState | null = null;
  private errorCache: Int32Array | null = null;
  private llmCache: Int32Array | null = null;
  private costCursor = -1;

  /** Bumped on every change to `collapsed`, so `rows` and the chevrons re-derive. */
  private treeVersion = $state(0);

  rows: Int32Array = $derived.by(() => {
    void this.treeVersion;
    return visibleRows(this.tree, this.collapsed);
  });

  offset = $state(0);
  viewport = $state(0);

  geometry: Geometry = $derived({
    total: this.rows.length,
    rowHeight: ROW_HEIGHT,
    viewport: this.viewport,
    maxSpacer: MAX_SPACER_PX,
  });

  visible: VisibleSpanRow[] = $derived.by(() => {
    const { first, last } = visibleRange(this.offset, this.geometry, OVERSCAN);
    const out: VisibleSpanRow[] = [];
    for (let r = first; r <= last; r++) out.push({ row: r, pos: this.rows[r] });
    return out;
  });

  /** Display position of the selected span. */
  selected = $state<number | null>(null);

  window = $state.raw<TimeWindow>({ start: 0, span: 1 });

  playhead = $state(0);
  playing = $state(false);
  speed = $state(1);
  /** What the run looked like at the playhead; at the end (where it opens) without the replay index. */
  replayState: ReplayState = $derived.by(() => (this.playhead >= this.duration ? this.endState : this.replay.at(this.playhead)));

  detailOpen = $state(false);
  detail = $state.raw<SpanDetail | null>(null);
  detailLoading = $state(false);
  detailError = $state<string | null>(null);

  notice = $state<string | null>(null);

  private raf = 0;
  private lastFrame = 0;
  private detailSeq = 0;
  private detailTimer: ReturnType<typeof setTimeout> | null = null;
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;

  /** The run looks in progress (follow.ts): it ended moments ago, waits for its root, or grew. */
  live = $state(false);
  /** Keep the playhead at the run's newest moment as it grows. */
  followLive = $state(false);
  /** The user moved the playhead since the run opened (so following does not turn on by itself). */
  private userMoved = false;

  /** `nowMs` is the clock that decides whether the run looks in progress (tests pass one). */
  constructor(view: RunColumns, nowMs: number = Date.now()) {
    this.data = $state.raw(readColumns(view));
    this.window = fullWindow(this.spans.extent);
    // The replay starts at the end: the whole run is shown, with its totals.
    this.playhead = this.spans.extent;
    this.live = runLooksLive(view, nowMs);
    // A run still going opens following its newest moment.
    this.followLive = this.live;
  }

  /**
   * The run as read again (it grew): swaps in the new columns, keeping collapsed subtrees
   * and the selection (by span id), the scroll offset, the time window (a whole-run window
   * stays whole) and the playhead (at the newest end while following).
   */
  update(view: RunColumns, nowMs: number = Date.now()): void {
    const prev = this.data;
    const next = readColumns(view);
    const oldDuration = prev.spans.extent;
    const grew = runGrew({ spans: prev.spans.n, extent: oldDuration }, { spans: next.spans.n, extent: next.spans.extent });

    const posOf = new Map<string, number>();
    const ids = next.spans.spanId;
    for (let p = 0; p < next.spans.n; p++) posOf.set(ids[p], p);
    for (let p = 0; p < prev.spans.n; p++) {
      if (prev.collapsed[p] !== 1) continue;
      const at = posOf.get(prev.spans.spanId[p]);
      if (at !== undefined) next.collapsed[at] = 1;
    }
    const selectedId = this.selected === null ? null : prev.spans.spanId[this.selected];

    this.replayIndex = null;
    this.endStateCache = null;
    this.errorCache = null;
    this.llmCache = null;
    this.costCursor = -1;
    this.data = next;
    this.treeVersion++;
    this.dataVersion++;

    const sel = selectedId === null ? null : (posOf.get(selectedId) ?? null);
    this.selected = sel;
    if (sel === null) this.detailOpen = false;
    this.live = grew || runLooksLive(view, nowMs);
    if (grew) this.followLive = followAfterGrowth(this.followLive, this.userMoved, this.playhead, oldDuration);
    const newDuration = next.spans.extent;
    this.window = windowAfterGrowth(this.window, oldDuration, newDuration, this.followLive);
    this.playhead = playheadAfterGrowth(this.playhead, newDuration, this.followLive && !this.playing);
    this.setOffset(this.offset);
  }

  /** Turns "Follow live" on (the playhead goes to the newest moment and stays there) or off. */
  setFollowLive(on: boolean): void {
    this.followLive = on;
    if (!on) return;
    this.pause();
    this.userMoved = false;
    this.playhead = this.duration;
    this.follow();
  }

  /** The run's length on the time axis, ns. */
  get duration(): number {
    return this.spans.extent;
  }

  /** The replay's index, built the first time a moment before the end is asked about. */
  get replay(): ReplayIndex {
    return (this.replayIndex ??= new ReplayIndex(this.spans, this.totals));
  }

  /**
   * The replay at the end, as `replay.at(duration)` answers it, from one pass: everything
   * has started and ended, the run's totals, every LLM call and error done, the last error
   * the one that ends last (the later in tree order on a tie).
   */
  get endState(): ReplayState {
    if (this.endStateCache === null) {
      const sp = this.spans;
      let llmDone = 0;
      let errors = 0;
      let lastError = -1;
      for (let p = 0; p < sp.n; p++) {
        if (sp.isLlm(p)) llmDone++;
        if (sp.flags[p] & ERROR) {
          errors++;
          if (lastError === -1 || sp.end[p] >= sp.end[lastError]) lastError = p;
        }
      }
      this.endStateCache = {
        t: this.duration,
        active: -1,
        step: -1,
        started: sp.n,
        toolsInFlight: 0,
        tools: [],
        inputTokens: this.totals.inputTokens,
        outputTokens: this.totals.outputTokens,
        cost: this.totals.cost,
        llmDone,
        errors,
        lastError,
      };
    }
    return this.endStateCache;
  }

  /** Positions of error spans, ascending. */
  get errorPositions(): Int32Array {
    if (this.errorCache === null) {
      const sp = this.spans;
      const out: number[] = [];
      for (let p = 0; p < sp.n; p++) if (sp.flags[p] & ERROR) out.push(p);
      this.errorCache = Int32Array.from(out);
    }
    return this.errorCache;
  }

  /** Positions of LLM spans, most expensive first (no cost counts as 0). */
  get llmByCost(): Int32Array {
    if (this.llmCache === null) {
      const sp = this.spans;
      const out: number[] = [];
      for (let p = 0; p < sp.n; p++) if (sp.isLlm(p)) out.push(p);
      const cost = sp.cost;
      this.llmCache = Int32Array.from(out).sort((a, b) => (cost[b] || 0) - (cost[a] || 0) || a - b);
    }
    return this.llmCache;
  }

  /** The span at display position `pos`, as an object (for what is on screen). */
  span(pos: number): SpanView {
    return this.spans.view(pos);
  }

  isCollapsed(pos: number): boolean {
    void this.treeVersion;
    return this.collapsed[pos] === 1;
  }

  hasChildren(pos: number): boolean {
    return hasChildren(this.tree, pos);
  }

  // ---- scrolling --------------------------------------------------------------------

  setViewport(px: number): void {
    if (px !== this.viewport) this.viewport = px;
  }

  setOffset(px: number): void {
    this.offset = Math.max(0, Math.min(px, Math.max(0, this.rows.length * ROW_HEIGHT - this.viewport)));
  }

  pageRows(): number {
    return rowsPerPage(this.geometry);
  }

  // ---- tree -------------------------------------------------------------------------

  toggle(pos: number): void {
    if (!this.hasChildren(pos)) return;
    this.collapsed[pos] = this.collapsed[pos] ? 0 : 1;
    // A selection inside a subtree that just closed moves up to the subtree's root.
    const sel = this.selected;
    if (this.collapsed[pos] && sel !== null && sel > pos && sel < this.tree.end[pos]) this.selected = pos;
    this.treeVersion++;
  }

  /** Collapses every span at `depth` or deeper (0 collapses everything); -1 expands all. */
  collapseFrom(depth: number): void {
    for (let p = 0; p < this.tree.n; p++) {
      this.collapsed[p] = depth >= 0 && this.tree.depth[p] >= depth && this.hasChildren(p) ? 1 : 0;
    }
    const sel = this.selected;
    if (sel !== null) {
      // Keep the selection on a shown row: its nearest shown ancestor.
      let top = sel;
      for (let p = this.tree.parent[sel]; p !== -1; p = this.tree.parent[p]) if (this.collapsed[p]) top = p;
      this.selected = top;
    }
    this.treeVersion++;
  }

  // ---- selection --------------------------------------------------------------------

  /**
   * Selects the span at position `pos`: expands its ancestors, scrolls its row into view
   * (centred for jumps), and brings its bar into the time window.
   */
  select(pos: number, how: "reveal" | "center" = "reveal"): void {
    if (pos < 0 || pos >= this.tree.n) return;
    if (revealIn(this.tree, this.collapsed, pos)) this.treeVersion++;
    this.selected = pos;
    const row = rowOf(this.rows, pos);
    if (row >= 0) {
      this.offset = how === "center" ? offsetToCenter(row, this.geometry) : offsetToReveal(row, this.offset, this.geometry);
    }
    const a = this.spans.start[pos];
    const b = this.spans.end[pos];
    const w = this.window;
    if (how === "center") this.window = revealRange(w, a, b, this.duration);
    else if (b < w.start || a > w.start + w.span) this.window = panBy(w, (a + b) / 2 - (w.start + w.span / 2), this.duration);
    if (this.detailOpen) this.loadDetail();
  }

  /** Selects and opens the detail (a click in the tree or on the canvas). */
  open(pos: number): void {
    this.detailOpen = true;
    this.select(pos);
  }

  openDetail(): void {
    if (this.selected === null) return;
    this.detailOpen = true;
    this.loadDetail();
  }

  closeDetail(): void {
    this.detailOpen = false;
  }

  /** Moves the selection by `delta` visible rows. */
  move(delta: number): void {
    const rows = this.rows;
    if (rows.length === 0) return;
    if (this.selected === null) {
      this.select(rows[Math.min(rows.length - 1, Math.floor(this.offset / ROW_HEIGHT))]);
      return;
    }
    const at = rowOf(rows, this.selected);
    const next = Math.max(0, Math.min(rows.length - 1, (at < 0 ? 0 : at) + delta));
    this.select(rows[next]);
  }

  first(): void {
    if (this.rows.length > 0) this.select(this.rows[0]);
  }

  last(): void {
    if (this.rows.length > 0) this.select(this.rows[this.rows.length - 1]);
  }

  /** h: collapse the selected span, or go to its parent. */
  collapseOrParent(): void {
    const sel = this.selected;
    if (sel === null) return this.move(0);
    if (this.hasChildren(sel) && !this.collapsed[sel]) this.toggle(sel);
    else if (this.tree.parent[sel] !== -1) this.select(this.tree.parent[sel]);
  }

  /** l: expand the selected span, or go to its first child. */
  expandOrChild(): void {
    const sel = this.selected;
    if (sel === null) return this.move(0);
    if (!this.hasChildren(sel)) return;
    if (this.collapsed[sel]) this.toggle(sel);
    else this.select(sel + 1);
  }

  /** e / E: the next (previous) error span in tree order, opening collapsed subtrees. */
  jumpToError(forward: boolean): void {
    const errs = this.errorPositions;
    if (errs.length === 0) {
      this.say("No error spans in this run");
      return;
    }
    const from = this.selected ?? (forward ? -1 : this.tree.n);
    // The first error after `from` (errs is ascending), or the last one before it.
    let lo = 0;
    let hi = errs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (errs[mid] <= from) lo = mid + 1;
      else hi = mid;
    }
    let target: number;
    if (forward) target = lo < errs.length ? errs[lo] : -1;
    else {
      const before = lo - (lo > 0 && errs[lo - 1] === from ? 2 : 1);
      target = before >= 0 ? errs[before] : -1;
    }
    if (target === -1) {
      this.say(forward ? "No error span below" : "No error span above");
      return;
    }
    this.select(target, "center");
  }

  /** c: the next most expensive LLM call, cycling through them by cost. */
  nextCostly(): void {
    const llm = this.llmByCost;
    if (llm.length === 0) {
      this.say("No LLM calls in this run");
      return;
    }
    this.costCursor = (this.costCursor + 1) % llm.length;
    const pos = llm[this.costCursor];
    this.select(pos, "center");
    const cost = this.spans.costOf(pos);
    this.say(`LLM call ${this.costCursor + 1} of ${llm.length} by cost: ${cost === null ? "no cost" : formatCost(cost)}`);
  }

  // ---- time window ------------------------------------------------------------------

  setWindow(w: TimeWindow): void {
    this.window = clampWindow(w, this.duration);
  }

  zoom(factor: number, anchor?: number): void {
    const w = this.window;
    this.window = zoomAt(w, factor, anchor ?? w.start + w.span / 2, this.duration);
  }

  zoomIn(): void {
    this.zoom(KEY_ZOOM, this.anchor());
  }

  zoomOut(): void {
    this.zoom(1 / KEY_ZOOM, this.anchor());
  }

  zoomReset(): void {
    this.window = fullWindow(this.duration);
  }

  pan(dt: number): void {
    this.window = panBy(this.window, dt, this.duration);
  }

  /** Keys zoom around the playhead when it is on screen, else around the middle. */
  private anchor(): number {
    const w = this.window;
    const t = this.playhead;
    return t >= w.start && t <= w.start + w.span ? t : w.start + w.span / 2;
  }

  // ---- replay -----------------------------------------------------------------------

  /** The user moves the playhead to `t` (ns since the start): it stays on screen, and "Follow live" stops. */
  scrubTo(t: number): void {
    this.userMoved = true;
    this.followLive = false;
    this.moveTo(t);
  }

  private moveTo(t: number): void {
    this.playhead = Math.max(0, Math.min(this.duration, t));
    this.follow();
  }

  /** To the end; following, if on, carries on from there. */
  replayEnd(): void {
    this.pause();
    this.moveTo(this.duration);
  }

  replayStart(): void {
    this.scrubTo(0);
  }

  togglePlay(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  play(): void {
    if (this.playing) return;
    // Playing moves the playhead away from the newest moment.
    this.userMoved = true;
    this.followLive = false;
    if (this.playhead >= this.duration) this.playhead = 0;
    this.playing = true;
    this.lastFrame = performance.now();
    this.raf = requestAnimationFrame(this.frame);
  }

  pause(): void {
    this.playing = false;
    if (this.raf !== 0) cancelAnimationFrame(this.raf);
    this.raf = 0;
  }

  setSpeed(speed: number): void {
    if (SPEEDS.includes(speed)) this.speed = speed;
  }

  /** [ and ]: the next speed down or up. */
  stepSpeed(delta: 1 | -1): void {
    const i = SPEEDS.indexOf(this.speed);
    const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? 0 : i) + delta))];
    this.speed = next;
    this.say(`Replay at ${next}×`);
  }

  private frame = (now: number): void => {
    if (!this.playing) return;
    // A long gap (a hidden window) is not played through in one jump.
    const dt = Math.min(now - this.lastFrame, 250);
    this.lastFrame = now;
    const t = this.playhead + dt * 1e6 * this.speed;
    if (t >= this.duration) {
      this.playhead = this.duration;
      this.playing = false;
      this.raf = 0;
    } else {
      this.playhead = t;
      this.raf = requestAnimationFrame(this.frame);
    }
    this.follow();
  };

  /** Pages the window along when the playhead leaves it (only when zoomed in). */
  private follow(): void {
    const w = this.window;
    const t = this.playhead;
    if (t < w.start || t > w.start + w.span) {
      this.window = clampWindow({ start: t - w.span * 0.1, span: w.span }, this.duration);
    }
  }

  // ---- detail -----------------------------------------------------------------------

  /** Loads the selected span's detail, after a short pause so holding j does not flood the engine. */
  private loadDetail(): void {
    const pos = this.selected;
    if (pos === null) return;
    const spanId = this.spans.spanId[pos];
    if (this.detail?.span_id === spanId && this.detailError === null) return;
    const seq = ++this.detailSeq;
    this.detailLoading = true;
    this.detailError = null;
    if (this.detailTimer !== null) clearTimeout(this.detailTimer);
    this.detailTimer = setTimeout(() => {
      this.detailTimer = null;
      api
        .span(this.run.trace_id, spanId)
        .then((d) => {
          if (seq !== this.detailSeq) return;
          this.detail = d;
          if (d === null) this.detailError = "This span is no longer in the workspace.";
        })
        .catch((e: unknown) => {
          if (seq !== this.detailSeq) return;
          this.detail = null;
          this.detailError = describeUnknown(e);
        })
        .finally(() => {
          if (seq === this.detailSeq) this.detailLoading = false;
        });
    }, DETAIL_DELAY_MS);
  }

  retryDetail(): void {
    this.detail = null;
    this.detailError = null;
    this.loadDetail();
  }

  say(message: string): void {
    this.notice = message;
    if (this.noticeTimer !== null) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      this.notice = null;
      this.noticeTimer = null;
    }, 3000);
  }

  /** Stops the replay and pending work; the run is being closed. */
  dispose(): void {
    this.pause();
    this.detailSeq++;
    if (this.detailTimer !== null) clearTimeout(this.detailTimer);
    if (this.noticeTimer !== null) clearTimeout(this.noticeTimer);
  }
}
