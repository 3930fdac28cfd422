import { describe, expect, it } from "vitest";
import type { LiveDemoStats, LiveStatus, ReceiverStats } from "../../api";
import { isLive, liveSummary, otlpEndpointHint } from "./live";

const STATS: ReceiverStats = { requests: 0, rejected_requests: 0, spans: 0, log_records: 0, samples: 0, rejected_items: 0, last_error: null };
const DEMO: LiveDemoStats = {
  runs_started: 3,
  runs_ended: 2,
  log_lines: 40,
  spans_sent: 12,
  send_failures: 0,
  incident: false,
  metrics_url: "http://127.0.0.1:40000/metrics",
  log_path: "/tmp/live/agent-runtime.log",
};

function status(over: Partial<LiveStatus>): LiveStatus {
  return { following: [], receiver: null, demo: null, follow_error: null, ...over };
}

describe("liveSummary", () => {
  it("says nothing when nothing is live", () => {
    expect(liveSummary(null)).toBeNull();
    expect(liveSummary(status({}))).toBeNull();
    expect(isLive(status({}))).toBe(false);
  });

  it("names the files followed and the receiver's address", () => {
    expect(liveSummary(status({ following: ["/a.log", "/b.log"], receiver: { addr: "127.0.0.1:4318", stats: STATS } }))).toBe(
      "Live: 2 files, OTLP on 127.0.0.1:4318",
    );
    expect(liveSummary(status({ following: ["/a.log"] }))).toBe("Live: 1 file");
    expect(liveSummary(status({ receiver: { addr: "0.0.0.0:4318", stats: STATS } }))).toBe("Live: OTLP on 0.0.0.0:4318");
  });

  it("counts the live demo's runs, and says when its incident is under way", () => {
    expect(liveSummary(status({ demo: DEMO, following: ["/tmp/live/agent-runtime.log"] }))).toBe("Live demo: 3 runs");
    expect(liveSummary(status({ demo: { ...DEMO, runs_started: 1, incident: true } }))).toBe("Live demo: 1 run, incident under way");
  });

  it("points an SDK at the receiver", () => {
    expect(otlpEndpointHint("127.0.0.1:4318")).toBe("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318");
  });
});
