// From a range query to what uPlot draws: the step for a range and a chart width, the grid
// the query is evaluated on, the series' names, and uPlot's aligned columns with nulls for gaps.
//
// uPlot wants one shared x column and one y column per series, equally long. The engine
// answers each series with its own points on the query's grid (start, start + step, …), and
// a series that has no value at a step simply has no point there. Filling the whole grid and
// leaving null where a series has nothing makes uPlot break the line at the gap instead of
// drawing a straight line across it.

import type { QueryResult } from "../../api";
import { formatClock, formatDate, parseSpanMs, parseTimeArg, sameDay } from "../../lib/time";

/** Never evaluate more often than this: samples are rarely closer together than a second. */
export const MIN_STEP_MS = 1000;

/** Steps a person can read on an axis ("every 15 s", "every 5 min"). */
const NICE_STEPS_MS: readonly number[] = [
  1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000,
  10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** Points per series the step aims at: about one per two pixels, between 300 and 1000. */
export function targetPoints(widthPx: number): number {
  const w = Number.isFinite(widthPx) ? widthPx : 0;
  return Math.max(300, Math.min(1000, Math.round(w / 2)));
}

/** The step for a range shown `widthPx` wide: the first readable step that keeps the points
 *  at or under `targetPoints`, never under a second; whole days past a day. */
export function chooseStep(rangeMs: number, widthPx: number): number {
  const raw = Math.max(0, rangeMs) / targetPoints(widthPx);
  if (raw <= MIN_STEP_MS) return MIN_STEP_MS;
  for (const s of NICE_STEPS_MS) if (s >= raw) return s;
  const day = 86_400_000;
  return Math.ceil(raw / day) * day;
}

/**
 * The range on the step's grid: both ends rounded down to a multiple of the step, so the
 * points of one refresh fall where the last refresh's did (a live chart does not shimmer),
 * and the newest point is never in the future.
 */
export function alignRange(startMs: number, endMs: number, stepMs: number): { start: number; end: number } {
  const start = Math.floor(startMs / stepMs) * stepMs;
  const end = Math.max(start, Math.floor(endMs / stepMs) * stepMs);
  return { start, end };
}

/** The range the Metrics view shows while the shared since box is empty. */
export const DEFAULT_SINCE = "1h";

/** The shared time range as the since/until boxes hold it (null: empty). */
export interface TimeRangeText {
  since: string | null;
  until: string | null;
}

export interface QueryPlan {
  start: number;
  end: number;
  step: number;
  /** The range ends at "now", so a refresh shows newer data (an until box that is a time does not). */
  followsNow: boolean;
}

/** Whether an until box's text moves with the clock. */
export function followsNow(until: string | null): boolean {
  if (until === null || until.trim() === "") return true;
  const t = until.trim().toLowerCase();
  return t === "now" || parseSpanMs(t) !== null;
}

/** The shared range in Unix ms; an empty box is a null end, for the caller to fill in. */
export interface TimeRange {
  start: number | null;
  end: number | null;
}

function notATime(text: string): { error: string } {
  return { error: `“${text}” is not a time: write a span back from now (15m, 2h) or a time (2024-06-01T12:00Z)` };
}

/** The shared boxes read at `nowMs`, or what is wrong with them in words. */
export function readRange(range: TimeRangeText, nowMs: number): TimeRange | { error: string } {
  const start = range.since === null ? null : parseTimeArg(range.since, nowMs);
  if (range.since !== null && start === null) return notATime(range.since);
  const end = range.until === null ? null : parseTimeArg(range.until, nowMs);
  if (range.until !== null && end === null) return notATime(range.until);
  if (start !== null && end !== null && end <= start) return { error: "The time range ends before it starts: since must be earlier than until" };
  return { start, end };
}

/**
 * Where and how finely to evaluate a query: the shared range read at `nowMs` (since defaults
 * to the last hour, until to now), the step for a chart `widthPx` wide, both ends on the grid.
 */
export function planQuery(range: TimeRangeText, nowMs: number, widthPx: number): QueryPlan | { error: string } {
  const r = readRange({ since: range.since ?? DEFAULT_SINCE, until: range.until ?? "now" }, nowMs);
  if ("error" in r) return r;
  // Both boxes have text here, so neither end is null.
  const start = r.start ?? nowMs;
  const end = r.end ?? nowMs;
  const step = chooseStep(end - start, widthPx);
  return { ...alignRange(start, end, step), step, followsNow: followsNow(range.until) };
}

const MAX_GRID = 20_000;

function quote(v: string): string {
  return `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** `name{a="1", b="2"}` as Prometheus prints a series; `fallback` (the query) when it has no labels. */
export function seriesName(labels: Partial<Record<string, string>>, fallback: string): string {
  const name = labels.__name__ ?? "";
  const rest = Object.entries(labels)
    .filter((e): e is [string, string] => e[0] !== "__name__" && typeof e[1] === "string")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${quote(v)}`);
  if (rest.length === 0) return name !== "" ? name : fallback;
  return `${name}{${rest.join(", ")}}`;
}

export interface AlignedSeries {
  /** Unix seconds (uPlot's time unit), ascending. */
  xs: number[];
  /** One column per drawn series, as long as `xs`; null where the series has no value. */
  ys: Array<Array<number | null>>;
  names: string[];
  /** Values drawn, over every series. */
  points: number;
  /** Series in the answer (before `maxSeries` cut it). */
  total: number;
}

/**
 * uPlot's aligned data for `result`, evaluated over `start`..`end` every `step`: the first
 * `maxSeries` series on the whole grid (plus any off-grid time the engine answered with).
 * Values the engine could not send as numbers (NaN, ±Inf) arrive as null and stay gaps.
 */
