import { describe, expect, it, vi } from "vitest";
import type { RunColumns } from "../../api";
import { formatCost } from "./format";
import { RunState, SPEEDS } from "./run.svelte";
import demoJson from "./testdata/demo-data-analyst.run.json";

// The demo's data analyst run as `runs_get` sends it: 14 spans, four iterations, one
// failed tool (position 6), five LLM calls, one orphan LLM call at the end.
const demo = demoJson as unknown as RunColumns;
const S = 1e9;

function open(): RunState {
  const run = new RunState(demo);
  run.setViewport(220); // ten rows
  return run;
}

const names = (run: RunState) => [...run.rows].map((p) => run.span(p).name);

describe("RunState tree and keys", () => {
  it("shows every span in tree order, and hides collapsed subtrees", () => {
    const run = open();
    expect(run.rows.length).toBe(14);
    expect(names(run)[0]).toBe("agent data_analyst");
    run.toggle(1); // iteration 1
    expect(run.rows.length).toBe(12);
    run.toggle(0);
    expect(names(run)).toEqual(["agent data_analyst"]);
    run.collapseFrom(-1);
    expect(run.rows.length).toBe(14);
    run.collapseFrom(1);
    expect(run.rows.length).toBe(6); // the root, four iterations, the orphan
  });

  it("moves with j/k and collapses or climbs with h, expands or descends with l", () => {
    const run = open();
    run.move(1);
    expect(run.selected).toBe(0);
    run.move(1);
    expect(run.span(run.selected!).name).toBe("iteration 1");
    run.collapseOrParent(); // collapses iteration 1
    expect(run.isCollapsed(1)).toBe(true);
    run.move(1);
    expect(run.span(run.selected!).name).toBe("iteration 2");
    run.move(-1);
    run.expandOrChild(); // expands
    expect(run.isCollapsed(1)).toBe(false);
    run.expandOrChild(); // descends
    expect(run.span(run.selected!).kind).toBe("llm");
    run.collapseOrParent(); // a leaf: climbs
    expect(run.selected).toBe(1);
  });

  it("jumps between error spans with e/E, opening what hides them", () => {
    const run = open();
    run.collapseFrom(0);
    expect(run.rows.length).toBe(1);
    run.jumpToError(true);
    const sel = run.selected!;
    expect(run.span(sel).status).toBe("error");
    expect(run.rows.includes(sel)).toBe(true);
    run.jumpToError(true);
    expect(run.selected).toBe(sel);
    expect(run.notice).toBe("No error span below");
    run.jumpToError(false);
    expect(run.notice).toBe("No error span above");
  });

  it("cycles through the LLM calls by cost with c", () => {
    const run = open();
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      run.nextCostly();
      seen.push(run.span(run.selected!).cost!);
    }
    expect(seen.slice(0, 5)).toEqual([0.011829, 0.010905, 0.01089, 0.008949, 0.007689]);
    expect(seen[5]).toBe(0.011829);
  });

  it("moves the selected row into view", () => {
    const run = open();
    run.setViewport(66); // three rows
    run.select(13);
    expect(run.offset).toBe(14 * 22 - 66);
  });
});

describe("RunState replay", () => {
  it("starts at the end, showing the run's totals", () => {
    const run = open();
    expect(run.playhead).toBe(run.duration);
    expect(formatCost(run.replayState.cost)).toBe(formatCost(demo.run.cost));
    expect(run.replayState.inputTokens + run.replayState.outputTokens).toBe(demo.run.input_tokens + demo.run.output_tokens);
  });

  it("shows the end without building the replay index, as the index would", () => {
    const run = open();
    const atEnd = run.replayState;
    expect((run as unknown as { replayIndex: unknown }).replayIndex).toBeNull();
    expect(atEnd).toEqual(run.replay.at(run.duration));
    expect(atEnd.errors).toBe(1);
    expect(run.span(atEnd.lastError).status).toBe("error");
  });

  it("scrubs, keeps the playhead in the window, and returns to the end", () => {
    const run = open();
    run.zoom(0.1, 1 * S);
    run.scrubTo(15 * S);
    expect(run.window.start).toBeLessThanOrEqual(15 * S);
    expect(run.window.start + run.window.span).toBeGreaterThanOrEqual(15 * S);
    run.replayStart();
    expect(run.replayState.cost).toBe(0);
    run.replayEnd();
    expect(run.replayState.cost).toBe(demo.run.cost);
    run.zoomReset();
    expect(run.window.span).toBeGreaterThanOrEqual(run.duration);
  });

  it("plays at the chosen speed and stops at the end", () => {
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => frames.push(cb));
    vi.stubGlobal("cancelAnimationFrame", () => {});
    const now = vi.spyOn(performance, "now").mockReturnValue(1000);
    try {
      const run = open();
      run.setSpeed(100);
      run.play(); // from the end: starts over
      expect(run.playhead).toBe(0);
      frames.shift()!(1100); // 100 ms at 100x = 10 s
      expect(run.playhead).toBeCloseTo(10 * S, -3);
      run.stepSpeed(-1);
      expect(run.speed).toBe(50);
      frames.shift()!(1300); // 200 ms at 50x = 10 s more: past the end
      expect(run.playhead).toBe(run.duration);
      expect(run.playing).toBe(false);
      expect(SPEEDS).toEqual([1, 2, 5, 10, 25, 50, 100]);
    } finally {
      now.mockRestore();
      vi.unstubAllGlobals();
    }
  });
});

