import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, parseSettings } from "./settings";

describe("parseSettings", () => {
  it("restores what was saved", () => {
    const saved = {
      view: "sources",
      level: "warn+",
      search: "timeout",
      since: "15m",
      until: "",
      source: "/var/log/a.jsonl",
      runSort: "cost",
      runDescending: true,
      metricsQuery: 'sum by (status) (rate(agent_requests_total{endpoint="/v1/agent/run"}[1m]))',
    };
    expect(parseSettings(JSON.stringify(saved))).toEqual(saved);
    expect(parseSettings(JSON.stringify({ ...saved, view: "runs" })).view).toBe("runs");
    expect(parseSettings(JSON.stringify({ ...saved, view: "metrics" })).view).toBe("metrics");
    expect(parseSettings(JSON.stringify({ ...saved, view: "costs" })).view).toBe("costs");
    expect(parseSettings(JSON.stringify({ ...saved, view: "alerts" })).view).toBe("alerts");
  });

  it("reads settings saved before the runs view existed", () => {
    const old = { view: "logs", level: "all", search: "", since: "", until: "", source: "" };
    expect(parseSettings(JSON.stringify(old))).toEqual(DEFAULT_SETTINGS);
  });

  it("starts fresh when nothing or garbage is stored", () => {
    expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings("{not json")).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings("[1,2]")).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings("42")).toEqual(DEFAULT_SETTINGS);
  });

  it("replaces each bad field by its default", () => {
    const s = parseSettings(
      JSON.stringify({ view: "charts", level: "loud", search: 5, since: "1h", source: "x".repeat(10_000), runSort: "vibes", runDescending: "yes", metricsQuery: ["up"] }),
    );
    expect(s).toEqual({ ...DEFAULT_SETTINGS, since: "1h" });
  });
});
