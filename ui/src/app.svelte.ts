// The app as a whole: which view is showing, the feature states, and how they are wired
// together (an ingest refreshes the workspace, the sources, the log list, the runs list, the
// metrics and the costs; switching workspace reloads everything; the log filters' since/until
// is the Metrics and Costs views' time range too, and a range dragged on either's chart sets
// it). Listeners for the native menu, drag and drop and startup paths live here so every way
// of opening files ends in the same `IngestState.start`; so do the alerts' (the navigation
// badge counts firing alerts on every view).

import { app as appApi, desktop, describeUnknown, type MenuAction, type Unlisten } from "./api";
import { AlertsState } from "./features/alerts/alerts.svelte";
import { CostsState } from "./features/costs/costs.svelte";
import { IngestState } from "./features/ingest/ingest.svelte";
import { LogsState } from "./features/logs/logs.svelte";
import { MetricsState } from "./features/metrics/metrics.svelte";
import { RunsState } from "./features/runs/runs.svelte";
import { WorkspaceState } from "./features/shell/workspace.svelte";
import { ScrapeState } from "./features/sources/scrape.svelte";
import { SourcesState } from "./features/sources/sources.svelte";
import { loadSettings, saveSettings, type Settings, type View } from "./lib/settings";
import { formatRfc3339 } from "./lib/time";

export class AppState {
  view = $state<View>("logs");
  keymapOpen = $state(false);
  /** A failure that belongs to no one area (a dialog that would not open, an uncaught error). */
  globalError = $state<string | null>(null);
  /** Files are being dragged over the window. */
  dropHover = $state(false);

  readonly workspace = new WorkspaceState();
  readonly sources = new SourcesState();
  readonly logs = new LogsState();
  readonly runs = new RunsState();
  readonly scrape = new ScrapeState();
  readonly metrics = new MetricsState(() => ({ since: this.logs.filter.since, until: this.logs.filter.until }));
  readonly costs = new CostsState(() => ({ since: this.logs.filter.since, until: this.logs.filter.until }));
  readonly ingest = new IngestState(() => this.afterIngest());
  readonly alerts = new AlertsState();

  /** Restores remembered settings, loads the workspace, starts listening; returns a cleanup. */
  async start(): Promise<Unlisten> {
    const s = loadSettings();
    this.view = s.view;
    this.logs.restore(s);
    this.logs.apply();
    this.runs.restore(s);
    this.runs.apply();
    this.metrics.restore(s.metricsQuery);
    void this.workspace.load();
    void this.sources.load();

    const unlisteners: Unlisten[] = [];
    const listen = async (what: string, attach: () => Promise<Unlisten>) => {
      try {
        unlisteners.push(await attach());
      } catch (e) {
        console.warn(`Sightline: cannot listen for ${what}:`, e);
      }
    };
    await Promise.all([
      listen("menu actions", () => appApi.onMenuAction((a) => this.onMenuAction(a))),
      // A clicked desktop notification shows its alerts.
      listen("alerts", () => this.alerts.listen(() => (this.view = "alerts"))),
      listen("dropped files", () =>
        desktop.onDragDrop((e) => {
          if (e.type === "hover") this.dropHover = true;
          else if (e.type === "leave") this.dropHover = false;
          else {
            this.dropHover = false;
            void this.ingest.start(e.paths);
          }
        }),
      ),
    ]);

    try {
      const paths = await appApi.startupPaths();
      if (paths.length > 0) void this.ingest.start(paths);
    } catch (e) {
      this.globalError = describeUnknown(e);
    }
    return () => unlisteners.forEach((u) => u());
  }

  settings(): Settings {
    return {
      view: this.view,
      level: this.logs.level,
      search: this.logs.search,
      since: this.logs.since,
      until: this.logs.until,
      source: this.logs.source,
      runSort: this.runs.sort,
      runDescending: this.runs.descending,
      metricsQuery: this.metrics.query,
    };
  }

  save(): void {
    saveSettings(this.settings());
  }

  private onMenuAction(action: MenuAction["action"]): void {
    switch (action) {
      case "open_files":
        void this.openFiles();
        break;
      case "open_folder":
        void this.openFolder();
        break;
      case "show_logs":
        this.view = "logs";
        break;
      case "show_runs":
        this.view = "runs";
        break;
      case "show_sources":
        this.view = "sources";
        break;
      case "show_metrics":
        this.view = "metrics";
        break;
      case "show_alerts":
        this.view = "alerts";
        break;
      case "show_keys":
        this.keymapOpen = !this.keymapOpen;
        break;
    }
  }

  async openFiles(): Promise<void> {
    await this.pickAndIngest(() => desktop.pickFiles());
  }

  async openFolder(): Promise<void> {
    await this.pickAndIngest(() => desktop.pickFolder());
  }

  private async pickAndIngest(pick: () => Promise<string[]>): Promise<void> {
    if (this.ingest.running) return;
    try {
      const paths = await pick();
      await this.ingest.start(paths);
    } catch (e) {
      this.globalError = `The file dialog could not open: ${describeUnknown(e)}`;
    }
  }

  private afterIngest(): void {
    void this.workspace.load();
    void this.sources.load();
    this.logs.reload();
    this.runs.reload();
    // The Metrics view reads its list and runs its query when it is shown.
    if (this.view === "metrics") {
      void this.metrics.loadList();
      this.metrics.rerun();
    }
    // The Costs view reloads when it is shown.
    if (this.view === "costs") this.costs.reload();
  }

  /** Switches to the demo workspace or back to the user's, then reloads everything. */
  async switchWorkspace(which: "demo" | "default"): Promise<void> {
    if (this.ingest.running) return;
    if (!(await this.workspace.switchTo(which))) return;
    this.ingest.report = null;
    this.ingest.dismiss();
    this.sources.select(null);
    this.logs.resetDetail();
    this.logs.closeDetail();
    // A source filter from the other workspace would match nothing here.
    this.logs.source = "";
    this.logs.apply();
    this.runs.closeRun();
    this.runs.apply();
    void this.sources.load();
    void this.scrape.load();
    this.metrics.forget();
    this.costs.forget();
    this.alerts.forget();
    if (this.view === "metrics") {
      void this.metrics.loadList();
      this.metrics.rerun();
    }
    if (this.view === "costs") this.costs.reload();
  }

  showSourceRecords(path: string): void {
    this.logs.setSource(path);
    this.view = "logs";
  }

  /** Opens a run in the Runs view (from anywhere that lists runs). */
  openRun(traceId: string): void {
    void this.runs.open(traceId);
    this.view = "runs";
  }

  /** A range dragged across a chart becomes the shared time range, so every view follows it. */
  zoomTo(startMs: number, endMs: number): void {
    this.logs.setRange(formatRfc3339(startMs), formatRfc3339(endMs));
  }
}
