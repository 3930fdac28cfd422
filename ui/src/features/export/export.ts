// What an export writes, from what the dialog shows: the scope (everything, the app's time
// range, the open run), masking, and the file's name. Pure, so the dialog only draws.
//
// The time range is the toolbar's since/until text (what the log list, Metrics and Costs
// show), read as the engine reads it: a span back from now ("15m"), an RFC 3339 time, epoch
// digits. An end that cannot be read is said in words instead of exporting something else.

import type { ExportOptions, ExportReport } from "../../api";
import { formatCount, plural } from "../../lib/format";
import { parseTimeArg } from "../../lib/time";

export type ExportScope = "all" | "range" | "run";

/** The toolbar's time range, as the log filter holds it (null: that end is open). */
export interface RangeText {
  since: string | null;
  until: string | null;
}

export interface ExportChoice {
  scope: ExportScope;
  range: RangeText;
  /** The open run's trace id, if a run is open. */
  runTraceId: string | null;
  redact: boolean;
  /** Extra field names to mask, as typed: comma separated. */
  fields: string;
}

export type BuiltOptions = { ok: true; options: ExportOptions } | { ok: false; message: string };

/** The field names in a comma (or newline) separated list, trimmed, without blanks or repeats. */
export function parseFieldNames(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[,\n]/)) {
    const name = part.trim();
    if (name !== "") seen.add(name);
  }
  return [...seen];
}

/** Whether the range names at least one end (else "the range" is everything). */
export function hasRange(range: RangeText): boolean {
  return (range.since ?? "").trim() !== "" || (range.until ?? "").trim() !== "";
}

/** The engine's options for a choice made at `nowMs`, or why they cannot be made. */
export function buildExportOptions(choice: ExportChoice, nowMs: number): BuiltOptions {
  const redact_fields = choice.redact ? parseFieldNames(choice.fields) : [];
  const base = { runs: [] as string[], since_ms: null as number | null, until_ms: null as number | null, redact: choice.redact, redact_fields };
  switch (choice.scope) {
    case "all":
      return { ok: true, options: base };
    case "run":
      if (choice.runTraceId === null) return { ok: false, message: "No run is open: open one in the Runs view, or export everything." };
      return { ok: true, options: { ...base, runs: [choice.runTraceId] } };
    case "range": {
      const read = (text: string | null, end: "start" | "end"): number | null | { error: string } => {
        const t = (text ?? "").trim();
        if (t === "") return null;
        const ms = parseTimeArg(t, nowMs);
        return ms === null ? { error: `The ${end} of the time range, “${t}”, is not a time or a duration (15m, 2h, 2024-05-01T12:00Z).` } : ms;
      };
      const since = read(choice.range.since, "start");
      if (since !== null && typeof since === "object") return { ok: false, message: since.error };
      const until = read(choice.range.until, "end");
      if (until !== null && typeof until === "object") return { ok: false, message: until.error };
      if (since === null && until === null) return { ok: false, message: "No time range is set: type one in the toolbar's Since and Until boxes, or export everything." };
      if (since !== null && until !== null && until <= since) return { ok: false, message: "The time range ends before it starts." };
      return { ok: true, options: { ...base, since_ms: since, until_ms: until } };
    }
  }
}

/** The range in words for the dialog ("since 15m", "2024-05-01T12:00Z to now"). */
export function describeRange(range: RangeText): string {
  const since = (range.since ?? "").trim();
  const until = (range.until ?? "").trim();
  if (since === "" && until === "") return "no range set";
  if (until === "") return `since ${since}`;
  if (since === "") return `until ${until}`;
  return `${since} to ${until}`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** The workspace's name from its file's path (`…/workspace.db` → `workspace`). */
export function workspaceName(path: string | null): string {
  if (path === null) return "workspace";
  const file = path.split(/[\\/]/).pop() ?? "";
  const stem = file.replace(/\.db$/i, "");
  return stem === "" ? "workspace" : stem;
}

/**
 * A file name for the bundle: `sightline-<workspace>-<YYYYMMDD-HHMM>.zip` in local time, or
 * `sightline-run-<first 12 of the trace id>.zip` for one run.
 */
export function defaultBundleName(scope: ExportScope, workspacePath: string | null, runTraceId: string | null, nowMs: number): string {
  if (scope === "run" && runTraceId !== null) return `sightline-run-${runTraceId.slice(0, 12)}.zip`;
  const d = new Date(nowMs);
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}`;
  const name = workspaceName(workspacePath).replace(/[^\p{L}\p{N}\-_.]/gu, "_");
  return `sightline-${name}-${stamp}.zip`;
}

/** The folder part of a path ("" when it names only a file). */
export function dirName(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i >= 0 ? path.slice(0, i + 1) : "";
}

/** Whether a path names a folder too (a bare name would land wherever the app runs). */
export function hasFolder(path: string): boolean {
  return dirName(path.trim()) !== "";
}

const SECRET_KINDS: Readonly<Record<string, string>> = {
  openai_key: "OpenAI key",
  anthropic_key: "Anthropic key",
  aws_access_key: "AWS access key",
  aws_secret_key: "AWS secret key",
  github_token: "GitHub token",
  slack_token: "Slack token",
  bearer_token: "bearer token",
  jwt: "JWT",
  url_password: "password in a URL",
  email: "email address",
  field: "named field",
  private_key: "private key",
  generic_api_key: "API key",
};

/** A kind of secret in words; unknown kinds (a newer engine) read as themselves. */
export function secretKindLabel(kind: string): string {
  return SECRET_KINDS[kind] ?? kind.replaceAll("_", " ");
}

/** Secrets masked by kind, most first, without zeros. */
export function maskedKinds(report: ExportReport): Array<{ kind: string; label: string; count: number }> {
  return Object.entries(report.redacted)
    .filter((e): e is [string, number] => typeof e[1] === "number" && e[1] > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([kind, count]) => ({ kind, label: secretKindLabel(kind), count }));
}

/** What masking did, in words: "3 secrets masked (OpenAI key: 2, bearer token: 1)." */
export function describeRedaction(report: ExportReport, redact: boolean): string {
  if (!redact) return "Secrets were not masked.";
  const kinds = maskedKinds(report);
  const total = kinds.reduce((n, k) => n + k.count, 0);
  if (total === 0) return "No secrets found to mask.";
  return `${plural(total, "secret")} masked (${kinds.map((k) => `${k.label}: ${formatCount(k.count)}`).join(", ")}).`;
}
