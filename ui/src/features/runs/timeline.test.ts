import { describe, expect, it } from "vitest";
import { MIN_SPAN_NS, clampWindow, fullWindow, panBy, revealRange, tOf, ticks, xOf, zoomAt } from "./timeline";

const D = 10e9; // a 10 s run

describe("time window", () => {
  it("maps time to x and back", () => {
    const w = { start: 0, span: D };
    expect(xOf(5e9, w, 1000)).toBe(500);
    expect(tOf(250, w, 1000)).toBe(2.5e9);
  });

  it("zooms around the anchor, which stays under the cursor", () => {
    const w = fullWindow(D);
    const anchor = 3e9;
    const x = xOf(anchor, w, 800);
    const z = zoomAt(w, 0.5, anchor, D);
    expect(z.span).toBeCloseTo(w.span / 2);
    expect(xOf(anchor, z, 800)).toBeCloseTo(x, 6);
  });

  it("never zooms out past the whole run nor in past a microsecond", () => {
    expect(zoomAt(fullWindow(D), 10, 5e9, D)).toEqual(fullWindow(D));
    expect(zoomAt(fullWindow(D), 1e-12, 5e9, D).span).toBe(MIN_SPAN_NS);
  });

  it("pans within the run", () => {
    const w = zoomAt(fullWindow(D), 0.1, 5e9, D);
    const far = panBy(w, 100e9, D);
    const full = fullWindow(D);
    expect(far.start + far.span).toBeCloseTo(full.start + full.span);
    expect(panBy(w, -100e9, D).start).toBeCloseTo(full.start);
    expect(clampWindow({ start: 0, span: 0 }, D).span).toBe(MIN_SPAN_NS);
  });

  it("reveals a range by centring it, or by zooming out when it is wider", () => {
    const w = { start: 0, span: 1e9 };
    const r = revealRange(w, 5e9, 5.1e9, D);
    expect(r.span).toBe(1e9);
    expect(r.start + r.span / 2).toBeCloseTo(5.05e9);
    expect(revealRange(w, 0.3e9, 0.4e9, D)).toBe(w);
    expect(revealRange(w, 2e9, 6e9, D).span).toBeGreaterThan(4e9);
  });

  it("puts ticks at nice steps", () => {
    const { step, at } = ticks({ start: 0, span: D }, 1000, 80);
    expect(step).toBe(1e9);
    expect(at[0]).toBe(0);
    expect(at.length).toBe(11);
  });
});
