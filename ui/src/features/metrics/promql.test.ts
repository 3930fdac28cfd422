import { describe, expect, it } from "vitest";
import {
  applySuggestion,
  completionContext,
  escapeString,
  formatPromDuration,
  guessMetric,
  histogramBase,
  isCounter,
  matchRank,
  opensByItself,
  quantileQuery,
  rateQuery,
  rateWindow,
  suggest,
  unescapeString,
  withMatcher,
  type CompletionContext,
  type CompletionSources,
} from "./promql";

/** The context at the `|` in `marked` (the bar is not part of the text). */
function at(marked: string): { text: string; cursor: number; ctx: CompletionContext } {
  const cursor = marked.indexOf("|");
  const text = marked.slice(0, cursor) + marked.slice(cursor + 1);
  return { text, cursor, ctx: completionContext(text, cursor) };
}

const metrics: CompletionSources["metrics"] = [
  { name: "agent_requests_total", kind: "counter", help: "Total HTTP requests handled by the agent service." },
  { name: "agent_llm_tokens_total", kind: "counter", help: "LLM tokens consumed, by direction." },
  { name: "agent_llm_latency_seconds_bucket", kind: "histogram", help: "LLM call latency per attempt." },
  { name: "agent_active_sessions", kind: "gauge", help: "Agent runs currently in progress." },
  { name: "rate_limited_total", kind: "counter", help: "" },
];

function sources(partial: Partial<CompletionSources> = {}): CompletionSources {
  return { metrics, labelNames: null, labelValues: null, ...partial };
}

describe("completionContext", () => {
  it("finds a metric or function name being typed", () => {
    expect(at("agent_re|").ctx).toEqual({ kind: "expr", from: 0, to: 8, prefix: "agent_re" });
    expect(at("sum(rat|e(x[1m]))").ctx).toEqual({ kind: "expr", from: 4, to: 8, prefix: "rat" });
    expect(at("|").ctx).toEqual({ kind: "expr", from: 0, to: 0, prefix: "" });
    expect(at("a / |").ctx).toMatchObject({ kind: "expr", prefix: "" });
  });

  it("does not take numbers and durations for names", () => {
    expect(at("x > 1e|").ctx.kind).toBe("none");
    expect(at("x offset 5m|").ctx.kind).toBe("none");
  });

  it("finds a label name inside braces, with the metric before them", () => {
    expect(at("agent_requests_total{|").ctx).toEqual({
      kind: "labelName",
      from: 21,
      to: 21,
      prefix: "",
      metric: "agent_requests_total",
      where: "braces",
    });
    expect(at('rate(agent_requests_total{status="200", met|}[1m])').ctx).toMatchObject({
      kind: "labelName",
      prefix: "met",
      metric: "agent_requests_total",
    });
    expect(at("{jo|").ctx).toMatchObject({ kind: "labelName", prefix: "jo", metric: null });
  });

  it("finds a label value inside quotes, even with commas and escapes before it", () => {
    const c = at('agent_requests_total{endpoint="/a,b", status="2|').ctx;
    expect(c).toEqual({
      kind: "labelValue",
      from: 46,
      to: 47,
      prefix: "2",
      label: "status",
      metric: "agent_requests_total",
      quote: '"',
      closed: false,
    });
    expect(at('x{msg="say \\"hi|').ctx).toMatchObject({ kind: "labelValue", label: "msg", prefix: 'say "hi' });
    expect(at('x{status=~"5|.."}').ctx).toMatchObject({ kind: "labelValue", label: "status", prefix: "5", closed: true, to: 14 });
    expect(at("x{status!='|").ctx).toMatchObject({ kind: "labelValue", quote: "'" });
  });

  it("offers values right after the operator, before any quote", () => {
    expect(at("x{status=|").ctx).toMatchObject({ kind: "labelValue", label: "status", quote: null, prefix: "", from: 9, to: 9 });
  });

  it("finds label names in a grouping, guessing the metric from the query", () => {
    expect(at("sum by (|) (rate(agent_requests_total[1m]))").ctx).toMatchObject({
      kind: "labelName",
      where: "grouping",
      metric: "agent_requests_total",
    });
    expect(at("sum(rate(agent_requests_total[1m])) without (status, met|)").ctx).toMatchObject({
      kind: "labelName",
      prefix: "met",
      where: "grouping",
    });
    expect(at("a / on(jo|) b").ctx).toMatchObject({ kind: "labelName", prefix: "jo" });
  });

  it("finds a range in brackets, subqueries too", () => {
    expect(at("rate(x[|").ctx).toEqual({ kind: "duration", from: 7, to: 7, prefix: "" });
    expect(at("rate(x[5|m])").ctx).toEqual({ kind: "duration", from: 7, to: 9, prefix: "5" });
    expect(at("max_over_time(x[10m:1|])").ctx).toMatchObject({ kind: "duration", prefix: "1" });
  });

  it("offers nothing in strings outside selectors and in comments", () => {
    expect(at('label_replace(x, "dst", "$|').ctx.kind).toBe("none");
    expect(at("x # a comment about rat|").ctx.kind).toBe("none");
  });
});

