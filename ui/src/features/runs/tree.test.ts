import { describe, expect, it } from "vitest";
import { buildTree, hasChildren, revealIn, rowOf, visibleRows } from "./tree";

const parents = (ps: Array<number | null>) => ps.map((p) => p ?? -1);

describe("buildTree", () => {
  it("keeps an engine's pre-order as it is and finds subtree ends", () => {
    //  0
    //  ├ 1
    //  │ ├ 2
    //  │ └ 3
    //  └ 4
    //    └ 5
    const t = buildTree(parents([null, 0, 1, 1, 0, 4]));
    expect([...t.order]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...t.parent]).toEqual([-1, 0, 1, 1, 0, 4]);
    expect([...t.depth]).toEqual([0, 1, 2, 2, 1, 2]);
    expect([...t.end]).toEqual([6, 4, 3, 4, 6, 6]);
    expect(hasChildren(t, 1)).toBe(true);
    expect(hasChildren(t, 2)).toBe(false);
  });

  it("puts children right after their parent whatever the input order", () => {
    const t = buildTree(parents([2, null, 1, 2]));
    // 1 is the root, 2 its child, 0 and 3 the children of 2 (in input order).
    expect([...t.order]).toEqual([1, 2, 0, 3]);
    expect([...t.parent]).toEqual([-1, 0, 1, 1]);
    expect([...t.end]).toEqual([4, 4, 3, 4]);
  });

  it("hangs spans caught in a parent cycle under the first top-level span", () => {
    const t = buildTree(parents([null, 2, 1, 0]));
    expect(t.n).toBe(4);
    expect(new Set(t.order)).toEqual(new Set([0, 1, 2, 3]));
    // Everything is inside the root's subtree, and every subtree is contiguous.
    expect(t.end[0]).toBe(4);
    for (let p = 0; p < t.n; p++) {
      for (let q = p + 1; q < t.end[p]; q++) expect(t.depth[q]).toBeGreaterThan(t.depth[p]);
    }
  });

  it("survives a 100,000-deep chain without recursion", () => {
    const n = 100_000;
    const t = buildTree(Int32Array.from({ length: n }, (_, i) => i - 1));
    expect(t.depth[n - 1]).toBe(n - 1);
    expect(t.end[0]).toBe(n);
  });
});

describe("visibleRows", () => {
  const t = buildTree(parents([null, 0, 1, 1, 0, 4]));

  it("shows everything when nothing is collapsed", () => {
    expect([...visibleRows(t, new Uint8Array(6))]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("skips collapsed subtrees", () => {
    const c = new Uint8Array(6);
    c[1] = 1;
    expect([...visibleRows(t, c)]).toEqual([0, 1, 4, 5]);
    c[0] = 1;
    expect([...visibleRows(t, c)]).toEqual([0]);
  });

  it("finds rows by position and reveals hidden ones", () => {
    const c = new Uint8Array(6);
    c[0] = 1;
    c[1] = 1;
    let rows = visibleRows(t, c);
    expect(rowOf(rows, 0)).toBe(0);
    expect(rowOf(rows, 3)).toBe(-1);
    expect(revealIn(t, c, 3)).toBe(true);
    rows = visibleRows(t, c);
    expect(rowOf(rows, 3)).toBe(3);
    expect(revealIn(t, c, 3)).toBe(false);
  });

  it("is fast on a wide 100,000-span tree", () => {
    const n = 100_000;
    const t2 = buildTree(Int32Array.from({ length: n }, (_, i) => (i === 0 ? -1 : Math.floor((i - 1) / 10))));
    const c = new Uint8Array(n);
    const t0 = performance.now();
    for (let k = 0; k < 20; k++) visibleRows(t2, c);
    c[1] = 1;
    const rows = visibleRows(t2, c);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(rows.length).toBe(n - (t2.end[1] - 2));
  });
});
