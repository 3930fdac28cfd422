// State of the log explorer: filters, the matching count, a window of cached pages, the
// selection and the detail of the selected row.
//
// Every request carries the generation of the filter it was made for; a response that
// arrives after the filter changed is dropped, so a slow count or page can never paint old
// rows under a new filter. Only the pages the viewport needs are fetched (a few at a time),
// and a small LRU keeps recent pages, so a 10M-row list costs what one screen costs.
//
// Live data (followed files, the OTLP receiver) calls `refresh`: the rows on screen stay
// until their fresh pages arrive, the selection stays on its record, and a list scrolled
// to its end (tail mode) stays pinned to the newest row.

import { describeUnknown, invalidArgument, logs as api } from "../../api";
import type { LogDetail, LogFilter, LogRowDto } from "../../api";
import { levelsFor, type LevelFilterValue } from "../../lib/levels";
import { showDate, timeBound } from "../../lib/time";
import { filterFieldOf, type FilterError } from "./filters";
import { PageCache } from "./pageCache";
import {
  MAX_SPACER_PX,
  firstVisibleRow,
  isAtEnd,
  offsetAfterResize,
  offsetToCenter,
  offsetToReveal,
  rowsPerPage,
  visibleRange,
  type Geometry,
} from "./virtual";

export const ROW_HEIGHT = 22;
export const PAGE_SIZE = 200;
const CACHE_PAGES = 64;
const OVERSCAN = 12;
const MAX_INFLIGHT = 4;
const SEARCH_DEBOUNCE_MS = 150;
const TIME_DEBOUNCE_MS = 500;

export interface VisibleRow {
  index: number;
  row: LogRowDto | undefined;
  /** Print the date: on the top row, and wherever the day changes. */
  withDate: boolean;
}

export class LogsState {
  // What the boxes show. `search`, `since` and `until` apply after a pause in typing.
  level = $state<LevelFilterValue>("all");
  search = $state("");
  since = $state("");
  until = $state("");
  source = $state("");

  /** The filter the list shows. */
  filter = $state.raw<LogFilter>({ levels: levelsFor("all"), search: null, since: null, until: null, trace_id: null, sources: [] });
  /** Matching rows for `filter`; null while counting or when the filter is invalid. */
  count = $state<number | null>(null);
  /** Rows the scroll geometry uses: the last known count, so the list does not jump while recounting. */
  total = $state(0);
  counting = $state(false);
  filterError = $state<FilterError | null>(null);
  listError = $state<string | null>(null);

  /** Pixels into the (virtual) full-height content; the source of truth for scrolling. */
  offset = $state(0);
  viewport = $state(0);
  selected = $state<number | null>(null);

  detailOpen = $state(false);
  detail = $state.raw<LogDetail | null>(null);
  detailError = $state<string | null>(null);
  detailLoading = $state(false);

  /** A short message for the status bar ("No error below"). */
  notice = $state<string | null>(null);

  /** Bumped whenever the cache changes, so rows re-derive. */
  private version = $state(0);
  private cache = new PageCache<LogRowDto>(PAGE_SIZE, CACHE_PAGES);
  private generation = 0;
  /** Whether `count` (and so the geometry) belongs to the current generation. */
  private counted = $state(false);
  private inflight = new Set<number>();
  private failed = new Set<number>();
  private fetchTimer: ReturnType<typeof setTimeout> | null = null;
  private searchTimer: ReturnType<typeof setTimeout> | null = null;
  private timeTimer: ReturnType<typeof setTimeout> | null = null;
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;
  private detailSeq = 0;
  private detailId: number | null = null;
  private jumpSeq = 0;

  geometry: Geometry = $derived({
    total: this.total,
    rowHeight: ROW_HEIGHT,
    viewport: this.viewport,
    maxSpacer: MAX_SPACER_PX,
  });