describe("guessMetric", () => {
  it("skips functions, keywords, labels and strings", () => {
    expect(guessMetric("sum by (job) (rate(agent_requests_total[5m]))")).toBe("agent_requests_total");
    expect(guessMetric('histogram_quantile(0.9, sum by (le) (rate(x_bucket{a="b"}[5m])))')).toBe("x_bucket");
    expect(guessMetric('label_replace(up, "a", "b", "c", "d")')).toBe("up");
    expect(guessMetric("sum by (le) (")).toBeNull();
    expect(guessMetric("")).toBeNull();
  });
});

describe("suggest", () => {
  it("offers metrics, functions and aggregations for a name, prefix matches first", () => {
    const { text, ctx } = at("ra|");
    const labels = suggest(ctx, sources(), text).map((s) => s.label);
    expect(labels[0]).toBe("rate_limited_total");
    expect(labels).toContain("rate");
    expect(labels).toContain("rad");
    expect(labels.indexOf("rate")).toBeLessThan(labels.indexOf("irate"));
  });

  it("matches inside names too", () => {
    const { text, ctx } = at("tokens|");
    expect(suggest(ctx, sources(), text).map((s) => s.label)).toEqual(["agent_llm_tokens_total"]);
  });

  it("offers the over_time family and sum by", () => {
    const { text, ctx } = at("over_t|");
    const labels = suggest(ctx, sources(), text).map((s) => s.label);
    expect(labels).toEqual(expect.arrayContaining(["avg_over_time", "max_over_time", "quantile_over_time"]));
    const sum = suggest(at("sum|").ctx, sources(), "sum");
    expect(sum.map((s) => s.label)).toContain("sum by (…)");
  });

  it("inserts a function with its parenthesis and the caret inside", () => {
    const { text, ctx } = at("histogram_q|");
    const s = suggest(ctx, sources(), text)[0];
    expect(s.label).toBe("histogram_quantile");
    expect(applySuggestion(text, ctx, s)).toEqual({ text: "histogram_quantile(", cursor: 19 });
  });

  it("writes sum by with the caret in the grouping", () => {
    const { text, ctx } = at("sum|");
    const s = suggest(ctx, sources(), text).find((x) => x.label === "sum by (…)");
    expect(s).toBeDefined();
    expect(applySuggestion(text, ctx, s!)).toEqual({ text: "sum by ()", cursor: 8 });
  });

  it("replaces the whole name under the caret", () => {
    const { text, ctx } = at("rate(agent_re|qs[1m])");
    const s = suggest(ctx, sources(), text).find((x) => x.label === "agent_requests_total")!;
    expect(applySuggestion(text, ctx, s)).toEqual({ text: "rate(agent_requests_total[1m])", cursor: 25 });
  });

  it("writes a label name in braces as a matcher with the caret between the quotes", () => {
    const { text, ctx } = at("agent_requests_total{st|}");
    const s = suggest(ctx, sources({ labelNames: ["__name__", "endpoint", "method", "status"] }), text);
    expect(s.map((x) => x.label)).toEqual(["status"]);
    expect(applySuggestion(text, ctx, s[0])).toEqual({ text: 'agent_requests_total{status=""}', cursor: 29 });
    const after = completionContext('agent_requests_total{status=""}', 29);
    expect(after).toMatchObject({ kind: "labelValue", label: "status", closed: true });
  });

  it("writes only the name when a matcher follows it, or in a grouping", () => {
    const { text, ctx } = at('x{sta|="200"}');
    expect(applySuggestion(text, ctx, suggest(ctx, sources({ labelNames: ["status"] }), text)[0]).text).toBe('x{status="200"}');
    const g = at("sum by (sta|) (x)");
    expect(applySuggestion(g.text, g.ctx, suggest(g.ctx, sources({ labelNames: ["status"] }), g.text)[0]).text).toBe("sum by (status) (x)");
  });

  it("hides __name__ unless asked for", () => {
    const { text, ctx } = at("{|");
    expect(suggest(ctx, sources({ labelNames: ["__name__", "job"] }), text).map((s) => s.label)).toEqual(["job"]);
    const u = at("{_|");
    expect(suggest(u.ctx, sources({ labelNames: ["__name__", "job"] }), u.text).map((s) => s.label)).toEqual(["__name__"]);
  });

  it("writes a value escaped, closing the quote when it is missing", () => {
    const values = { labelValues: ["200", "500", 'say "hi"\\now'] };
    const open = at('x{status="|');
    const s = suggest(open.ctx, sources(values), open.text);
    expect(s.map((x) => x.label)).toEqual(["200", "500", 'say "hi"\\now']);
    expect(applySuggestion(open.text, open.ctx, s[2])).toEqual({ text: 'x{status="say \\"hi\\"\\\\now"', cursor: 26 });
    const closed = at('x{status="5|"}');
    const c = suggest(closed.ctx, sources(values), closed.text);
    expect(c.map((x) => x.label)).toEqual(["500"]);
    expect(applySuggestion(closed.text, closed.ctx, c[0])).toEqual({ text: 'x{status="500"}', cursor: 14 });
    const bare = at("x{status=|}");
    expect(applySuggestion(bare.text, bare.ctx, suggest(bare.ctx, sources(values), bare.text)[0])).toEqual({
      text: 'x{status="200"}',
      cursor: 14,
    });
  });

  it("offers ranges in brackets", () => {
    const { text, ctx } = at("rate(x[1|])");
    expect(suggest(ctx, sources(), text).map((s) => s.label)).toEqual(["10s", "1m", "10m", "15m", "1h", "1d"]);
  });

  it("offers nothing while label data loads", () => {
    const { text, ctx } = at("x{|");
    expect(suggest(ctx, sources(), text)).toEqual([]);
  });

  it("opens by itself only where it helps", () => {
    expect(opensByItself(at("|").ctx)).toBe(false);
    expect(opensByItself(at("r|").ctx)).toBe(true);
    expect(opensByItself(at("x{|").ctx)).toBe(true);
    expect(opensByItself(at("x > 1|").ctx)).toBe(false);
  });
});

