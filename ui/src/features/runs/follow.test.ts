import { describe, expect, it } from "vitest";
import type { RunColumns } from "../../api";
import {
  LIVE_RECENT_MS,
  ROOT_PENDING_MS,
  followAfterGrowth,
  playheadAfterGrowth,
  rootPending,
  runGrew,
  runLooksLive,
  windowAfterGrowth,
} from "./follow";
import { fullWindow } from "./timeline";

const NOW = Date.UTC(2024, 4, 1, 12);
const S = 1e9;

function view(endMsAgo: number, orphan: number[] = []): Pick<RunColumns, "orphan" | "run"> {
  return { orphan, run: { end_ns: (NOW - endMsAgo) * 1e6 } as RunColumns["run"] };
}

describe("runLooksLive", () => {
  it("counts a run that ended moments ago as going, and an old one as finished", () => {
    expect(runLooksLive(view(2_000), NOW)).toBe(true);
    expect(runLooksLive(view(LIVE_RECENT_MS + 1), NOW)).toBe(false);
    expect(runLooksLive(view(3_600_000), NOW)).toBe(false);
  });

  it("waits longer for a run whose root span has not arrived", () => {
    expect(rootPending({ orphan: [0, 5] })).toBe(true);
    expect(rootPending({ orphan: [5] })).toBe(false);
    expect(runLooksLive(view(60_000, [0]), NOW)).toBe(true);
    expect(runLooksLive(view(60_000, [3]), NOW)).toBe(false);
    expect(runLooksLive(view(ROOT_PENDING_MS + 1, [0]), NOW)).toBe(false);
  });

  it("does not take a clock far ahead for a live run", () => {
    expect(runLooksLive(view(-5_000), NOW)).toBe(true);
    expect(runLooksLive(view(-3_600_000), NOW)).toBe(false);
  });
});

describe("following a growing run", () => {
  it("sees growth in more spans or a later end", () => {
    expect(runGrew({ spans: 3, extent: 5 * S }, { spans: 4, extent: 5 * S })).toBe(true);
    expect(runGrew({ spans: 3, extent: 5 * S }, { spans: 3, extent: 6 * S })).toBe(true);
    expect(runGrew({ spans: 3, extent: 5 * S }, { spans: 3, extent: 5 * S })).toBe(false);
  });

  it("keeps the playhead at the newest end while following, and where it was otherwise", () => {
    expect(playheadAfterGrowth(5 * S, 8 * S, true)).toBe(8 * S);
    expect(playheadAfterGrowth(2 * S, 8 * S, false)).toBe(2 * S);
    // A run that shrank (spans replaced) never leaves the playhead past its end.
    expect(playheadAfterGrowth(9 * S, 8 * S, false)).toBe(8 * S);
  });

  it("turns following on by itself only while the user has not moved the playhead from the end", () => {
    expect(followAfterGrowth(true, true, 0, 5 * S)).toBe(true);
    expect(followAfterGrowth(false, false, 5 * S, 5 * S)).toBe(true);
    expect(followAfterGrowth(false, true, 5 * S, 5 * S)).toBe(false);
    expect(followAfterGrowth(false, false, 2 * S, 5 * S)).toBe(false);
  });

  it("keeps a whole-run window whole, and pages a zoomed one along only when following", () => {
    expect(windowAfterGrowth(fullWindow(5 * S), 5 * S, 8 * S, false)).toEqual(fullWindow(8 * S));
    const zoomed = { start: 1 * S, span: 2 * S };
    expect(windowAfterGrowth(zoomed, 5 * S, 8 * S, false)).toEqual(zoomed);
    const paged = windowAfterGrowth(zoomed, 5 * S, 8 * S, true);
    expect(paged.span).toBe(2 * S);
    expect(paged.start).toBeLessThan(8 * S);
    expect(paged.start + paged.span).toBeGreaterThanOrEqual(8 * S);
    // Already showing the end: left alone.
    const atEnd = { start: 5.6 * S, span: 2 * S };
    expect(windowAfterGrowth(atEnd, 7 * S, 7.5 * S, true)).toEqual(atEnd);
  });
});
