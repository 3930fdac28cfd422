// uPlot, loaded only after ./locale.ts has made the browser's language one Intl accepts, and
// what the app's charts (Metrics, Costs) share: the axes' look and drag-to-pick a time range.

import "./locale";
import uPlot from "uplot";

export default uPlot;

/** A drag narrower than this is a click, not a range. */
export const MIN_DRAG_PX = 4;

/** The axes in the app's theme: its CSS variables as they are on `el` (they follow light and dark). */
export function axisStyle(el: Element): uPlot.Axis {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  const grid = v("--border", "#dfe3e8");
  return {
    stroke: v("--fg-muted", "#5f6b7a"),
    font: `11px ${cs.fontFamily || "sans-serif"}`,
    labelFont: `11px ${cs.fontFamily || "sans-serif"}`,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1, size: 4 },
  };
}

/**
 * A `setSelect` hook: a range dragged across the x axis (Unix seconds) goes to `onrange` in
 * Unix ms, and the selection is cleared, since the chart redraws over the new range anyway.
 */
export function selectRange(onrange: (startMs: number, endMs: number) => void): (u: uPlot) => void {
  return (u) => {
    const { left, width } = u.select;
    if (width >= MIN_DRAG_PX) {
      const a = u.posToVal(left, "x");
      const b = u.posToVal(left + width, "x");
      if (Number.isFinite(a) && Number.isFinite(b) && b > a) onrange(Math.floor(a * 1000), Math.ceil(b * 1000));
    }
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
  };
}
