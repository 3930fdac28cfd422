import { describe, expect, it } from "vitest";
import { formatCost, formatDurationNs, formatTick, parseCost, parseDuration } from "./format";

describe("formatDurationNs", () => {
  it("picks a unit people read", () => {
    expect(formatDurationNs(850)).toBe("850 ns");
    expect(formatDurationNs(12_500)).toBe("12.5 µs");
    expect(formatDurationNs(2_386_000)).toBe("2.39 ms");
    expect(formatDurationNs(1_063_000_000)).toBe("1.063 s");
    expect(formatDurationNs(125_300_000_000)).toBe("2 min 05.3 s");
    expect(formatDurationNs(3_720e9)).toBe("1 h 02 min");
    expect(formatDurationNs(0)).toBe("0 ns");
    // Whole numbers keep their zeros.
    expect(formatDurationNs(250_000_000)).toBe("250 ms");
    expect(formatDurationNs(100_000)).toBe("100 µs");
    expect(formatDurationNs(20_000_000)).toBe("20 ms");
  });
});

describe("formatCost", () => {
  it("always shows six decimals", () => {
    expect(formatCost(0.04536)).toBe("$0.045360");
    expect(formatCost(0)).toBe("$0.000000");
  });
});

describe("formatTick", () => {
  it("uses the step's unit and precision", () => {
    expect(formatTick(0, 1e9)).toBe("0 s");
    expect(formatTick(2.5e9, 0.5e9)).toBe("2.5 s");
    expect(formatTick(3e9, 1e9)).toBe("3 s");
    expect(formatTick(1.2e6, 0.2e6)).toBe("1.2 ms");
    expect(formatTick(0.3e9, 0.1e9)).toBe("0.3 s");
    expect(formatTick(120e6, 20e6)).toBe("120 ms");
  });
});

describe("parseDuration", () => {
  it("reads numbers with units, seconds by default", () => {
    expect(parseDuration("500ms")).toEqual({ ok: true, ns: 500e6 });
    expect(parseDuration("5s")).toEqual({ ok: true, ns: 5e9 });
    expect(parseDuration(" 2m ")).toEqual({ ok: true, ns: 120e9 });
    expect(parseDuration("1.5")).toEqual({ ok: true, ns: 1.5e9 });
    expect(parseDuration("250us")).toEqual({ ok: true, ns: 250e3 });
    expect(parseDuration("")).toEqual({ ok: true, ns: null });
  });

  it("refuses the rest", () => {
    expect(parseDuration("soon").ok).toBe(false);
    expect(parseDuration("-5s").ok).toBe(false);
    expect(parseDuration("5 parsecs").ok).toBe(false);
  });
});

describe("parseCost", () => {
  it("reads dollars", () => {
    expect(parseCost("0.05")).toEqual({ ok: true, usd: 0.05 });
    expect(parseCost("$1")).toEqual({ ok: true, usd: 1 });
    expect(parseCost("")).toEqual({ ok: true, usd: null });
    expect(parseCost("a lot").ok).toBe(false);
  });
});