export function toAligned(
  result: QueryResult,
  grid: { start: number; end: number; step: number },
  fallbackName: string,
  maxSeries: number,
): AlignedSeries {
  const series = result.series.slice(0, Math.max(0, maxSeries));
  const times = new Set<number>();
  const { start, end, step } = grid;
  if (step > 0 && end >= start && (end - start) / step <= MAX_GRID) {
    for (let t = start; t <= end; t += step) times.add(t);
  }
  for (const s of series) for (const [t] of s.points) times.add(t);
  const sorted = [...times].sort((a, b) => a - b);
  const index = new Map<number, number>();
  sorted.forEach((t, i) => index.set(t, i));
  let points = 0;
  const ys = series.map((s) => {
    const col = new Array<number | null>(sorted.length).fill(null);
    for (const [t, v] of s.points) {
      const i = index.get(t);
      if (i === undefined || v === null || !Number.isFinite(v)) continue;
      if (col[i] === null) points++;
      col[i] = v;
    }
    return col;
  });
  return {
    xs: sorted.map((t) => t / 1000),
    ys,
    names: series.map((s) => seriesName(s.labels, fallbackName)),
    points,
    total: result.series.length,
  };
}

/** The last value a column holds, or null. */
export function lastValue(col: ReadonlyArray<number | null>): number | null {
  for (let i = col.length - 1; i >= 0; i--) {
    const v = col[i];
    if (v !== null) return v;
  }
  return null;
}

/** Dots only where lines cannot show the data: few values for the width, or values alone between gaps. */
export function showPoints(col: ReadonlyArray<number | null>, plotWidth: number): boolean {
  let n = 0;
  let lone = false;
  for (let i = 0; i < col.length; i++) {
    if (col[i] === null) continue;
    n++;
    if ((i === 0 || col[i - 1] === null) && (i === col.length - 1 || col[i + 1] === null)) lone = true;
  }
  return lone || n <= plotWidth / 12;
}

/** A value for the legend: up to six significant digits, exponents for the very large and small. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e15 || a < 1e-6) return v.toExponential(3).replace(/\.?0+e/, "e");
  if (Number.isInteger(v)) return String(v);
  const digits = Math.max(0, 6 - Math.floor(Math.log10(a)) - 1);
  return v.toFixed(Math.min(digits, 12)).replace(/\.?0+$/, "");
}

const SI: ReadonlyArray<[number, string]> = [
  [1e12, "T"],
  [1e9, "G"],
  [1e6, "M"],
  [1e3, "k"],
];

/** Digits after the point that `x` needs (0.0025 -> 4, 500 -> 0). */
function decimalsOf(x: number): number {
  const text = String(Number(Math.abs(x).toPrecision(10)));
  if (text.includes("e-")) return Number(text.split("e-")[1]) + (text.split("e")[0].split(".")[1]?.length ?? 0);
  return text.split(".")[1]?.length ?? 0;
}

/**
 * Labels of the value axis' ticks (`incr` apart): short (1.5k, 2M) but never two alike, as
 * many decimals as the spacing of the ticks needs and no more, exponents for the extremes.
 */
export function axisTicks(splits: readonly number[], incr: number): string[] {
  const max = Math.max(0, ...splits.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
  if (max >= 1e15 || (max > 0 && max < 1e-4) || !(incr > 0)) {
    return splits.map((v) => (v === 0 ? "0" : v.toExponential(Math.min(6, Math.max(1, decimalsOf(incr / 10 ** Math.floor(Math.log10(max)))))).replace(/\.?0+e/, "e")));
  }
  const [size, unit] = SI.find(([s]) => max >= s) ?? [1, ""];
  const digits = Math.min(10, decimalsOf(incr / size));
  return splits.map((v) => (v === 0 ? "0" : `${(v / size).toFixed(digits)}${unit}`));
}

/**
 * Labels of the time axis' ticks (`splits` in Unix seconds, `incr` the seconds between them),
 * in local time on a 24-hour clock as the rest of the app: seconds only when ticks are closer
 * than a minute, the date under the first tick and wherever the day changes, dates alone when
 * ticks are days apart.
 */
export function timeTicks(splits: readonly number[], incr: number): string[] {
  return splits.map((sec, i) => {
    const ms = sec * 1000;
    if (incr >= 86_400) return formatDate(ms);
    const clock = formatClock(ms);
    const time = incr < 1 ? clock : incr < 60 ? clock.slice(0, 8) : clock.slice(0, 5);
    const newDay = i === 0 || !sameDay(ms, splits[i - 1] * 1000);
    return newDay ? `${time}\n${formatDate(ms)}` : time;
  });
}

/** A chart's range for people: "2024-06-01 11:00:00 – 12:00:00", the second date only when it differs. */
export function formatSpan(startMs: number, endMs: number): string {
  const a = `${formatDate(startMs)} ${formatClock(startMs).slice(0, 8)}`;
  const b = formatClock(endMs).slice(0, 8);
  return sameDay(startMs, endMs) ? `${a} – ${b}` : `${a} – ${formatDate(endMs)} ${b}`;
}

/** Line colours: distinct in both themes, the first few far apart from each other. */
export const PALETTE: readonly string[] = [
  "#3b82f6",
  "#f59e0b",
  "#10b981",
  "#ef4444",
  "#8b5cf6",
  "#06b6d4",
  "#ec4899",
  "#84cc16",
  "#f97316",
  "#6366f1",
  "#14b8a6",
  "#eab308",
  "#a855f7",
  "#0ea5e9",
  "#d946ef",
  "#22c55e",
];

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}
