// A small least-recently-used cache of fixed-size pages of rows.
//
// The list asks the engine for rows a page at a time; the cache keeps the last `capacity`
// pages, so scrolling back and forth costs nothing while memory stays bounded at any list
// length. A `Map` keeps insertion order, which is the LRU order once `get` re-inserts.
//
// A live refresh marks the pages stale instead of dropping them: rows keep showing (from the
// stale pages) until their fresh page arrives, so a list that grows four times a second
// never blinks to placeholders. `has` counts only fresh pages, so stale ones are refetched.

export class PageCache<T> {
  readonly pageSize: number;
  readonly capacity: number;
  private pages = new Map<number, T[]>();
  private stale = new Map<number, T[]>();

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
    this.stale.delete(page);
    this.pages.delete(page);
    this.pages.set(page, rows);
    while (this.pages.size > this.capacity) {
      const oldest = this.pages.keys().next().value;
      if (oldest === undefined) break;
      this.pages.delete(oldest);
    }
  }

  /** Row `index` if its page is cached (fresh, else stale). Does not touch LRU order (rendering reads many rows). */
  row(index: number): T | undefined {
    const page = this.pageOf(index);
    const at = index - page * this.pageSize;
    const fresh = this.pages.get(page);
    if (fresh !== undefined) return fresh[at];
    return this.stale.get(page)?.[at];
  }

  /** Keeps every page for showing but asks for all of them again (`has` is false until then). */
  markStale(): void {
    for (const [page, rows] of this.pages) this.stale.set(page, rows);
    this.pages.clear();
  }

  /** Forgets the stale pages (their fresh ones are in, or the list moved on). */
  dropStale(): void {
    this.stale.clear();
  }

  /** Fresh rows, by index, for looking a row up after a refresh. */
  *freshRows(): Generator<[number, T]> {
    for (const [page, rows] of this.pages) {
      for (let i = 0; i < rows.length; i++) yield [page * this.pageSize + i, rows[i]];
    }
  }

  /** Marks pages as recently used, so the visible ones are evicted last. */
  touch(pages: number[]): void {
    for (const p of pages) this.get(p);
  }

  clear(): void {
    this.pages.clear();
    this.stale.clear();
  }
}
