// Plain words for the engine's enumerations (skip reasons, file statuses).

import type { FileStatus } from "../api";
import { plural } from "./format";

const SKIP_REASONS: Record<string, string> = {
  blank: "blank line",
  comment: "comment",
  non_json: "not JSON",
  truncated_json: "JSON cut off",
  json_not_object: "JSON, but not an object",
  invalid_utf8: "not valid UTF-8",
  line_too_long: "line too long",
  incomplete_last_line: "incomplete last line",
  unsupported_signal: "unsupported signal",
};

/** A skip reason in words; unknown reasons (a newer engine) read as themselves. */
export function skipReasonLabel(reason: string): string {
  return SKIP_REASONS[reason] ?? reason.replaceAll("_", " ");
}

const FILE_STATUSES: Record<FileStatus, string> = {
  ingested: "read",
  unchanged: "already up to date",
  empty: "empty so far",
  not_json: "not a JSON log",
  error: "failed",
  cancelled: "cancelled",
};

export function fileStatusLabel(status: FileStatus): string {
  return FILE_STATUSES[status] ?? status;
}

/** Reason → count pairs, most frequent first, without zeros. */
export function reasonCounts(byReason: { [reason: string]: number | undefined }): Array<[string, number]> {
  return Object.entries(byReason)
    .filter((e): e is [string, number] => typeof e[1] === "number" && e[1] > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** The last component of a path, for narrow columns (the full path goes in a tooltip). */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  const i = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  return i >= 0 ? trimmed.slice(i + 1) || trimmed : trimmed;
}

/** What an ingest added, in words: "1,204 records, 262 spans"; "" when it added nothing. */
export function addedWords(a: { records_added: number; spans_added: number; samples_added: number }): string {
  const kinds: Array<[number, string]> = [
    [a.records_added, "record"],
    [a.spans_added, "span"],
    [a.samples_added, "metric sample"],
  ];
  return kinds
    .filter(([n]) => n > 0)
    .map(([n, word]) => plural(n, word))
    .join(", ");
}
