import { describe, expect, it } from "vitest";
import type { ExportReport } from "../../api";
import {
  buildExportOptions,
  defaultBundleName,
  describeRange,
  describeRedaction,
  hasFolder,
  parseFieldNames,
  workspaceName,
  type ExportChoice,
} from "./export";

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const MIN = 60_000;

function choice(over: Partial<ExportChoice>): ExportChoice {
  return { scope: "all", range: { since: null, until: null }, runTraceId: null, redact: true, fields: "", ...over };
}

describe("buildExportOptions", () => {
  it("exports everything with no runs and no range", () => {
    expect(buildExportOptions(choice({}), NOW)).toEqual({
      ok: true,
      options: { runs: [], since_ms: null, until_ms: null, redact: true, redact_fields: [] },
    });
  });

  it("exports the open run by its trace id", () => {
    const r = buildExportOptions(choice({ scope: "run", runTraceId: "abc123" }), NOW);
    expect(r).toEqual({ ok: true, options: { runs: ["abc123"], since_ms: null, until_ms: null, redact: true, redact_fields: [] } });
  });

  it("says so when the run scope has no open run", () => {
    const r = buildExportOptions(choice({ scope: "run" }), NOW);
    expect(r.ok).toBe(false);
  });

  it("reads the range as the log filter does: spans back from now and RFC 3339 times", () => {
    const r = buildExportOptions(choice({ scope: "range", range: { since: "15m", until: null } }), NOW);
    expect(r).toEqual({ ok: true, options: expect.objectContaining({ runs: [], since_ms: NOW - 15 * MIN, until_ms: null }) });
    const r2 = buildExportOptions(choice({ scope: "range", range: { since: "2024-05-01T10:00Z", until: "2024-05-01T11:00:00Z" } }), NOW);
    expect(r2).toEqual({
      ok: true,
      options: expect.objectContaining({ since_ms: Date.UTC(2024, 4, 1, 10), until_ms: Date.UTC(2024, 4, 1, 11) }),
    });
  });

  it("refuses a range it cannot read, an empty range and one that ends before it starts", () => {
    const bad = buildExportOptions(choice({ scope: "range", range: { since: "yesterday-ish", until: null } }), NOW);
    expect(bad).toEqual({ ok: false, message: expect.stringContaining("yesterday-ish") });
    expect(buildExportOptions(choice({ scope: "range" }), NOW).ok).toBe(false);
    expect(buildExportOptions(choice({ scope: "range", range: { since: "5m", until: "1h" } }), NOW)).toEqual({
      ok: false,
      message: "The time range ends before it starts.",
    });
  });

  it("masks the extra field names only when masking", () => {
    const on = buildExportOptions(choice({ fields: " customer_id, ssn ,,customer_id\nphone " }), NOW);
    expect(on.ok && on.options.redact_fields).toEqual(["customer_id", "ssn", "phone"]);
    const off = buildExportOptions(choice({ redact: false, fields: "customer_id" }), NOW);
    expect(off.ok && off.options).toEqual(expect.objectContaining({ redact: false, redact_fields: [] }));
  });
});

describe("names and words", () => {
  it("parses field lists", () => {
    expect(parseFieldNames("")).toEqual([]);
    expect(parseFieldNames("a, b")).toEqual(["a", "b"]);
  });

  it("names the bundle after the workspace and the time, or the run", () => {
    expect(defaultBundleName("all", "/home/me/.local/share/sightline/workspace.db", null, NOW)).toBe("sightline-workspace-20240501-1200.zip");
    expect(defaultBundleName("range", "C:\\data\\my runs.db", null, NOW)).toBe("sightline-my_runs-20240501-1200.zip");
    expect(defaultBundleName("run", null, "4bf92f3577b34da6a3ce929d0e0e4736", NOW)).toBe("sightline-run-4bf92f3577b3.zip");
    expect(workspaceName(null)).toBe("workspace");
  });

  it("tells a bare file name from a path", () => {
    expect(hasFolder("bundle.zip")).toBe(false);
    expect(hasFolder("/tmp/bundle.zip")).toBe(true);
    expect(hasFolder("C:\\tmp\\bundle.zip")).toBe(true);
  });

  it("describes the range", () => {
    expect(describeRange({ since: null, until: null })).toBe("no range set");
    expect(describeRange({ since: "15m", until: null })).toBe("since 15m");
    expect(describeRange({ since: "1h", until: "5m" })).toBe("1h to 5m");
  });

  it("says what masking did, by kind", () => {
    const report = { redacted: { bearer_token: 1, openai_key: 2, email: 0 } } as unknown as ExportReport;
    expect(describeRedaction(report, true)).toBe("3 secrets masked (OpenAI key: 2, bearer token: 1).");
    expect(describeRedaction({ redacted: {} } as unknown as ExportReport, true)).toBe("No secrets found to mask.");
    expect(describeRedaction(report, false)).toBe("Secrets were not masked.");
  });
});
