// The Alerts view's pure logic: silence matchers built from an alert's labels, times in words,
// alerts sorted and split by state, label maps compared, rule states in one word, and the
// geometry of backtest bands (on the view's timelines and on the Metrics chart).
//
// Label names and values come from rules, scrapes and logs: untrusted text. Everything here
// returns plain strings and numbers; the components render them as text.

import type { AlertStatus, BacktestBand, RuleProblem, RuleStatus, SilenceStatus } from "../../api";
import { formatDate, formatDateTime, formatRelative } from "../../lib/time";
import { escapeString, formatPromDuration } from "../metrics/promql";

/** A label set as the engine sends it (a missing key and an undefined value are the same). */
export type Labels = Partial<Record<string, string>>;

// ---- labels and matchers --------------------------------------------------------------

/** The defined entries of a label map, sorted by name. */
export function labelEntries(labels: Labels): Array<[string, string]> {
  return Object.entries(labels)
    .filter((e): e is [string, string] => typeof e[1] === "string")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Silence matchers selecting exactly this label set: `{alertname="X", job="y"}`, alertname
 * first and the rest by name, every value an equality matcher.
 */
export function matchersFor(labels: Labels): string {
  const entries = labelEntries(labels);
  entries.sort(([a], [b]) => Number(b === "alertname") - Number(a === "alertname"));
  return `{${entries.map(([k, v]) => `${k}="${escapeString(v)}"`).join(", ")}}`;
}

/** A canonical text for a label set (for keys and comparisons). */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(labelEntries(labels));
}

/** Whether two label sets are the same. */
export function sameLabels(a: Labels, b: Labels): boolean {
  return labelsKey(a) === labelsKey(b);
}

/** Whether `labels` equals any of `wanted`. */
export function labelsIn(labels: Labels, wanted: readonly Labels[]): boolean {
  if (wanted.length === 0) return false;
  const key = labelsKey(labels);
  return wanted.some((w) => labelsKey(w) === key);
}

/** The labels shown as chips beside an alert's name (all but `alertname`). */
export function chipLabels(labels: Labels): Array<[string, string]> {
  return labelEntries(labels).filter(([k]) => k !== "alertname");
}

/** `k=v`, the value quoted when it has spaces, commas or quotes. */
export function chipText(k: string, v: string): string {
  return `${k}=${/[\s,"{}]/.test(v) || v === "" ? JSON.stringify(v) : v}`;
}

// ---- alerts --------------------------------------------------------------------------

/** The alert's name: its `alertname` label, else its rule's name. */
export function alertName(a: Pick<AlertStatus, "labels" | "rule">): string {
  return a.labels.alertname ?? a.rule;
}

/** When the alert entered its state: fired for a firing alert, became active otherwise. */
export function alertSince(a: Pick<AlertStatus, "state" | "fired_at_ms" | "active_at_ms">): number {
  return a.state === "firing" && a.fired_at_ms !== null ? a.fired_at_ms : a.active_at_ms;
}

export interface SplitAlerts {
  /** Firing first, then pending; the newest of each first. */
  active: AlertStatus[];
  /** Newest resolution first. */
  resolved: AlertStatus[];
  firing: number;
  pending: number;
}

const STATE_RANK: Readonly<Record<string, number>> = { firing: 0, pending: 1 };

