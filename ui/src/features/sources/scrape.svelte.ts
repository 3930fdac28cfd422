// The scrape targets: the list with each target's health, kept fresh by polling while a view
// that shows it (Sources) or depends on it (Metrics, for live charts) is on screen, and the
// add / pause / resume / remove actions.
//
// Polling is shared (lib/poll): each view calls `watch()` when it appears and the stop it
// returns when it goes, and one timer runs while anyone watches. A slow answer never
// overwrites a newer one.

import { describeUnknown, scrape as api } from "../../api";
import type { NewScrapeTarget, ScrapeTargetInfo } from "../../api";
import { Poll } from "../../lib/poll";

export const POLL_MS = 1000;

export class ScrapeState {
  list = $state.raw<ScrapeTargetInfo[]>([]);
  /** The list could not be read. */
  error = $state<string | null>(null);
  /** The list has been read at least once. */
  loaded = $state(false);

  adding = $state(false);
  addError = $state<string | null>(null);
  /** Targets with a pause, resume or remove on its way. */
  pending = $state.raw<ReadonlySet<number>>(new Set());
  actionError = $state<string | null>(null);

  private seq = 0;
  private readonly poll = new Poll(() => void this.load(), POLL_MS);

  /** Polls while the returned function has not been called. */
  watch(): () => void {
    return this.poll.watch();
  }

  async load(): Promise<void> {
    const seq = ++this.seq;
    try {
      const list = await api.list();
      if (seq !== this.seq) return;
      this.list = list;
      this.error = null;
      this.loaded = true;
    } catch (e) {
      if (seq === this.seq) this.error = describeUnknown(e);
    }
  }

  /** Adds a target; true when the engine took it. */
  async add(target: NewScrapeTarget): Promise<boolean> {
    if (this.adding) return false;
    this.adding = true;
    this.addError = null;
    try {
      const added = await api.add(target);
      this.replace(added);
      return true;
    } catch (e) {
      this.addError = describeUnknown(e);
      return false;
    } finally {
      this.adding = false;
    }
  }

  setPaused(id: number, paused: boolean): Promise<void> {
    return this.act(id, async () => this.replace(await api.setPaused(id, paused)));
  }

  remove(id: number): Promise<void> {
    return this.act(id, async () => {
      await api.remove(id);
      this.seq++;
      this.list = this.list.filter((t) => t.id !== id);
    });
  }

  private async act(id: number, run: () => Promise<void>): Promise<void> {
    if (this.pending.has(id)) return;
    this.pending = new Set([...this.pending, id]);
    this.actionError = null;
    try {
      await run();
    } catch (e) {
      this.actionError = describeUnknown(e);
    } finally {
      const next = new Set(this.pending);
      next.delete(id);
      this.pending = next;
    }
  }

  /** Puts the engine's answer for one target in the list at once (a poll in flight is older). */
  private replace(t: ScrapeTargetInfo): void {
    this.seq++;
    const i = this.list.findIndex((x) => x.id === t.id);
    this.list = i < 0 ? [...this.list, t] : this.list.map((x) => (x.id === t.id ? t : x));
    this.loaded = true;
  }
}
