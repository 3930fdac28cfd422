// Vitest runs with TZ=UTC (vite.config.ts), so "local" time here is UTC.
import { describe, expect, it } from "vitest";
import { formatClock, formatDate, formatDateTime, formatRelative, nsToMs, sameDay, showDate, timeBound } from "./time";

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
