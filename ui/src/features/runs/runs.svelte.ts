// State of the Runs view: the filters and sort of the runs list, a window of cached pages
// of it, the selected row, and the run that is open (if any).
//
// The list is paged and virtualized like the log list (same geometry, same page cache), so a
// workspace with a million runs costs what one screen costs. Every request carries the
// generation of the query it was made for; answers to an older query are dropped.
//
// Live data calls `refresh` (the rows on screen stay until their fresh page arrives, the
// selection stays on its run, sort and filters stay) and `refreshRun` (the open run grows in
// place). Away from the Runs view the list is only marked `stale`, and refreshed when shown.

import { describeUnknown, invalidArgument, runs as api } from "../../api";
import type { RunQuery, RunRow, RunSort } from "../../api";
import { PageCache } from "../logs/pageCache";
import { MAX_SPACER_PX, firstVisibleRow, offsetToCenter, offsetToReveal, rowsPerPage, visibleRange, type Geometry } from "../logs/virtual";
import { parseCost, parseDuration } from "./format";
import { RunState } from "./run.svelte";

export const RUN_ROW_HEIGHT = 26;
const PAGE_SIZE = 200;
const CACHE_PAGES = 32;
const OVERSCAN = 8;
const MAX_INFLIGHT = 3;
const TYPING_DEBOUNCE_MS = 250;

export type StatusFilter = "all" | "ok" | "error";
export type RunFilterField = "minDuration" | "minCost" | "other";

export interface VisibleRunRow {
  index: number;
  row: RunRow | undefined;
}

export class RunsState {
  // What the boxes show; text boxes apply after a pause in typing.
  status = $state<StatusFilter>("all");
  minDuration = $state("");
  minCost = $state("");
  model = $state("");
  tool = $state("");
  text = $state("");
  sort = $state<RunSort>("start");
  descending = $state(false);

  query = $state.raw<RunQuery | null>(null);
  /** Matching runs; null until the first page of the current query answers. */
  count = $state<number | null>(null);
  total = $state(0);
  loading = $state(false);
  listError = $state<string | null>(null);
  filterError = $state<{ field: RunFilterField; message: string } | null>(null);

  offset = $state(0);
  viewport = $state(0);
  selected = $state<number | null>(null);

  /** The open run; null shows the list. */
  run = $state.raw<RunState | null>(null);
  /** The trace id being opened. */
  opening = $state<string | null>(null);
  openError = $state<string | null>(null);
  /** Bumped to ask the list to focus its text box ("/"). */
  focusTextRequest = $state(0);
  /** New spans landed while the view was away: refresh when it is shown. */
  stale = false;

  private version = $state(0);
  private cache = new PageCache<RunRow>(PAGE_SIZE, CACHE_PAGES);
  private generation = 0;
  private inflight = new Set<number>();
  private failed = new Set<number>();
  private fetchTimer: ReturnType<typeof setTimeout> | null = null;
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  private openSeq = 0;

  geometry: Geometry = $derived({
    total: this.total,
    rowHeight: RUN_ROW_HEIGHT,
    viewport: this.viewport,
    maxSpacer: MAX_SPACER_PX,
  });

  visible: VisibleRunRow[] = $derived.by(() => {
    void this.version;
    const { first, last } = visibleRange(this.offset, this.geometry, OVERSCAN);
    const out: VisibleRunRow[] = [];
    for (let i = first; i <= last; i++) out.push({ index: i, row: this.cache.row(i) });
    return out;
  });

  selectedRow: RunRow | undefined = $derived.by(() => {
    void this.version;
    return this.selected === null ? undefined : this.cache.row(this.selected);
  });

  /** Whether any filter narrows the list. */
  filtered: boolean = $derived(
    this.status !== "all" ||
      [this.minDuration, this.minCost, this.model, this.tool, this.text].some((v) => v.trim() !== ""),
  );

  // ---- filters and sort -------------------------------------------------------------

  restore(s: { runSort: RunSort; runDescending: boolean }): void {
    this.sort = s.runSort;
    this.descending = s.runDescending;
  }

  setStatus(v: StatusFilter): void {
    this.status = v;
    this.apply();
  }