/** The demo run as it was before its last span (the orphan LLM call) arrived. */
function withoutLastSpan(v: RunColumns): RunColumns {
  const n = v.span_id.length - 1;
  const keep = v.metered.map((p, i) => [p, i] as const).filter(([p]) => p < n);
  const msgs = v.message_at.map((p, i) => [p, i] as const).filter(([p]) => p < n);
  return {
    ...v,
    run: { ...v.run, spans: n },
    orphans: v.orphan.filter((p) => p < n).length,
    span_id: v.span_id.slice(0, n),
    parent: v.parent.slice(0, n),
    name: v.name.slice(0, n),
    tool_name: v.tool_name.slice(0, n),
    kind: v.kind.slice(0, n),
    status: v.status.slice(0, n),
    start: v.start.slice(0, n),
    end: v.end.slice(0, n),
    metered: keep.map(([p]) => p),
    cost: keep.map(([, i]) => v.cost[i]),
    input_tokens: keep.map(([, i]) => v.input_tokens[i]),
    output_tokens: keep.map(([, i]) => v.output_tokens[i]),
    critical: v.critical.filter((p) => p < n),
    orphan: v.orphan.filter((p) => p < n),
    message_at: msgs.map(([p]) => p),
    message: msgs.map(([, i]) => v.message[i]),
  };
}

describe("RunState growing while open", () => {
  const before = withoutLastSpan(demo);
  const endMs = demo.run.end_ns / 1e6;

  it("follows a run that looks in progress when it opens, and not a finished one", () => {
    expect(new RunState(demo, endMs + 2_000).followLive).toBe(true);
    expect(new RunState(demo, endMs + 3_600_000).followLive).toBe(false);
  });

  it("grows in place, keeping the selection, collapsed subtrees and scroll", () => {
    const run = new RunState(before, endMs + 3_600_000);
    run.setViewport(66);
    run.toggle(1); // iteration 1 collapsed
    const sel = run.rows[3];
    run.select(sel);
    const selId = run.span(sel).span_id;
    const offset = run.offset;
    expect(run.tree.n).toBe(13);
    run.update(demo, endMs + 3_600_000);
    expect(run.tree.n).toBe(14);
    expect(run.span(run.selected!).span_id).toBe(selId);
    expect(run.isCollapsed(1)).toBe(true);
    expect(run.offset).toBe(offset);
    expect(run.dataVersion).toBe(1);
  });

  it("keeps the playhead at the newest moment while following, as the replay grows", () => {
    const run = new RunState(before, endMs + 1_000);
    expect(run.followLive).toBe(true);
    const oldEnd = run.duration;
    run.update(demo, endMs + 1_000);
    expect(run.duration).toBeGreaterThanOrEqual(oldEnd);
    expect(run.playhead).toBe(run.duration);
    expect(run.replayState.llmDone).toBe(5);
  });

  it("stops following when the user moves the playhead, and stays where it was put", () => {
    const run = new RunState(before, endMs + 1_000);
    run.scrubTo(2 * S);
    expect(run.followLive).toBe(false);
    run.update(demo, endMs + 1_000);
    expect(run.followLive).toBe(false);
    expect(run.playhead).toBe(2 * S);
    run.setFollowLive(true);
    expect(run.playhead).toBe(run.duration);
    run.replayStart();
    expect(run.followLive).toBe(false);
  });

  it("starts following by itself when a run opened at its end turns out to grow", () => {
    const run = new RunState(before, endMs + 3_600_000);
    expect(run.followLive).toBe(false);
    run.update(demo, endMs + 3_600_000);
    expect(run.followLive).toBe(true);
    expect(run.live).toBe(true);
    expect(run.playhead).toBe(run.duration);
  });
});
