import { beforeEach, describe, expect, it, vi } from "vitest";
import type { LogRowDto } from "../../api";

// A log that grows: the engine's count and pages over `rows`, in time order.
const engine = vi.hoisted(() => ({ rows: [] as Array<{ id: number }> }));

vi.mock("../../api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../api")>();
  return {
    ...real,
    logs: {
      count: async () => engine.rows.length,
      page: async (_f: unknown, offset: number, limit: number) => engine.rows.slice(offset, offset + limit),
      detail: vi.fn(),
      nextError: vi.fn(),
    },
  };
});

const { LogsState, ROW_HEIGHT } = await import("./logs.svelte");

function row(id: number): LogRowDto {
  return { id, ts: "", ts_ms: id, level: "info", message: `line ${id}`, source: "/a.log", line: id, trace_id: null, span_id: null, format: "json" };
}

function grow(n: number): void {
  const start = engine.rows.length;
  for (let i = 0; i < n; i++) engine.rows.push(row(start + i + 1));
}

const settle = () => new Promise((r) => setTimeout(r, 30));

async function opened(rows: number, viewport = 10 * ROW_HEIGHT) {
  engine.rows = [];
  grow(rows);
  const logs = new LogsState();
  logs.setViewport(viewport);
  logs.apply();
  await settle();
  return logs;
}

beforeEach(() => {
  engine.rows = [];
});

describe("LogsState live refresh", () => {
  it("stays pinned to the newest row when scrolled to the end (tail mode)", async () => {
    const logs = await opened(50);
    logs.select(49);
    expect(logs.offset).toBe(50 * ROW_HEIGHT - logs.viewport);
    grow(7);
    await logs.refresh();
    expect(logs.count).toBe(57);
    expect(logs.offset).toBe(57 * ROW_HEIGHT - logs.viewport);
    // The selection stays on its record.
    expect(logs.selected).toBe(49);
    expect(logs.selectedRow?.id).toBe(50);
    expect(logs.visible.at(-1)?.row?.id).toBe(57);
  });

  it("keeps the scroll position and selection away from the end", async () => {
    const logs = await opened(100);
    logs.select(20);
    logs.setOffset(10 * ROW_HEIGHT);
    grow(30);
    await logs.refresh();
    expect(logs.count).toBe(130);
    expect(logs.offset).toBe(10 * ROW_HEIGHT);
    expect(logs.selectedRow?.id).toBe(21);
  });

  it("keeps showing rows while it reads (no blink to placeholders)", async () => {
    const logs = await opened(30);
    grow(1);
    const pending = logs.refresh();
    expect(logs.visible.filter((v) => v.row === undefined)).toEqual([]);
    expect(logs.count).toBe(30);
    await pending;
    expect(logs.count).toBe(31);
  });

  it("follows its record when rows land before it", async () => {
    const logs = await opened(40);
    logs.select(5);
    // Two late records sort before everything (their time is older).
    engine.rows.unshift(row(1001), row(1002));
    await logs.refresh();
    expect(logs.selectedRow?.id).toBe(6);
    expect(logs.selected).toBe(7);
  });
});
