// The app as a whole: which view is showing, the feature states, and how they are wired
// together (an ingest refreshes the workspace, the sources, the log list, the runs list, the
// metrics and the costs; switching workspace reloads everything; the log filters' since/until
// is the Metrics and Costs views' time range too, and a range dragged on either's chart sets
// it). Listeners for the native menu, drag and drop and startup paths live here so every way
// of opening files ends in the same `openPaths` (which asks where a bundle should go) and
// then `IngestState.start`; so do the alerts' (the navigation badge counts firing alerts on
// every view).
//
// Live data (followed files, the OTLP receiver, scrapes, the live demo) announces itself with
// `data-changed`, up to four times a second. Refreshes are coalesced (one at a time, and one
// more for whatever arrived meanwhile) and keep what the user looks at: the log list keeps
// its selection and scroll (and its end, in tail mode), the runs list its sort and selection,
// the open run grows in place. Only what is on screen is read; the Runs view catches up
// when shown, Metrics and Costs read again when shown anyway.

import { app as appApi, desktop, describeUnknown, live as liveApi, type DataChanged, type MenuAction, type Unlisten } from "./api";
import { AlertsState } from "./features/alerts/alerts.svelte";
import { CostsState } from "./features/costs/costs.svelte";
import { ExportState } from "./features/export/export.svelte";
import { archivesIn, bundleName } from "./features/ingest/bundles";
import { IngestState } from "./features/ingest/ingest.svelte";
import { LiveState } from "./features/live/live.svelte";
import { LogsState } from "./features/logs/logs.svelte";
import { MetricsState } from "./features/metrics/metrics.svelte";
import { RunsState } from "./features/runs/runs.svelte";
import { WorkspaceState, type WorkspaceTarget } from "./features/shell/workspace.svelte";
import { ScrapeState } from "./features/sources/scrape.svelte";
import { SourcesState } from "./features/sources/sources.svelte";
import { Coalescer } from "./lib/coalesce";
import { loadSettings, saveSettings, type Settings, type View } from "./lib/settings";
import { formatRfc3339 } from "./lib/time";

/** Paths to open that hold a bundle: the user says where it goes first. */
export interface BundleChoice {
  paths: string[];
  /** The first archive among them: the new workspace is named after it. */
  archive: string;
  /** The new workspace's name. */
  name: string;
  archives: number;
}

/** How often live data redraws the Costs view. */
const COSTS_LIVE_MS = 2000;

const anyChange = (a: DataChanged, b: DataChanged): DataChanged => ({
  logs: a.logs || b.logs,
  spans: a.spans || b.spans,
  samples: a.samples || b.samples,
});

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
  readonly live = new LiveState();
  readonly exporter = new ExportState(() => ({
    range: { since: this.logs.filter.since, until: this.logs.filter.until },
    run: this.runs.run ? { traceId: this.runs.run.run.trace_id, name: this.runs.run.run.name } : null,
    runShowing: this.view === "runs",
    workspacePath: this.workspace.info?.path ?? null,
  }));
  /** Paths waiting for the user to say where their bundle goes. */
  bundleChoice = $state.raw<BundleChoice | null>(null);

  private costsReadAt = 0;
  private readonly refresher = new Coalescer<DataChanged>((c) => this.liveRefresh(c), anyChange);

  /** A modal dialog is open: the views' keys stay quiet. */
  get modalOpen(): boolean {
    return this.exporter.open || this.bundleChoice !== null;
  }

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
    void this.live.load();

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
            void this.openPaths(e.paths);
          }
        }),
      ),
      listen("new data", () => liveApi.onDataChanged((c) => this.refresher.request(c))),
    ]);

    try {
      const paths = await appApi.startupPaths();
      if (paths.length > 0) void this.openPaths(paths);
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
      case "export":
        this.showExport();
        break;
      case "start_live_demo":
        void this.startLiveDemo();
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
    let paths: string[];
    try {
      paths = await pick();
    } catch (e) {
      this.globalError = `The file dialog could not open: ${describeUnknown(e)}`;
      return;
    }
    await this.openPaths(paths);
  }

  /**
   * Every way of opening files ends here: paths with a bundle (an archive) among them wait
   * for the user to say whether it opens into this workspace or a new one; others are read.
   */
  async openPaths(paths: string[]): Promise<void> {
    const wanted = paths.map((p) => p.trim()).filter((p) => p !== "");
    if (wanted.length === 0) return;
    const archives = archivesIn(wanted);
    // While an ingest runs, the ingest says so; there is nothing to ask yet.
    if (archives.length === 0 || this.ingest.running) {
      await this.ingest.start(wanted);
      return;
    }
    this.bundleChoice = { paths: wanted, archive: archives[0], name: bundleName(archives[0]), archives: archives.length };
  }

  /** The user's answer about a bundle: here, a new workspace named after it, or not at all. */
  async chooseBundle(where: "here" | "new" | "cancel"): Promise<void> {
    const choice = this.bundleChoice;
    if (choice === null) return;
    this.bundleChoice = null;
    if (where === "cancel") return;
    if (where === "new" && !(await this.switchWorkspace({ bundle: choice.archive }))) return;
    await this.ingest.start(choice.paths);
  }

  private afterIngest(): void {
    void this.workspace.load();
    void this.sources.load();
    // Files read are followed from now on.
    void this.live.load();
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

  /** Switches to another workspace (a demo, the user's, a bundle's), then reloads everything; true when it worked. */
  async switchWorkspace(which: WorkspaceTarget): Promise<boolean> {
    if (this.ingest.running) return false;
    if (!(await this.workspace.switchTo(which))) return false;
    // What was asked of the old workspace does not apply to this one.
    this.refresher.drop();
    this.live.forget();
    void this.live.load();
    this.exporter.close();
    this.runs.stale = false;
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
    return true;
  }

  /** Starts the live demo in a fresh workspace of its own, and shows its runs arriving. */
  async startLiveDemo(): Promise<void> {
    if (await this.switchWorkspace("live-demo")) this.view = "runs";
  }

  /** Opens the export dialog on what is on screen (the open run, the time range). */
  showExport(): void {
    if (!this.modalOpen) this.exporter.show();
  }

  /** New data landed: reads again what is on screen (called one at a time by the coalescer). */
  private async liveRefresh(c: DataChanged): Promise<void> {
    const quiet = this.ingest.running || this.workspace.switching;
    const work: Array<Promise<unknown>> = [
      this.workspace.load().then(() => {
        // The Sources view shows each file's counts; elsewhere only a new source matters (the source filter).
        const info = this.workspace.info;
        if (!quiet && (this.view === "sources" || (info !== null && info.sources !== this.sources.list.length))) return this.sources.load();
      }),
      this.live.load(),
    ];
    // An ingest reloads everything when it ends; counting a table it is filling only slows it.
    if (!quiet) {
      if (c.logs) work.push(this.logs.refresh());
      if (c.spans) {
        if (this.view === "runs") work.push(this.runs.refresh(), this.runs.refreshRun());
        else this.runs.stale = true;
        // The Costs view redraws its chart and tables: often enough to watch, not four times a second.
        if (this.view === "costs" && Date.now() - this.costsReadAt >= COSTS_LIVE_MS) {
          this.costsReadAt = Date.now();
          this.costs.reload();
        }
      }
      if (c.samples && this.view === "metrics") {
        this.metrics.refresh();
        // The first scrape brings the metrics' names.
        if (this.metrics.list.length === 0) work.push(this.metrics.loadList());
      }
    }
    await Promise.allSettled(work);
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
