import { describe, expect, it } from "vitest";
import { PageCache } from "./pageCache";

const page = (p: number, size = 10) => Array.from({ length: size }, (_, i) => p * size + i);

describe("PageCache", () => {
  it("finds rows by index across pages", () => {
    const c = new PageCache<number>(10, 4);
    c.set(0, page(0));
    c.set(3, page(3));
    expect(c.row(0)).toBe(0);
    expect(c.row(9)).toBe(9);
    expect(c.row(35)).toBe(35);
    expect(c.row(10)).toBeUndefined();
  });

  it("lists the pages a range needs", () => {
    const c = new PageCache<number>(200, 4);
    expect(c.pagesFor(0, 199)).toEqual([0]);
    expect(c.pagesFor(190, 410)).toEqual([0, 1, 2]);
    expect(c.pagesFor(5, 4)).toEqual([]);
    expect(c.pageOf(9_999_999)).toBe(49_999);
  });

  it("evicts the least recently used page", () => {
    const c = new PageCache<number>(10, 3);
    c.set(0, page(0));
    c.set(1, page(1));
    c.set(2, page(2));
    c.get(0); // 0 is now the most recent
    c.set(3, page(3));
    expect(c.has(1)).toBe(false);
    expect(c.has(0)).toBe(true);
    expect(c.has(2)).toBe(true);
    expect(c.has(3)).toBe(true);
    expect(c.size).toBe(3);
  });

  it("touch keeps visible pages alive", () => {
    const c = new PageCache<number>(10, 2);
    c.set(0, page(0));
    c.set(1, page(1));
    c.touch([0]);
    c.set(2, page(2));
    expect(c.has(0)).toBe(true);
    expect(c.has(1)).toBe(false);
  });

  it("reading a row does not change the eviction order", () => {
    const c = new PageCache<number>(10, 2);
    c.set(0, page(0));
    c.set(1, page(1));
    c.row(3);
    c.set(2, page(2));
    expect(c.has(0)).toBe(false);
  });

  it("replacing a page does not grow the cache", () => {
    const c = new PageCache<number>(10, 2);
    c.set(0, page(0));
    c.set(0, page(5));
    expect(c.size).toBe(1);
    expect(c.row(0)).toBe(50);
  });

  it("handles a short last page", () => {
    const c = new PageCache<number>(10, 2);
    c.set(1, [10, 11, 12]);
    expect(c.row(12)).toBe(12);
    expect(c.row(13)).toBeUndefined();
  });

  it("clears", () => {
    const c = new PageCache<number>(10, 2);
    c.set(0, page(0));
    c.clear();
    expect(c.size).toBe(0);
    expect(c.row(0)).toBeUndefined();
  });

  it("refuses a useless size", () => {
    expect(() => new PageCache<number>(0, 1)).toThrow(RangeError);
    expect(() => new PageCache<number>(1, 0)).toThrow(RangeError);
  });

  it("keeps showing stale pages until fresh ones replace them", () => {
    const c = new PageCache<number>(10, 4);
    c.set(0, page(0));
    c.set(1, page(1));
    c.markStale();
    expect(c.has(0)).toBe(false);
    expect(c.row(5)).toBe(5);
    c.set(0, page(0).map((v) => v + 100));
    expect(c.has(0)).toBe(true);
    expect(c.row(5)).toBe(105);
    expect(c.row(15)).toBe(15);
    expect([...c.freshRows()].slice(0, 2)).toEqual([
      [0, 100],
      [1, 101],
    ]);
    c.dropStale();
    expect(c.row(15)).toBeUndefined();
    expect(c.row(5)).toBe(105);
    c.markStale();
    c.clear();
    expect(c.row(5)).toBeUndefined();
  });
});