export function splitAlerts(alerts: readonly AlertStatus[]): SplitAlerts {
  const active: AlertStatus[] = [];
  const resolved: AlertStatus[] = [];
  let firing = 0;
  let pending = 0;
  for (const a of alerts) {
    if (a.state === "firing") firing++;
    else if (a.state === "pending") pending++;
    if (a.state === "firing" || a.state === "pending") active.push(a);
    else resolved.push(a);
  }
  active.sort(
    (a, b) =>
      (STATE_RANK[a.state] ?? 2) - (STATE_RANK[b.state] ?? 2) ||
      alertSince(b) - alertSince(a) ||
      cmp(alertName(a), alertName(b)) ||
      cmp(labelsKey(a.labels), labelsKey(b.labels)),
  );
  resolved.sort((a, b) => (b.resolved_at_ms ?? b.active_at_ms) - (a.resolved_at_ms ?? a.active_at_ms) || cmp(alertName(a), alertName(b)));
  return { active, resolved, firing, pending };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A rule's state in one word: `firing`, `pending`, `inactive`, or `record` for a recording rule. */
export function ruleState(r: Pick<RuleStatus, "kind" | "state">): string {
  if (r.kind !== "alert") return "record";
  return r.state === "" ? "inactive" : r.state;
}

/** `ok`, `err` or `unknown` as the engine says, anything else as `unknown`. */
export function ruleHealth(r: Pick<RuleStatus, "health">): "ok" | "err" | "unknown" {
  return r.health === "ok" || r.health === "err" ? r.health : "unknown";
}

/** The pill tone (app.css) of an alert's or a rule's state: firing red, pending amber, else muted. */
export function stateTone(state: string): string {
  return state === "firing" ? "pill-error" : state === "pending" ? "pill-warn" : "";
}

/** The header's summary: "3 firing, 1 pending". */
export function summaryText(firing: number, pending: number): string {
  return `${firing} firing, ${pending} pending`;
}

/** Entries with a time, newest first (ties keep their order). */
export function newestFirst<T extends { t_ms: number }>(items: readonly T[]): T[] {
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => b.item.t_ms - a.item.t_ms || a.i - b.i)
    .map((x) => x.item);
}

const SILENCE_RANK: Readonly<Record<string, number>> = { active: 0, pending: 1 };

/** Active silences first, then those that start later, then expired ones; the newest first in each. */
export function sortSilences(silences: readonly SilenceStatus[]): SilenceStatus[] {
  return [...silences].sort(
    (a, b) => (SILENCE_RANK[a.state] ?? 2) - (SILENCE_RANK[b.state] ?? 2) || b.starts_at_ms - a.starts_at_ms || cmp(a.id, b.id),
  );
}

/** The annotation a row shows: the summary, else the description. */
export function alertSummary(a: Pick<AlertStatus, "annotations">): string {
  return a.annotations.summary ?? a.annotations.description ?? "";
}

// ---- times ---------------------------------------------------------------------------

/** "5 min ago", "just now", and ahead of now "in 45 min", "in 3 h", "in 2 days". */
export function formatWhen(ms: number | null, nowMs: number): string {
  if (ms === null || !Number.isFinite(ms) || ms <= 0) return "never";
  const ahead = ms - nowMs;
  if (ahead <= 60_000) return formatRelative(ms, Math.max(nowMs, ms));
  const s = Math.round(ahead / 1000);
  const m = Math.round(s / 60);
  if (m < 60) return `in ${m} min`;
  const h = Math.round(m / 60);
  if (h < 48) return `in ${h} h`;
  const d = Math.round(h / 24);
  if (d < 30) return `in ${d} days`;
  return formatDate(ms);
}

/** The exact local time for a tooltip; "" for none. */
export function exactTime(ms: number | null): string {
  return ms === null || !Number.isFinite(ms) || ms <= 0 ? "" : formatDateTime(ms);
}

/** A duration like a rule's `for`: "0s", "5m", "1h30m", "250ms"; "—" for none. */
export function formatFor(ms: number | null): string {
  return ms === null || !Number.isFinite(ms) ? "—" : formatPromDuration(ms);
}

/** An evaluation's duration in milliseconds: "0.4 ms", "12 ms", "1,250 ms". */
export function formatEvalMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  if (ms < 10) return `${Number(ms.toFixed(1))} ms`;
  return `${Math.round(ms).toLocaleString("en-US")} ms`;
}

// ---- durations offered in forms ------------------------------------------------------

export interface DurationChoice {
  ms: number;
  label: string;
}

