// The span tree of a run as flat typed arrays, and the rows it shows with some spans collapsed.
//
// A run can hold 100,000 spans, so nothing here makes an object per span or walks the tree
// recursively. Spans are put in pre-order (each span followed by its whole subtree), which
// makes "the subtree of i" the index range [i, end[i]): collapsing skips that range, and the
// visible rows are one forward pass that jumps over collapsed subtrees. The engine already
// sends its spans in tree order; the order is rebuilt from the parent links anyway, so a
// span the engine placed oddly (a cycle it broke) can never make a subtree non-contiguous.

export interface SpanTree {
  readonly n: number;
  /** For display position p, the index of the span in the input array. */
  readonly order: Int32Array;
  /** For display position p, the position of its parent, or -1. */
  readonly parent: Int32Array;
  /** For display position p, its depth (0 for top-level spans). */
  readonly depth: Int32Array;
  /** For display position p, the position just after its subtree. */
  readonly end: Int32Array;
}

/**
 * Builds the pre-order tree from parent links: `parents[i]` is the index of span i's parent
 * in the same array, or -1 (anything not an index of another span) for a top-level span.
 * Children keep their input order.
 */
export function buildTree(parents: ArrayLike<number>): SpanTree {
  const n = parents.length;
  const par = new Int32Array(n);
  // Children as linked lists in input order: head[p] = first child, next[c] = next sibling.
  const head = new Int32Array(n).fill(-1);
  const tail = new Int32Array(n).fill(-1);
  const next = new Int32Array(n).fill(-1);
  const addChild = (p: number, c: number) => {
    par[c] = p;
    if (head[p] === -1) head[p] = c;
    else next[tail[p]] = c;
    tail[p] = c;
  };
  const tops: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = parents[i];
    if (!Number.isInteger(p) || p < 0 || p >= n || p === i) {
      par[i] = -1;
      tops.push(i);
    } else {
      addChild(p, i);
    }
  }

  // Spans on a parent cycle are reached from no top-level span: hang each such group under
  // the first top-level span (as the engine does with orphans), or make it top-level.
  const reached = new Uint8Array(n);
  const stack = new Int32Array(n);
  const mark = (from: number) => {
    let sp = 0;
    stack[sp++] = from;
    reached[from] = 1;
    while (sp > 0) {
      const i = stack[--sp];
      for (let c = head[i]; c !== -1; c = next[c]) {
        if (!reached[c]) {
          reached[c] = 1;
          stack[sp++] = c;
        }
      }
    }
  };
  for (const t of tops) mark(t);
  const host = tops.length > 0 ? tops[0] : -1;
  for (let i = 0; i < n; i++) {
    if (reached[i]) continue;
    // Cut i from its (cyclic) parent's list and re-attach it; its subtree follows it.
    const old = par[i];
    if (old !== -1) {
      let prev = -1;
      for (let c = head[old]; c !== -1; prev = c, c = next[c]) {
        if (c !== i) continue;
        if (prev === -1) head[old] = next[c];
        else next[prev] = next[c];
        if (tail[old] === c) tail[old] = prev;
        break;
      }
      next[i] = -1;
    }
    if (host === -1) {
      par[i] = -1;
      tops.push(i);
    } else {
      addChild(host, i);
    }
    mark(i);
  }

  const order = new Int32Array(n);
  const parent = new Int32Array(n);
  const depth = new Int32Array(n);
  const end = new Int32Array(n);
  const posOf = new Int32Array(n).fill(-1);
  // Positions whose subtree is still being laid out; closed when the walk leaves them.
  const open = new Int32Array(n);
  let k = 0;
  for (const root of tops) {
    let sp = 0;
    let op = 0;
    stack[sp++] = root;
    while (sp > 0) {
      const i = stack[--sp];
      const pp = par[i] === -1 ? -1 : posOf[par[i]];
      while (op > 0 && open[op - 1] !== pp) end[open[--op]] = k;
      const pos = k++;
      posOf[i] = pos;
      order[pos] = i;
      parent[pos] = pp;
      depth[pos] = pp === -1 ? 0 : depth[pp] + 1;
      open[op++] = pos;
      // Push the children in reverse, so the first child is visited first.
      let count = 0;
      for (let c = head[i]; c !== -1; c = next[c]) count++;
      sp += count;
      let at = sp;
      for (let c = head[i]; c !== -1; c = next[c]) stack[--at] = c;
    }
    while (op > 0) end[open[--op]] = k;
  }
  return { n, order, parent, depth, end };
}

/**
 * The positions of the rows shown when the spans flagged in `collapsed` hide their subtrees.
 * Ascending, so a row's index is found by binary search.
 */
export function visibleRows(tree: SpanTree, collapsed: Uint8Array): Int32Array {
  const rows = new Int32Array(tree.n);
  let k = 0;
  let p = 0;
  while (p < tree.n) {
    rows[k++] = p;
    p = collapsed[p] ? tree.end[p] : p + 1;
  }
  return rows.subarray(0, k);
}

/** The row that shows position `pos`, or -1 when it is hidden inside a collapsed subtree. */
export function rowOf(rows: Int32Array, pos: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid] < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo < rows.length && rows[lo] === pos ? lo : -1;
}

/** Expands every ancestor of `pos` so it is shown; true when anything changed. */
export function revealIn(tree: SpanTree, collapsed: Uint8Array, pos: number): boolean {
  let changed = false;
  for (let p = tree.parent[pos]; p !== -1; p = tree.parent[p]) {
    if (collapsed[p]) {
      collapsed[p] = 0;
      changed = true;
    }
  }
  return changed;
}

/** Whether position `pos` has children. */
export function hasChildren(tree: SpanTree, pos: number): boolean {
  return tree.end[pos] > pos + 1;
}
