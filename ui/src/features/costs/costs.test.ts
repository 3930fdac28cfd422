import { describe, expect, it } from "vitest";
import type { Chart, ChartKind, RunRow } from "../../api";
import {
  CHART_KINDS,
  CHART_PALETTE,
  GROUPINGS,
  PERCENTILES,
  bucketAt,
  bucketText,
  chartColor,
  chartColumns,
  costRange,
  formatInUnit,
  formatTokens,
  formatUsd,
  isEmptyChart,
  legendTotal,
  sortRuns,
  stack,
  startsDescending,
  unitTicks,
  withExtension,
} from "./costs";

function chart(over: Partial<Chart>): Chart {
  return {
    kind: "cost",
    by: "model",
    title: "Cost by model",
    y_label: "Cost (USD per hour)",
    unit: "USD",
    stacked: true,
    bucket_ms: 3_600_000,
    x_ms: [0, 3_600_000, 7_200_000],
    series: [],
    note: null,
    ...over,
  };
}

function run(over: Partial<RunRow>): RunRow {
  return {
    trace_id: "t",
    name: "run",
    status: "ok",
    start_ns: 0,
    end_ns: 0,
    duration_ns: 0,
    spans: 1,
    llm_calls: 0,
    tool_calls: 0,
    errors: 0,
    input_tokens: 0,
    output_tokens: 0,
    cost: 0,
    ...over,
  };
}

describe("groupings", () => {
  it("offers what the engine accepts for each chart, its default first", () => {
    const values = (k: ChartKind) => GROUPINGS[k].map((g) => g.value);
    expect(values("cost")).toEqual(["model", "provider", "tool", "agent", "trigger"]);
    expect(values("tokens")).toEqual(["type", "model", "provider", "agent", "trigger"]);
    expect(values("latency")).toEqual(["kind", "model", "tool", "operation", "run"]);
    expect(values("errors")).toEqual(["kind", "model", "tool", "operation", "run"]);
  });

  it("explains the trigger", () => {
    expect(GROUPINGS.cost.find((g) => g.value === "trigger")?.title).toContain("the tool or sub-agent whose result");
  });

  it("has one tab per chart and the engine's percentiles", () => {
    expect(CHART_KINDS.map((k) => k.label)).toEqual(["Cost", "Tokens", "Latency", "Errors"]);
    expect(PERCENTILES.map((p) => [p.value, p.label])).toEqual([
      [50, "p50"],
      [90, "p90"],
      [95, "p95"],
      [99, "p99"],
      [100, "max"],
    ]);
  });
});

describe("stack", () => {
  it("sums each bucket from the first series up", () => {
    expect(
      stack([
        [1, 2, 3],
        [10, 20, 30],
        [100, 200, 300],
      ]),
    ).toEqual([
      [1, 2, 3],
      [11, 22, 33],
      [111, 222, 333],
    ]);
  });

  it("adds nothing for a null, and leaves a bucket empty until a series has a value in it", () => {
    expect(
      stack([
        [null, 1, null, null],
        [2, null, null, null],
        [3, 4, null, 5],
      ]),
    ).toEqual([
      [null, 1, null, null],
      [2, 1, null, null],
      [5, 5, null, 5],
    ]);
  });

  it("stacks nothing into nothing", () => {
    expect(stack([])).toEqual([]);
  });
});

describe("chartColumns", () => {
  const series = [
    { label: "a", values: [1, null, 2], total: 3 },
    { label: "b", values: [null, 4, 1], total: 5 },
  ];

  it("gives uPlot seconds and running sums for a stacked chart", () => {
    expect(chartColumns(chart({ series }))).toEqual({
      xs: [0, 3600, 7200],
      ys: [
        [1, null, 2],
        [1, 4, 3],
      ],
    });
  });

  it("keeps lines as they are, gaps and all", () => {
    expect(chartColumns(chart({ kind: "latency", stacked: false, unit: "s", series })).ys).toEqual([
      [1, null, 2],
      [null, 4, 1],
    ]);
  });

  it("knows an empty chart", () => {
    expect(isEmptyChart(chart({ series: [] }))).toBe(true);
    expect(isEmptyChart(chart({ series: [{ label: "a", values: [null, null, null], total: 0 }] }))).toBe(true);
    expect(isEmptyChart(chart({ x_ms: [], series: [] }))).toBe(true);
    expect(isEmptyChart(chart({ series }))).toBe(false);
  });
});

