import { describe, expect, it } from "vitest";
import { filterFieldOf, sourceChoices } from "./filters";

describe("filterFieldOf", () => {
  it("points at the box the engine names", () => {
    expect(filterFieldOf("since")).toBe("since");
    expect(filterFieldOf("until")).toBe("until");
    expect(filterFieldOf("Until time")).toBe("until");
    expect(filterFieldOf("search query")).toBe("search");
    expect(filterFieldOf("limit")).toBe("other");
  });
});

describe("sourceChoices", () => {
  it("lists a path that is several sources once, in order", () => {
    expect(sourceChoices(["/l/agent.log", "/l/b.log", "/l/agent.log"], "")).toEqual(["/l/agent.log", "/l/b.log"]);
  });

  it("keeps a chosen source that is gone, first", () => {
    expect(sourceChoices(["/l/b.log"], "/l/gone.log")).toEqual(["/l/gone.log", "/l/b.log"]);
    expect(sourceChoices(["/l/b.log"], "/l/b.log")).toEqual(["/l/b.log"]);
  });
});
