// State of the Costs view: which chart (kind, grouping, percentile) and its last answer, the
// overview beside it (summary, cost per model, unpriced models, top runs) for the range or for
// one clicked bucket, how the top runs are sorted, and saving the chart or the report.
//
// The time range is the app's (the since/until boxes), read through the `range` function
// given at construction, as the Metrics view reads it. The chart and the overview each carry
// a sequence number: an answer that arrives after a newer request was sent is dropped.

import { costs as api, describeUnknown, desktop } from "../../api";
import type { Chart, ChartKind, ChartQuery, CostOverview, RunRow, SaveFilter } from "../../api";
import type { TimeRange, TimeRangeText } from "../metrics/chart";
import { DEFAULT_PERCENTILE, GROUPINGS, costRange, sortRuns, startsDescending, withExtension, type TopRunSort } from "./costs";

/** Runs the overview lists, most expensive first. */
export const TOP_RUNS = 50;

/** A clicked bucket, `[start, end)` in Unix ms. */
export interface Bucket {
  start: number;
  end: number;
}

const IMAGE_FILTERS: SaveFilter[] = [
  { name: "PNG image", extensions: ["png"] },
  { name: "SVG image", extensions: ["svg"] },
];
const REPORT_FILTERS: SaveFilter[] = [{ name: "HTML report", extensions: ["html"] }];

export class CostsState {
  kind = $state<ChartKind>("cost");
  /** Each chart's grouping, so going back to a tab finds it as it was left. */
  by = $state<Record<ChartKind, string>>({
    cost: GROUPINGS.cost[0].value,
    tokens: GROUPINGS.tokens[0].value,
    latency: GROUPINGS.latency[0].value,
    errors: GROUPINGS.errors[0].value,
  });
  percentile = $state(DEFAULT_PERCENTILE);

  chart = $state.raw<Chart | null>(null);
  chartLoading = $state(false);
  chartError = $state<string | null>(null);

  overview = $state.raw<CostOverview | null>(null);
  overviewLoading = $state(false);
  overviewError = $state<string | null>(null);

  /** The shared time range cannot be read. */
  rangeError = $state<string | null>(null);
  /** The clicked bucket; null while the overview is of the whole range. */
  bucket = $state.raw<Bucket | null>(null);

  sort = $state<TopRunSort>("cost");
  descending = $state(true);
  topRuns: RunRow[] = $derived(sortRuns(this.overview?.top_runs ?? [], this.sort, this.descending));

  /** What is being saved; then where it went, or why it did not. */
  saving = $state<"chart" | "report" | null>(null);
  saved = $state<string | null>(null);
  saveError = $state<string | null>(null);

  /** The query of the chart on screen: what an export draws and a report covers. */
  private shown: ChartQuery | null = null;
  /** The range text the last reload read. */
  private rangeKey = "";
  private chartSeq = 0;
  private overviewSeq = 0;
  private readonly range: () => TimeRangeText;

  constructor(range: () => TimeRangeText) {
    this.range = range;
  }

  /**
   * Reads the chart and the overview again (the view is shown, the range changed, an ingest).
   * A clicked bucket stays picked (back from a run opened from it) unless the range changed.
   */
  reload(): void {
    const text = this.range();
    const key = `${text.since ?? ""}\u0000${text.until ?? ""}`;
    if (key !== this.rangeKey) this.bucket = null;
    this.rangeKey = key;
    const r = this.readRange();
    if (r === null) return;
    void this.loadChart(r);
    void this.loadOverview(this.bucket ?? r);
  }

  /** Forgets what belonged to the workspace, keeping the choice of chart. */
  forget(): void {
    this.chartSeq++;
    this.overviewSeq++;
    this.shown = null;
    this.chart = null;
    this.chartLoading = false;
    this.chartError = null;
    this.overview = null;
    this.overviewLoading = false;
    this.overviewError = null;
    this.bucket = null;
    this.saved = null;
    this.saveError = null;
  }

  // ---- the chart ------------------------------------------------------------------------

  setKind(kind: ChartKind): void {
    if (kind === this.kind) return;
    this.kind = kind;
    this.rechart();
  }

  setBy(by: string): void {
    this.by = { ...this.by, [this.kind]: by };
    this.rechart();
  }

