import { describe, expect, it } from "vitest";
import {
  MAX_SPACER_PX,
  contentHeight,
  firstVisibleRow,
  isAtEnd,
  isScaled,
  maxOffset,
  maxScrollTop,
  offsetAfterResize,
  offsetToCenter,
  offsetToReveal,
  offsetToScrollTop,
  rowTop,
  rowsPerPage,
  scrollTopToOffset,
  spacerHeight,
  visibleRange,
  type Geometry,
} from "./virtual";

const H = 22;
const geom = (total: number, viewport = 660): Geometry => ({ total, rowHeight: H, viewport, maxSpacer: MAX_SPACER_PX });

describe("small lists (no scaling)", () => {
  const g = geom(1000);

  it("uses the natural height and the identity mapping", () => {
    expect(isScaled(g)).toBe(false);
    expect(spacerHeight(g)).toBe(22_000);
    expect(scrollTopToOffset(1234, g)).toBe(1234);
    expect(offsetToScrollTop(1234, g)).toBe(1234);
  });

  it("renders the visible rows plus overscan", () => {
    expect(visibleRange(0, g, 5)).toEqual({ first: 0, last: 29 + 5 });
    expect(visibleRange(220, g, 5)).toEqual({ first: 5, last: 39 + 5 });
  });

  it("renders nothing when empty", () => {
    const r = visibleRange(0, geom(0), 5);
    expect(r.last).toBeLessThan(r.first);
    expect(spacerHeight(geom(0))).toBe(0);
  });

  it("fits in the viewport without scrolling when short", () => {
    const short = geom(3);
    expect(maxScrollTop(short)).toBe(0);
    expect(maxOffset(short)).toBe(0);
    expect(visibleRange(0, short, 10)).toEqual({ first: 0, last: 2 });
  });
});

describe("10,000,000 rows", () => {
  const N = 10_000_000;
  const g = geom(N);

  it("caps the spacer below browser limits", () => {
    expect(contentHeight(g)).toBe(220_000_000);
    expect(isScaled(g)).toBe(true);
    expect(spacerHeight(g)).toBe(MAX_SPACER_PX);
    expect(spacerHeight(g)).toBeLessThan(17_000_000);
  });

  it("maps the ends of the scrollbar to the first and last rows", () => {
    expect(scrollTopToOffset(0, g)).toBe(0);
    expect(visibleRange(scrollTopToOffset(0, g), g, 0).first).toBe(0);
    const bottom = scrollTopToOffset(maxScrollTop(g), g);
    expect(bottom).toBe(maxOffset(g));
    const r = visibleRange(bottom, g, 0);
    expect(r.last).toBe(N - 1);
    // The last row sits fully inside the viewport, its bottom on the viewport's bottom.
    expect(rowTop(N - 1, bottom, g) + H).toBeCloseTo(g.viewport, 6);
  });

  it("maps the middle of the scrollbar to the middle of the rows", () => {
    const mid = scrollTopToOffset(maxScrollTop(g) / 2, g);
    const row = firstVisibleRow(mid, g);
    expect(Math.abs(row - N / 2)).toBeLessThan(20);
  });

  it("is monotonic and round-trips within a row", () => {
    let last = -1;
    for (let top = 0; top <= maxScrollTop(g); top += 99_991) {
      const off = scrollTopToOffset(top, g);
      expect(off).toBeGreaterThan(last);
      last = off;
      expect(Math.abs(offsetToScrollTop(off, g) - top)).toBeLessThan(1e-3);
    }
  });

  it("one pixel of scrollbar moves about a row, never a page", () => {
    const a = scrollTopToOffset(5_000_000, g);
    const b = scrollTopToOffset(5_000_001, g);
    expect(b - a).toBeGreaterThan(0);
    expect(b - a).toBeLessThan(g.viewport);
  });

  it("reaches every row by a scrollTop inside the allowed range", () => {
    for (const row of [0, 1, 4_999_999, 9_999_970, N - 1]) {
      const off = offsetToReveal(row, 0, g);
      const top = offsetToScrollTop(off, g);
      expect(top).toBeGreaterThanOrEqual(0);
      expect(top).toBeLessThanOrEqual(maxScrollTop(g));
      const r = visibleRange(off, g, 0);
      expect(row).toBeGreaterThanOrEqual(r.first);
      expect(row).toBeLessThanOrEqual(r.last);
    }
  });

  it("renders a bounded number of rows anywhere", () => {
    for (const off of [0, 1e6, 1e8, maxOffset(g)]) {
      const r = visibleRange(off, g, 12);
      expect(r.last - r.first + 1).toBeLessThanOrEqual(Math.ceil(g.viewport / H) + 1 + 24);
    }
  });

  it("positions rendered rows within a viewport-sized band", () => {
    const off = 123_456_789;
    const r = visibleRange(off, g, 0);
    expect(rowTop(r.first, off, g)).toBeLessThanOrEqual(0);
    expect(rowTop(r.first, off, g)).toBeGreaterThan(-H);
    expect(rowTop(r.last, off, g)).toBeLessThan(g.viewport);
  });
});

describe("revealing a row", () => {
  const g = geom(1000, 220); // 10 rows visible

  it("does not move when the row is already visible", () => {
    expect(offsetToReveal(3, 0, g)).toBe(0);
    expect(offsetToReveal(9, 0, g)).toBe(0);
  });

  it("scrolls the least to show a row below or above", () => {
    expect(offsetToReveal(10, 0, g)).toBe(22);
    expect(offsetToReveal(4, 440, g)).toBe(88);
  });

  it("clamps at the ends", () => {
    expect(offsetToReveal(999, 0, g)).toBe(maxOffset(g));
    expect(offsetToCenter(0, g)).toBe(0);
    expect(offsetToCenter(999, g)).toBe(maxOffset(g));
  });

  it("centres a row for jumps", () => {
    const off = offsetToCenter(500, g);
    expect(rowTop(500, off, g)).toBe((g.viewport - H) / 2);
  });

  it("counts whole rows per page", () => {
    expect(rowsPerPage(g)).toBe(10);
    expect(rowsPerPage(geom(10, 0))).toBe(1);
  });
});

describe("tail mode", () => {
  const g = (total: number) => ({ total, rowHeight: 22, viewport: 220, maxSpacer: MAX_SPACER_PX });

  it("is at the end at the last offset, and when everything fits", () => {
    expect(isAtEnd(100 * 22 - 220, g(100))).toBe(true);
    expect(isAtEnd(100 * 22 - 260, g(100))).toBe(false);
    expect(isAtEnd(0, g(5))).toBe(true);
  });

  it("stays pinned to the newest row as the list grows, and still when not at the end", () => {
    expect(offsetAfterResize(100 * 22 - 220, true, g(150))).toBe(150 * 22 - 220);
    expect(offsetAfterResize(500, false, g(150))).toBe(500);
    expect(offsetAfterResize(5000, false, g(50))).toBe(50 * 22 - 220);
  });
});