/** How long a new silence lasts. */
export const SILENCE_DURATIONS: readonly DurationChoice[] = [
  { ms: 15 * 60_000, label: "15 min" },
  { ms: 3_600_000, label: "1 hour" },
  { ms: 4 * 3_600_000, label: "4 hours" },
  { ms: 24 * 3_600_000, label: "24 hours" },
];

/** A silence's duration from the alerts table. */
export const QUICK_SILENCE_MS = 3_600_000;

export const REPEAT_INTERVALS: readonly number[] = [5 * 60_000, 15 * 60_000, 30 * 60_000, 3_600_000, 4 * 3_600_000, 12 * 3_600_000, 24 * 3_600_000];
export const GROUP_WAITS: readonly number[] = [0, 5000, 10_000, 30_000, 60_000, 5 * 60_000];

/** The standard choices plus `current` when it is none of them, in order, as label and value. */
export function durationChoices(standard: readonly number[], current: number): DurationChoice[] {
  const all = new Set(standard);
  if (Number.isFinite(current) && current >= 0) all.add(Math.round(current));
  return [...all].sort((a, b) => a - b).map((ms) => ({ ms, label: formatFor(ms) }));
}

// ---- rule checks ---------------------------------------------------------------------

export interface CheckSummary {
  errors: number;
  warnings: number;
}

export function countProblems(problems: readonly RuleProblem[]): CheckSummary {
  let errors = 0;
  let warnings = 0;
  for (const p of problems) {
    if (p.warning) warnings++;
    else errors++;
  }
  return { errors, warnings };
}

/** "1 group, 3 rules". */
export function groupsText(groups: number, rules: number): string {
  return `${groups} ${groups === 1 ? "group" : "groups"}, ${rules} ${rules === 1 ? "rule" : "rules"}`;
}

// ---- delivery errors -------------------------------------------------------------------

/** Remembers the delivery errors already shown, so each distinct one is shown once. */
export class ShownOnce {
  private seen = new Set<string>();

  /** The message when it has not been shown before (and now counts as shown), else null. */
  take(message: string | null | undefined): string | null {
    if (message === null || message === undefined) return null;
    const m = message.trim();
    if (m === "" || this.seen.has(m)) return null;
    this.seen.add(m);
    return m;
  }
}

// ---- backtest bands --------------------------------------------------------------------

export interface BandRow {
  key: string;
  alertname: string;
  labels: Labels;
  bands: BacktestBand[];
  /** Milliseconds spent firing and pending in all. */
  firingMs: number;
  pendingMs: number;
}

/** Bands grouped by alert (name and labels), by name then labels, bands in time order. */
export function bandRows(bands: readonly BacktestBand[]): BandRow[] {
  const rows = new Map<string, BandRow>();
  for (const b of bands) {
    const key = `${b.alertname}\u0000${labelsKey(b.labels)}`;
    let row = rows.get(key);
    if (!row) {
      row = { key, alertname: b.alertname, labels: b.labels, bands: [], firingMs: 0, pendingMs: 0 };
      rows.set(key, row);
    }
    row.bands.push(b);
    const len = Math.max(0, b.to_ms - b.from_ms);
    if (b.phase === "firing") row.firingMs += len;
    else row.pendingMs += len;
  }
  const out = [...rows.values()];
  for (const r of out) r.bands.sort((a, b) => a.from_ms - b.from_ms);
  out.sort((a, b) => cmp(a.alertname, b.alertname) || cmp(a.key, b.key));
  return out;
}

/**
 * Where a band sits on a timeline of `[startMs, endMs]`, in percent of its width; at least
 * `minPct` wide so a single evaluation shows. Null when it lies wholly outside the range.
 */
