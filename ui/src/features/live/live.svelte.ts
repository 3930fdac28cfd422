// The open workspace's live inputs: followed files, the OTLP/HTTP receiver, the live demo.
//
// The status is read on start, after every action, on each `data-changed` event, and every
// second while the Sources view shows it (`watch`); a slow answer never overwrites a newer
// one. Each action's failure is kept where it happened (the receiver's beside its switch),
// in the engine's plain words.

import { describeUnknown, live as api } from "../../api";
import type { LiveStatus } from "../../api";
import { Poll } from "../../lib/poll";
import { isLive, liveSummary } from "./live";

export const POLL_MS = 1000;

export class LiveState {
  status = $state.raw<LiveStatus | null>(null);
  /** The status could not be read. */
  error = $state<string | null>(null);
  /** The address box; filled from the receiver when it runs and the box is empty. */
  addr = $state("");
  /** The receiver is being switched. */
  receiverBusy = $state(false);
  receiverError = $state<string | null>(null);
  /** Paths whose unfollow is on its way. */
  pending = $state.raw<ReadonlySet<string>>(new Set());
  /** Unfollow or stopping the demo failed. */
  actionError = $state<string | null>(null);
  stoppingDemo = $state(false);

  live: boolean = $derived(isLive(this.status));
  summary: string | null = $derived(liveSummary(this.status));

  private seq = 0;
  private readonly poll = new Poll(() => void this.load(), POLL_MS);

  /** Polls while the returned function has not been called. */
  watch(): () => void {
    return this.poll.watch();
  }

  async load(): Promise<void> {
    const seq = ++this.seq;
    try {
      const status = await api.status();
      if (seq !== this.seq) return;
      this.show(status);
      this.error = null;
    } catch (e) {
      if (seq === this.seq) this.error = describeUnknown(e);
    }
  }

  /** Forgets the last workspace's status (another one opened). */
  forget(): void {
    this.seq++;
    this.status = null;
    this.addr = "";
    this.error = null;
    this.receiverError = null;
    this.actionError = null;
  }

  async unfollow(path: string): Promise<void> {
    if (this.pending.has(path)) return;
    this.pending = new Set([...this.pending, path]);
    this.actionError = null;
    try {
      this.take(await api.unfollow(path));
    } catch (e) {
      this.actionError = describeUnknown(e);
    } finally {
      const next = new Set(this.pending);
      next.delete(path);
      this.pending = next;
    }
  }

  /** Turns the receiver on at the address box's address (the default when empty), or off. */
  async setReceiver(on: boolean): Promise<void> {
    if (this.receiverBusy) return;
    this.receiverBusy = true;
    this.receiverError = null;
    try {
      const addr = this.addr.trim();
      this.take(await api.setReceiver(on, on && addr !== "" ? addr : null));
    } catch (e) {
      this.receiverError = describeUnknown(e);
    } finally {
      this.receiverBusy = false;
    }
  }

  async stopDemo(): Promise<void> {
    if (this.stoppingDemo) return;
    this.stoppingDemo = true;
    this.actionError = null;
    try {
      this.take(await api.stopDemo());
      // The demo's receiver listened on a port of its own: not one to offer again.
      if (this.status?.receiver === null) this.addr = "";
    } catch (e) {
      this.actionError = describeUnknown(e);
    } finally {
      this.stoppingDemo = false;
    }
  }

  /** An action's answer is newer than any poll on its way. */
  private take(status: LiveStatus): void {
    this.seq++;
    this.show(status);
  }

  private show(status: LiveStatus): void {
    this.status = status;
    if (status.receiver !== null && this.addr.trim() === "") this.addr = status.receiver.addr;
  }
}
