// The scrape-target form and list without the DOM: reading what was typed (a URL, an
// interval, a timeout, labels as `k=v` pairs), the words for a target's health, and how often
// live charts should refresh given the targets that are scraping.

import type { NewScrapeTarget, ScrapeTargetInfo, TargetHealth } from "../../api";
import { isPlainLabel } from "../metrics/promql";

export const DEFAULT_INTERVAL_MS = 5000;
export const MIN_INTERVAL_MS = 1000;

/** What the add form holds, as typed. */
export interface TargetForm {
  url: string;
  interval: string;
  timeout: string;
  labels: string;
  token: string;
}

export type FormField = "url" | "interval" | "timeout" | "labels";

export type FormResult = { ok: true; target: NewScrapeTarget } | { ok: false; field: FormField; message: string };

/** `5`, `2.5` (seconds), `500ms`, `5s`, `1m`, `1h` in milliseconds; null when not a duration. */
export function parseSeconds(text: string): number | null {
  const m = /^(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return null;
  const unit = m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : m[2] === "h" ? 3_600_000 : 1000;
  const ms = Math.round(Number(m[1]) * unit);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * `job=agent, env=dev` (commas, spaces or new lines between pairs) as a label map. Values may
 * be quoted to hold commas or spaces. Names follow Prometheus' rules; `__` names are its own.
 */
export function parseLabels(text: string): { ok: true; labels: Record<string, string> } | { ok: false; message: string } {
  const labels: Record<string, string> = {};
  const re = /([^\s=,]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))(?:\s*,\s*|\s+|$)/y;
  let i = 0;
  const t = text.trim();
  while (i < t.length) {
    re.lastIndex = i;
    const m = re.exec(t);
    if (!m) {
      const rest = t.slice(i).trim().split(/[,\s]/)[0];
      return { ok: false, message: `“${rest}” is not a label: write name=value, separated by commas` };
    }
    const [, name, quoted, bare] = m;
    if (!isPlainLabel(name)) {
      return { ok: false, message: `“${name}” is not a label name: letters, digits and _, not starting with a digit` };
    }
    if (name.startsWith("__")) return { ok: false, message: `“${name}”: names starting with __ are reserved` };
    if (name in labels) return { ok: false, message: `“${name}” is given twice` };
    const value = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (bare ?? "");
    if (value === "") return { ok: false, message: `“${name}” has no value` };
    labels[name] = value;
    i = re.lastIndex;
  }
  return { ok: true, labels };
}

/** The form as a target for the engine, or the first field that is wrong and why. */
export function readTargetForm(f: TargetForm): FormResult {
  const url = f.url.trim();
  if (url === "") return { ok: false, field: "url", message: "Give the address of a /metrics endpoint" };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, field: "url", message: `“${url}” is not a URL (like http://127.0.0.1:9464/metrics)` };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return { ok: false, field: "url", message: "Only http:// and https:// endpoints can be scraped" };
  }
  let interval = DEFAULT_INTERVAL_MS;
  if (f.interval.trim() !== "") {
    const ms = parseSeconds(f.interval);
    if (ms === null) return { ok: false, field: "interval", message: "Write the interval in seconds (5) or as 500ms, 5s, 1m" };
    if (ms < MIN_INTERVAL_MS) return { ok: false, field: "interval", message: "Scrape at most once a second (1s or more)" };
    interval = ms;
  }
  let timeout: number | null = null;
  if (f.timeout.trim() !== "") {
    const ms = parseSeconds(f.timeout);
    if (ms === null || ms <= 0) return { ok: false, field: "timeout", message: "Write the timeout in seconds (2) or as 500ms, 2s" };
    if (ms > interval) return { ok: false, field: "timeout", message: "The timeout cannot be longer than the interval" };
    timeout = ms;
  }
  const labels = parseLabels(f.labels);
  if (!labels.ok) return { ok: false, field: "labels", message: labels.message };
  const token = f.token.trim();
  return {
    ok: true,
    target: { url, interval_ms: interval, timeout_ms: timeout, labels: labels.labels, bearer_token: token === "" ? null : token },
  };
}

/** `5 s`, `1.5 s`, `250 ms`, `2 min`. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
  if (ms < 3_600_000) return `${Number((ms / 60_000).toFixed(1))} min`;
  return `${Number((ms / 3_600_000).toFixed(1))} h`;
}

/** "0.4 s ago", "12 s ago", "3 min ago"; "never". */
export function formatAgo(thenMs: number | null, nowMs: number): string {
  if (thenMs === null) return "never";
  const d = Math.max(0, nowMs - thenMs);
  if (d < 1000) return "just now";
  return `${formatMs(d)} ago`;
}

/** "in 3 s", "now" for the next scrape. */
export function formatIn(atMs: number | null, nowMs: number): string {
  if (atMs === null) return "—";
  const d = atMs - nowMs;
  return d < 500 ? "now" : `in ${formatMs(d)}`;
}

/** The state of a target in one word. */
export function stateLabel(h: TargetHealth): string {
  switch (h.state) {
    case "up":
      return "up";
    case "down":
      return "down";
    case "paused":
      return "paused";
    default:
      return "waiting";
  }
}

/** Labels of a target as `k=v` text (for its row). */
export function labelText(labels: Partial<Record<string, string>>): string {
  return Object.entries(labels)
    .filter((e): e is [string, string] => typeof e[1] === "string")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${/[\s,"]/.test(v) ? JSON.stringify(v) : v}`)
    .join(", ");
}

/**
 * How often a live chart refreshes: as often as the most frequent target that is scraping
 * (never faster than once a second), or null when none is.
 */
export function liveInterval(targets: readonly ScrapeTargetInfo[]): number | null {
  let best: number | null = null;
  for (const t of targets) {
    if (t.paused || t.health.state === "paused") continue;
    const every = Math.max(MIN_INTERVAL_MS, t.interval_ms);
    if (best === null || every < best) best = every;
  }
  return best;
}
