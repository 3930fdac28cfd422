import { describe, expect, it } from "vitest";
import type { MetricInfo } from "../../api";
import { filterMetrics, kindLabel } from "./browse";

const m = (name: string, kind: string, help = "", derived = false): MetricInfo => ({ name, kind, help, unit: "", series: 1, derived });

const list = [
  m("agent_requests_total", "counter", "Total HTTP requests handled by the agent service."),
  m("agent_llm_tokens_total", "counter", "LLM tokens consumed."),
  m("sightline_log_records_total", "counter", "Log records by level.", true),
  m("agent_active_sessions", "gauge", "Agent runs in progress."),
];

describe("filterMetrics", () => {
  it("keeps everything, by name, with no filter", () => {
    expect(filterMetrics(list, "").map((x) => x.name)).toEqual([
      "agent_active_sessions",
      "agent_llm_tokens_total",
      "agent_requests_total",
      "sightline_log_records_total",
    ]);
  });

  it("needs every word, names before helps", () => {
    expect(filterMetrics(list, "tokens").map((x) => x.name)).toEqual(["agent_llm_tokens_total"]);
    expect(filterMetrics(list, "agent total").map((x) => x.name)).toEqual(["agent_llm_tokens_total", "agent_requests_total"]);
    expect(filterMetrics(list, "HTTP").map((x) => x.name)).toEqual(["agent_requests_total"]);
    expect(filterMetrics(list, "records").map((x) => x.name)).toEqual(["sightline_log_records_total"]);
  });

  it("finds by kind and by derived", () => {
    expect(filterMetrics(list, "gauge").map((x) => x.name)).toEqual(["agent_active_sessions"]);
    expect(filterMetrics(list, "derived").map((x) => x.name)).toEqual(["sightline_log_records_total"]);
  });

  it("prints kinds in words", () => {
    expect(kindLabel("gaugehistogram")).toBe("gauge histogram");
    expect(kindLabel("unknown")).toBe("untyped");
    expect(kindLabel("weird")).toBe("weird");
  });
});
