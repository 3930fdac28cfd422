// The list of ingested sources, and the skipped lines of the one the user picked.

import { describeUnknown, sources as api } from "../../api";
import type { SourceInfo, StoredSkip } from "../../api";

export const SKIPPED_LIMIT = 500;

export class SourcesState {
  list = $state.raw<SourceInfo[]>([]);
  error = $state<string | null>(null);
  loading = $state(false);

  selectedId = $state<number | null>(null);
  skipped = $state.raw<StoredSkip[]>([]);
  skippedError = $state<string | null>(null);
  skippedLoading = $state(false);

  private seq = 0;
  private skippedSeq = 0;

  selected: SourceInfo | undefined = $derived(this.list.find((s) => s.id === this.selectedId));

  async load(): Promise<void> {
    const seq = ++this.seq;
    this.loading = true;
    try {
      const list = await api.list();
      if (seq !== this.seq) return;
      this.list = list;
      this.error = null;
      if (this.selectedId !== null) {
        if (list.some((s) => s.id === this.selectedId)) this.loadSkipped(this.selectedId);
        else this.selectedId = null;
      }
    } catch (e) {
      if (seq === this.seq) this.error = describeUnknown(e);
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }

  select(id: number | null): void {
    this.selectedId = id;
    this.skipped = [];
    this.skippedError = null;
    if (id !== null) this.loadSkipped(id);
  }

  private async loadSkipped(id: number): Promise<void> {
    const seq = ++this.skippedSeq;
    this.skippedLoading = true;
    try {
      const rows = await api.skipped(id, SKIPPED_LIMIT);
      if (seq === this.skippedSeq) {
        this.skipped = rows;
        this.skippedError = null;
      }
    } catch (e) {
      if (seq === this.skippedSeq) this.skippedError = describeUnknown(e);
    } finally {
      if (seq === this.skippedSeq) this.skippedLoading = false;
    }
  }
}
