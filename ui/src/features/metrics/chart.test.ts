import { describe, expect, it } from "vitest";
import type { QueryResult } from "../../api";
import { alignRange, axisTicks, chooseStep, followsNow, formatSpan, timeTicks, formatValue, lastValue, planQuery, readRange, seriesName, showPoints, targetPoints, toAligned } from "./chart";

describe("chooseStep", () => {
  it("aims at 300 to 1000 points, about one per two pixels", () => {
    expect(targetPoints(0)).toBe(300);
    expect(targetPoints(1200)).toBe(600);
    expect(targetPoints(5000)).toBe(1000);
  });

  it("picks a readable step that keeps the points under the target", () => {
    const hour = 3_600_000;
    expect(chooseStep(hour, 1200)).toBe(10_000); // 6 s raw -> 10 s, 360 points
    expect(chooseStep(24 * hour, 1200)).toBe(300_000); // 144 s raw -> 5 min, 288 points
    expect(chooseStep(7 * 24 * hour, 2000)).toBe(900_000); // 604.8 s raw -> 15 min
    for (const [range, width] of [
      [hour, 800],
      [6 * hour, 1600],
      [24 * hour, 600],
      [30 * 24 * hour, 1000],
    ]) {
      const step = chooseStep(range, width);
      expect(range / step).toBeLessThanOrEqual(targetPoints(width));
    }
  });

  it("never goes under a second, and counts whole days past a day", () => {
    expect(chooseStep(60_000, 1200)).toBe(1000);
    expect(chooseStep(0, 1200)).toBe(1000);
    expect(chooseStep(2 * 365 * 86_400_000, 600)).toBe(3 * 86_400_000);
  });
});

describe("alignRange", () => {
  it("puts both ends on the step's grid, never past the end", () => {
    expect(alignRange(1_000_500, 1_060_700, 1000)).toEqual({ start: 1_000_000, end: 1_060_000 });
    expect(alignRange(1_000_000, 1_000_400, 1000)).toEqual({ start: 1_000_000, end: 1_000_000 });
    const a = alignRange(12_345_678, 99_999_999, 15_000);
    expect(a.start % 15_000).toBe(0);
    expect(a.end % 15_000).toBe(0);
    expect(a.end).toBeLessThanOrEqual(99_999_999);
  });
});

describe("seriesName", () => {
  it("prints a series as Prometheus does, labels sorted, values quoted", () => {
    expect(seriesName({ __name__: "up", job: "agent", instance: "a:1" }, "q")).toBe('up{instance="a:1", job="agent"}');
    expect(seriesName({ status: "500" }, "q")).toBe('{status="500"}');
    expect(seriesName({ __name__: "up" }, "q")).toBe("up");
    expect(seriesName({}, "sum(rate(x[1m]))")).toBe("sum(rate(x[1m]))");
    expect(seriesName({ msg: 'say "hi"\\' }, "q")).toBe('{msg="say \\"hi\\"\\\\"}');
  });
});

describe("toAligned", () => {
  const grid = { start: 10_000, end: 15_000, step: 1000 };
  const result: QueryResult = {
    scalar: false,
    truncated: false,
    series: [
      {
        labels: { __name__: "a", k: "1" },
        points: [
          [10_000, 1],
          [11_000, 2],
          // 12 s missing: a gap
          [13_000, null], // NaN from the engine: a gap too
          [14_000, 4],
          [15_000, 5],
        ],
      },
      { labels: { __name__: "a", k: "2" }, points: [[12_000, 7]] },
      { labels: { __name__: "a", k: "3" }, points: [[15_000, 9]] },
    ],
  };

  it("fills the whole grid with one column per series and nulls for gaps", () => {
    const a = toAligned(result, grid, "q", 10);
    expect(a.xs).toEqual([10, 11, 12, 13, 14, 15]);
    expect(a.ys).toEqual([
      [1, 2, null, null, 4, 5],
      [null, null, 7, null, null, null],
      [null, null, null, null, null, 9],
    ]);
    expect(a.names).toEqual(['a{k="1"}', 'a{k="2"}', 'a{k="3"}']);
    expect(a.points).toBe(6);
    expect(a.total).toBe(3);
  });

  it("draws at most maxSeries series", () => {
    const a = toAligned(result, grid, "q", 2);
    expect(a.ys.length).toBe(2);
    expect(a.names.length).toBe(2);
    expect(a.points).toBe(5);
    expect(a.total).toBe(3);
  });

  it("keeps a time off the grid rather than dropping its value", () => {
    const off: QueryResult = { scalar: false, truncated: false, series: [{ labels: {}, points: [[10_500, 3]] }] };
    const a = toAligned(off, { start: 10_000, end: 11_000, step: 1000 }, "q", 10);
    expect(a.xs).toEqual([10, 10.5, 11]);
    expect(a.ys).toEqual([[null, 3, null]]);
    expect(a.names).toEqual(["q"]);
  });

  it("copes with no series and a scalar", () => {
    expect(toAligned({ scalar: false, truncated: false, series: [] }, grid, "q", 10)).toMatchObject({ ys: [], points: 0, total: 0 });
    const s = toAligned({ scalar: true, truncated: false, series: [{ labels: {}, points: [[10_000, 3.14]] }] }, grid, "pi()", 10);
    expect(s.names).toEqual(["pi()"]);
    expect(s.points).toBe(1);
  });

  it("gives the last value for the legend", () => {
    expect(lastValue([1, 2, null])).toBe(2);
    expect(lastValue([null, null])).toBeNull();
  });
});