  visible: VisibleRow[] = $derived.by(() => {
    void this.version;
    const { first, last } = visibleRange(this.offset, this.geometry, OVERSCAN);
    // The first row shown whole, so its date is never cut off at the top edge.
    const top = Math.min(Math.ceil(this.offset / ROW_HEIGHT), this.total - 1);
    const out: VisibleRow[] = [];
    // Before the count is in, the first page (fetched alongside it) is shown on its own.
    if (!this.counted && !this.cache.has(0)) return out;
    for (let i = first; i <= last; i++) {
      const row = this.cache.row(i);
      const above = i > 0 ? this.cache.row(i - 1) : undefined;
      const withDate = row !== undefined && (i === top || showDate(row.ts_ms, above?.ts_ms));
      out.push({ index: i, row, withDate });
    }
    return out;
  });

  selectedRow: LogRowDto | undefined = $derived.by(() => {
    void this.version;
    return this.selected === null ? undefined : this.cache.row(this.selected);
  });

  // ---- filters ----------------------------------------------------------------------

  /** Restores remembered filters without waiting for debounce; call `apply()` after. */
  restore(s: { level: LevelFilterValue; search: string; since: string; until: string; source: string }): void {
    this.level = s.level;
    this.search = s.search;
    this.since = s.since;
    this.until = s.until;
    this.source = s.source;
  }

  setLevel(v: LevelFilterValue): void {
    this.level = v;
    this.apply();
  }

  setSource(path: string): void {
    this.source = path;
    this.apply();
  }

  /** Leading and trailing debounce: the first change after a pause (a key, a paste) is
   *  searched at once; changes that follow within the debounce are searched when typing
   *  pauses. Responses to stale searches are dropped by the request sequence. */
  setSearch(text: string): void {
    this.search = text;
    if (this.searchTimer === null) {
      this.applyIfChanged();
      this.searchTimer = setTimeout(() => {
        this.searchTimer = null;
        this.applyIfChanged();
      }, SEARCH_DEBOUNCE_MS);
    } else {
      this.debounce("search", SEARCH_DEBOUNCE_MS);
    }
  }

  setSince(text: string, now = false): void {
    this.since = text;
    if (now) this.apply();
    else this.debounce("time", TIME_DEBOUNCE_MS);
  }

  setUntil(text: string, now = false): void {
    this.until = text;
    if (now) this.apply();
    else this.debounce("time", TIME_DEBOUNCE_MS);
  }

  /** Sets both ends of the time range at once (a preset, a range dragged on a chart). */
  setRange(since: string, until: string): void {
    this.since = since;
    this.until = until;
    this.apply();
  }

  clearFilters(): void {
    this.level = "all";
    this.search = "";
    this.since = "";
    this.until = "";
    this.source = "";
    this.apply();
  }

  private debounce(which: "search" | "time", ms: number): void {
    const timer = which === "search" ? this.searchTimer : this.timeTimer;
    if (timer !== null) clearTimeout(timer);
    const t = setTimeout(() => {
      if (which === "search") this.searchTimer = null;
      else this.timeTimer = null;
      this.applyIfChanged();
    }, ms);
    if (which === "search") this.searchTimer = t;
    else this.timeTimer = t;
  }

  private buildFilter(): LogFilter {
    const search = this.search.trim();
    return {
      levels: levelsFor(this.level),
      search: search === "" ? null : search,
      since: timeBound(this.since),
      until: timeBound(this.until),
      trace_id: null,
      sources: this.source === "" ? [] : [this.source],
    };
  }

  private applyIfChanged(): void {
    if (JSON.stringify(this.buildFilter()) !== JSON.stringify(this.filter) || this.filterError !== null) this.apply();
  }

  /** Shows the boxes' filter from the top. */
  apply(): void {
    for (const t of [this.searchTimer, this.timeTimer]) if (t !== null) clearTimeout(t);
    this.searchTimer = this.timeTimer = null;
    this.filter = this.buildFilter();
    this.selected = null;
    this.offset = 0;
    this.reload();
  }

