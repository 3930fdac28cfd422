import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/errors";
import type { AlertOpen, AlertsChanged, AlertSettings, AlertsView, RuleCheck } from "../../api";

// The engine, as far as AlertsState talks to it.
const engine = vi.hoisted(() => ({
  overview: vi.fn(),
  config: vi.fn(),
  check: vi.fn(),
  save: vi.fn(),
  silenceAdd: vi.fn(),
  silenceExpire: vi.fn(),
  setViewing: vi.fn(),
  backtest: vi.fn(),
  changed: null as ((e: AlertsChanged) => void) | null,
  open: null as ((e: AlertOpen) => void) | null,
}));

vi.mock("../../api", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../api")>()),
  alerts: {
    overview: engine.overview,
    config: engine.config,
    check: engine.check,
    save: engine.save,
    silenceAdd: engine.silenceAdd,
    silenceExpire: engine.silenceExpire,
    setViewing: engine.setViewing,
    backtest: engine.backtest,
    onChanged: (cb: (e: AlertsChanged) => void) => {
      engine.changed = cb;
      return Promise.resolve(() => (engine.changed = null));
    },
    onOpen: (cb: (e: AlertOpen) => void) => {
      engine.open = cb;
      return Promise.resolve(() => (engine.open = null));
    },
  },
}));

const { AlertsState } = await import("./alerts.svelte");

const SETTINGS: AlertSettings = {
  builtin_rules: true,
  desktop: true,
  quiet_when_focused: true,
  send_resolved: false,
  group_wait_ms: 30_000,
  repeat_interval_ms: 14_400_000,
  webhook_url: "",
};

function view(firing: number): AlertsView {
  return {
    overview: {
      rules: [],
      alerts: Array.from({ length: firing }, (_, i) => ({
        group: "g",
        rule: "R",
        labels: { alertname: "R", n: String(i) },
        annotations: {},
        state: "firing",
        active_at_ms: 1,
        fired_at_ms: 2,
        resolved_at_ms: null,
        value: 1,
        last_notified_ms: null,
      })),
      history: [],
      silences: [],
      notifications: [],
    },
    problem: null,
    now_ms: 10,
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  vi.clearAllMocks();
  engine.overview.mockResolvedValue(view(2));
  engine.setViewing.mockResolvedValue(null);
});

describe("AlertsState", () => {
  it("counts firing alerts from the overview and from events", async () => {
    const alerts = new AlertsState();
    const stop = await alerts.listen(() => {});
    await flush();
    expect(alerts.firing).toBe(2);
    engine.changed?.({ firing: 5, delivery_error: null });
    expect(alerts.firing).toBe(5);
    // Not on screen: an event does not read the overview again.
    expect(engine.overview).toHaveBeenCalledTimes(1);
    stop();
    expect(engine.changed).toBeNull();
  });

  it("shows each distinct delivery error once", async () => {
    const alerts = new AlertsState();
    await alerts.listen(() => {});
    engine.changed?.({ firing: 1, delivery_error: "no D-Bus session bus" });
    expect(alerts.deliveryError).toBe("no D-Bus session bus");
    alerts.dismissDeliveryError();
    engine.changed?.({ firing: 1, delivery_error: "no D-Bus session bus" });
    expect(alerts.deliveryError).toBeNull();
    engine.changed?.({ firing: 1, delivery_error: "webhook: connection refused" });
    expect(alerts.deliveryError).toBe("webhook: connection refused");
  });

  it("shows the view and points out the alerts of a clicked notification", async () => {
    const alerts = new AlertsState();
    const onOpen = vi.fn();
    await alerts.listen(onOpen);
    engine.open?.({ alerts: [{ alertname: "R", n: "1" }] });
    expect(onOpen).toHaveBeenCalledOnce();
    expect(alerts.highlight).toEqual([{ alertname: "R", n: "1" }]);
    expect(alerts.highlightRequest).toBe(1);
  });

  it("tells the engine whether the view is on screen only when that changes", async () => {
    const alerts = new AlertsState();
    alerts.setViewing(true);
    alerts.setViewing(true);
    alerts.setViewing(false);
    expect(engine.setViewing.mock.calls).toEqual([[true], [false]]);
    // Another workspace has not heard it yet.
    alerts.forget();
    expect(engine.setViewing.mock.calls).toEqual([[true], [false], [false]]);
  });

  it("polls while watched, and reads again on events then", async () => {
    vi.useFakeTimers();
    try {
      const alerts = new AlertsState();
      await alerts.listen(() => {});
      const stop = alerts.watch();
      const before = engine.overview.mock.calls.length;
      await vi.advanceTimersByTimeAsync(4100);
      expect(engine.overview.mock.calls.length).toBe(before + 2);
      engine.changed?.({ firing: 2, delivery_error: null });
      expect(engine.overview.mock.calls.length).toBe(before + 3);
      stop();
      await vi.advanceTimersByTimeAsync(10_000);
      expect(engine.overview.mock.calls.length).toBe(before + 3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("says why a silence was refused", async () => {
    const alerts = new AlertsState();
    engine.silenceAdd.mockRejectedValueOnce(new ApiError({ type: "Invalid", data: { message: "cannot read the matchers" } }));
    expect(await alerts.addSilence("oops", 3_600_000, "")).toBe(false);
    expect(alerts.silenceError).toBe("cannot read the matchers");
    engine.silenceAdd.mockResolvedValueOnce("id1");
    expect(await alerts.addSilence(' {a="1"} ', 900_000, " why ")).toBe(true);
    expect(engine.silenceAdd).toHaveBeenLastCalledWith('{a="1"}', 900_000, "why");
    expect(alerts.silenceError).toBeNull();
  });

  it("keeps the saved configuration when the engine accepts it, not when the rules have errors", async () => {
    const alerts = new AlertsState();
    engine.config.mockResolvedValue({ rules: "old", builtin: "b", settings: SETTINGS });
    await alerts.loadConfig();
    const bad: RuleCheck = { problems: [{ message: "line 1: bad", line: 1, warning: false }], groups: 0, rules: 0 };
    engine.save.mockResolvedValueOnce(bad);
    expect(await alerts.save("broken", SETTINGS)).toBe(bad);
    expect(alerts.config?.rules).toBe("old");
    engine.save.mockResolvedValueOnce({ problems: [{ message: "w", line: null, warning: true }], groups: 1, rules: 1 });
    await alerts.save("new", { ...SETTINGS, desktop: false });
    expect(alerts.config).toEqual({ rules: "new", builtin: "b", settings: { ...SETTINGS, desktop: false } });
  });
});
