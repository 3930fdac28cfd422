// State of the Metrics view: the metric list and its filter, the selected metric's labels,
// the query box, and the chart's last answer.
//
// The time range is the app's (the since/until boxes the log list uses), read through the
// `range` function given at construction, so one range follows the user from view to view.
// Every query carries a sequence number and an answer that arrives after a newer query was
// sent is dropped: a slow query can never paint over a newer one. Live refreshes re-run the
// last query that was run (not what is being typed), and are skipped while one is in flight.

import { describeUnknown, metrics as api, queryError } from "../../api";
import type { MetricInfo, QueryResult } from "../../api";
import { filterMetrics } from "./browse";
import { planQuery, type QueryPlan, type TimeRangeText } from "./chart";
import { histogramBase, isCounter, quantileQuery, rateQuery, rateWindow, withMatcher } from "./promql";

/** Label names of the selected metric whose values are listed. */
export const MAX_LABELS = 30;
const WIDTH_DEBOUNCE_MS = 250;

export interface ShownQuery extends QueryPlan {
  expr: string;
  result: QueryResult;
}

export interface LabelRow {
  name: string;
  /** Null while loading. */
  values: string[] | null;
  error: string | null;
}

export class MetricsState {
  list = $state.raw<MetricInfo[]>([]);
  listError = $state<string | null>(null);
  listLoaded = $state(false);
  filter = $state("");
  /** The keyboard's row in `visible`. */
  cursor = $state(0);
  selected = $state<string | null>(null);
  labels = $state.raw<LabelRow[]>([]);
  labelsLoading = $state(false);
  labelsError = $state<string | null>(null);

  /** The query box's text. */
  query = $state("");
  /** The last answer and the grid it was evaluated on. */
  shown = $state.raw<ShownQuery | null>(null);
  /** The engine could not parse or evaluate the query: its words, under the box. */
  queryError = $state<string | null>(null);
  /** The query could not run for another reason (the workspace, the engine). */
  runError = $state<string | null>(null);
  /** The shared time range cannot be read. */
  rangeError = $state<string | null>(null);
  /** A query the user asked for is on its way (live refreshes do not show). */
  busy = $state(false);
  /** The chart's width in pixels, which sets the step. */
  width = $state(0);

  focusQueryRequest = $state(0);
  focusFilterRequest = $state(0);

  visible: MetricInfo[] = $derived(filterMetrics(this.list, this.filter));
  selectedInfo: MetricInfo | undefined = $derived(this.list.find((m) => m.name === this.selected));

  /** The last query run; live refreshes and range changes run it again. */
  private lastExpr = "";
  private seq = 0;
  private inFlight = false;
  private listSeq = 0;
  private labelSeq = 0;
  private widthTimer: ReturnType<typeof setTimeout> | null = null;

  /** Bumped when completion data arrives, so suggestions re-derive. */
  private completionVersion = $state(0);
  private names = new Map<string, string[] | "loading">();
  private values = new Map<string, string[] | "loading">();

  private readonly range: () => TimeRangeText;

  constructor(range: () => TimeRangeText) {
    this.range = range;
  }

  /** Whether the shared range ends at "now" (then live refreshes show something new). */
  followsNow = $derived.by(() => {
    const p = planQuery(this.range(), Date.now(), this.width);
    return !("error" in p) && p.followsNow;
  });

  restore(query: string): void {
    this.query = query;
    this.lastExpr = query.trim();
  }

  /** Forgets what belonged to the workspace (the list, the selection, the chart), keeping the query. */
  forget(): void {
    this.listSeq++;
    this.labelSeq++;
    this.seq++;
    this.list = [];
    this.listLoaded = false;
    this.selected = null;
    this.labels = [];
    this.labelsLoading = false;
    this.shown = null;
    this.busy = false;
    this.inFlight = false;
    this.names.clear();
    this.values.clear();
  }

  // ---- the list ---------------------------------------------------------------------

  async loadList(): Promise<void> {
    const seq = ++this.listSeq;
    try {
      const list = await api.list();
      if (seq !== this.listSeq) return;
      this.list = list;
      this.listError = null;
      this.listLoaded = true;
      this.cursor = Math.max(0, Math.min(this.cursor, this.visible.length - 1));
      // Label names and values may have changed with the list (a new scrape, an ingest).
      this.names.clear();
      this.values.clear();
      this.completionVersion++;
    } catch (e) {
      if (seq === this.listSeq) this.listError = describeUnknown(e);
    }
  }

  setFilter(text: string): void {
    this.filter = text;
    this.cursor = 0;
  }

  move(delta: number): void {
    const n = this.visible.length;
    if (n === 0) return;
    this.cursor = Math.max(0, Math.min(n - 1, this.cursor + delta));
  }

  moveTo(index: number): void {
    const n = this.visible.length;
    if (n > 0) this.cursor = Math.max(0, Math.min(n - 1, index));
  }

  /** Charts the metric under the keyboard's row. */
  openCursor(): void {
    const m = this.visible[this.cursor];
    if (m) this.select(m.name);
  }

  /** Shows a metric's labels, puts it in the query box and charts it. */
  select(name: string): void {
    this.selected = name;
    const i = this.visible.findIndex((m) => m.name === name);
    if (i >= 0) this.cursor = i;
    void this.loadLabels(name);
    this.run(name);
  }

