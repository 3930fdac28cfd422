import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/errors";
import type { Chart, CostOverview } from "../../api";
import type { TimeRangeText } from "../metrics/chart";

// The engine and the save dialog, as far as CostsState talks to them.
const engine = vi.hoisted(() => ({
  chart: vi.fn(),
  overview: vi.fn(),
  exportChart: vi.fn(),
  saveReport: vi.fn(),
  pickSavePath: vi.fn(),
}));

vi.mock("../../api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../api")>();
  return {
    ...real,
    costs: { chart: engine.chart, overview: engine.overview, exportChart: engine.exportChart, saveReport: engine.saveReport },
    desktop: { ...real.desktop, pickSavePath: engine.pickSavePath },
  };
});

const { CostsState, TOP_RUNS } = await import("./costs.svelte");

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 5, 1, 10);

const CHART: Chart = {
  kind: "cost",
  by: "model",
  title: "Cost by model",
  y_label: "Cost (USD per hour)",
  unit: "USD",
  stacked: true,
  bucket_ms: HOUR,
  x_ms: [T0, T0 + HOUR],
  series: [{ label: "gpt-4o", values: [1, 2], total: 3 }],
  note: null,
};

function overview(runs: number): CostOverview {
  return {
    summary: {
      runs,
      failed_runs: 0,
      llm_calls: 0,
      tool_calls: 0,
      failed_calls: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost_usd: 0,
      unpriced_calls: 0,
      run_p50_s: null,
      run_p95_s: null,
    },
    by_model: [],
    unpriced: [],
    top_runs: [],
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

let range: TimeRangeText;
const state = () => new CostsState(() => range);

beforeEach(() => {
  vi.clearAllMocks();
  range = { since: null, until: null };
  engine.chart.mockResolvedValue(CHART);
  engine.overview.mockResolvedValue(overview(3));
  engine.exportChart.mockResolvedValue(null);
  engine.saveReport.mockResolvedValue(null);
});

describe("CostsState", () => {
  it("charts and sums all the data while the range is empty", async () => {
    const costs = state();
    costs.reload();
    await flush();
    expect(engine.chart).toHaveBeenCalledWith({ kind: "cost", by: "model", start_ms: null, end_ms: null, percentile: null });
    expect(engine.overview).toHaveBeenCalledWith(null, null, TOP_RUNS);
    expect(costs.chart).toBe(CHART);
    expect(costs.overview?.summary.runs).toBe(3);
  });

  it("keeps each chart's grouping, and sends the percentile for latency only", async () => {
    const costs = state();
    costs.setBy("provider");
    costs.setKind("latency");
    costs.setPercentile(99);
    expect(engine.chart).toHaveBeenLastCalledWith({ kind: "latency", by: "kind", start_ms: null, end_ms: null, percentile: 99 });
    costs.setKind("cost");
    expect(engine.chart).toHaveBeenLastCalledWith({ kind: "cost", by: "provider", start_ms: null, end_ms: null, percentile: null });
    // The chart does not change what the overview is of.
    expect(engine.overview).not.toHaveBeenCalled();
  });

  it("narrows the overview to a clicked bucket until cleared or the range changes", async () => {
    const costs = state();
    costs.reload();
    await flush();
    costs.selectBucket(1);
    expect(costs.bucket).toEqual({ start: T0 + HOUR, end: T0 + 2 * HOUR });
    expect(engine.overview).toHaveBeenLastCalledWith(T0 + HOUR, T0 + 2 * HOUR, TOP_RUNS);

    // Shown again (back from a run): still the bucket.
    costs.reload();
    expect(engine.overview).toHaveBeenLastCalledWith(T0 + HOUR, T0 + 2 * HOUR, TOP_RUNS);

    costs.clearBucket();
    expect(costs.bucket).toBeNull();
    expect(engine.overview).toHaveBeenLastCalledWith(null, null, TOP_RUNS);

    await flush();
    costs.selectBucket(0);
    range = { since: "2024-06-01T00:00:00Z", until: "2024-06-02T00:00:00Z" };
    costs.reload();
    expect(costs.bucket).toBeNull();
    expect(engine.overview).toHaveBeenLastCalledWith(Date.UTC(2024, 5, 1), Date.UTC(2024, 5, 2), TOP_RUNS);
  });

  it("drops an answer that arrives after a newer request", async () => {
    let answerOld: (o: CostOverview) => void = () => {};
    engine.overview.mockReturnValueOnce(new Promise((r) => (answerOld = r)));
    const costs = state();
    costs.reload();
    costs.clearBucket();
    await flush();
    expect(costs.overview?.summary.runs).toBe(3);
    answerOld(overview(99));
    await flush();
    expect(costs.overview?.summary.runs).toBe(3);
  });

  it("says what is wrong with the range, or with the engine, in place", async () => {
    const costs = state();
    range = { since: "soon", until: null };
    costs.reload();
    expect(costs.rangeError).toContain("“soon” is not a time");
    expect(engine.chart).not.toHaveBeenCalled();

    range = { since: null, until: null };
    engine.chart.mockRejectedValueOnce(new ApiError({ type: "Invalid", data: { message: "unknown grouping" } }));
    costs.reload();
    await flush();
    expect(costs.rangeError).toBeNull();
    expect(costs.chartError).toBe("unknown grouping");
    expect(costs.chart).toBeNull();
  });

  it("exports the chart on screen where the user says, adding the extension a dialog left off", async () => {
    const costs = state();
    costs.reload();
    await flush();
    engine.pickSavePath.mockResolvedValueOnce(null);
    await costs.exportChart(false);
    expect(engine.exportChart).not.toHaveBeenCalled();
    expect(costs.saved).toBeNull();

    engine.pickSavePath.mockResolvedValueOnce("/tmp/costs");
    await costs.exportChart(true);
    expect(engine.exportChart).toHaveBeenCalledWith({ kind: "cost", by: "model", start_ms: null, end_ms: null, percentile: null }, "/tmp/costs.png", true);
    expect(costs.saved).toBe("/tmp/costs.png");

    engine.pickSavePath.mockResolvedValueOnce("/nope/report.html");
    engine.saveReport.mockRejectedValueOnce(new ApiError({ type: "Unreadable", data: { path: "/nope/report.html", reason: "No such file or directory" } }));
    await costs.saveReport(false);
    expect(costs.saved).toBeNull();
    expect(costs.saveError).toContain("No such file or directory");
  });
});
