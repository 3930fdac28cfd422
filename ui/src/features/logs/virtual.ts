// Scroll position <-> row index for a virtualized list of up to tens of millions of rows.
//
// Browsers cap an element's height (about 33.5M px in WebKit and Chrome, about 17.9M px in
// Firefox), so 10M rows of 22 px (220M px) cannot have a spacer of their natural height. The
// list keeps a *virtual offset* (pixels into the natural content) as its source of truth and
// gives the scroller a spacer no taller than `maxSpacer`; the scrollbar position then maps
// proportionally onto the virtual offset. When everything fits, the mapping is the identity.
// Rows are drawn in a viewport-sized layer at `rowTop(i)`, so nothing ever sits at a huge y.

export interface Geometry {
  /** Number of rows. */
  total: number;
  /** Height of one row, px. */
  rowHeight: number;
  /** Visible height of the scroller, px. */
  viewport: number;
  /** Tallest spacer we let the browser lay out, px. */
  maxSpacer: number;
}

/** Comfortably below every engine's limit, so rounding never meets the cap. */
export const MAX_SPACER_PX = 10_000_000;

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Height of all rows laid end to end. */
export function contentHeight(g: Geometry): number {
  return Math.max(0, g.total) * g.rowHeight;
}

/** Height to give the spacer element inside the scroller. */
export function spacerHeight(g: Geometry): number {
  return Math.min(contentHeight(g), g.maxSpacer);
}

/** Largest useful virtual offset: the last row sits at the bottom of the viewport. */
export function maxOffset(g: Geometry): number {
  return Math.max(0, contentHeight(g) - g.viewport);
}

/** Largest scrollTop the browser allows with our spacer. */
export function maxScrollTop(g: Geometry): number {
  return Math.max(0, spacerHeight(g) - g.viewport);
}

/** Whether the scrollbar is scaled (true only for very long lists). */
export function isScaled(g: Geometry): boolean {
  return contentHeight(g) > g.maxSpacer;
}

/** The virtual offset the scroller's scrollTop stands for. */
export function scrollTopToOffset(scrollTop: number, g: Geometry): number {
  const top = clamp(scrollTop, 0, maxScrollTop(g));
  if (!isScaled(g)) return top;
  const range = maxScrollTop(g);
  return range === 0 ? 0 : (top / range) * maxOffset(g);
}

/** The scrollTop that stands for a virtual offset. */
export function offsetToScrollTop(offset: number, g: Geometry): number {
  const off = clamp(offset, 0, maxOffset(g));
  if (!isScaled(g)) return off;
  const range = maxOffset(g);
  return range === 0 ? 0 : (off / range) * maxScrollTop(g);
}

export function clampOffset(offset: number, g: Geometry): number {
  return clamp(offset, 0, maxOffset(g));
}

export interface RowRange {
  /** First row to render (inclusive). */
  first: number;
  /** Last row to render (inclusive); `last < first` when there is nothing to render. */
  last: number;
}

/** Rows that intersect the viewport at `offset`, widened by `overscan` rows on each side. */
export function visibleRange(offset: number, g: Geometry, overscan: number): RowRange {
  if (g.total <= 0 || g.rowHeight <= 0) return { first: 0, last: -1 };
  const off = clampOffset(offset, g);
  const firstVisible = Math.floor(off / g.rowHeight);
  const lastVisible = Math.ceil((off + Math.max(g.viewport, 1)) / g.rowHeight) - 1;
  return {
    first: Math.max(0, firstVisible - overscan),
    last: Math.min(g.total - 1, lastVisible + overscan),
  };
}

/** The first row whose top edge is at or below the viewport's top (the "current" row). */
export function firstVisibleRow(offset: number, g: Geometry): number {
  if (g.total <= 0) return 0;
  return clamp(Math.floor(clampOffset(offset, g) / g.rowHeight), 0, g.total - 1);
}

/** Y of a row's top edge relative to the top of the viewport. */
export function rowTop(index: number, offset: number, g: Geometry): number {
  return index * g.rowHeight - offset;
}

/** The smallest change of offset that shows row `index` entirely. */
export function offsetToReveal(index: number, offset: number, g: Geometry): number {
  const top = index * g.rowHeight;
  const bottom = top + g.rowHeight;
  let next = offset;
  if (top < offset) next = top;
  else if (bottom > offset + g.viewport) next = bottom - g.viewport;
  return clampOffset(next, g);
}

/** The offset that puts row `index` in the middle of the viewport (for jumps). */
export function offsetToCenter(index: number, g: Geometry): number {
  return clampOffset(index * g.rowHeight - (g.viewport - g.rowHeight) / 2, g);
}

/** Number of whole rows in one viewport (for PageUp/PageDown). */
export function rowsPerPage(g: Geometry): number {
  return Math.max(1, Math.floor(g.viewport / g.rowHeight));
}

/** Whether the list is scrolled to its end (the newest rows of a list in time order): tail mode. */
export function isAtEnd(offset: number, g: Geometry): boolean {
  return offset >= maxOffset(g) - 1;
}

/**
 * The offset after the list grew or shrank: pinned to the end when it was at the end (tail
 * mode), else where it was, within the new length.
 */
export function offsetAfterResize(offset: number, wasAtEnd: boolean, g: Geometry): number {
  return wasAtEnd ? maxOffset(g) : clampOffset(offset, g);
}
