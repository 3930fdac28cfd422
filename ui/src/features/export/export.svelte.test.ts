import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/errors";
import type { ExportReport } from "../../api";
import type { ExportContext } from "./export.svelte";

// The engine and the save dialog, as far as ExportState talks to them.
const engine = vi.hoisted(() => ({
  exportBundle: vi.fn(),
  pickBundlePath: vi.fn(),
}));

vi.mock("../../api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../api")>();
  return {
    ...real,
    workspace: { ...real.workspace, exportBundle: engine.exportBundle },
    desktop: { ...real.desktop, pickBundlePath: engine.pickBundlePath },
  };
});

const { ExportState } = await import("./export.svelte");

const REPORT: ExportReport = {
  path: "/tmp/out/bundle.zip",
  runs: 2,
  spans: 30,
  log_records: 120,
  log_lines: 120,
  series: 4,
  samples: 400,
  rule_groups: 1,
  alerts: 0,
  bytes: 20480,
  redacted: { openai_key: 1 },
  notes: [],
};

let ctx: ExportContext;

function dialog() {
  return new ExportState(() => ctx);
}

beforeEach(() => {
  engine.exportBundle.mockReset();
  engine.pickBundlePath.mockReset();
  ctx = { range: { since: "15m", until: null }, run: null, runShowing: false, workspacePath: "/data/workspace.db" };
});

describe("ExportState", () => {
  it("opens on everything, or on the run on screen", () => {
    const d = dialog();
    d.show();
    expect(d.open).toBe(true);
    expect(d.scope).toBe("all");
    expect(d.redact).toBe(true);
    expect(d.path).toMatch(/^sightline-workspace-\d{8}-\d{4}\.zip$/);
    ctx = { ...ctx, run: { traceId: "4bf92f3577b34da6a3ce", name: "agent" }, runShowing: true };
    d.show();
    expect(d.scope).toBe("run");
    expect(d.path).toBe("sightline-run-4bf92f3577b3.zip");
  });

  it("asks where when the path is a bare name, then writes there and reports", async () => {
    const d = dialog();
    d.show();
    engine.pickBundlePath.mockResolvedValueOnce("/tmp/out/bundle.zip");
    engine.exportBundle.mockResolvedValueOnce(REPORT);
    d.fields = "customer_id";
    await d.run();
    expect(engine.pickBundlePath).toHaveBeenCalledOnce();
    expect(engine.exportBundle).toHaveBeenCalledWith("/tmp/out/bundle.zip", {
      runs: [],
      since_ms: null,
      until_ms: null,
      redact: true,
      redact_fields: ["customer_id"],
    });
    expect(d.result?.report).toEqual(REPORT);
    expect(d.error).toBeNull();
    // The next export starts in the same folder.
    d.show();
    expect(d.path.startsWith("/tmp/out/sightline-workspace-")).toBe(true);
  });

  it("writes nothing when the save dialog is cancelled", async () => {
    const d = dialog();
    d.show();
    engine.pickBundlePath.mockResolvedValueOnce(null);
    await d.run();
    expect(engine.exportBundle).not.toHaveBeenCalled();
    expect(d.result).toBeNull();
  });

  it("exports the range and shows a failure in the engine's words", async () => {
    const d = dialog();
    d.show();
    d.setScope("range");
    d.setPath("/tmp/x.zip");
    engine.exportBundle.mockRejectedValueOnce(new ApiError({ type: "Unreadable", data: { path: "/tmp/x.zip", reason: "permission denied" } }));
    const before = Date.now();
    await d.run();
    const options = engine.exportBundle.mock.calls[0][1];
    expect(options.since_ms).toBeGreaterThanOrEqual(before - 15 * 60_000);
    expect(options.until_ms).toBeNull();
    expect(d.error).toBe("Cannot read /tmp/x.zip: permission denied");
    expect(d.running).toBe(false);
  });

  it("says why it cannot export the range before asking the engine", async () => {
    ctx = { ...ctx, range: { since: "soon", until: null } };
    const d = dialog();
    d.show();
    d.setScope("range");
    d.setPath("/tmp/x.zip");
    await d.run();
    expect(engine.exportBundle).not.toHaveBeenCalled();
    expect(d.error).toContain("soon");
  });
});
