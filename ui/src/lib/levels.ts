// The level filter: the values of the toolbar's <select> and the levels each one means.
//
// "all" and "trace+" select the same rows; both exist because "all" is what people look for
// and "x+" is the uniform family. The select sends explicit levels, never an empty list, so
// the meaning does not hang on how the engine reads "no levels".

import type { Level } from "../api";

export const LEVELS: readonly Level[] = ["trace", "debug", "info", "warn", "error", "fatal"];

export const LEVEL_FILTER_VALUES = [
  "all",
  "trace+",
  "debug+",
  "info+",
  "warn+",
  "error+",
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "fatal",
] as const;

export type LevelFilterValue = (typeof LEVEL_FILTER_VALUES)[number];

export function isLevelFilterValue(v: unknown): v is LevelFilterValue {
  return typeof v === "string" && (LEVEL_FILTER_VALUES as readonly string[]).includes(v);
}

export function isLevel(v: unknown): v is Level {
  return typeof v === "string" && (LEVELS as readonly string[]).includes(v);
}

/** Levels a select value stands for, most verbose first. Unknown values mean all levels. */
export function levelsFor(value: string): Level[] {
  if (value.endsWith("+")) {
    const base = value.slice(0, -1);
    if (isLevel(base)) return LEVELS.slice(LEVELS.indexOf(base));
  } else if (isLevel(value)) {
    return [value];
  }
  return [...LEVELS];
}

/** Label shown in the select. */
export function levelFilterLabel(value: LevelFilterValue): string {
  if (value === "all") return "All levels";
  if (value.endsWith("+")) return `${value.slice(0, -1)} and above`;
  return `${value} only`;
}

