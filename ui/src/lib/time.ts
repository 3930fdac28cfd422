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