  /** Recounts and refetches the current filter, keeping the scroll position (after an ingest). */
  reload(): void {
    const gen = ++this.generation;
    this.cache.clear();
    this.inflight = new Set();
    this.failed = new Set();
    this.version++;
    this.count = null;
    this.counted = false;
    this.counting = true;
    this.listError = null;
    const filter = this.filter;
    api
      .count(filter)
      .then((n) => {
        if (gen !== this.generation) return;
        this.count = n;
        this.total = n;
        this.filterError = null;
        this.counted = true;
        if (this.selected !== null && this.selected >= n) this.selected = n > 0 ? n - 1 : null;
        this.scheduleFetch();
      })
      .catch((e: unknown) => {
        if (gen !== this.generation) return;
        const bad = invalidArgument(e);
        this.total = 0;
        if (bad) this.filterError = { field: filterFieldOf(bad.what), message: describeUnknown(e) };
        else this.listError = describeUnknown(e);
      })
      .finally(() => {
        if (gen === this.generation) this.counting = false;
      });
    this.scheduleFetch();
  }

  /**
   * Recounts and refetches what is on screen without blanking it (new records landed):
   * rows stay until their fresh page arrives, the selection stays on its record, and a list
   * at its end stays at its end. Resolves when the count and the pages on screen are in.
   */
  async refresh(): Promise<void> {
    if (this.filterError !== null) return;
    const gen = ++this.generation;
    const filter = this.filter;
    const tail = this.counted && isAtEnd(this.offset, this.geometry);
    const selectedId = this.selectedRow?.id ?? null;
    this.inflight = new Set();
    this.failed = new Set();
    this.cache.markStale();
    try {
      const n = await api.count(filter);
      if (gen !== this.generation) return;
      this.count = n;
      this.total = n;
      this.counted = true;
      this.listError = null;
      this.offset = offsetAfterResize(this.offset, tail, this.geometry);
      if (this.selected !== null && this.selected >= n) this.selected = n > 0 ? n - 1 : null;
      const { first, last } = visibleRange(this.offset, this.geometry, OVERSCAN);
      const pages = this.cache.pagesFor(first, last);
      await Promise.all(
        pages.map(async (page) => {
          const rows = await api.page(filter, page * PAGE_SIZE, PAGE_SIZE);
          if (gen !== this.generation) return;
          this.cache.set(page, rows);
          this.version++;
        }),
      );
      if (gen !== this.generation) return;
      this.cache.dropStale();
      this.keepSelection(selectedId, tail);
      this.version++;
    } catch (e) {
      if (gen === this.generation) this.listError = describeUnknown(e);
    } finally {
      if (gen === this.generation) {
        this.counting = false;
        // Pages the user scrolled to meanwhile.
        this.scheduleFetch();
      }
    }
  }

