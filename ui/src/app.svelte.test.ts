import { beforeEach, describe, expect, it, vi } from "vitest";
import type { DataChanged, LiveStatus, WorkspaceInfo } from "./api";

// Every door to the engine AppState uses, answering as an empty workspace would.
const engine = vi.hoisted(() => {
  const info = (path: string) => ({ path, records: 0, sources: 0, is_demo: false });
  const status = { following: [], receiver: null, demo: null, follow_error: null };
  return {
    dataChanged: null as ((c: { logs: boolean; spans: boolean; samples: boolean }) => void) | null,
    info,
    status,
    ingestPaths: vi.fn(),
    openForBundle: vi.fn(),
    workspaceInfo: vi.fn(),
    logsCount: vi.fn(),
    logsPage: vi.fn(),
    runsList: vi.fn(),
    runsGet: vi.fn(),
    liveStatus: vi.fn(),
    startDemo: vi.fn(),
  };
});

vi.mock("./api", async (importOriginal) => {
  const real = await importOriginal<typeof import("./api")>();
  const none = async () => () => {};
  return {
    ...real,
    app: { startupPaths: async () => [], onMenuAction: none },
    desktop: { ...real.desktop, onDragDrop: none },
    workspace: {
      info: engine.workspaceInfo,
      openDemo: async () => engine.info("/demo/demo.db"),
      openDefault: async () => engine.info("/data/workspace.db"),
      openForBundle: engine.openForBundle,
      exportBundle: vi.fn(),
    },
    ingest: { paths: engine.ingestPaths, cancel: vi.fn() },
    sources: { list: async () => [], skipped: async () => [] },
    logs: { count: engine.logsCount, page: engine.logsPage, detail: vi.fn(), nextError: vi.fn() },
    runs: { list: engine.runsList, get: engine.runsGet, span: vi.fn() },
    scrape: { list: async () => [], add: vi.fn(), setPaused: vi.fn(), remove: vi.fn() },
    alerts: { ...real.alerts, onChanged: none, onOpen: none, setViewing: async () => null, overview: vi.fn(() => new Promise(() => {})) },
    live: {
      status: engine.liveStatus,
      follow: vi.fn(),
      unfollow: vi.fn(),
      setReceiver: vi.fn(),
      startDemo: engine.startDemo,
      stopDemo: vi.fn(),
      onDataChanged: async (cb: (c: DataChanged) => void) => {
        engine.dataChanged = cb;
        return () => {};
      },
    },
  };
});

const { AppState } = await import("./app.svelte");

const EMPTY_REPORT = { files: [], bundles: [], rule_files: [], errors: [], records_added: 0, spans_added: 0, samples_added: 0, skipped: 0 };
const tick = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  vi.clearAllMocks();
  engine.workspaceInfo.mockResolvedValue(engine.info("/data/workspace.db") satisfies WorkspaceInfo);
  engine.liveStatus.mockResolvedValue(engine.status satisfies LiveStatus);
  engine.logsCount.mockResolvedValue(0);
  engine.logsPage.mockResolvedValue([]);
  engine.runsList.mockResolvedValue({ total: 0, runs: [] });
  engine.ingestPaths.mockResolvedValue(EMPTY_REPORT);
  engine.openForBundle.mockImplementation(async (b: string) => engine.info(`/data/${b.split("/").pop()}.db`));
});

