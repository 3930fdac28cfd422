// A poll shared by the views that want it: each calls `watch()` when it appears and the stop
// it returns when it goes, and one timer runs while anyone watches. Watching starts with a
// call at once; a tick while the window is hidden is skipped (the first tick after it shows
// catches up).

export class Poll {
  private watchers = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly run: () => void,
    private readonly everyMs: number,
  ) {}

  /** Whether anyone watches now. */
  get watched(): boolean {
    return this.watchers > 0;
  }

  /** Polls while the returned function has not been called. */
  watch(): () => void {
    this.watchers++;
    if (this.timer === null) {
      this.run();
      this.timer = setInterval(() => {
        if (globalThis.document?.visibilityState !== "hidden") this.run();
      }, this.everyMs);
    }
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.watchers--;
      if (this.watchers === 0 && this.timer !== null) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }
}
