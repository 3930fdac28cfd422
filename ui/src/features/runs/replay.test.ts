import { describe, expect, it } from "vitest";
import type { RunColumns, SpanKind } from "../../api";
import { formatCost } from "./format";
import { MaxTree, ReplayIndex, upperBound, type ReplayInput } from "./replay";
import { ERROR, RunSpans } from "./spans";
// Real runs as `runs_get` sends them (the engine's assembly, as columns): the demo's data
// analyst (log-line spans: instant "iteration" chains after their children, a failed tool,
// an orphan LLM call) and an OTLP GenAI agent from the shared corpus.
import demoJson from "./testdata/demo-data-analyst.run.json";
import weatherJson from "./testdata/otlp-weather-agent.run.json";

const demo = new RunSpans(demoJson as unknown as RunColumns);
const demoRun = (demoJson as unknown as RunColumns).run;
const weather = new RunSpans(weatherJson as unknown as RunColumns);
const weatherRun = (weatherJson as unknown as RunColumns).run;

function indexOf(spans: RunSpans, run: RunColumns["run"]): ReplayIndex {
  return new ReplayIndex(spans, { cost: run.cost, inputTokens: run.input_tokens, outputTokens: run.output_tokens });
}

const S = 1e9;

describe("upperBound and MaxTree", () => {
  it("count values <= x", () => {
    const a = new Float64Array([1, 2, 2, 5]);
    expect(upperBound(a, 0)).toBe(0);
    expect(upperBound(a, 2)).toBe(3);
    expect(upperBound(a, 9)).toBe(4);
  });

  it("find the rightmost value above x before k", () => {
    const t = new MaxTree(new Float64Array([9, 1, 7, 2, 3]));
    expect(t.rightmostAbove(5, 2.5)).toBe(4);
    expect(t.rightmostAbove(4, 2.5)).toBe(2);
    expect(t.rightmostAbove(2, 2.5)).toBe(0);
    expect(t.rightmostAbove(5, 9)).toBe(-1);
    expect(t.rightmostAbove(0, 0)).toBe(-1);
  });
});

describe("ReplayIndex on the demo's data analyst run", () => {
  const r = indexOf(demo, demoRun);
  const name = (i: number) => demo.nameOf(i);

  it("ends with the run's totals", () => {
    const end = r.at(r.duration);
    expect(end.cost).toBe(demoRun.cost);
    expect(formatCost(end.cost)).toBe("$0.050262");
    expect(end.inputTokens + end.outputTokens).toBe(demoRun.input_tokens + demoRun.output_tokens);
    expect(end.errors).toBe(demoRun.errors);
    expect(end.llmDone).toBe(demoRun.llm_calls);
    expect(end.toolsInFlight).toBe(0);
    expect(end.started).toBe(demo.n);
  });

  it("has nothing before the start but the root", () => {
    const s = r.at(0);
    expect(s.cost).toBe(0);
    expect(s.inputTokens + s.outputTokens).toBe(0);
    expect(s.errors).toBe(0);
    expect(name(s.active)).toBe("chat claude-3-5-sonnet");
  });

  it("knows the step, the tool in flight and the running totals mid-run", () => {
    // 7.0 s: iteration 2's fetch_url (6.710 s .. 8.096 s) is running; two LLM calls are done.
    const s = r.at(7 * S);
    expect(name(s.active)).toBe("execute_tool fetch_url");
    expect(name(s.step)).toBe("iteration 2");
    expect(s.toolsInFlight).toBe(1);
    expect(s.tools.map(name)).toEqual(["execute_tool fetch_url"]);
    expect(s.llmDone).toBe(2);
    expect(s.cost).toBeCloseTo(0.008949 + 0.011829, 12);
    expect(s.inputTokens).toBe(1863 + 3128);
    expect(s.outputTokens).toBe(224 + 163);
    expect(s.errors).toBe(0);
  });

  it("counts an error once the failing span has ended", () => {
    expect(r.at(8.095 * S).errors).toBe(0);
    const s = r.at(8.096 * S);
    expect(s.errors).toBe(1);
    expect(demo.statusOf(s.lastError)).toBe("error");
  });

  it("names the agent as the step when no chain is above (the orphan LLM call)", () => {
    const s = r.at(16 * S);
    expect(name(s.active)).toBe("chat claude-3-5-sonnet");
    expect(demo.view(s.active).orphan).toBe(true);
    expect(name(s.step)).toBe("agent data_analyst");
  });

  it("never lets cumulative figures go down", () => {
    let cost = 0;
    let tokens = 0;
    let errors = 0;
    for (let t = 0; t <= r.duration; t += r.duration / 500) {
      const s = r.at(t);
      expect(s.cost).toBeGreaterThanOrEqual(cost);
      expect(s.inputTokens + s.outputTokens).toBeGreaterThanOrEqual(tokens);
      expect(s.errors).toBeGreaterThanOrEqual(errors);
      ({ cost, errors } = s);
      tokens = s.inputTokens + s.outputTokens;
    }
  });
});

