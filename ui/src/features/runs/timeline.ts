// The waterfall's time axis: which slice of the run is on screen, how zoom and pan move it,
// and where the tick marks go. Pure numbers, so the canvas code only draws.
//
// Times are ns since the run's start. The window never gets narrower than MIN_SPAN_NS (a
// microsecond: below that, float ns at today's epoch stop being exact) and never wider than
// the run; a little slack either side lets the first and last bars leave the edge.

export interface TimeWindow {
  /** Left edge, ns since the run's start. */
  start: number;
  /** Width, ns. */
  span: number;
}

export const MIN_SPAN_NS = 1_000;
/** Room beyond either end of the run, as a share of the window. */
const SLACK = 0.02;

export function fullWindow(duration: number): TimeWindow {
  const d = Math.max(duration, MIN_SPAN_NS);
  return { start: -d * SLACK, span: d * (1 + 2 * SLACK) };
}

/** Keeps the window's width and position within what the run allows. */
export function clampWindow(w: TimeWindow, duration: number): TimeWindow {
  const full = fullWindow(duration);
  const span = Math.min(Math.max(w.span, MIN_SPAN_NS), full.span);
  const lo = full.start;
  const hi = full.start + full.span - span;
  const start = Math.min(Math.max(w.start, lo), hi);
  return { start, span };
}

/** X (px from the left edge) of time `t`. */
export function xOf(t: number, w: TimeWindow, width: number): number {
  return ((t - w.start) / w.span) * width;
}

/** Time at x px. */
export function tOf(x: number, w: TimeWindow, width: number): number {
  return w.start + (x / width) * w.span;
}

/** Zooms by `factor` (< 1 zooms in) keeping time `anchor` at the same x. */
export function zoomAt(w: TimeWindow, factor: number, anchor: number, duration: number): TimeWindow {
  const full = fullWindow(duration);
  const span = Math.min(Math.max(w.span * factor, MIN_SPAN_NS), full.span);
  const share = (anchor - w.start) / w.span;
  return clampWindow({ start: anchor - share * span, span }, duration);
}

/** Moves the window by `dt` ns (positive moves it later). */
export function panBy(w: TimeWindow, dt: number, duration: number): TimeWindow {
  return clampWindow({ start: w.start + dt, span: w.span }, duration);
}

/** The window moved just enough to show [a, b] (with a margin), zooming out if it is wider. */
export function revealRange(w: TimeWindow, a: number, b: number, duration: number): TimeWindow {
  const margin = w.span * 0.05;
  if (a >= w.start + margin && b <= w.start + w.span - margin) return w;
  const need = b - a + 2 * margin;
  if (need > w.span) return clampWindow({ start: a - (need - (b - a)) / 2, span: need }, duration);
  // Centre it: the eye finds it where it looks next.
  return clampWindow({ start: (a + b) / 2 - w.span / 2, span: w.span }, duration);
}

/** A "nice" tick step (1, 2 or 5 times a power of ten ns) giving ticks at least `minPx` apart. */
export function tickStep(w: TimeWindow, width: number, minPx: number): number {
  if (width <= 0) return w.span;
  const raw = (w.span / width) * minPx;
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) {
    if (m * pow >= raw) return m * pow;
  }
  return 10 * pow;
}

/** Tick times inside the window, multiples of the step. */
export function ticks(w: TimeWindow, width: number, minPx: number): { step: number; at: number[] } {
  const step = tickStep(w, width, minPx);
  const at: number[] = [];
  const first = Math.ceil(w.start / step) * step;
  for (let t = first; t <= w.start + w.span && at.length < 1000; t += step) at.push(t);
  return { step, at };
}
