import { describe, expect, it } from "vitest";
import type { ScrapeTargetInfo, TargetHealth } from "../../api";
import { formatAgo, formatIn, formatMs, labelText, liveInterval, parseLabels, parseSeconds, readTargetForm, type TargetForm } from "./targets";

const form = (f: Partial<TargetForm>): TargetForm => ({ url: "http://127.0.0.1:9464/metrics", interval: "5", timeout: "", labels: "", token: "", ...f });

describe("parseSeconds", () => {
  it("reads seconds and durations", () => {
    expect(parseSeconds("5")).toBe(5000);
    expect(parseSeconds("2.5")).toBe(2500);
    expect(parseSeconds("1s")).toBe(1000);
    expect(parseSeconds(" 500ms ")).toBe(500);
    expect(parseSeconds("1m")).toBe(60_000);
    expect(parseSeconds("five")).toBeNull();
    expect(parseSeconds("-1")).toBeNull();
  });
});

describe("parseLabels", () => {
  it("reads k=v pairs separated by commas, spaces or lines", () => {
    expect(parseLabels("")).toEqual({ ok: true, labels: {} });
    expect(parseLabels("job=agent, env=dev")).toEqual({ ok: true, labels: { job: "agent", env: "dev" } });
    expect(parseLabels("job=agent env=dev\nteam = ml")).toEqual({ ok: true, labels: { job: "agent", env: "dev", team: "ml" } });
    expect(parseLabels('note="a, b \\"c\\""')).toEqual({ ok: true, labels: { note: 'a, b "c"' } });
  });

  it("says what is wrong", () => {
    expect(parseLabels("job")).toMatchObject({ ok: false, message: expect.stringContaining("“job” is not a label") });
    expect(parseLabels("1job=x")).toMatchObject({ ok: false, message: expect.stringContaining("not a label name") });
    expect(parseLabels("__name__=x")).toMatchObject({ ok: false, message: expect.stringContaining("reserved") });
    expect(parseLabels("a=1, a=2")).toMatchObject({ ok: false, message: expect.stringContaining("twice") });
    expect(parseLabels("a=")).toMatchObject({ ok: false, message: expect.stringContaining("no value") });
  });
});

describe("readTargetForm", () => {
  it("builds the target the engine takes", () => {
    expect(readTargetForm(form({ interval: "1", labels: "job=agent", token: " s3cret " }))).toEqual({
      ok: true,
      target: { url: "http://127.0.0.1:9464/metrics", interval_ms: 1000, timeout_ms: null, labels: { job: "agent" }, bearer_token: "s3cret" },
    });
    expect(readTargetForm(form({ interval: "", timeout: "2s" }))).toMatchObject({ ok: true, target: { interval_ms: 5000, timeout_ms: 2000 } });
  });

  it("names the field that is wrong", () => {
    expect(readTargetForm(form({ url: "" }))).toMatchObject({ ok: false, field: "url" });
    expect(readTargetForm(form({ url: "localhost:9464" }))).toMatchObject({ ok: false, field: "url" });
    expect(readTargetForm(form({ url: "file:///etc/passwd" }))).toMatchObject({ ok: false, field: "url" });
    expect(readTargetForm(form({ interval: "0.5" }))).toMatchObject({ ok: false, field: "interval", message: expect.stringContaining("once a second") });
    expect(readTargetForm(form({ interval: "soon" }))).toMatchObject({ ok: false, field: "interval" });
    expect(readTargetForm(form({ interval: "5", timeout: "10" }))).toMatchObject({ ok: false, field: "timeout" });
    expect(readTargetForm(form({ labels: "x" }))).toMatchObject({ ok: false, field: "labels" });
  });
});

describe("words for a target", () => {
  it("writes durations and times", () => {
    expect(formatMs(null)).toBe("—");
    expect(formatMs(12)).toBe("12 ms");
    expect(formatMs(1500)).toBe("1.5 s");
    expect(formatMs(5000)).toBe("5 s");
    expect(formatMs(42_000)).toBe("42 s");
    expect(formatMs(90_000)).toBe("1.5 min");
    expect(formatAgo(null, 10_000)).toBe("never");
    expect(formatAgo(9_600, 10_000)).toBe("just now");
    expect(formatAgo(7_000, 10_000)).toBe("3 s ago");
    expect(formatIn(13_000, 10_000)).toBe("in 3 s");
    expect(formatIn(10_100, 10_000)).toBe("now");
  });

  it("writes labels as they are typed", () => {
    expect(labelText({ job: "agent", env: "dev" })).toBe("env=dev, job=agent");
    expect(labelText({ note: "a, b" })).toBe('note="a, b"');
  });
});

describe("liveInterval", () => {
  const health = (state: string): TargetHealth => ({
    state,
    last_scrape_ms: null,
    last_duration_ms: null,
    last_error: null,
    last_warning: null,
    samples: null,
    consecutive_failures: 0,
    next_scrape_ms: null,
    scrapes: 0,
  });
  const target = (id: number, interval: number, state: string, paused = false): ScrapeTargetInfo => ({
    id,
    url: `http://h/${id}`,
    interval_ms: interval,
    timeout_ms: 1000,
    labels: {},
    paused,
    health: health(state),
  });

  it("follows the most frequent target that is scraping, never faster than a second", () => {
    expect(liveInterval([])).toBeNull();
    expect(liveInterval([target(1, 5000, "up"), target(2, 2000, "down")])).toBe(2000);
    expect(liveInterval([target(1, 5000, "up"), target(2, 1000, "paused", true)])).toBe(5000);
    expect(liveInterval([target(1, 250, "unknown")])).toBe(1000);
    expect(liveInterval([target(1, 1000, "paused", true)])).toBeNull();
  });
});
