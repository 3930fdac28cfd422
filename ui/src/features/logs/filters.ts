// The Logs toolbar's filters: which box an engine complaint is about, and the source choices.

export type FilterField = "since" | "until" | "search" | "other";

export interface FilterError {
  field: FilterField;
  message: string;
}

/** The box an `InvalidArgument` names in its `what` ("since", "until time", "search"…). */
export function filterFieldOf(what: string): FilterField {
  const w = what.toLowerCase();
  if (w.includes("until")) return "until";
  if (w.includes("since")) return "since";
  if (w.includes("search") || w.includes("query")) return "search";
  return "other";
}

/**
 * The source filter's choices: each path once (a file truncated and written again is a
 * second source of the same path), and the chosen one even when it is gone, so the filter
 * in force stays visible.
 */
export function sourceChoices(paths: readonly string[], chosen: string): string[] {
  const out = [...new Set(paths)];
  if (chosen !== "" && !out.includes(chosen)) out.unshift(chosen);
  return out;
}
