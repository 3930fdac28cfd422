// The Costs view's arithmetic and words: which groupings each chart takes, the columns uPlot
// draws (stacked charts as running sums), values in the chart's unit, the legend's totals, the
// order of the top runs, and the text of a clicked bucket.
//
// The engine sends a chart ready to draw (x = bucket starts in Unix ms, one value per bucket
// per series, null where a series had nothing); nothing here adds up calls or prices again.

import type { Chart, ChartKind, RunRow } from "../../api";
import { plural } from "../../lib/format";
import { formatClock, formatDate, sameDay } from "../../lib/time";
import { axisTicks, formatValue, readRange, type TimeRange, type TimeRangeText } from "../metrics/chart";
import { formatDurationNs } from "../runs/format";

export interface Choice<T> {
  value: T;
  label: string;
  title: string;
}

export const CHART_KINDS: ReadonlyArray<Choice<ChartKind>> = [
  { value: "cost", label: "Cost", title: "Cost per bucket, stacked" },
  { value: "tokens", label: "Tokens", title: "Tokens per bucket, stacked" },
  { value: "latency", label: "Latency", title: "A latency percentile per bucket, one line per group" },
  { value: "errors", label: "Errors", title: "The share of failed spans per bucket, one line per group" },
];

const MODEL = { value: "model", label: "Model", title: "LLM calls per model" };
const PROVIDER = { value: "provider", label: "Provider", title: "LLM calls per provider" };
const AGENT = { value: "agent", label: "Agent", title: "Calls per agent: the nearest agent span, so a sub-agent's calls are its own" };
const TRIGGER = { value: "trigger", label: "Trigger", title: "LLM calls per trigger: the tool or sub-agent whose result the call went on from" };

/** The groupings each chart takes, as the engine accepts them; the first is the chart's default. */
export const GROUPINGS: Readonly<Record<ChartKind, ReadonlyArray<Choice<string>>>> = {
  cost: [MODEL, PROVIDER, { value: "tool", label: "Tool", title: "Tool calls per tool (their price per call, when the price file has one)" }, AGENT, TRIGGER],
  tokens: [{ value: "type", label: "Type", title: "Input, output, cache read and cache write tokens" }, MODEL, PROVIDER, AGENT, TRIGGER],
  latency: spanGroupings(),
  errors: spanGroupings(),
};

function spanGroupings(): Array<Choice<string>> {
  return [
    { value: "kind", label: "Kind", title: "Spans per kind: agent, llm, tool…" },
    MODEL,
    { value: "tool", label: "Tool", title: "Tool calls per tool" },
    { value: "operation", label: "Operation", title: "Spans per name (chat gpt-4o, execute_tool search…)" },
    { value: "run", label: "Run", title: "Whole runs, from the root span's start to the last span's end" },
  ];
}

/** The latency percentiles the engine draws; 100 is the maximum. */
export const PERCENTILES: ReadonlyArray<Choice<number>> = [
  { value: 50, label: "p50", title: "The median" },
  { value: 90, label: "p90", title: "The 90th percentile" },
  { value: 95, label: "p95", title: "The 95th percentile" },
  { value: 99, label: "p99", title: "The 99th percentile" },
  { value: 100, label: "max", title: "The slowest" },
];
export const DEFAULT_PERCENTILE = 95;

/** The colours of the engine's PNG and SVG charts, so an export looks like the screen. */
export const CHART_PALETTE: readonly string[] = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

export function chartColor(i: number): string {
  return CHART_PALETTE[i % CHART_PALETTE.length];
}

// ---- the range ----------------------------------------------------------------------

/**
 * The shared range as the costs queries take it. Empty boxes are the data's own extent (not
 * the Metrics view's last hour: costs are mostly read from files written a while ago); an empty
 * until after a since is now.
 */
export function costRange(range: TimeRangeText, nowMs: number): TimeRange | { error: string } {
  return readRange({ since: range.since, until: range.until ?? (range.since === null ? null : "now") }, nowMs);
}

// ---- what uPlot draws ---------------------------------------------------------------

/**
 * Running sums of `cols` per bucket, the first column at the bottom: each column's top edge.
 * A null adds nothing to what is below it; a bucket stays null up to the first column that has
 * a value in it, so an empty bucket draws no bar.
 */
export function stack(cols: ReadonlyArray<ReadonlyArray<number | null>>): Array<Array<number | null>> {
  const out: Array<Array<number | null>> = [];
  let below: ReadonlyArray<number | null> = [];
  for (const col of cols) {
    const top = col.map((v, i) => {
      const b = below[i] ?? null;
      return v === null ? b : (b ?? 0) + v;
    });
    out.push(top);
    below = top;
  }
  return out;
}

/** uPlot's columns: x in Unix seconds (uPlot's unit), then one column per series. */
export function chartColumns(chart: Chart): { xs: number[]; ys: Array<Array<number | null>> } {
  const values = chart.series.map((s) => s.values);
  return { xs: chart.x_ms.map((ms) => ms / 1000), ys: chart.stacked ? stack(values) : values };
}

/** No series, or none with a value: nothing was called in the range. */
export function isEmptyChart(chart: Chart): boolean {
  return chart.x_ms.length === 0 || chart.series.every((s) => s.values.every((v) => v === null));
}

