import { describe, expect, it } from "vitest";
import type { AlertStatus, BacktestBand, SilenceStatus } from "../../api";
import {
  alertName,
  alertSince,
  alertSummary,
  bandLayout,
  bandRows,
  chartRects,
  chipLabels,
  chipText,
  countProblems,
  durationChoices,
  formatEvalMs,
  formatFor,
  formatWhen,
  groupsText,
  labelsIn,
  matchersFor,
  mergeIntervals,
  newestFirst,
  ruleHealth,
  ruleState,
  sameLabels,
  ShownOnce,
  sortSilences,
  splitAlerts,
  stateTone,
  summaryText,
  GROUP_WAITS,
  lineOffset,
  webhookProblem,
} from "./alerts";

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

function alert(over: Partial<AlertStatus>): AlertStatus {
  return {
    group: "g",
    rule: "R",
    labels: { alertname: "R" },
    annotations: {},
    state: "firing",
    active_at_ms: NOW - 600_000,
    fired_at_ms: NOW - 300_000,
    resolved_at_ms: null,
    value: 1,
    last_notified_ms: null,
    ...over,
  };
}

function band(alertname: string, phase: string, from: number, to: number, labels: Record<string, string> = {}): BacktestBand {
  return { alertname, labels: { alertname, ...labels }, phase, from_ms: from, to_ms: to };
}

describe("matchers", () => {
  it("escapes backslashes, quotes and line breaks in values", () => {
    expect(matchersFor({ a: "C:\\tmp", b: '\\"', c: "x\ny\r\tz", d: "plain" })).toBe('{a="C:\\\\tmp", b="\\\\\\"", c="x\\ny\\r\\tz", d="plain"}');
  });

  it("selects exactly the alert's labels, alertname first", () => {
    expect(matchersFor({ tool: "fetch", alertname: "ToolFailing", job: "agent" })).toBe('{alertname="ToolFailing", job="agent", tool="fetch"}');
    expect(matchersFor({ path: 'say "hi" \\ bye' })).toBe('{path="say \\"hi\\" \\\\ bye"}');
    expect(matchersFor({ a: "1", b: undefined })).toBe('{a="1"}');
  });
});

describe("labels", () => {
  it("compares label sets regardless of order", () => {
    expect(sameLabels({ a: "1", b: "2" }, { b: "2", a: "1" })).toBe(true);
    expect(sameLabels({ a: "1" }, { a: "1", b: "2" })).toBe(false);
    expect(sameLabels({ a: "1", b: undefined }, { a: "1" })).toBe(true);
    expect(labelsIn({ a: "1" }, [{ a: "2" }, { a: "1" }])).toBe(true);
    expect(labelsIn({ a: "1" }, [])).toBe(false);
  });

  it("shows every label but alertname as chips, quoting what needs it", () => {
    expect(chipLabels({ alertname: "X", z: "1", a: "2" })).toEqual([
      ["a", "2"],
      ["z", "1"],
    ]);
    expect(chipText("tool", "fetch")).toBe("tool=fetch");
    expect(chipText("msg", "a b")).toBe('msg="a b"');
    expect(chipText("e", "")).toBe('e=""');
  });
});

describe("alerts", () => {
  it("names an alert by its alertname, else its rule", () => {
    expect(alertName(alert({ labels: { alertname: "A" }, rule: "B" }))).toBe("A");
    expect(alertName(alert({ labels: {}, rule: "B" }))).toBe("B");
  });

  it("dates a firing alert from when it fired, others from when they became active", () => {
    expect(alertSince(alert({}))).toBe(NOW - 300_000);
    expect(alertSince(alert({ state: "pending", fired_at_ms: null }))).toBe(NOW - 600_000);
    expect(alertSince(alert({ state: "firing", fired_at_ms: null }))).toBe(NOW - 600_000);
  });

  it("splits and orders: firing before pending, newest first, resolved apart", () => {
    const a = alert({ labels: { alertname: "A" }, fired_at_ms: NOW - 1000 });
    const b = alert({ labels: { alertname: "B" }, fired_at_ms: NOW - 5000 });
    const p = alert({ labels: { alertname: "P" }, state: "pending", fired_at_ms: null, active_at_ms: NOW });
    const r1 = alert({ labels: { alertname: "R1" }, state: "resolved", resolved_at_ms: NOW - 10 });
    const r2 = alert({ labels: { alertname: "R2" }, state: "resolved", resolved_at_ms: NOW - 5 });
    const s = splitAlerts([p, r1, b, a, r2]);
    expect(s.active.map(alertName)).toEqual(["A", "B", "P"]);
    expect(s.resolved.map(alertName)).toEqual(["R2", "R1"]);
    expect(s.firing).toBe(2);
    expect(s.pending).toBe(1);
    expect(summaryText(s.firing, s.pending)).toBe("2 firing, 1 pending");
  });

  it("shows the summary annotation, else the description", () => {
    expect(alertSummary(alert({ annotations: { summary: "s", description: "d" } }))).toBe("s");
    expect(alertSummary(alert({ annotations: { description: "d" } }))).toBe("d");
    expect(alertSummary(alert({}))).toBe("");
  });
});

