import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, parseSettings } from "./settings";

describe("parseSettings", () => {
  it("restores what was saved", () => {
    const saved = { view: "sources", level: "warn+", search: "timeout", since: "15m", until: "", source: "/var/log/a.jsonl" };
    expect(parseSettings(JSON.stringify(saved))).toEqual(saved);
  });

  it("starts fresh when nothing or garbage is stored", () => {
    expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings("{not json")).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings("[1,2]")).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings("42")).toEqual(DEFAULT_SETTINGS);
  });

  it("replaces each bad field by its default", () => {
    const s = parseSettings(JSON.stringify({ view: "runs", level: "loud", search: 5, since: "1h", source: "x".repeat(10_000) }));
    expect(s).toEqual({ ...DEFAULT_SETTINGS, since: "1h" });
  });
});