describe("number formats", () => {
  it("writes legend values exactly enough", () => {
    expect(formatValue(null)).toBe("—");
    expect(formatValue(0)).toBe("0");
    expect(formatValue(12345)).toBe("12345");
    expect(formatValue(0.123456789)).toBe("0.123457");
    expect(formatValue(1234.56789)).toBe("1234.57");
    expect(formatValue(-2.5)).toBe("-2.5");
    expect(formatValue(1e-9)).toBe("1e-9");
    expect(formatValue(1.5e20)).toBe("1.5e+20");
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe("+Inf");
  });

  it("writes axis ticks short, as precise as their spacing, never two alike", () => {
    expect(axisTicks([0, 500, 1000, 1500], 500)).toEqual(["0", "0.5k", "1.0k", "1.5k"]);
    expect(axisTicks([0, 1_000_000, 2_000_000], 1_000_000)).toEqual(["0", "1M", "2M"]);
    expect(axisTicks([0, 0.25, 0.5], 0.25)).toEqual(["0", "0.25", "0.50"]);
    expect(axisTicks([10, 20, 30], 10)).toEqual(["10", "20", "30"]);
    expect(axisTicks([1, 1.0025, 1.005], 0.0025)).toEqual(["1.0000", "1.0025", "1.0050"]);
    expect(axisTicks([-5, 0, 5], 5)).toEqual(["-5", "0", "5"]);
    expect(axisTicks([0, 2e-7, 4e-7], 2e-7)).toEqual(["0", "2e-7", "4e-7"]);
    const ticks = axisTicks([1, 1.005, 1.01, 1.015, 1.02, 1.025, 1.03, 1.035, 1.04, 1.045, 1.05], 0.005);
    expect(new Set(ticks).size).toBe(ticks.length);
  });
});

describe("planQuery", () => {
  const now = Date.UTC(2024, 5, 1, 12, 0, 0, 400);

  it("shows the last hour when the since box is empty, up to now", () => {
    expect(planQuery({ since: null, until: null }, now, 1200)).toEqual({
      start: Date.UTC(2024, 5, 1, 11, 0, 0),
      end: Date.UTC(2024, 5, 1, 12, 0, 0),
      step: 10_000,
      followsNow: true,
    });
  });

  it("reads the shared boxes", () => {
    const p = planQuery({ since: "2m", until: null }, now, 1200);
    expect(p).toMatchObject({ step: 1000, followsNow: true });
    if ("error" in p) throw new Error(p.error);
    expect((p.end - p.start) / p.step).toBe(120);
    expect(planQuery({ since: "2024-06-01T10:00:00Z", until: "2024-06-01T11:00:00Z" }, now, 1200)).toEqual({
      start: Date.UTC(2024, 5, 1, 10),
      end: Date.UTC(2024, 5, 1, 11),
      step: 10_000,
      followsNow: false,
    });
    expect(planQuery({ since: "2h", until: "1h" }, now, 1200)).toMatchObject({ followsNow: true });
  });

  it("says what is wrong with the range", () => {
    expect(planQuery({ since: "yesterday-ish", until: null }, now, 1200)).toEqual({ error: expect.stringContaining("“yesterday-ish” is not a time") });
    expect(planQuery({ since: "1h", until: "later" }, now, 1200)).toEqual({ error: expect.stringContaining("“later”") });
    expect(planQuery({ since: "1h", until: "2h" }, now, 1200)).toEqual({ error: expect.stringContaining("ends before it starts") });
  });

  it("reads the boxes as they are, leaving an empty one to the caller", () => {
    expect(readRange({ since: null, until: null }, now)).toEqual({ start: null, end: null });
    expect(readRange({ since: "1h", until: null }, now)).toEqual({ start: now - 3_600_000, end: null });
    expect(readRange({ since: null, until: "bad" }, now)).toEqual({ error: expect.stringContaining("“bad” is not a time") });
  });

  it("knows which ends follow the clock", () => {
    expect(followsNow(null)).toBe(true);
    expect(followsNow("now")).toBe(true);
    expect(followsNow("5m")).toBe(true);
    expect(followsNow("2024-06-01T12:00:00Z")).toBe(false);
  });
});

describe("timeTicks", () => {
  const t = Date.UTC(2024, 5, 1, 23, 58, 0) / 1000;
  it("writes a 24-hour clock with the date where the day changes", () => {
    expect(timeTicks([t, t + 60, t + 120, t + 180], 60)).toEqual(["23:58\n2024-06-01", "23:59", "00:00\n2024-06-02", "00:01"]);
  });

  it("shows seconds, milliseconds or dates as the ticks need", () => {
    expect(timeTicks([t + 5, t + 10], 5)).toEqual(["23:58:05\n2024-06-01", "23:58:10"]);
    expect(timeTicks([t + 0.5], 0.5)).toEqual(["23:58:00.500\n2024-06-01"]);
    expect(timeTicks([t, t + 86_400], 86_400)).toEqual(["2024-06-01", "2024-06-02"]);
  });
});

describe("formatSpan", () => {
  it("writes the second date only when the day changes", () => {
    expect(formatSpan(Date.UTC(2024, 5, 1, 11), Date.UTC(2024, 5, 1, 12))).toBe("2024-06-01 11:00:00 – 12:00:00");
    expect(formatSpan(Date.UTC(2024, 5, 1, 23), Date.UTC(2024, 5, 2, 1))).toBe("2024-06-01 23:00:00 – 2024-06-02 01:00:00");
  });
});

describe("showPoints", () => {
  it("dots values alone between gaps, and few values for the width", () => {
    expect(showPoints([1, 2, 3, 4], 48)).toBe(true);
    expect(showPoints([1, 2, 3, 4, 5], 48)).toBe(false);
    const many = Array.from({ length: 200 }, (_, i) => i);
    expect(showPoints(many, 1200)).toBe(false);
    expect(showPoints([...many, null, 5, null], 1200)).toBe(true);
  });
});