describe("rules", () => {
  it("says a rule's state and health in one word", () => {
    expect(ruleState({ kind: "record", state: "" })).toBe("record");
    expect(ruleState({ kind: "alert", state: "firing" })).toBe("firing");
    expect(ruleState({ kind: "alert", state: "" })).toBe("inactive");
    expect(ruleHealth({ health: "err" })).toBe("err");
    expect(ruleHealth({ health: "" })).toBe("unknown");
    expect(["firing", "pending", "inactive", "record", "resolved"].map(stateTone)).toEqual(["pill-error", "pill-warn", "", "", ""]);
  });

  it("counts problems and rules", () => {
    expect(countProblems([
      { message: "a", line: 1, warning: false },
      { message: "b", line: null, warning: true },
      { message: "c", line: 3, warning: true },
    ])).toEqual({ errors: 1, warnings: 2 });
    expect(groupsText(1, 1)).toBe("1 group, 1 rule");
    expect(groupsText(2, 7)).toBe("2 groups, 7 rules");
  });
});

describe("lists", () => {
  it("puts the newest entries first and keeps ties in order", () => {
    const items = [
      { t_ms: 1, n: "a" },
      { t_ms: 3, n: "b" },
      { t_ms: 3, n: "c" },
      { t_ms: 2, n: "d" },
    ];
    expect(newestFirst(items).map((i) => i.n)).toEqual(["b", "c", "d", "a"]);
  });

  it("lists active silences, then later ones, then expired", () => {
    const s = (id: string, state: string, starts: number): SilenceStatus => ({
      id,
      matchers: "{a=\"1\"}",
      starts_at_ms: starts,
      ends_at_ms: starts + 1000,
      comment: "",
      created_by: "app",
      state,
    });
    expect(sortSilences([s("x", "expired", 5), s("p", "pending", 1), s("a1", "active", 1), s("a2", "active", 2)]).map((x) => x.id)).toEqual([
      "a2",
      "a1",
      "p",
      "x",
    ]);
  });
});

describe("times", () => {
  it("says past and future times in words", () => {
    expect(formatWhen(NOW - 5 * 60_000, NOW)).toBe("5 min ago");
    expect(formatWhen(NOW, NOW)).toBe("just now");
    expect(formatWhen(NOW + 30_000, NOW)).toBe("just now");
    expect(formatWhen(NOW + 45 * 60_000, NOW)).toBe("in 45 min");
    expect(formatWhen(NOW + 4 * 3_600_000, NOW)).toBe("in 4 h");
    expect(formatWhen(NOW + 3 * 86_400_000, NOW)).toBe("in 3 days");
    expect(formatWhen(null, NOW)).toBe("never");
  });

  it("writes durations the way rule files do", () => {
    expect(formatFor(0)).toBe("0s");
    expect(formatFor(300_000)).toBe("5m");
    expect(formatFor(5_400_000)).toBe("1h30m");
    expect(formatFor(250)).toBe("250ms");
    expect(formatEvalMs(0.42)).toBe("0.4 ms");
    expect(formatEvalMs(12.6)).toBe("13 ms");
    expect(formatEvalMs(1250)).toBe("1,250 ms");
    expect(formatEvalMs(null)).toBe("—");
  });

  it("offers the standard durations plus the current one", () => {
    expect(durationChoices([60_000, 3_600_000], 3_600_000).map((c) => c.label)).toEqual(["1m", "1h"]);
    expect(durationChoices([60_000, 3_600_000], 90_000).map((c) => c.label)).toEqual(["1m", "1m30s", "1h"]);
    expect(durationChoices(GROUP_WAITS, 0)[0]).toEqual({ ms: 0, label: "0s" });
  });
});