  private async loadLabels(metric: string): Promise<void> {
    const seq = ++this.labelSeq;
    this.labels = [];
    this.labelsLoading = true;
    this.labelsError = null;
    try {
      const names = (await api.labelNames(metric)).filter((n) => n !== "__name__");
      if (seq !== this.labelSeq) return;
      this.labels = names.map((name) => ({ name, values: null, error: null }));
      await Promise.all(
        names.slice(0, MAX_LABELS).map(async (name) => {
          let row: LabelRow;
          try {
            row = { name, values: await api.labelValues(name, metric), error: null };
          } catch (e) {
            row = { name, values: [], error: describeUnknown(e) };
          }
          if (seq === this.labelSeq) this.labels = this.labels.map((r) => (r.name === name ? row : r));
        }),
      );
    } catch (e) {
      if (seq === this.labelSeq) this.labelsError = describeUnknown(e);
    } finally {
      if (seq === this.labelSeq) this.labelsLoading = false;
    }
  }

  // ---- completion data --------------------------------------------------------------

  /** Label names for completions (of `metric` when it is known, else of every metric); null
   *  while they load. Safe to call while deriving: it only starts a request. */
  labelNamesFor(metric: string | null): string[] | null {
    void this.completionVersion;
    const m = metric !== null && this.list.some((x) => x.name === metric) ? metric : null;
    return this.cached(this.names, m ?? "", () => api.labelNames(m));
  }

  /** Values of `label` for completions; null while they load. */
  labelValuesFor(label: string, metric: string | null): string[] | null {
    void this.completionVersion;
    const m = metric !== null && this.list.some((x) => x.name === metric) ? metric : null;
    return this.cached(this.values, `${m ?? ""}\u0000${label}`, () => api.labelValues(label, m));
  }

  private cached(map: Map<string, string[] | "loading">, key: string, fetch: () => Promise<string[]>): string[] | null {
    const hit = map.get(key);
    if (hit === "loading") return null;
    if (hit !== undefined) return hit;
    map.set(key, "loading");
    fetch()
      .then((v) => map.set(key, v))
      // Completions are a help, not a promise: without them the box still works.
      .catch(() => map.set(key, []))
      .finally(() => this.completionVersion++);
    return null;
  }

  // ---- running queries ----------------------------------------------------------------

  /** Runs `expr` (or the box's text), as the user asked. */
  run(expr?: string): void {
    if (expr !== undefined) this.query = expr;
    const e = this.query.trim();
    this.lastExpr = e;
    if (e === "") {
      this.seq++;
      this.shown = null;
      this.queryError = null;
      this.runError = null;
      this.busy = false;
      return;
    }
    void this.execute(e, true);
  }

  /** Runs the last query again now (the range or the width changed). */
  rerun(): void {
    if (this.lastExpr !== "") void this.execute(this.lastExpr, false);
  }

  /** A live tick: runs the last query again unless one is still on its way. */
  refresh(): void {
    if (this.lastExpr !== "" && !this.inFlight) void this.execute(this.lastExpr, false);
  }

  /** The chart's new width; re-runs when it changes the step. */
  setWidth(px: number): void {
    if (px === this.width || px <= 0) return;
    this.width = px;
    const shown = this.shown;
    if (shown === null) return;
    const p = planQuery(this.range(), Date.now(), px);
    if ("error" in p || p.step === shown.step) return;
    if (this.widthTimer !== null) clearTimeout(this.widthTimer);
    this.widthTimer = setTimeout(() => {
      this.widthTimer = null;
      this.rerun();
    }, WIDTH_DEBOUNCE_MS);
  }

  /** The plan a query would run with now (the step sets the rate windows of the shortcuts). */
  plan(): QueryPlan | { error: string } {
    return planQuery(this.range(), Date.now(), this.width);
  }

  private async execute(expr: string, asked: boolean): Promise<void> {
    const plan = this.plan();
    if ("error" in plan) {
      this.rangeError = plan.error;
      return;
    }
    this.rangeError = null;
    const seq = ++this.seq;
    this.inFlight = true;
    if (asked) this.busy = true;
    try {
      const result = await api.queryRange(expr, plan.start, plan.end, plan.step);
      if (seq !== this.seq) return;
      this.shown = { ...plan, expr, result };
      this.queryError = null;
      this.runError = null;
    } catch (e) {
      if (seq !== this.seq) return;
      const words = queryError(e);
      if (words !== null) {
        this.queryError = words;
        // The chart of another query under this error would read as this query's answer.
        this.shown = null;
      } else {
        this.runError = describeUnknown(e);
      }
    } finally {
      if (seq === this.seq) {
        this.inFlight = false;
        this.busy = false;
      }
    }
  }

  // ---- shortcuts ----------------------------------------------------------------------

  private step(): number {
    const p = this.plan();
    return "error" in p ? 1000 : p.step;
  }

  /** `rate()` of the selected counter: per series (`by` null), in total (`[]`) or by labels. */
  chartRate(by: string[] | null): void {
    const m = this.selectedInfo;
    if (!m || !isCounter(m)) return;
    this.run(rateQuery(m.name, rateWindow(this.step(), 60_000), by));
  }

  /** Quantile `q` of the selected histogram. */
  chartQuantile(q: number): void {
    const m = this.selectedInfo;
    const base = m ? histogramBase(m) : null;
    if (base === null) return;
    this.run(quantileQuery(base, q, rateWindow(this.step(), 300_000)));
  }

  /** The selected metric narrowed to one label value. */
  narrow(label: string, value: string): void {
    if (this.selected === null) return;
    this.run(withMatcher(this.query, this.selected, label, value));
  }
}
