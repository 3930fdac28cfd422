// The metric browser's list: which metrics a filter keeps, in which order, and how a kind reads.

import type { MetricInfo } from "../../api";

/**
 * The metrics whose name or help holds every word of `filter` (case-insensitive), names that
 * hold them ahead of helps that do, then by name.
 */
export function filterMetrics(list: readonly MetricInfo[], filter: string): MetricInfo[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const scored: Array<{ m: MetricInfo; score: number }> = [];
  for (const m of list) {
    const name = m.name.toLowerCase();
    const help = m.help.toLowerCase();
    let score = 0;
    let ok = true;
    for (const w of words) {
      if (name.startsWith(w)) continue;
      if (name.includes(w)) score += 1;
      else if (help.includes(w) || m.kind === w || (w === "derived" && m.derived)) score += 2;
      else {
        ok = false;
        break;
      }
    }
    if (ok) scored.push({ m, score });
  }
  scored.sort((a, b) => a.score - b.score || (a.m.name < b.m.name ? -1 : a.m.name > b.m.name ? 1 : 0));
  return scored.map((x) => x.m);
}

const KIND_LABELS: Readonly<Record<string, string>> = {
  counter: "counter",
  gauge: "gauge",
  histogram: "histogram",
  gaugehistogram: "gauge histogram",
  summary: "summary",
  info: "info",
  stateset: "state set",
  unknown: "untyped",
};

/** A metric kind as the browser prints it ("gauge histogram", "untyped"). */
export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}
