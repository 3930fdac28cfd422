// The waterfall's minimap: every span of the run as a thin bar, the whole run across the
// width and the tree from top to bottom, painted straight into the pixels of an ImageData.
//
// Drawn with one fillRect per span it took 50–85 ms for 100,000 spans. Here each pixel is
// written at most once: spans are taken last to first (the last one drawn is the one seen,
// as with fillRects in order), and each pixel row keeps a link to its next unpainted pixel
// (a union-find with path halving) that skips whatever a later span already covers. So a
// run whose every span crosses the whole width still costs one pass, not spans × width.

export interface MinimapSpans {
  readonly n: number;
  /** Start and end, ns since the run's start; an end is never before its start. */
  readonly start: Float64Array;
  readonly end: Float64Array;
}

/** Where the bars go, in device pixels. */
export interface MinimapLayout {
  width: number;
  height: number;
  /** The run's length in ns: the full width. */
  duration: number;
  /** Y of the first span's bar; the last one's is at `top + inner`. */
  top: number;
  inner: number;
  /** Height of a bar. */
  barHeight: number;
  /** Narrowest bar. */
  minWidth: number;
}

/**
 * Paints the spans into `pixels` (`width * height` words, RGBA bytes as the platform orders
 * them in a Uint32Array over an ImageData's buffer). `colour(pos)` is the word of span `pos`;
 * pixels no span covers are left as they are.
 */
export function paintMinimap(
  pixels: Uint32Array,
  spans: MinimapSpans,
  layout: MinimapLayout,
  colour: (pos: number) => number,
): void {
  const { width: W, height: H, top, inner, barHeight } = layout;
  const n = spans.n;
  if (W <= 0 || H <= 0 || n === 0) return;
  const d = layout.duration > 0 ? layout.duration : 1;
  const minW = Math.max(1, Math.round(layout.minWidth));
  const barH = Math.max(1, Math.round(barHeight));
  // next[row * (W + 1) + x]: a link towards the first unpainted pixel at or after x; x = W
  // is a sentinel that is never painted.
  const stride = W + 1;
  const next = new Int32Array(H * stride);
  for (let y = 0; y < H; y++) {
    const base = y * stride;
    for (let x = 0; x <= W; x++) next[base + x] = x;
  }
  const find = (base: number, x: number): number => {
    while (next[base + x] !== x) {
      next[base + x] = next[base + next[base + x]];
      x = next[base + x];
    }
    return x;
  };
  const { start, end } = spans;
  for (let pos = n - 1; pos >= 0; pos--) {
    const y0 = Math.floor(top + (pos / n) * inner);
    const y1 = Math.min(H, y0 + barH);
    if (y1 <= 0 || y0 >= H) continue;
    let x0 = Math.floor((start[pos] / d) * W);
    let x1 = Math.max(x0 + minW, Math.round((end[pos] / d) * W));
    if (!(x1 > 0 && x0 < W)) continue; // off to a side, or NaN
    x0 = Math.max(0, x0);
    x1 = Math.min(W, x1);
    const c = colour(pos);
    for (let y = Math.max(0, y0); y < y1; y++) {
      const base = y * stride;
      const row = y * W;
      for (let x = find(base, x0); x < x1; x = find(base, x + 1)) {
        pixels[row + x] = c;
        next[base + x] = x + 1;
      }
    }
  }
}