describe("ShownOnce", () => {
  it("shows each distinct message once", () => {
    const once = new ShownOnce();
    expect(once.take("no D-Bus session bus")).toBe("no D-Bus session bus");
    expect(once.take("no D-Bus session bus")).toBeNull();
    expect(once.take(" no D-Bus session bus ")).toBeNull();
    expect(once.take(null)).toBeNull();
    expect(once.take("")).toBeNull();
    expect(once.take("webhook refused")).toBe("webhook refused");
  });
});

describe("backtest bands", () => {
  it("groups bands by alert, in time order", () => {
    const rows = bandRows([
      band("B", "firing", 50, 60),
      band("A", "firing", 30, 40, { tool: "x" }),
      band("A", "pending", 10, 30, { tool: "x" }),
      band("A", "pending", 5, 6, { tool: "y" }),
    ]);
    expect(rows.map((r) => [r.alertname, r.labels.tool ?? "", r.bands.length])).toEqual([
      ["A", "x", 2],
      ["A", "y", 1],
      ["B", "", 1],
    ]);
    expect(rows[0].bands.map((b) => b.phase)).toEqual(["pending", "firing"]);
    expect(rows[0].firingMs).toBe(10);
    expect(rows[0].pendingMs).toBe(20);
  });

  it("lays a band out in percent of the timeline", () => {
    expect(bandLayout(25, 75, 0, 100)).toEqual({ left: 25, width: 50 });
    expect(bandLayout(-50, 10, 0, 100)).toEqual({ left: 0, width: 10 });
    expect(bandLayout(90, 200, 0, 100)).toEqual({ left: 90, width: 10 });
    expect(bandLayout(200, 300, 0, 100)).toBeNull();
    expect(bandLayout(50, 50, 0, 100)).toEqual({ left: 50, width: 0.4 });
    expect(bandLayout(100, 100, 0, 100)).toEqual({ left: 99.6, width: 0.4 });
    expect(bandLayout(1, 2, 5, 5)).toBeNull();
  });

  it("merges overlapping intervals", () => {
    expect(mergeIntervals([{ from: 5, to: 8 }, { from: 0, to: 3 }, { from: 2, to: 4 }, { from: 8, to: 9 }])).toEqual([
      { from: 0, to: 4 },
      { from: 5, to: 9 },
    ]);
    expect(mergeIntervals([{ from: 3, to: 1 }])).toEqual([]);
  });

  it("shades firing stretches and pending ones where nothing fires, clipped to the plot", () => {
    const toPx = (ms: number) => ms; // one pixel per millisecond
    const rects = chartRects(
      [band("A", "pending", 0, 100), band("A", "firing", 40, 60), band("B", "firing", 500, 600)],
      toPx,
      10,
      550,
    );
    expect(rects).toEqual([
      { phase: "pending", x: 10, w: 30 },
      { phase: "pending", x: 60, w: 40 },
      { phase: "firing", x: 40, w: 20 },
      { phase: "firing", x: 500, w: 50 },
    ]);
    expect(chartRects([band("A", "firing", 20, 20)], toPx, 0, 100, 2)).toEqual([{ phase: "firing", x: 19, w: 2 }]);
    expect(chartRects([band("A", "firing", 200, 300)], toPx, 0, 100)).toEqual([]);
  });
});

describe("the rule editor", () => {
  it("finds where a line starts", () => {
    const text = "groups:\n  - name: a\n    rules: []";
    expect(lineOffset(text, 1)).toBe(0);
    expect(lineOffset(text, 2)).toBe(8);
    expect(text.slice(lineOffset(text, 3))).toBe("    rules: []");
    expect(lineOffset(text, 9)).toBe(text.length);
  });

  it("accepts only http:// webhooks", () => {
    expect(webhookProblem("")).toBeNull();
    expect(webhookProblem("  ")).toBeNull();
    expect(webhookProblem("http://127.0.0.1:9093/hook")).toBeNull();
    expect(webhookProblem("https://example.com/hook")).toMatch(/http:\/\//);
    expect(webhookProblem("127.0.0.1:9093")).toMatch(/http:\/\//);
    expect(webhookProblem("http://")).toMatch(/http:\/\//);
  });
});
