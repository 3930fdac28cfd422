// The export dialog: what to export (everything, the app's time range, the open run),
// masking, where to write, and the report or the failure of the last export.
//
// What the dialog exports from is read when it opens and again when it runs, through the
// `context` function given at construction (the range boxes, the open run, the workspace),
// so it always matches what is on screen. A bare file name is not written wherever the app
// happens to run: the save dialog asks where, starting from that name.

import { describeUnknown, desktop, workspace as api } from "../../api";
import type { ExportReport } from "../../api";
import { buildExportOptions, defaultBundleName, dirName, hasFolder, type ExportScope, type RangeText } from "./export";

export interface ExportContext {
  range: RangeText;
  run: { traceId: string; name: string } | null;
  /** The open run is on screen (the dialog then starts on it). */
  runShowing: boolean;
  workspacePath: string | null;
}

export class ExportState {
  open = $state(false);
  scope = $state<ExportScope>("all");
  redact = $state(true);
  /** Extra field names to mask, comma separated. */
  fields = $state("");
  path = $state("");
  running = $state(false);
  /** The last export's report, and whether it masked secrets. */
  result = $state.raw<{ report: ExportReport; redact: boolean } | null>(null);
  error = $state<string | null>(null);
  /** What the dialog was opened on (the scope radios follow it). */
  context = $state.raw<ExportContext>({ range: { since: null, until: null }, run: null, runShowing: false, workspacePath: null });

  /** The folder of the last bundle written, for the next one's path. */
  private lastDir = "";
  /** The user typed or picked the path (a new scope no longer renames it). */
  private pathChosen = false;
  private readonly read: () => ExportContext;

  constructor(context: () => ExportContext) {
    this.read = context;
  }

  /** Opens the dialog: on the run on screen if there is one, else on everything. */
  show(): void {
    const ctx = this.read();
    this.context = ctx;
    this.scope = ctx.run !== null && ctx.runShowing ? "run" : "all";
    this.result = null;
    this.error = null;
    this.path = this.lastDir + this.suggestedName();
    this.pathChosen = false;
    this.open = true;
  }

  close(): void {
    if (this.running) return;
    this.open = false;
  }

  /** A new scope: the suggested name follows it, unless the user chose their own. */
  setScope(scope: ExportScope): void {
    this.scope = scope;
    if (!this.pathChosen) this.path = this.lastDir + this.suggestedName();
    this.error = null;
  }

  setPath(path: string): void {
    this.path = path;
    this.pathChosen = true;
  }

  /** Asks where to write with the save dialog. */
  async browse(): Promise<void> {
    const picked = await this.pick();
    if (picked !== null) this.setPath(picked);
  }

  /** Writes the bundle; a bare file name asks where first. */
  async run(): Promise<void> {
    if (this.running) return;
    this.error = null;
    this.result = null;
    const ctx = this.read();
    this.context = ctx;
    const built = buildExportOptions(
      { scope: this.scope, range: ctx.range, runTraceId: ctx.run?.traceId ?? null, redact: this.redact, fields: this.fields },
      Date.now(),
    );
    if (!built.ok) {
      this.error = built.message;
      return;
    }
    let path = this.path.trim();
    if (path === "") path = this.suggestedName();
    if (!hasFolder(path)) {
      const picked = await this.pick(path);
      if (picked === null) return;
      path = picked;
      this.path = picked;
    }
    this.running = true;
    try {
      const report = await api.exportBundle(path, built.options);
      this.result = { report, redact: this.redact };
      this.path = report.path;
      this.lastDir = dirName(report.path);
    } catch (e) {
      this.error = describeUnknown(e);
    } finally {
      this.running = false;
    }
  }

  private async pick(name = this.path.trim()): Promise<string | null> {
    try {
      return await desktop.pickBundlePath(name === "" ? this.suggestedName() : name);
    } catch (e) {
      this.error = `The file dialog could not open: ${describeUnknown(e)}`;
      return null;
    }
  }

  private suggestedName(): string {
    const ctx = this.context;
    return defaultBundleName(this.scope, ctx.workspacePath, ctx.run?.traceId ?? null, Date.now());
  }
}