  /** Puts the selection back on record `id` if records landed before it (it moved down). */
  private keepSelection(id: number | null, tail: boolean): void {
    if (id === null || this.selected === null) return;
    if (this.cache.row(this.selected)?.id === id) return;
    for (const [index, row] of this.cache.freshRows()) {
      if (row.id !== id) continue;
      const moved = index - this.selected;
      this.selected = index;
      // The record keeps its place on screen (unless the list follows its end).
      if (!tail) this.offset = offsetAfterResize(this.offset + moved * ROW_HEIGHT, false, this.geometry);
      return;
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
    const gen = this.generation;
    // Until the count is in, only the first page is fetched (in parallel with the count,
    // which can be the slower of the two): its rows paint as soon as they arrive.
    let pages: number[];
    if (this.counted) {
      const { first, last } = visibleRange(this.offset, this.geometry, OVERSCAN);
      pages = this.cache.pagesFor(first, last);
    } else if (this.offset === 0) {
      pages = [0];
    } else {
      return;
    }
    this.cache.touch(pages);
    const filter = this.filter;
    for (const page of pages) {
      if (this.inflight.size >= MAX_INFLIGHT) break;
      if (this.cache.has(page) || this.inflight.has(page) || this.failed.has(page)) continue;
      this.inflight.add(page);
      api
        .page(filter, page * PAGE_SIZE, PAGE_SIZE)
        .then((rows) => {
          if (gen !== this.generation) return;
          this.cache.set(page, rows);
          // Before the count arrives, the first page stands in for the total.
          if (!this.counted && page === 0) this.total = rows.length;
          this.version++;
        })
        .catch((e: unknown) => {
          if (gen !== this.generation) return;
          this.failed.add(page);
          this.listError = describeUnknown(e);
        })
        .finally(() => {
          if (gen !== this.generation) return;
          this.inflight.delete(page);
          this.scheduleFetch();
        });
    }
  }

  // ---- selection --------------------------------------------------------------------

  /** Selects row `index` and scrolls just enough to show it (or centres it, for jumps). */
  select(index: number, how: "reveal" | "center" = "reveal"): void {
    if (this.total <= 0) return;
    const i = Math.max(0, Math.min(this.total - 1, index));
    this.selected = i;
    this.setOffset(how === "center" ? offsetToCenter(i, this.geometry) : offsetToReveal(i, this.offset, this.geometry));
  }

  /** Moves the selection by `delta` rows; with nothing selected, starts at the top of the view. */
  move(delta: number): void {
    if (this.total <= 0) return;
    if (this.selected === null) {
      this.select(firstVisibleRow(this.offset, this.geometry));
      return;
    }
    this.select(this.selected + delta);
  }

  pageRows(): number {
    return rowsPerPage(this.geometry);
  }

  /** Selects the next (or previous) error-or-worse row. */
  jumpToError(forward: boolean): void {
    if (this.count === null || this.count === 0) return;
    const from = this.selected ?? firstVisibleRow(this.offset, this.geometry);
    // Compared by filter, not generation: a live refresh (records added after) keeps positions.
    const filter = this.filter;
    const seq = ++this.jumpSeq;
    api
      .nextError(filter, from, forward)
      .then((pos) => {
        if (filter !== this.filter || seq !== this.jumpSeq) return;
        if (pos === null) this.say(forward ? "No error below" : "No error above");
        else this.select(pos, "center");
      })
      .catch((e: unknown) => {
        if (filter !== this.filter || seq !== this.jumpSeq) return;
        this.say(describeUnknown(e));
      });
  }

  say(message: string): void {
    this.notice = message;
    if (this.noticeTimer !== null) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      this.notice = null;
      this.noticeTimer = null;
    }, 3000);
  }

  // ---- detail -----------------------------------------------------------------------

  openDetail(): void {
    if (this.selected === null) return;
    this.detailOpen = true;
  }

  closeDetail(): void {
    this.detailOpen = false;
  }

  /** Loads the detail of row `id` unless it is already shown or on its way. */
  loadDetail(id: number): void {
    if (id === this.detailId && (this.detail !== null || this.detailLoading)) return;
    this.detailId = id;
    const seq = ++this.detailSeq;
    this.detailLoading = true;
    this.detailError = null;
    api
      .detail(id)
      .then((d) => {
        if (seq !== this.detailSeq) return;
        this.detail = d;
      })
      .catch((e: unknown) => {
        if (seq !== this.detailSeq) return;
        this.detail = null;
        this.detailError = describeUnknown(e);
      })
      .finally(() => {
        if (seq === this.detailSeq) this.detailLoading = false;
      });
  }

  retryDetail(): void {
    const row = this.selectedRow;
    this.resetDetail();
    if (row) this.loadDetail(row.id);
  }

  /** Forgets the shown detail (the row under it may have changed). */
  resetDetail(): void {
    this.detailSeq++;
    this.detailId = null;
    this.detail = null;
    this.detailError = null;
    this.detailLoading = false;
  }
}
