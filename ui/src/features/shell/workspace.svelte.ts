// The open workspace (its path, size, and whether it is the demo).

import { describeUnknown, workspace as api } from "../../api";
import type { WorkspaceInfo } from "../../api";

export class WorkspaceState {
  info = $state.raw<WorkspaceInfo | null>(null);
  error = $state<string | null>(null);
  switching = $state(false);

  async load(): Promise<void> {
    try {
      this.info = await api.info();
      this.error = null;
    } catch (e) {
      this.error = describeUnknown(e);
    }
  }

  /** Switches to the demo workspace (or back); true when it worked. */
  async switchTo(which: "demo" | "default"): Promise<boolean> {
    if (this.switching) return false;
    this.switching = true;
    try {
      this.info = which === "demo" ? await api.openDemo() : await api.openDefault();
      this.error = null;
      return true;
    } catch (e) {
      this.error = describeUnknown(e);
      return false;
    } finally {
      this.switching = false;
    }
  }
}