  /** A text box changed: apply when typing pauses. */
  setField(field: "minDuration" | "minCost" | "model" | "tool" | "text", value: string): void {
    this[field] = value;
    if (this.typingTimer !== null) clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      this.applyIfChanged();
    }, TYPING_DEBOUNCE_MS);
  }

  /** A header was clicked: sort by it (largest first), or reverse when it already sorts. */
  sortBy(key: RunSort): void {
    if (this.sort === key) this.descending = !this.descending;
    else {
      this.sort = key;
      this.descending = true;
    }
    this.apply();
  }

  clearFilters(): void {
    this.status = "all";
    this.minDuration = this.minCost = this.model = this.tool = this.text = "";
    this.apply();
  }

  /** The query the boxes describe, or the first box that does not parse. */
  private buildQuery(): { ok: true; query: RunQuery } | { ok: false; field: RunFilterField; message: string } {
    const d = parseDuration(this.minDuration);
    if (!d.ok) return { ok: false, field: "minDuration", message: `Minimum duration: ${d.why}` };
    const c = parseCost(this.minCost);
    if (!c.ok) return { ok: false, field: "minCost", message: `Minimum cost: ${c.why}` };
    const orNull = (s: string) => (s.trim() === "" ? null : s.trim());
    return {
      ok: true,
      query: {
        status: this.status === "all" ? null : this.status,
        min_duration_ns: d.ns,
        min_cost: c.usd,
        model: orNull(this.model),
        tool: orNull(this.tool),
        text: orNull(this.text),
        trace_id: null,
        sort: this.sort,
        descending: this.descending,
        limit: PAGE_SIZE,
        offset: 0,
      },
    };
  }

  private applyIfChanged(): void {
    const q = this.buildQuery();
    if (!q.ok || this.filterError !== null || JSON.stringify(q.query) !== JSON.stringify(this.query)) this.apply();
  }

  /** Shows the boxes' query from the top. */
  apply(): void {
    if (this.typingTimer !== null) clearTimeout(this.typingTimer);
    this.typingTimer = null;
    const q = this.buildQuery();
    if (!q.ok) {
      this.filterError = { field: q.field, message: q.message };
      return;
    }
    this.filterError = null;
    this.query = q.query;
    this.selected = null;
    this.offset = 0;
    this.reload();
  }

  /** Refetches the current query, keeping the scroll position (after an ingest). */
  reload(): void {
    if (this.query === null) {
      this.apply();
      return;
    }
    this.generation++;
    this.cache.clear();
    this.inflight = new Set();
    this.failed = new Set();
    this.count = null;
    this.listError = null;
    this.version++;
    this.fetchVisible();
  }

  /**
   * Refetches the pages on screen without blanking them (new spans landed), keeping the
   * sort, the filters, the scroll position and the selected run. Resolves when they are in.
   */
  async refresh(): Promise<void> {
    this.stale = false;
    const query = this.query;
    if (query === null || this.filterError !== null) return;
    const gen = ++this.generation;
    const selectedId = this.selectedRow?.trace_id ?? null;
    this.inflight = new Set();
    this.failed = new Set();
    this.cache.markStale();
    const { first, last } = visibleRange(this.offset, this.geometry, OVERSCAN);
    // An empty list has no rows on screen, but its first page is where new runs appear.
    const pages = this.count === null || this.total === 0 ? [0] : this.cache.pagesFor(first, last);
    try {
      await Promise.all(
        pages.map(async (page) => {
          const res = await api.list({ ...query, limit: PAGE_SIZE, offset: page * PAGE_SIZE });
          if (gen !== this.generation) return;
          this.cache.set(page, res.runs);
          this.count = res.total;
          this.total = res.total;
          this.version++;
        }),
      );
      if (gen !== this.generation) return;
      this.listError = null;
      this.cache.dropStale();
      if (this.selected !== null && this.selected >= this.total) this.selected = this.total > 0 ? this.total - 1 : null;
      this.keepSelection(selectedId);
      this.setOffset(Math.min(this.offset, Math.max(0, this.total * RUN_ROW_HEIGHT - this.viewport)));
      this.version++;
    } catch (e) {
      if (gen === this.generation) this.listError = describeUnknown(e);
    } finally {
      if (gen === this.generation) {
        this.loading = false;
        this.scheduleFetch();
      }
    }
  }

  /** Puts the selection back on run `traceId` if it moved (a new run sorted before it). */
  private keepSelection(traceId: string | null): void {
    if (traceId === null || this.selected === null) return;
    if (this.cache.row(this.selected)?.trace_id === traceId) return;
    for (const [index, row] of this.cache.freshRows()) {
      if (row.trace_id !== traceId) continue;
      const moved = index - this.selected;
      this.selected = index;
      this.offset = Math.max(0, this.offset + moved * RUN_ROW_HEIGHT);
      return;
    }
  }

  /** Reads the open run again and grows it in place (its tree, waterfall and replay). */
  async refreshRun(): Promise<void> {
    const run = this.run;
    if (run === null) return;
    const seq = this.openSeq;
    try {
      const view = await api.get(run.run.trace_id);
      if (seq !== this.openSeq || this.run !== run) return;
      run.update(view);
    } catch (e) {
      if (seq === this.openSeq && this.run === run) run.say(`Could not read the run's new spans: ${describeUnknown(e)}`);
    }
  }

  // ---- pages ------------------------------------------------------------------------

  setViewport(px: number): void {
    if (px === this.viewport) return;
    this.viewport = px;
    this.scheduleFetch();
  }

  setOffset(px: number): void {
    this.offset = px;
    this.scheduleFetch();
  }

  private scheduleFetch(): void {
    if (this.fetchTimer !== null) return;
    this.fetchTimer = setTimeout(() => {
      this.fetchTimer = null;
      this.fetchVisible();
    }, 16);
  }

  private fetchVisible(): void {
    const query = this.query;
    if (query === null) return;
    const gen = this.generation;
    // Until the first answer gives the total, only the first page is asked for.
    let pages: number[];
    if (this.count === null) pages = [0];
    else {
      const { first, last } = visibleRange(this.offset, this.geometry, OVERSCAN);
      pages = this.cache.pagesFor(first, last);
    }
    this.cache.touch(pages);
    for (const page of pages) {
      if (this.inflight.size >= MAX_INFLIGHT) break;
      if (this.cache.has(page) || this.inflight.has(page) || this.failed.has(page)) continue;
      this.inflight.add(page);
      this.loading = true;
      api
        .list({ ...query, limit: PAGE_SIZE, offset: page * PAGE_SIZE })
        .then((res) => {
          if (gen !== this.generation) return;
          this.cache.set(page, res.runs);
          this.count = res.total;
          this.total = res.total;
          if (this.selected !== null && this.selected >= res.total) this.selected = res.total > 0 ? res.total - 1 : null;
          this.version++;
        })
        .catch((e: unknown) => {
          if (gen !== this.generation) return;
          this.failed.add(page);
          const bad = invalidArgument(e);
          if (bad) this.filterError = { field: "other", message: describeUnknown(e) };
          else this.listError = describeUnknown(e);
        })
        .finally(() => {
          if (gen !== this.generation) return;
          this.inflight.delete(page);
          this.loading = this.inflight.size > 0;
          this.scheduleFetch();
        });
    }
  }

  // ---- selection --------------------------------------------------------------------

  select(index: number, how: "reveal" | "center" = "reveal"): void {
    if (this.total <= 0) return;
    const i = Math.max(0, Math.min(this.total - 1, index));
    this.selected = i;
    this.setOffset(how === "center" ? offsetToCenter(i, this.geometry) : offsetToReveal(i, this.offset, this.geometry));
  }

  move(delta: number): void {
    if (this.total <= 0) return;
    if (this.selected === null) this.select(firstVisibleRow(this.offset, this.geometry));
    else this.select(this.selected + delta);
  }

  pageRows(): number {
    return rowsPerPage(this.geometry);
  }

  /** Enter: opens the selected run. */
  openSelected(): void {
    const row = this.selectedRow;
    if (row) void this.open(row.trace_id);
  }

  // ---- the open run -----------------------------------------------------------------

  async open(traceId: string): Promise<void> {
    const seq = ++this.openSeq;
    this.opening = traceId;
    this.openError = null;
    try {
      const view = await api.get(traceId);
      if (seq !== this.openSeq) return;
      this.run?.dispose();
      this.run = new RunState(view);
    } catch (e) {
      if (seq === this.openSeq) this.openError = describeUnknown(e);
    } finally {
      if (seq === this.openSeq) this.opening = null;
    }
  }

  /** Back to the list (Esc, the back button), with the run's row still selected. */
  closeRun(): void {
    this.openSeq++;
    this.opening = null;
    this.openError = null;
    this.run?.dispose();
    this.run = null;
  }
}
