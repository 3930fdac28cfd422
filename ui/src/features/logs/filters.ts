// Which filter box an engine complaint is about, so the message shows beside that box.

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
