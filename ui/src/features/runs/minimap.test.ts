import { describe, expect, it } from "vitest";
import { paintMinimap } from "./minimap";

function spans(rows: Array<[number, number]>) {
  return {
    n: rows.length,
    start: Float64Array.from(rows.map((r) => r[0])),
    end: Float64Array.from(rows.map((r) => r[1])),
  };
}

describe("paintMinimap", () => {
  it("paints each span's bar, a later span over an earlier one", () => {
    const W = 10;
    const H = 4;
    const px = new Uint32Array(W * H);
    // Span 0 across the run on rows 0-1; span 1 the first half on rows 1-2.
    const layout = { width: W, height: H, duration: 100, top: 0, inner: 2, barHeight: 2, minWidth: 1 };
    paintMinimap(px, spans([[0, 100], [0, 50]]), layout, (pos) => pos + 1);
    const row = (y: number) => [...px.subarray(y * W, (y + 1) * W)];
    expect(row(0)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(row(1)).toEqual([2, 2, 2, 2, 2, 1, 1, 1, 1, 1]);
    expect(row(2)).toEqual([2, 2, 2, 2, 2, 0, 0, 0, 0, 0]);
    expect(row(3)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("gives an instant its narrowest bar and skips what is off the canvas", () => {
    const W = 10;
    const px = new Uint32Array(W);
    const layout = { width: W, height: 1, duration: 100, top: 0, inner: 0, barHeight: 1, minWidth: 2 };
    paintMinimap(px, spans([[30, 30], [-50, -10], [200, 300], [NaN, NaN]]), layout, () => 7);
    expect([...px]).toEqual([0, 0, 0, 7, 7, 0, 0, 0, 0, 0]);
  });

  it("paints 100,000 spans across the whole width in one pass", () => {
    const n = 100_000;
    const W = 2000;
    const H = 44;
    const px = new Uint32Array(W * H);
    const all = spans(Array.from({ length: n }, (_, i) => [i, 2 * n - i] as [number, number]));
    const t0 = performance.now();
    paintMinimap(px, all, { width: W, height: H, duration: 2 * n, top: 6, inner: 32, barHeight: 2, minWidth: 2 }, (pos) => pos + 1);
    expect(performance.now() - t0).toBeLessThan(1000);
    // The last span's bar (rows 37-38) is on top where it is; above the first bar nothing is painted.
    expect(px[38 * W + W / 2]).toBe(n);
    expect(px[37 * W + W / 2]).toBe(n);
    expect(px[5 * W + W / 2]).toBe(0);
    // At the left edge only the first spans reach: the top rows.
    expect(px[6 * W]).toBeGreaterThan(0);
    expect(px[37 * W]).toBe(0);
  });
});
