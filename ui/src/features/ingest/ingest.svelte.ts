// One ingest at a time: its progress while it runs, and its report when it ends.

import { describeUnknown, ingest as api } from "../../api";
import type { IngestProgress, IngestReport } from "../../api";

export class IngestState {
  running = $state(false);
  cancelling = $state(false);
  progress = $state.raw<IngestProgress | null>(null);
  /** The last report; stays reachable from the Sources view after the panel is closed. */
  report = $state.raw<IngestReport | null>(null);
  reportOpen = $state(false);
  error = $state<string | null>(null);

  private readonly onFinished: () => void;

  constructor(onFinished: () => void) {
    this.onFinished = onFinished;
  }

  /** Ingests `paths`; ignored while another ingest runs (the buttons are disabled then too). */
  async start(paths: string[]): Promise<void> {
    const wanted = paths.map((p) => p.trim()).filter((p) => p !== "");
    if (wanted.length === 0) return;
    if (this.running) {
      this.error = "Another ingest is still running; add these when it finishes.";
      return;
    }
    this.running = true;
    this.cancelling = false;
    this.progress = null;
    this.error = null;
    try {
      this.report = await api.paths(wanted, (p) => {
        this.progress = p;
      });
      this.reportOpen = true;
    } catch (e) {
      this.error = describeUnknown(e);
    } finally {
      this.running = false;
      this.cancelling = false;
      this.progress = null;
      this.onFinished();
    }
  }

  async cancel(): Promise<void> {
    if (!this.running || this.cancelling) return;
    this.cancelling = true;
    try {
      await api.cancel();
    } catch (e) {
      this.cancelling = false;
      this.error = describeUnknown(e);
    }
  }

  dismiss(): void {
    this.reportOpen = false;
    this.error = null;
  }
}