describe("strings", () => {
  it("escapes and unescapes PromQL strings", () => {
    expect(escapeString('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeString("it's", "'")).toBe("it\\'s");
    expect(unescapeString('a\\"b\\\\c\\nd')).toBe('a"b\\c\nd');
    expect(escapeString("x\r\ty")).toBe("x\\r\\ty");
    expect(unescapeString("x\\r\\ty")).toBe("x\r\ty");
  });

  it("ranks prefix, word and inner matches", () => {
    expect(matchRank("agent_requests_total", "agent")).toBe(0);
    expect(matchRank("agent_requests_total", "req")).toBe(1);
    expect(matchRank("agent_requests_total", "quest")).toBe(2);
    expect(matchRank("agent_requests_total", "xyz")).toBeNull();
  });
});

describe("shortcut queries", () => {
  it("writes rates of counters", () => {
    expect(rateQuery("agent_requests_total", "1m")).toBe("rate(agent_requests_total[1m])");
    expect(rateQuery("agent_requests_total", "1m", [])).toBe("sum(rate(agent_requests_total[1m]))");
    expect(rateQuery("agent_requests_total", "5m", ["status"])).toBe("sum by (status) (rate(agent_requests_total[5m]))");
  });

  it("writes quantiles of histograms", () => {
    expect(quantileQuery("agent_llm_latency_seconds", 0.9, "5m")).toBe(
      "histogram_quantile(0.9, sum by (le) (rate(agent_llm_latency_seconds_bucket[5m])))",
    );
    expect(quantileQuery("x", 0.99, "5m", ["model", "le"])).toBe("histogram_quantile(0.99, sum by (le, model) (rate(x_bucket[5m])))");
  });

  it("knows counters and histogram families", () => {
    expect(isCounter({ name: "a_total", kind: "counter" })).toBe(true);
    expect(isCounter({ name: "a_total", kind: "unknown" })).toBe(true);
    expect(isCounter({ name: "a", kind: "gauge" })).toBe(false);
    expect(histogramBase({ name: "lat_seconds_bucket", kind: "histogram" })).toBe("lat_seconds");
    expect(histogramBase({ name: "lat_seconds_bucket", kind: "unknown" })).toBe("lat_seconds");
    expect(histogramBase({ name: "lat_seconds", kind: "histogram" })).toBe("lat_seconds");
    expect(histogramBase({ name: "lat_seconds_sum", kind: "histogram" })).toBeNull();
    expect(histogramBase({ name: "lat_seconds", kind: "gauge" })).toBeNull();
  });

  it("widens the rate window with the step", () => {
    expect(rateWindow(1000, 60_000)).toBe("1m");
    expect(rateWindow(30_000, 60_000)).toBe("2m");
    expect(rateWindow(3_600_000, 300_000)).toBe("4h");
    expect(rateWindow(1000, 10_000)).toBe("10s");
    expect(formatPromDuration(5_400_000)).toBe("1h30m");
    expect(formatPromDuration(500)).toBe("500ms");
    expect(formatPromDuration(0)).toBe("0s");
  });

  it("narrows a selector to a label value", () => {
    expect(withMatcher("agent_requests_total", "agent_requests_total", "status", "500")).toBe('agent_requests_total{status="500"}');
    expect(withMatcher('agent_requests_total{method="POST", status="200"}', "agent_requests_total", "status", "500")).toBe(
      'agent_requests_total{method="POST", status="500"}',
    );
    expect(withMatcher('agent_requests_total{endpoint="/a,b"}', "agent_requests_total", "status", 'x"y')).toBe(
      'agent_requests_total{endpoint="/a,b", status="x\\"y"}',
    );
    expect(withMatcher("rate(agent_requests_total[1m])", "agent_requests_total", "status", "500")).toBe(
      'agent_requests_total{status="500"}',
    );
  });
});
