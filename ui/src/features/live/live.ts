// The live inputs in words: the status bar's one line ("Live: 2 files, OTLP on
// 127.0.0.1:4318"), the hint that points an OpenTelemetry SDK at the receiver, and the
// address box's default. Pure, so the panel and the status bar only draw.

import type { LiveStatus } from "../../api";
import { plural } from "../../lib/format";

/** Where the receiver listens when the address box is left empty (as the engine decides). */
export const DEFAULT_OTLP_ADDR = "127.0.0.1:4318";

/** Whether anything is live: a followed file, the receiver, or the live demo. */
export function isLive(status: LiveStatus | null): boolean {
  return status !== null && (status.demo !== null || status.receiver !== null || status.following.length > 0);
}

/** The status bar's line, or null when nothing is live. */
export function liveSummary(status: LiveStatus | null): string | null {
  if (status === null || !isLive(status)) return null;
  if (status.demo !== null) {
    const d = status.demo;
    return `Live demo: ${plural(d.runs_started, "run")}${d.incident ? ", incident under way" : ""}`;
  }
  const parts: string[] = [];
  if (status.following.length > 0) parts.push(plural(status.following.length, "file"));
  if (status.receiver !== null) parts.push(`OTLP on ${status.receiver.addr}`);
  return `Live: ${parts.join(", ")}`;
}

/** The environment variable that points an OpenTelemetry SDK at the receiver. */
export function otlpEndpointHint(addr: string): string {
  return `OTEL_EXPORTER_OTLP_ENDPOINT=http://${addr}`;
}