describe("ReplayIndex on an OTLP GenAI agent", () => {
  const r = indexOf(weather, weatherRun);

  it("ends with the run's totals", () => {
    const end = r.at(r.duration);
    expect(formatCost(end.cost)).toBe(formatCost(weatherRun.cost));
    expect(end.inputTokens).toBe(weatherRun.input_tokens);
    expect(end.outputTokens).toBe(weatherRun.output_tokens);
    expect(end.errors).toBe(1);
  });

  it("shows the failing tool in flight, and the agent as the step", () => {
    const s = r.at(2 * S);
    expect(s.toolsInFlight).toBe(1);
    expect(weather.toolNameOf(s.tools[0])).toBe("get_weather");
    expect(weather.kindOf(s.step)).toBe("agent");
    expect(s.llmDone).toBe(1);
    expect(s.cost).toBeCloseTo(0.00603, 12);
  });
});

describe("ReplayIndex at scale", () => {
  // 100,000 spans: a root, 1,000 iterations, each with an LLM call and 98 tools, some failing.
  interface Row {
    start: number;
    end: number;
    kind: SpanKind;
    error: boolean;
    cost: number;
    tokens: [number, number];
    parent: number;
  }

  function columns(rows: Row[]): ReplayInput {
    const kinds: SpanKind[] = ["agent", "chain", "llm", "tool"];
    const n = rows.length;
    const input = {
      n,
      start: new Float64Array(n),
      end: new Float64Array(n),
      parent: new Int32Array(n),
      kind: new Uint8Array(n),
      kinds,
      flags: new Uint8Array(n),
      cost: new Float64Array(n),
      inputTokens: new Float64Array(n),
      outputTokens: new Float64Array(n),
    };
    rows.forEach((s, i) => {
      input.start[i] = s.start;
      input.end[i] = s.end;
      input.parent[i] = s.parent;
      input.kind[i] = kinds.indexOf(s.kind);
      input.flags[i] = s.error ? ERROR : 0;
      input.cost[i] = s.cost;
      [input.inputTokens[i], input.outputTokens[i]] = s.tokens;
    });
    return input;
  }

  function synthetic(): { spans: ReplayInput; kinds: SpanKind[]; cost: number } {
    const rows: Row[] = [];
    let cost = 0;
    const none = { error: false, cost: NaN, tokens: [NaN, NaN] as [number, number] };
    rows.push({ ...none, start: 0, end: 1000 * S, kind: "agent", parent: -1 });
    for (let it = 0; it < 1000; it++) {
      const base = it * S;
      const chain = rows.length;
      rows.push({ ...none, start: base, end: base + S, kind: "chain", parent: 0 });
      const c = 0.000123 * ((it % 7) + 1);
      cost += c;
      rows.push({ start: base, end: base + 0.3 * S, kind: "llm", error: false, cost: c, tokens: [100, 20], parent: chain });
      for (let k = 0; k < 97; k++) {
        const a = base + 0.3 * S + k * 0.007 * S;
        rows.push({ ...none, start: a, end: a + 0.02 * S, kind: "tool", error: k === 50, parent: chain });
      }
    }
    return { spans: columns(rows), kinds: rows.map((r) => r.kind), cost };
  }

  it("builds once and answers each frame in microseconds", () => {
    const { spans, kinds, cost } = synthetic();
    expect(spans.n).toBe(99_001);
    const t0 = performance.now();
    const r = new ReplayIndex(spans);
    const built = performance.now() - t0;
    const t1 = performance.now();
    let last = r.at(0);
    for (let f = 0; f < 10_000; f++) last = r.at((f / 10_000) * r.duration);
    const perFrame = (performance.now() - t1) / 10_000;
    expect(built).toBeLessThan(2000);
    expect(perFrame).toBeLessThan(0.2);
    expect(last.toolsInFlight).toBeGreaterThanOrEqual(0);
    const end = r.at(r.duration);
    expect(end.cost).toBeCloseTo(cost, 9);
    expect(end.inputTokens).toBe(100_000);
    expect(end.errors).toBe(1000);
    // Mid-iteration: three overlapping tools, in iteration 500.
    const mid = r.at(500 * S + 0.325 * S);
    expect(mid.toolsInFlight).toBe(3);
    expect(mid.tools.length).toBe(3);
    expect(kinds[mid.step]).toBe("chain");
    expect(mid.step).toBe(1 + 500 * 99);
  });
});