describe("opening a bundle", () => {
  it("reads plain files at once", async () => {
    const app = new AppState();
    await app.openPaths(["/logs/agent.log"]);
    expect(app.bundleChoice).toBeNull();
    expect(engine.ingestPaths).toHaveBeenCalledWith(["/logs/agent.log"], expect.any(Function));
  });

  it("asks first when an archive is among the paths, naming the new workspace", async () => {
    const app = new AppState();
    await app.openPaths(["/x/agent.log", "/x/Failed Run.tar.gz"]);
    expect(engine.ingestPaths).not.toHaveBeenCalled();
    expect(app.bundleChoice).toEqual({ paths: ["/x/agent.log", "/x/Failed Run.tar.gz"], archive: "/x/Failed Run.tar.gz", name: "Failed_Run", archives: 1 });
    expect(app.modalOpen).toBe(true);
  });

  it("leaves everything as it was on cancel", async () => {
    const app = new AppState();
    await app.openPaths(["/x/b.zip"]);
    await app.chooseBundle("cancel");
    expect(app.bundleChoice).toBeNull();
    expect(engine.ingestPaths).not.toHaveBeenCalled();
    expect(engine.openForBundle).not.toHaveBeenCalled();
  });

  it("reads it into this workspace", async () => {
    const app = new AppState();
    await app.openPaths(["/x/b.zip"]);
    await app.chooseBundle("here");
    expect(engine.openForBundle).not.toHaveBeenCalled();
    expect(engine.ingestPaths).toHaveBeenCalledWith(["/x/b.zip"], expect.any(Function));
  });

  it("switches to a new workspace named after it, then reads it there", async () => {
    const app = new AppState();
    app.logs.source = "/old/source.log";
    await app.openPaths(["/x/b.zip"]);
    await app.chooseBundle("new");
    expect(engine.openForBundle).toHaveBeenCalledWith("/x/b.zip");
    expect(app.logs.source).toBe("");
    expect(engine.ingestPaths).toHaveBeenCalledWith(["/x/b.zip"], expect.any(Function));
    // Into the new workspace: it opened before anything was read.
    expect(engine.openForBundle.mock.invocationCallOrder[0]).toBeLessThan(engine.ingestPaths.mock.invocationCallOrder[0]);
  });

  it("reads nothing when the new workspace cannot open", async () => {
    const app = new AppState();
    engine.openForBundle.mockRejectedValueOnce(new Error("disk full"));
    await app.openPaths(["/x/b.zip"]);
    await app.chooseBundle("new");
    expect(engine.ingestPaths).not.toHaveBeenCalled();
    expect(app.workspace.error).toBe("disk full");
  });
});

describe("live data", () => {
  it("starts the live demo in its own workspace and shows the runs", async () => {
    const app = new AppState();
    engine.startDemo.mockResolvedValueOnce({ ...engine.info("/demo/live/live-demo.db"), is_demo: true });
    await app.startLiveDemo();
    expect(app.view).toBe("runs");
    expect(app.workspace.info?.is_demo).toBe(true);
  });

  it("refreshes what is on screen once per burst of events, never two at a time", async () => {
    const app = new AppState();
    await app.start();
    await tick();
    expect(engine.dataChanged).not.toBeNull();
    let release: () => void = () => {};
    let inFlight = 0;
    let most = 0;
    engine.logsCount.mockImplementation(
      () =>
        new Promise<number>((resolve) => {
          inFlight++;
          most = Math.max(most, inFlight);
          release = () => {
            inFlight--;
            resolve(5);
          };
        }),
    );
    engine.logsCount.mockClear();
    for (let i = 0; i < 8; i++) engine.dataChanged!({ logs: true, spans: false, samples: false });
    await tick();
    expect(engine.logsCount).toHaveBeenCalledTimes(1);
    release();
    await tick();
    await tick();
    // Exactly one more for everything that came meanwhile.
    expect(engine.logsCount).toHaveBeenCalledTimes(2);
    release();
    await tick();
    await tick();
    expect(engine.logsCount).toHaveBeenCalledTimes(2);
    expect(most).toBe(1);
    expect(app.logs.count).toBe(5);
  });

  it("marks the runs list stale away from the Runs view, and refreshes it on it", async () => {
    const app = new AppState();
    await app.start();
    await tick();
    app.view = "logs";
    engine.runsList.mockClear();
    engine.dataChanged!({ logs: false, spans: true, samples: false });
    await tick();
    expect(app.runs.stale).toBe(true);
    expect(engine.runsList).not.toHaveBeenCalled();
    app.view = "runs";
    engine.dataChanged!({ logs: false, spans: true, samples: false });
    await tick();
    await tick();
    expect(engine.runsList).toHaveBeenCalled();
    expect(app.runs.stale).toBe(false);
  });
});