describe("bucketAt", () => {
  it("finds the bucket holding x, and none outside them", () => {
    const starts = [100, 110, 120];
    expect(bucketAt(starts, 10, 100)).toBe(0);
    expect(bucketAt(starts, 10, 109.9)).toBe(0);
    expect(bucketAt(starts, 10, 110)).toBe(1);
    expect(bucketAt(starts, 10, 129)).toBe(2);
    expect(bucketAt(starts, 10, 130)).toBeNull();
    expect(bucketAt(starts, 10, 99)).toBeNull();
    expect(bucketAt([], 10, 100)).toBeNull();
    expect(bucketAt(starts, 10, Number.NaN)).toBeNull();
  });
});

describe("units", () => {
  it("writes dollars as cents, and small amounts to two significant digits", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(1.234)).toBe("$1.23");
    expect(formatUsd(1234.5)).toBe("$1,234.50");
    expect(formatUsd(0.5)).toBe("$0.50");
    expect(formatUsd(0.04536)).toBe("$0.045");
    expect(formatUsd(0.000123)).toBe("$0.00012");
    expect(formatUsd(1e-9)).toBe("$0.000000");
  });

  it("writes tokens short", () => {
    expect(formatTokens(0)).toBe("0");
    expect(formatTokens(850)).toBe("850");
    expect(formatTokens(1234)).toBe("1.23k");
    expect(formatTokens(12_345)).toBe("12.3k");
    expect(formatTokens(123_456)).toBe("123k");
    expect(formatTokens(999_950)).toBe("1M");
    expect(formatTokens(4_500_000)).toBe("4.5M");
    expect(formatTokens(2e9)).toBe("2B");
  });

  it("writes a value in the chart's unit", () => {
    expect(formatInUnit(1.5, "USD")).toBe("$1.50");
    expect(formatInUnit(12_345, "tokens")).toBe("12.3k");
    expect(formatInUnit(0.25, "s")).toBe("250 ms");
    expect(formatInUnit(1.5, "s")).toBe("1.500 s");
    expect(formatInUnit(12.345, "%")).toBe("12.3%");
    expect(formatInUnit(0.254, "%")).toBe("0.25%");
    expect(formatInUnit(100, "%")).toBe("100%");
    expect(formatInUnit(null, "USD")).toBe("—");
  });

  it("labels the value axis in the chart's unit", () => {
    expect(unitTicks([0, 0.05, 0.1], 0.05, "USD")).toEqual(["$0", "$0.05", "$0.10"]);
    expect(unitTicks([0, 5000, 10_000], 5000, "tokens")).toEqual(["0", "5k", "10k"]);
    expect(unitTicks([0, 25, 50], 25, "%")).toEqual(["0%", "25%", "50%"]);
    expect(unitTicks([0, 0.25, 0.5], 0.25, "s")).toEqual(["0 ms", "250 ms", "500 ms"]);
    expect(unitTicks([0, 1.5, 3], 1.5, "s")).toEqual(["0 s", "1.5 s", "3.0 s"]);
  });

  it("totals a legend entry by chart", () => {
    expect(legendTotal("cost", 1.234)).toBe("$1.23");
    expect(legendTotal("tokens", 12_345)).toBe("12.3k");
    expect(legendTotal("latency", 1234)).toBe("1,234 spans");
    expect(legendTotal("errors", 1)).toBe("1 span");
  });

  it("colours series as the engine's exports do", () => {
    expect(chartColor(0)).toBe("#4e79a7");
    expect(chartColor(1)).toBe("#f28e2b");
    expect(chartColor(10)).toBe(CHART_PALETTE[0]);
  });
});