export function bandLayout(fromMs: number, toMs: number, startMs: number, endMs: number, minPct = 0.4): { left: number; width: number } | null {
  const span = endMs - startMs;
  if (!(span > 0) || !Number.isFinite(fromMs) || !Number.isFinite(toMs)) return null;
  const lo = Math.max(fromMs, startMs);
  const hi = Math.min(Math.max(toMs, fromMs), endMs);
  if (hi < lo || toMs < startMs || fromMs > endMs) return null;
  let left = ((lo - startMs) / span) * 100;
  let width = ((hi - lo) / span) * 100;
  if (width < minPct) {
    width = minPct;
    left = Math.min(left, 100 - minPct);
  }
  return { left, width };
}

export interface Interval {
  from: number;
  to: number;
}

/** Overlapping or touching intervals joined, in order. */
export function mergeIntervals(items: readonly Interval[]): Interval[] {
  const sorted = items.filter((i) => Number.isFinite(i.from) && Number.isFinite(i.to) && i.to >= i.from).sort((a, b) => a.from - b.from);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.from <= last.to) last.to = Math.max(last.to, i.to);
    else out.push({ from: i.from, to: i.to });
  }
  return out;
}

export interface ChartRect {
  phase: "pending" | "firing";
  /** Left edge and width in the caller's pixels. */
  x: number;
  w: number;
}

/**
 * Rectangles to shade on a chart for the bands of every alert: the firing stretches, and the
 * pending stretches where nothing fires. `toPx` maps Unix ms to pixels; rectangles are clipped
 * to `[leftPx, rightPx]` and at least `minPx` wide.
 */
export function chartRects(bands: readonly BacktestBand[], toPx: (ms: number) => number, leftPx: number, rightPx: number, minPx = 1): ChartRect[] {
  const firing = mergeIntervals(bands.filter((b) => b.phase === "firing").map((b) => ({ from: b.from_ms, to: b.to_ms })));
  const pending = mergeIntervals(bands.filter((b) => b.phase !== "firing").map((b) => ({ from: b.from_ms, to: b.to_ms })));
  const out: ChartRect[] = [];
  const push = (phase: ChartRect["phase"], i: Interval) => {
    let a = toPx(i.from);
    let b = toPx(i.to);
    if (!Number.isFinite(a) || !Number.isFinite(b)) return;
    if (b < a) [a, b] = [b, a];
    if (b < leftPx || a > rightPx) return;
    a = Math.max(a, leftPx);
    b = Math.min(b, rightPx);
    if (b - a < minPx) {
      const mid = (a + b) / 2;
      a = Math.max(leftPx, mid - minPx / 2);
      b = Math.min(rightPx, a + minPx);
    }
    out.push({ phase, x: a, w: b - a });
  };
  for (const i of pending) for (const rest of subtract(i, firing)) push("pending", rest);
  for (const i of firing) push("firing", i);
  return out;
}

/** `i` minus every interval of `cuts` (sorted, disjoint). */
function subtract(i: Interval, cuts: readonly Interval[]): Interval[] {
  let parts: Interval[] = [i];
  for (const c of cuts) {
    if (c.to <= i.from || c.from >= i.to) continue;
    const next: Interval[] = [];
    for (const p of parts) {
      if (c.to <= p.from || c.from >= p.to) next.push(p);
      else {
        if (c.from > p.from) next.push({ from: p.from, to: c.from });
        if (c.to < p.to) next.push({ from: c.to, to: p.to });
      }
    }
    parts = next;
  }
  return parts;
}

// ---- the rule editor and settings --------------------------------------------------------

/** Where 1-based `line` starts in `text` (the end when there are fewer lines). */
export function lineOffset(text: string, line: number): number {
  let at = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf("\n", at);
    if (next < 0) return text.length;
    at = next + 1;
  }
  return at;
}

/** What is wrong with a webhook URL (the engine posts to http:// only), or null. */
export function webhookProblem(url: string): string | null {
  const u = url.trim();
  if (u === "") return null;
  if (!/^http:\/\/[^\s/]+/i.test(u)) return "Only http:// URLs are supported, like http://127.0.0.1:9093/hook";
  return null;
}
