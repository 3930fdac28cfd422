// State of the Alerts view: the overview (rules, alerts, history, silences, notifications),
// the firing count the navigation badge shows, the delivery error shown once, the alerts a
// clicked desktop notification asked for, silences added and expired, and the rule editor's
// saved configuration.
//
// The overview is polled every 2 s while the view is on screen (`watch`), and read again on
// each `alerts-changed` event while it is. The firing count is kept up to date by the events
// even when the view is away. A slow answer never overwrites a newer one.

import { alerts as api, describeUnknown, type Unlisten } from "../../api";
import type { AlertConfig, AlertSettings, AlertsView, RuleCheck } from "../../api";
import { Poll } from "../../lib/poll";
import { ShownOnce, splitAlerts, type Labels, type SplitAlerts } from "./alerts";
import { backtest } from "./backtest.svelte";

export const POLL_MS = 2000;
/** History and notification entries read. */
export const OVERVIEW_LIMIT = 100;

const EMPTY_SPLIT: SplitAlerts = { active: [], resolved: [], firing: 0, pending: 0 };

export class AlertsState {
  view = $state.raw<AlertsView | null>(null);
  /** The overview could not be read. */
  error = $state<string | null>(null);
  /** Alerts firing now (from the last event or overview): the navigation badge. */
  firing = $state(0);
  /** A notification that could not be delivered; each distinct message is shown once. */
  deliveryError = $state<string | null>(null);
  /** Alerts to point out (a clicked desktop notification); bumped request scrolls to them. */
  highlight = $state.raw<Labels[]>([]);
  highlightRequest = $state(0);

  /** Silences being added or expired. */
  silenceBusy = $state(false);
  silenceError = $state<string | null>(null);
  /** A row action (Silence 1h, Expire) that failed. */
  actionError = $state<string | null>(null);

  config = $state.raw<AlertConfig | null>(null);
  configError = $state<string | null>(null);

  split: SplitAlerts = $derived(this.view ? splitAlerts(this.view.overview.alerts) : EMPTY_SPLIT);

  private seq = 0;
  private configSeq = 0;
  private readonly poll = new Poll(() => void this.load(), POLL_MS);
  private shownErrors = new ShownOnce();
  /** What the view wants the engine to know, and what it was last told (null: nothing yet). */
  private viewingWanted = false;
  private viewingSent: boolean | null = null;

  /** Listens for alert changes and clicked notifications (`onOpen` shows the view). */
  async listen(onOpen: () => void): Promise<Unlisten> {
    const stops: Unlisten[] = [];
    try {
      stops.push(
        await api.onChanged((e) => {
          this.firing = e.firing;
          const fresh = this.shownErrors.take(e.delivery_error);
          if (fresh !== null) this.deliveryError = fresh;
          if (this.poll.watched) void this.load();
        }),
      );
      stops.push(
        await api.onOpen((e) => {
          this.highlight = e.alerts;
          this.highlightRequest++;
          onOpen();
          void this.load();
        }),
      );
    } catch (e) {
      stops.forEach((s) => s());
      throw e;
    }
    // The badge from the start, before any event.
    void this.load();
    return () => stops.forEach((s) => s());
  }

  /** Polls while the returned function has not been called. */
  watch(): () => void {
    return this.poll.watch();
  }

  async load(): Promise<void> {
    const seq = ++this.seq;
    try {
      const view = await api.overview(OVERVIEW_LIMIT);
      if (seq !== this.seq) return;
      this.view = view;
      this.error = null;
      this.firing = this.split.firing;
    } catch (e) {
      if (seq === this.seq) this.error = describeUnknown(e);
    }
  }

  dismissDeliveryError(): void {
    this.deliveryError = null;
  }

  clearHighlight(): void {
    this.highlight = [];
  }

  /** Tells the engine whether the view is on screen in the focused window, when that changes. */
  setViewing(viewing: boolean): void {
    this.viewingWanted = viewing;
    if (this.viewingSent === viewing) return;
    this.viewingSent = viewing;
    api.setViewing(viewing).catch((e: unknown) => {
      // Only quieter or louder notifications hang on this; say it in the console, not a banner.
      console.warn("Sightline: cannot tell the engine whether alerts are on screen:", e);
      if (this.viewingSent === viewing) this.viewingSent = null;
    });
  }

  // ---- silences ------------------------------------------------------------------------

  /** Adds a silence; true when the engine took it (else `silenceError` says why). */
  async addSilence(matchers: string, durationMs: number, comment: string): Promise<boolean> {
    if (this.silenceBusy) return false;
    this.silenceBusy = true;
    this.silenceError = null;
    try {
      await api.silenceAdd(matchers.trim(), durationMs, comment.trim());
      void this.load();
      return true;
    } catch (e) {
      this.silenceError = describeUnknown(e);
      return false;
    } finally {
      this.silenceBusy = false;
    }
  }

  /** A row's quick silence; a failure shows above the tables. */
  async quickSilence(matchers: string, durationMs: number, comment: string): Promise<void> {
    this.actionError = null;
    try {
      await api.silenceAdd(matchers, durationMs, comment);
      void this.load();
    } catch (e) {
      this.actionError = `Could not silence: ${describeUnknown(e)}`;
    }
  }

  async expireSilence(id: string): Promise<void> {
    this.actionError = null;
    try {
      await api.silenceExpire(id);
      void this.load();
    } catch (e) {
      this.actionError = `Could not expire the silence: ${describeUnknown(e)}`;
    }
  }

  // ---- rules and settings ----------------------------------------------------------------

  async loadConfig(): Promise<void> {
    const seq = ++this.configSeq;
    try {
      const config = await api.config();
      if (seq !== this.configSeq) return;
      this.config = config;
      this.configError = null;
    } catch (e) {
      if (seq === this.configSeq) this.configError = describeUnknown(e);
    }
  }

  check(text: string): Promise<RuleCheck> {
    return api.check(text);
  }

  /**
   * Saves rules and settings. Returns the engine's check: when it has errors nothing was
   * saved. Throws (an `ApiError`) when the engine refused for another reason.
   */
  async save(rules: string, settings: AlertSettings): Promise<RuleCheck> {
    const check = await api.save(rules, settings);
    if (!check.problems.some((p) => !p.warning)) {
      this.configSeq++;
      this.config = { builtin: this.config?.builtin ?? "", rules, settings };
      void this.load();
    }
    return check;
  }

  /** Forgets the workspace's alerts (another one was opened) and reads the new one's. */
  forget(): void {
    this.seq++;
    this.configSeq++;
    this.view = null;
    this.error = null;
    this.firing = 0;
    this.config = null;
    this.configError = null;
    this.highlight = [];
    this.silenceError = null;
    this.actionError = null;
    backtest.clear();
    // The new workspace's engine has not heard whether the view is on screen.
    this.viewingSent = null;
    this.setViewing(this.viewingWanted);
    void this.load();
  }
}
