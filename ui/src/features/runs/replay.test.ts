import { describe, expect, it } from "vitest";
import type { RunView } from "../../api";
import { formatCost } from "./format";
import { MaxTree, ReplayIndex, upperBound, type ReplaySpanInput } from "./replay";
// Real runs as the engine assembles them (`sightline run ID --json`): the demo's data
// analyst (log-line spans: instant "iteration" chains after their children, a failed tool,
// an orphan LLM call) and an OTLP GenAI agent from the shared corpus.
import demoJson from "./testdata/demo-data-analyst.run.json";
import weatherJson from "./testdata/otlp-weather-agent.run.json";

const demo = demoJson as unknown as RunView;
const weather = weatherJson as unknown as RunView;

function indexOf(v: RunView): ReplayIndex {
  return new ReplayIndex(v.spans, v.run.start_ns, {
    totals: { cost: v.run.cost, inputTokens: v.run.input_tokens, outputTokens: v.run.output_tokens },
  });
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
  const r = indexOf(demo);
  const name = (i: number) => demo.spans[i].name;

  it("ends with the run's totals", () => {
    const end = r.at(r.duration);
    expect(end.cost).toBe(demo.run.cost);
    expect(formatCost(end.cost)).toBe("$0.050262");
    expect(end.inputTokens + end.outputTokens).toBe(demo.run.input_tokens + demo.run.output_tokens);
    expect(end.errors).toBe(demo.run.errors);
    expect(end.llmDone).toBe(demo.run.llm_calls);
    expect(end.toolsInFlight).toBe(0);
    expect(end.started).toBe(demo.spans.length);
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
    expect(demo.spans[s.lastError].status).toBe("error");
  });

  it("names the agent as the step when no chain is above (the orphan LLM call)", () => {
    const s = r.at(16 * S);
    expect(name(s.active)).toBe("chat claude-3-5-sonnet");
    expect(demo.spans[s.active].orphan).toBe(true);
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
  const r = indexOf(weather);

  it("ends with the run's totals", () => {
    const end = r.at(r.duration);
    expect(formatCost(end.cost)).toBe(formatCost(weather.run.cost));
    expect(end.inputTokens).toBe(weather.run.input_tokens);
    expect(end.outputTokens).toBe(weather.run.output_tokens);
    expect(end.errors).toBe(1);
  });

  it("shows the failing tool in flight, and the agent as the step", () => {
    const s = r.at(2 * S);
    expect(s.toolsInFlight).toBe(1);
    expect(weather.spans[s.tools[0]].tool_name).toBe("get_weather");
    expect(weather.spans[s.step].kind).toBe("agent");
    expect(s.llmDone).toBe(1);
    expect(s.cost).toBeCloseTo(0.00603, 12);
  });
});

describe("ReplayIndex at scale", () => {
  // 100,000 spans: a root, 1,000 iterations, each with an LLM call and 98 tools, some failing.
  function synthetic(): { spans: ReplaySpanInput[]; cost: number } {
    const spans: ReplaySpanInput[] = [];
    let cost = 0;
    spans.push({ start_ns: 0, end_ns: 1000 * S, kind: "agent", status: "ok", cost: null, input_tokens: null, output_tokens: null, parent: null });
    for (let it = 0; it < 1000; it++) {
      const base = it * S;
      const chain = spans.length;
      spans.push({ start_ns: base, end_ns: base + S, kind: "chain", status: "unset", cost: null, input_tokens: null, output_tokens: null, parent: 0 });
      const c = 0.000123 * ((it % 7) + 1);
      cost += c;
      spans.push({ start_ns: base, end_ns: base + 0.3 * S, kind: "llm", status: "ok", cost: c, input_tokens: 100, output_tokens: 20, parent: chain });
      for (let k = 0; k < 97; k++) {
        const a = base + 0.3 * S + k * 0.007 * S;
        spans.push({ start_ns: a, end_ns: a + 0.02 * S, kind: "tool", status: k === 50 ? "error" : "ok", cost: null, input_tokens: null, output_tokens: null, parent: chain });
      }
    }
    return { spans, cost };
  }

  it("builds once and answers each frame in microseconds", () => {
    const { spans, cost } = synthetic();
    expect(spans.length).toBe(99_001);
    const t0 = performance.now();
    const r = new ReplayIndex(spans, 0);
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
    expect(spans[mid.step].kind).toBe("chain");
    expect(mid.step).toBe(1 + 500 * 99);
  });
});
