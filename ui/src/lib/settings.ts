// What the app remembers between launches: the last view, the log filters (their time range
// is the Metrics and Costs views' too), how the runs list is sorted and the last metrics query.
//
// localStorage is untrusted input like any other (an older build, a hand edit), so reading
// checks every field and falls back to the default for anything unexpected.

import type { RunSort } from "../api";
import { isLevelFilterValue, type LevelFilterValue } from "./levels";

export type View = "logs" | "sources" | "runs" | "metrics" | "costs" | "alerts";

const VIEWS: readonly View[] = ["logs", "sources", "runs", "metrics", "costs", "alerts"];
const RUN_SORTS: readonly RunSort[] = ["start", "duration", "cost", "tokens", "errors", "status", "spans"];

export interface Settings {
  view: View;
  level: LevelFilterValue;
  search: string;
  since: string;
  until: string;
  /** Source path, or "" for every source. */
  source: string;
  runSort: RunSort;
  runDescending: boolean;
  /** The PromQL the Metrics view last ran. */
  metricsQuery: string;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  view: "logs",
  level: "all",
  search: "",
  since: "",
  until: "",
  source: "",
  runSort: "start",
  runDescending: false,
  metricsQuery: "",
};

const KEY = "sightline.settings.v1";
const MAX_TEXT = 4096;

function text(v: unknown, fallback: string): string {
  return typeof v === "string" && v.length <= MAX_TEXT ? v : fallback;
}

export function parseSettings(raw: string | null): Settings {
  if (raw === null) return { ...DEFAULT_SETTINGS };
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { ...DEFAULT_SETTINGS };
  const o = data as Record<string, unknown>;
  return {
    view: VIEWS.find((v) => v === o.view) ?? DEFAULT_SETTINGS.view,
    level: isLevelFilterValue(o.level) ? o.level : DEFAULT_SETTINGS.level,
    search: text(o.search, DEFAULT_SETTINGS.search),
    since: text(o.since, DEFAULT_SETTINGS.since),
    until: text(o.until, DEFAULT_SETTINGS.until),
    source: text(o.source, DEFAULT_SETTINGS.source),
    runSort: RUN_SORTS.find((v) => v === o.runSort) ?? DEFAULT_SETTINGS.runSort,
    runDescending: typeof o.runDescending === "boolean" ? o.runDescending : DEFAULT_SETTINGS.runDescending,
    metricsQuery: text(o.metricsQuery, DEFAULT_SETTINGS.metricsQuery),
  };
}

export function loadSettings(): Settings {
  try {
    return parseSettings(globalThis.localStorage?.getItem(KEY) ?? null);
  } catch {
    // Storage can be disabled; the app then simply starts fresh each time.
    return { ...DEFAULT_SETTINGS };
  }
}

export function saveSettings(s: Settings): void {
  try {
    globalThis.localStorage?.setItem(KEY, JSON.stringify(s));
  } catch {
    // Full or disabled storage only costs remembering; never an error for the user.
  }
}
