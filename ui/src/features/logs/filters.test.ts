import { describe, expect, it } from "vitest";
import { filterFieldOf } from "./filters";

describe("filterFieldOf", () => {
  it("points at the box the engine names", () => {
    expect(filterFieldOf("since")).toBe("since");
    expect(filterFieldOf("until")).toBe("until");
    expect(filterFieldOf("Until time")).toBe("until");
    expect(filterFieldOf("search query")).toBe("search");
    expect(filterFieldOf("limit")).toBe("other");
  });
});
