import { describe, expect, it, vi } from "vitest";
import type { RunQuery, RunRow } from "../../api";

// The runs list as the engine would page it, sorted by start; `rows` grows as runs arrive.
const engine = vi.hoisted(() => ({ rows: [] as Array<{ trace_id: string; start_ns: number }>, asked: [] as unknown[] }));

vi.mock("../../api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../api")>();
  return {
    ...real,
    runs: {
      list: async (q: RunQuery) => {
        engine.asked.push(q);
        const sorted = [...engine.rows].sort((a, b) => (q.descending ? b.start_ns - a.start_ns : a.start_ns - b.start_ns));
        return { total: sorted.length, runs: sorted.slice(q.offset ?? 0, (q.offset ?? 0) + (q.limit ?? 200)) };
      },
      get: vi.fn(),
      span: vi.fn(),
    },
  };
});

const { RunsState, RUN_ROW_HEIGHT } = await import("./runs.svelte");

function run(id: number): RunRow {
  return {
    trace_id: `t${id}`,
    name: `run ${id}`,
    status: "ok",
    start_ns: id * 1e9,
    end_ns: id * 1e9 + 1,
    duration_ns: 1,
    spans: 1,
    llm_calls: 0,
    tool_calls: 0,
    errors: 0,
    input_tokens: 0,
    output_tokens: 0,
    cost: 0,
  };
}

const settle = () => new Promise((r) => setTimeout(r, 30));

describe("RunsState live refresh", () => {
  it("shows new runs in the same sort, keeping the selected run", async () => {
    engine.rows = [run(1), run(2), run(3)];
    const runs = new RunsState();
    runs.setViewport(10 * RUN_ROW_HEIGHT);
    runs.sortBy("start"); // newest first
    expect(runs.descending).toBe(true);
    await settle();
    runs.select(1);
    expect(runs.selectedRow?.trace_id).toBe("t2");
    engine.rows.push(run(4), run(5));
    await runs.refresh();
    expect(runs.total).toBe(5);
    expect(runs.visible[0].row?.trace_id).toBe("t5");
    expect(runs.selectedRow?.trace_id).toBe("t2");
    expect(runs.sort).toBe("start");
    expect(runs.descending).toBe(true);
  });

  it("finds the first runs of an empty list", async () => {
    engine.rows = [];
    const runs = new RunsState();
    runs.setViewport(10 * RUN_ROW_HEIGHT);
    runs.apply();
    await settle();
    expect(runs.total).toBe(0);
    engine.rows.push(run(1));
    await runs.refresh();
    expect(runs.total).toBe(1);
    expect(runs.visible[0].row?.trace_id).toBe("t1");
  });
});
