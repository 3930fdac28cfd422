// Runs an async refresh at most once at a time, folding requests that arrive meanwhile.
//
// Live data tells the window "something changed" up to four times a second; a refresh takes
// as long as the engine takes to count and page. Requests made while a refresh runs are
// merged (the union of what changed) and run exactly once when it ends, so the window never
// queues refreshes it cannot keep up with, and never misses the last change.

export class Coalescer<T> {
  private running = false;
  private pending: T | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly run: (what: T) => Promise<void>,
    private readonly merge: (a: T, b: T) => T,
    private readonly onError: (e: unknown) => void = (e) => console.warn("Sightline: a refresh failed:", e),
  ) {}

  /** Whether a refresh is running now. */
  get busy(): boolean {
    return this.running;
  }

  /** Asks for a refresh of `what`: now when idle, else once after the one running. */
  request(what: T): void {
    this.pending = this.pending === null ? what : this.merge(this.pending, what);
    if (!this.running) void this.drain();
  }

  /** Forgets a refresh asked for but not started (the workspace changed under it). */
  drop(): void {
    this.pending = null;
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (!this.running && this.pending === null) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending !== null) {
        const what = this.pending;
        this.pending = null;
        try {
          await this.run(what);
        } catch (e) {
          this.onError(e);
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }
}