describe("sortRuns", () => {
  const a = run({ trace_id: "a", name: "beta", cost: 0.5, start_ns: 3, duration_ns: 10, llm_calls: 4, input_tokens: 5, output_tokens: 5 });
  const b = run({ trace_id: "b", name: "Alpha", cost: 0.9, start_ns: 1, duration_ns: 30, status: "error", llm_calls: 1, input_tokens: 100 });
  const c = run({ trace_id: "c", name: "", cost: 0.5, start_ns: 2, duration_ns: 20, llm_calls: 9, output_tokens: 1 });
  const ids = (rows: RunRow[]) => rows.map((r) => r.trace_id);

  it("sorts by any column either way", () => {
    expect(ids(sortRuns([a, b, c], "cost", true))).toEqual(["b", "a", "c"]);
    expect(ids(sortRuns([a, b, c], "start", false))).toEqual(["b", "c", "a"]);
    expect(ids(sortRuns([a, b, c], "duration", true))).toEqual(["b", "c", "a"]);
    expect(ids(sortRuns([a, b, c], "llm_calls", true))).toEqual(["c", "a", "b"]);
    expect(ids(sortRuns([a, b, c], "tokens", true))).toEqual(["b", "a", "c"]);
    expect(ids(sortRuns([a, b, c], "status", true))).toEqual(["b", "a", "c"]);
  });

  it("sorts names without case, a nameless run by its trace id", () => {
    expect(ids(sortRuns([a, b, c], "name", false))).toEqual(["b", "a", "c"]);
  });

  it("keeps the engine's order for ties, and leaves its input alone", () => {
    const rows = [c, a];
    expect(ids(sortRuns(rows, "cost", true))).toEqual(["c", "a"]);
    expect(ids(sortRuns(rows, "cost", false))).toEqual(["c", "a"]);
    expect(ids(rows)).toEqual(["c", "a"]);
  });

  it("starts names A to Z and numbers largest first", () => {
    expect(startsDescending("name")).toBe(false);
    expect(startsDescending("cost")).toBe(true);
  });
});

describe("bucketText", () => {
  it("writes a bucket in minutes, seconds only when it needs them", () => {
    expect(bucketText(Date.UTC(2024, 5, 1, 11), 3_600_000)).toBe("2024-06-01 11:00 – 12:00");
    expect(bucketText(Date.UTC(2024, 5, 1, 11, 0, 30), 30_000)).toBe("2024-06-01 11:00:30 – 11:01:00");
  });

  it("names the second day when the bucket ends on another", () => {
    expect(bucketText(Date.UTC(2024, 5, 1, 23), 3_600_000)).toBe("2024-06-01 23:00 – 2024-06-02 00:00");
    expect(bucketText(Date.UTC(2024, 5, 1), 86_400_000)).toBe("2024-06-01 00:00 – 2024-06-02 00:00");
  });
});

describe("costRange", () => {
  const now = Date.UTC(2024, 5, 1, 12);

  it("is all the data while both boxes are empty", () => {
    expect(costRange({ since: null, until: null }, now)).toEqual({ start: null, end: null });
  });

  it("runs to now from a since", () => {
    expect(costRange({ since: "1h", until: null }, now)).toEqual({ start: Date.UTC(2024, 5, 1, 11), end: now });
    expect(costRange({ since: null, until: "2024-06-01T10:00:00Z" }, now)).toEqual({ start: null, end: Date.UTC(2024, 5, 1, 10) });
  });

  it("says what is wrong with the boxes", () => {
    expect(costRange({ since: "soon", until: null }, now)).toEqual({ error: expect.stringContaining("“soon” is not a time") });
    expect(costRange({ since: "1h", until: "2h" }, now)).toEqual({ error: expect.stringContaining("ends before it starts") });
  });
});

describe("withExtension", () => {
  it("adds the extension only to a name without one", () => {
    expect(withExtension("/home/me/costs", "png")).toBe("/home/me/costs.png");
    expect(withExtension("/home/me/costs.svg", "png")).toBe("/home/me/costs.svg");
    expect(withExtension("/home/me.d/report", "html")).toBe("/home/me.d/report.html");
    expect(withExtension("C:\\Users\\me\\report.html", "html")).toBe("C:\\Users\\me\\report.html");
  });
});
