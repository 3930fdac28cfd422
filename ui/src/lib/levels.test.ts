import { describe, expect, it } from "vitest";
import { LEVELS, LEVEL_FILTER_VALUES, isLevelFilterValue, levelFilterLabel, levelsFor } from "./levels";

describe("levelsFor", () => {
  it("all and trace+ mean every level", () => {
    expect(levelsFor("all")).toEqual([...LEVELS]);
    expect(levelsFor("trace+")).toEqual([...LEVELS]);
  });

  it("x+ means x and everything worse", () => {
    expect(levelsFor("debug+")).toEqual(["debug", "info", "warn", "error", "fatal"]);
    expect(levelsFor("info+")).toEqual(["info", "warn", "error", "fatal"]);
    expect(levelsFor("warn+")).toEqual(["warn", "error", "fatal"]);
    expect(levelsFor("error+")).toEqual(["error", "fatal"]);
  });

  it("a bare level means only that level", () => {
    for (const l of LEVELS) expect(levelsFor(l)).toEqual([l]);
  });

  it("never sends an empty list; unknown values mean all", () => {
    expect(levelsFor("nonsense")).toEqual([...LEVELS]);
    expect(levelsFor("nonsense+")).toEqual([...LEVELS]);
    for (const v of LEVEL_FILTER_VALUES) expect(levelsFor(v).length).toBeGreaterThan(0);
  });

  it("returns a fresh array each time", () => {
    const a = levelsFor("all");
    a.pop();
    expect(levelsFor("all")).toHaveLength(6);
  });
});

describe("the select's values", () => {
  it("are exactly what the GUI tests use", () => {
    expect([...LEVEL_FILTER_VALUES]).toEqual([
      "all", "trace+", "debug+", "info+", "warn+", "error+",
      "trace", "debug", "info", "warn", "error", "fatal",
    ]);
  });

  it("are recognised", () => {
    expect(isLevelFilterValue("warn+")).toBe(true);
    expect(isLevelFilterValue("fatal+")).toBe(false);
    expect(isLevelFilterValue(3)).toBe(false);
  });

  it("have labels", () => {
    expect(levelFilterLabel("all")).toBe("All levels");
    expect(levelFilterLabel("warn+")).toBe("warn and above");
    expect(levelFilterLabel("error")).toBe("error only");
  });
});
