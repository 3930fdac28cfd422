// The open workspace (its path, size, and whether it is a demo), and switching to another:
// the generated demo, the user's own, a fresh live demo (which starts playing), or a new
// workspace named after a bundle being opened.

import { describeUnknown, live as liveApi, workspace as api } from "../../api";
import type { WorkspaceInfo } from "../../api";

/** Where `switchTo` goes. */
export type WorkspaceTarget = "demo" | "default" | "live-demo" | { bundle: string };

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

  /** Switches to another workspace; true when it worked. */
  async switchTo(which: WorkspaceTarget): Promise<boolean> {
    if (this.switching) return false;
    this.switching = true;
    try {
      this.info = await open(which);
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

function open(which: WorkspaceTarget): Promise<WorkspaceInfo> {
  if (typeof which === "object") return api.openForBundle(which.bundle);
  switch (which) {
    case "demo":
      return api.openDemo();
    case "default":
      return api.openDefault();
    case "live-demo":
      return liveApi.startDemo();
  }
}
