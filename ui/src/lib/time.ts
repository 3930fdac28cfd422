// Times for the log list and the detail pane.
//
// Rows carry `ts` (RFC 3339, UTC, nanoseconds) and `ts_ms`. The list shows local wall-clock
// time to the millisecond and the date only where it changes; the exact UTC text stays one
// hover away, so nothing is lost to rounding or time zones.

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** "HH:MM:SS.mmm" in local time. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "--:--:--.---";
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "YYYY-MM-DD" in local time. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "----------";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "YYYY-MM-DD HH:MM:SS.mmm" in local time. */
export function formatDateTime(ms: number): string {
  return `${formatDate(ms)} ${formatClock(ms)}`;
}

/** Whether two instants fall on the same local calendar day. */
export function sameDay(a: number, b: number): boolean {
  return formatDate(a) === formatDate(b);
}

/** Whether the list should print the date on a row, given the row above it (if loaded). */
export function showDate(ms: number, previousMs: number | undefined): boolean {
  return previousMs === undefined || !sameDay(ms, previousMs);
}

/** Unix nanoseconds (as the engine sends them, approximately) to milliseconds. */
export function nsToMs(ns: number): number {
  return Math.round(ns / 1e6);
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago", then a date. */
export function formatRelative(thenMs: number, nowMs: number): string {
  if (!Number.isFinite(thenMs) || thenMs <= 0) return "never";
  const s = Math.round((nowMs - thenMs) / 1000);
  // A little in the future is clock skew between the engine and the UI, not time travel.
  if (s < -60) return formatDateTime(thenMs);
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ago`;
  const days = Math.floor(h / 24);
  if (days === 1) return "yesterday";
  if (days < 30) return `${days} days ago`;
  return formatDate(thenMs);
}

/** A since/until box's text as the filter wants it: trimmed, or null when empty. */
export function timeBound(text: string): string | null {
  const t = text.trim();
  return t === "" ? null : t;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/** A span typed in a since/until box (`15m`, `1.5h`, `90 s`) in milliseconds, as the engine
 *  reads it (src/time_arg.rs); null when it is not one. */
export function parseSpanMs(text: string): number | null {
  const m = /^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)$/.exec(text.trim());
  if (!m) return null;
  const unit = DURATION_UNITS_MS[m[2]];
  if (unit === undefined) return null;
  const ms = Number(m[1]) * unit;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$/;

/**
 * A since/until box's text as Unix milliseconds, read the way the engine reads it
 * (src/time_arg.rs): a span back from `nowMs`, `now`, an RFC 3339 time or a date (UTC when it
 * names no offset), or epoch seconds/milliseconds. Null when the text is none of those: the
 * engine, which checks the same box for the log list, says why in words.
 */
export function parseTimeArg(text: string, nowMs: number): number | null {
  const t = text.trim();
  const span = parseSpanMs(t);
  if (span !== null) return nowMs - span;
  if (t.toLowerCase() === "now") return nowMs;
  if (/^\d+(\.\d+)?$/.test(t)) {
    const v = Number(t);
    // Seconds, milliseconds, microseconds or nanoseconds, told apart by size as the engine does.
    if (v < 1e11) return Math.round(v * 1000);
    if (v < 1e14) return Math.round(v);
    if (v < 1e17) return Math.round(v / 1000);
    return Math.round(v / 1e6);
  }
  const m = ISO.exec(t);
  if (!m) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return null;
  const ms = Number((frac + "000").slice(0, 3));
  let at = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s), ms);
  if (zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    at -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return Number.isFinite(at) ? at : null;
}

/** Unix milliseconds as RFC 3339 UTC to the millisecond, the form the time boxes take. */
export function formatRfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
