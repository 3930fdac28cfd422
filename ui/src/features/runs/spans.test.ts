import { describe, expect, it } from "vitest";
import type { RunColumns } from "../../api";
import { RunSpans } from "./spans";
import demoJson from "./testdata/demo-data-analyst.run.json";

const demoView = demoJson as unknown as RunColumns;

describe("RunSpans on the demo's data analyst run", () => {
  const demo = new RunSpans(demoView);

  it("reads every column by position", () => {
    expect(demo.n).toBe(14);
    expect(demo.nameOf(0)).toBe("agent data_analyst");
    expect(demo.view(0)).toMatchObject({ kind: "agent", status: "unset", cost: null, critical: true, orphan: false });
    // The failed tool: its message, its tool, its times (ns after the run's start, exact).
    expect(demo.view(6)).toMatchObject({
      span_id: "aa9c77c00830d248",
      name: "execute_tool fetch_url",
      kind: "tool",
      status: "error",
      status_message: "OperationalError: database is locked",
      tool_name: "fetch_url",
      start: 6_710_000_000,
      duration: 1_386_000_000,
      cost: null,
      input_tokens: null,
    });
    expect(demo.isError(6)).toBe(true);
    // The orphan LLM call at the end.
    expect(demo.view(13)).toMatchObject({ kind: "llm", orphan: true, cost: 0.007689, input_tokens: 693, output_tokens: 374 });
    expect(demo.view(13).status_message).toBeNull();
    expect(demo.extent).toBe(18_983_000_000);
  });

  it("sums LLM cost and tokens over a subtree", () => {
    const all = demo.subtreeTotals(0);
    expect(all.cost).toBeCloseTo(demoView.run.cost, 12);
    expect(all.inputTokens).toBe(demoView.run.input_tokens);
    expect(all.outputTokens).toBe(demoView.run.output_tokens);
    expect(demo.subtreeTotals(1)).toEqual({ cost: 0.008949, inputTokens: 1863, outputTokens: 224 });
    // A tool below nothing: nothing.
    expect(demo.subtreeTotals(3)).toEqual({ cost: 0, inputTokens: 0, outputTokens: 0 });
  });
});

describe("RunSpans on columns not in tree order", () => {
  // Input order: a child, another child, then their root; the tree puts the root first.
  const view: RunColumns = {
    run: {
      trace_id: "t",
      name: "root",
      status: "ok",
      start_ns: 0,
      end_ns: 100,
      duration_ns: 100,
      spans: 3,
      llm_calls: 1,
      tool_calls: 1,
      errors: 1,
      input_tokens: 10,
      output_tokens: 2,
      cost: 0.5,
    },
    orphans: 1,
    critical_path_ns: 100,
    span_id: ["a", "b", "r"],
    parent: [2, 2, -1],
    names: ["tool a", "llm b", "root", "grep"],
    name: [0, 1, 2],
    tool_name: [3, -1, -1],
    kinds: ["tool", "llm", "agent"],
    kind: [0, 1, 2],
    statuses: ["error", "ok"],
    status: [0, 1, 1],
    start: [10, 20, 0],
    end: [30, 5, 100],
    metered: [1],
    cost: [0.5],
    input_tokens: [10],
    output_tokens: [2],
    critical: [2, 0],
    orphan: [1],
    message_at: [0],
    message: ["boom"],
  };
  const s = new RunSpans(view);

  it("moves every column, and every listed position, to the span's place in the tree", () => {
    expect([...s.tree.order]).toEqual([2, 0, 1]);
    expect(s.spanId).toEqual(["r", "a", "b"]);
    expect([...s.parent]).toEqual([-1, 0, 0]);
    expect(s.view(0)).toMatchObject({ name: "root", kind: "agent", critical: true, orphan: false, status_message: null });
    expect(s.view(1)).toMatchObject({ name: "tool a", tool_name: "grep", status: "error", critical: true, status_message: "boom" });
    expect(s.view(2)).toMatchObject({ name: "llm b", kind: "llm", cost: 0.5, input_tokens: 10, orphan: true, critical: false });
  });

  it("never draws a bar ending before it starts, but prints the duration recorded", () => {
    expect(s.start[2]).toBe(20);
    expect(s.end[2]).toBe(20);
    expect(s.duration[2]).toBe(-15);
    expect(s.extent).toBe(100);
  });
});
