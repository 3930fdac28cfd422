// Vitest runs with TZ=UTC (vite.config.ts), so "local" time here is UTC.
import { describe, expect, it } from "vitest";
import { formatClock, formatDate, formatDateTime, formatRelative, formatRfc3339, nsToMs, parseSpanMs, parseTimeArg, sameDay, showDate, timeBound } from "./time";

const T = Date.UTC(2024, 4, 1, 9, 5, 7, 42); // 2024-05-01T09:05:07.042Z

describe("absolute times", () => {
  it("prints the clock to the millisecond", () => {
    expect(formatClock(T)).toBe("09:05:07.042");
    expect(formatClock(Date.UTC(2024, 0, 1, 23, 59, 59, 999))).toBe("23:59:59.999");
  });

  it("prints the date", () => {
    expect(formatDate(T)).toBe("2024-05-01");
    expect(formatDateTime(T)).toBe("2024-05-01 09:05:07.042");
  });

  it("survives garbage", () => {
    expect(formatClock(Number.NaN)).toBe("--:--:--.---");
    expect(formatDate(Number.NaN)).toBe("----------");
  });

  it("shows the date on the first row and when the day changes", () => {
    const nextDay = Date.UTC(2024, 4, 2, 0, 0, 0, 1);
    expect(showDate(T, undefined)).toBe(true);
    expect(showDate(T + 1000, T)).toBe(false);
    expect(showDate(nextDay, T)).toBe(true);
    expect(sameDay(T, nextDay)).toBe(false);
  });

  it("converts engine nanoseconds", () => {
    expect(nsToMs(1_714_554_307_042_000_000)).toBe(1_714_554_307_042);
  });
});

describe("relative times", () => {
  const now = T;
  it("reads like a person would say it", () => {
    expect(formatRelative(now - 1000, now)).toBe("just now");
    expect(formatRelative(now - 42_000, now)).toBe("42 s ago");
    expect(formatRelative(now - 5 * 60_000, now)).toBe("5 min ago");
    expect(formatRelative(now - 3 * 3_600_000, now)).toBe("3 h ago");
    expect(formatRelative(now - 30 * 3_600_000, now)).toBe("yesterday");
    expect(formatRelative(now - 4 * 86_400_000, now)).toBe("4 days ago");
    expect(formatRelative(now - 90 * 86_400_000, now)).toBe("2024-02-01");
  });

  it("handles never and the future", () => {
    expect(formatRelative(0, now)).toBe("never");
    expect(formatRelative(now + 2_000, now)).toBe("just now");
    expect(formatRelative(now + 120_000, now)).toBe("2024-05-01 09:07:07.042");
  });
});

describe("since/until boxes", () => {
  it("trims and turns empty into no bound", () => {
    expect(timeBound("  15m ")).toBe("15m");
    expect(timeBound("2024-05-01T00:00:00Z")).toBe("2024-05-01T00:00:00Z");
    expect(timeBound("   ")).toBeNull();
  });
});

describe("time boxes read as the engine reads them", () => {
  const now = Date.UTC(2024, 5, 1, 12, 0, 0, 0);
  it("reads spans back from now", () => {
    expect(parseSpanMs("15m")).toBe(900_000);
    expect(parseSpanMs("1.5h")).toBe(5_400_000);
    expect(parseSpanMs(" 90 s ")).toBe(90_000);
    expect(parseSpanMs("500ms")).toBe(500);
    expect(parseSpanMs("2w")).toBe(14 * 86_400_000);
    expect(parseSpanMs("15x")).toBeNull();
    expect(parseSpanMs("m")).toBeNull();
    expect(parseTimeArg("15m", now)).toBe(now - 900_000);
    expect(parseTimeArg("now", now)).toBe(now);
  });

  it("reads RFC 3339 times, dates and epoch numbers", () => {
    expect(parseTimeArg("2024-06-01T12:00:00Z", 0)).toBe(now);
    expect(parseTimeArg("2024-06-01T14:00:00+02:00", 0)).toBe(now);
    expect(parseTimeArg("2024-06-01T14:00:00+0200", 0)).toBe(now);
    expect(parseTimeArg("2024-06-01 12:00:00.570041Z", 0)).toBe(now + 570);
    expect(parseTimeArg("2024-06-01T12:00:01.308667", 0)).toBe(now + 1308);
    expect(parseTimeArg("2024-06-01", 0)).toBe(Date.UTC(2024, 5, 1));
    expect(parseTimeArg("1717243200", 0)).toBe(now);
    expect(parseTimeArg("1717243200000", 0)).toBe(now);
  });

  it("refuses what is not a time", () => {
    expect(parseTimeArg("yesterday-ish", now)).toBeNull();
    expect(parseTimeArg("2024-13-01T00:00:00Z", now)).toBeNull();
    expect(parseTimeArg("2024-06-01Tnoon", now)).toBeNull();
    expect(parseTimeArg("", now)).toBeNull();
  });

  it("writes a time back the way the boxes read it", () => {
    expect(formatRfc3339(now + 5)).toBe("2024-06-01T12:00:00.005Z");
    expect(parseTimeArg(formatRfc3339(now + 5), 0)).toBe(now + 5);
  });
});
