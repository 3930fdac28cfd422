// A small least-recently-used cache of fixed-size pages of rows.
//
// The list asks the engine for rows a page at a time; the cache keeps the last `capacity`
// pages, so scrolling back and forth costs nothing while memory stays bounded at any list
// length. A `Map` keeps insertion order, which is the LRU order once `get` re-inserts.

export class PageCache<T> {
  readonly pageSize: number;
  readonly capacity: number;
  private pages = new Map<number, T[]>();

  constructor(pageSize: number, capacity: number) {
    if (pageSize < 1 || capacity < 1) throw new RangeError("pageSize and capacity must be at least 1");
    this.pageSize = pageSize;
    this.capacity = capacity;
  }

  get size(): number {
    return this.pages.size;
  }

  /** The page that holds row `index`. */
  pageOf(index: number): number {
    return Math.floor(index / this.pageSize);
  }

  /** Pages that hold rows `first..=last`. */
  pagesFor(first: number, last: number): number[] {
    if (last < first) return [];
    const out: number[] = [];
    for (let p = this.pageOf(first); p <= this.pageOf(last); p++) out.push(p);
    return out;
  }

  has(page: number): boolean {
    return this.pages.has(page);
  }

  /** A page, marking it most recently used. */
  get(page: number): T[] | undefined {
    const rows = this.pages.get(page);
    if (rows !== undefined) {
      this.pages.delete(page);
      this.pages.set(page, rows);
    }
    return rows;
  }

  set(page: number, rows: T[]): void {
    this.pages.delete(page);
    this.pages.set(page, rows);
    while (this.pages.size > this.capacity) {
      const oldest = this.pages.keys().next().value;
      if (oldest === undefined) break;
      this.pages.delete(oldest);
    }
  }

  /** Row `index` if its page is cached. Does not touch LRU order (rendering reads many rows). */
  row(index: number): T | undefined {
    const rows = this.pages.get(this.pageOf(index));
    return rows?.[index - this.pageOf(index) * this.pageSize];
  }

  /** Marks pages as recently used, so the visible ones are evicted last. */
  touch(pages: number[]): void {
    for (const p of pages) this.get(p);
  }

  clear(): void {
    this.pages.clear();
  }
}