/** The bucket (of `size`, starting at each of `starts`) that holds `x`, or null outside them all. */
export function bucketAt(starts: readonly number[], size: number, x: number): number | null {
  if (starts.length === 0 || !(size > 0) || !Number.isFinite(x)) return null;
  const i = Math.floor((x - starts[0]) / size);
  return i >= 0 && i < starts.length ? i : null;
}

// ---- numbers in words ---------------------------------------------------------------

const USD = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** "$1,234.56", "$1.23", "$0.045", "$0.00012": cents, and two significant digits below a dollar. */
export function formatUsd(v: number): string {
  if (!Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a >= 1 || a === 0) return `$${USD.format(v)}`;
  const digits = Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(a))));
  return `$${v.toFixed(digits)}`;
}

const SCALES: ReadonlyArray<[number, string]> = [
  [1e9, "B"],
  [1e6, "M"],
  [1e3, "k"],
];

/** "850", "1.23k", "12.3k", "4.5M": three significant digits past a thousand. */
export function formatTokens(n: number): string {
  if (!Number.isFinite(n)) return "—";
  const r = Number(n.toPrecision(3));
  const scale = SCALES.find(([s]) => Math.abs(r) >= s);
  if (!scale) return String(Math.round(n));
  return `${Number((r / scale[0]).toPrecision(3))}${scale[1]}`;
}

/** "12.5%", "0.25%": a tenth of a percent, a hundredth below one. */
function formatPercent(v: number): string {
  return `${Number(v.toFixed(Math.abs(v) < 1 ? 2 : 1))}%`;
}

/** A chart's value in its unit ("USD", "tokens", "s" or "%"); "—" for none. */
export function formatInUnit(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return "—";
  switch (unit) {
    case "USD":
      return formatUsd(v);
    case "tokens":
      return formatTokens(v);
    case "s":
      return formatDurationNs(v * 1e9);
    case "%":
      return formatPercent(v);
    default:
      return formatValue(v);
  }
}

/** Labels of the value axis' ticks in the chart's unit: "$0.05", "1.5k", "250 ms", "2 s", "10%". */
export function unitTicks(splits: readonly number[], incr: number, unit: string): string[] {
  switch (unit) {
    case "USD":
      return axisTicks(splits, incr).map((t) => `$${t}`);
    case "%":
      return axisTicks(splits, incr).map((t) => `${t}%`);
    case "s": {
      // Milliseconds while every tick is under a second, so no axis reads "0.05 s".
      const ms = Math.max(0, ...splits) < 1;
      const k = ms ? 1000 : 1;
      return axisTicks(
        splits.map((v) => v * k),
        incr * k,
      ).map((t) => `${t} ${ms ? "ms" : "s"}`);
    }
    default:
      return axisTicks(splits, incr);
  }
}

/** A legend entry's total: dollars, tokens, or how many spans the line is drawn from. */
export function legendTotal(kind: ChartKind, total: number): string {
  switch (kind) {
    case "cost":
      return formatUsd(total);
    case "tokens":
      return formatTokens(total);
    default:
      return plural(Math.round(total), "span");
  }
}

/** "2024-06-01 11:00 – 12:00": a bucket `[startMs, startMs + sizeMs)` in local time, seconds only when it needs them. */
export function bucketText(startMs: number, sizeMs: number): string {
  const endMs = startMs + sizeMs;
  const chars = startMs % 60_000 === 0 && sizeMs % 60_000 === 0 ? 5 : 8;
  const clock = (ms: number) => formatClock(ms).slice(0, chars);
  const from = `${formatDate(startMs)} ${clock(startMs)}`;
  return sameDay(startMs, endMs) ? `${from} – ${clock(endMs)}` : `${from} – ${formatDate(endMs)} ${clock(endMs)}`;
}

// ---- the top runs -------------------------------------------------------------------

export type TopRunSort = "name" | "start" | "duration" | "status" | "llm_calls" | "tokens" | "cost";

const SORT_KEYS: Readonly<Record<TopRunSort, (r: RunRow) => number | string>> = {
  name: (r) => (r.name || r.trace_id).toLowerCase(),
  start: (r) => r.start_ns,
  duration: (r) => r.duration_ns,
  // Failed runs are the "larger" status, so a descending sort shows them first.
  status: (r) => (r.status === "error" ? 1 : 0),
  llm_calls: (r) => r.llm_calls,
  tokens: (r) => r.input_tokens + r.output_tokens,
  cost: (r) => r.cost,
};

/** The runs ordered by `key`; ties keep the engine's order (most expensive first). */
export function sortRuns(rows: readonly RunRow[], key: TopRunSort, descending: boolean): RunRow[] {
  const k = SORT_KEYS[key];
  const dir = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = k(a);
    const y = k(b);
    return x < y ? -dir : x > y ? dir : 0;
  });
}

/** Which way a column sorts when first clicked: names A to Z, numbers largest first. */
export function startsDescending(key: TopRunSort): boolean {
  return key !== "name";
}

// ---- saving -------------------------------------------------------------------------

/** `path`, with `.ext` added when its file name has no extension (some save dialogs add none). */
export function withExtension(path: string, ext: string): string {
  const name = path.split(/[\\/]/).pop() ?? path;
  return /.\.[^.]+$/.test(name) ? path : `${path}.${ext}`;
}