  setPercentile(p: number): void {
    this.percentile = p;
    this.rechart();
  }

  private rechart(): void {
    const r = this.readRange();
    if (r !== null) void this.loadChart(r);
  }

  private readRange(): TimeRange | null {
    const r = costRange(this.range(), Date.now());
    if ("error" in r) {
      this.rangeError = r.error;
      return null;
    }
    this.rangeError = null;
    return r;
  }

  private async loadChart(r: TimeRange): Promise<void> {
    const query: ChartQuery = {
      kind: this.kind,
      by: this.by[this.kind],
      start_ms: r.start,
      end_ms: r.end,
      percentile: this.kind === "latency" ? this.percentile : null,
    };
    const seq = ++this.chartSeq;
    this.chartLoading = true;
    try {
      const chart = await api.chart(query);
      if (seq !== this.chartSeq) return;
      this.chart = chart;
      this.shown = query;
      this.chartError = null;
    } catch (e) {
      if (seq !== this.chartSeq) return;
      this.chartError = describeUnknown(e);
      // Another chart under this error would read as this one's answer.
      this.chart = null;
      this.shown = null;
    } finally {
      if (seq === this.chartSeq) this.chartLoading = false;
    }
  }

  // ---- the overview ---------------------------------------------------------------------

  /** A click on the chart's bucket `i`: the overview of that bucket alone. */
  selectBucket(i: number): void {
    const c = this.chart;
    if (c === null || i < 0 || i >= c.x_ms.length) return;
    this.bucket = { start: c.x_ms[i], end: c.x_ms[i] + c.bucket_ms };
    void this.loadOverview(this.bucket);
  }

  /** Back to the overview of the whole range. */
  clearBucket(): void {
    this.bucket = null;
    const r = this.readRange();
    if (r !== null) void this.loadOverview(r);
  }

  private async loadOverview(r: TimeRange): Promise<void> {
    const seq = ++this.overviewSeq;
    this.overviewLoading = true;
    try {
      const overview = await api.overview(r.start, r.end, TOP_RUNS);
      if (seq !== this.overviewSeq) return;
      this.overview = overview;
      this.overviewError = null;
    } catch (e) {
      if (seq !== this.overviewSeq) return;
      this.overviewError = describeUnknown(e);
      this.overview = null;
    } finally {
      if (seq === this.overviewSeq) this.overviewLoading = false;
    }
  }

  /** A header was clicked: sort by it, or reverse when it already sorts. */
  sortBy(key: TopRunSort): void {
    if (this.sort === key) this.descending = !this.descending;
    else {
      this.sort = key;
      this.descending = startsDescending(key);
    }
  }

  // ---- saving ---------------------------------------------------------------------------

  /** Asks where, then draws the chart on screen there: PNG or SVG, by the name's extension. */
  async exportChart(dark: boolean): Promise<void> {
    const query = this.shown;
    if (query === null) return;
    await this.saveAs("chart", `sightline-${query.kind}-by-${query.by ?? "default"}.png`, IMAGE_FILTERS, "png", (path) =>
      api.exportChart(query, path, dark),
    );
  }

  /** Asks where, then writes the HTML report of the chart's range there. */
  async saveReport(dark: boolean): Promise<void> {
    const query = this.shown;
    if (query === null) return;
    await this.saveAs("report", "sightline-report.html", REPORT_FILTERS, "html", (path) =>
      api.saveReport(query.start_ms, query.end_ms, path, dark),
    );
  }

  private async saveAs(
    what: "chart" | "report",
    defaultName: string,
    filters: SaveFilter[],
    ext: string,
    write: (path: string) => Promise<null>,
  ): Promise<void> {
    if (this.saving !== null) return;
    this.saved = null;
    this.saveError = null;
    let picked: string | null;
    try {
      picked = await desktop.pickSavePath(what === "chart" ? "Export the chart" : "Save the report", defaultName, filters);
    } catch (e) {
      this.saveError = `The file dialog could not open: ${describeUnknown(e)}`;
      return;
    }
    if (picked === null) return;
    const path = withExtension(picked, ext);
    this.saving = what;
    try {
      await write(path);
      this.saved = path;
    } catch (e) {
      this.saveError = describeUnknown(e);
    } finally {
      this.saving = null;
    }
  }
}
