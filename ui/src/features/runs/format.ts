// Durations, costs and token counts of runs and spans, in words people read at a glance.
//
// Times arrive as nanoseconds in JS numbers (exact to about 0.25 µs at today's epoch, far
// finer than anything shown here). Costs are USD with six decimals everywhere, so the list,
// the header and the replay panel agree digit for digit.

/** "850 ns", "12.5 µs", "2.39 ms", "1.063 s", "2 min 05.3 s", "1 h 02 min". */
export function formatDurationNs(ns: number): string {
  if (!Number.isFinite(ns)) return "—";
  const sign = ns < 0 ? "−" : "";
  const a = Math.abs(ns);
  if (a < 1e3) return `${sign}${Math.round(a)} ns`;
  if (a < 1e6) return `${sign}${trim(a / 1e3)} µs`;
  if (a < 1e9) return `${sign}${trim(a / 1e6)} ms`;
  if (a < 60e9) return `${sign}${(a / 1e9).toFixed(3)} s`;
  const totalS = a / 1e9;
  if (totalS < 3600) {
    const m = Math.floor(totalS / 60);
    const s = totalS - m * 60;
    return `${sign}${m} min ${s.toFixed(1).padStart(4, "0")} s`;
  }
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS - h * 3600) / 60);
  return `${sign}${h} h ${String(m).padStart(2, "0")} min`;
}

/** Three significant digits, without trailing zeros after the point: 2.39, 12.5, 250. */
function trim(v: number): string {
  const digits = v < 10 ? 2 : v < 100 ? 1 : 0;
  const text = v.toFixed(digits);
  return digits === 0 ? text : text.replace(/\.?0+$/, "");
}

/** "$0.045360": six decimals, the form the replay panel's test hook reads. */
export function formatCost(usd: number): string {
  return Number.isFinite(usd) ? `$${usd.toFixed(6)}` : "—";
}

/**
 * A tick label on the time axis, relative to the run's start: as many decimals as the tick
 * step needs and no more ("0 s", "2.5 s", "120 ms", "1.25 ms").
 */
export function formatTick(ns: number, stepNs: number): string {
  // The largest unit the step is at least a tenth of: 0.5 s steps read "2.5 s", 20 ms steps "120 ms".
  const unit = stepNs >= 1e8 ? 1e9 : stepNs >= 1e5 ? 1e6 : stepNs >= 1e2 ? 1e3 : 1;
  const name = unit === 1e9 ? "s" : unit === 1e6 ? "ms" : unit === 1e3 ? "µs" : "ns";
  const step = stepNs / unit;
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  const v = ns / unit;
  const text = Math.abs(v) < 0.5 * 10 ** -decimals ? "0" : v.toFixed(decimals);
  return `${text} ${name}`;
}

/** Parses a minimum duration: "500ms", "5s", "2m", "1.5 s", "250us"; a bare number is seconds. */
export function parseDuration(text: string): { ok: true; ns: number | null } | { ok: false; why: string } {
  const t = text.trim().toLowerCase();
  if (t === "") return { ok: true, ns: null };
  const m = /^(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|µs|ms|s|sec|m|min|h)?$/.exec(t);
  if (!m) return { ok: false, why: "use a number and a unit: 500ms, 5s, 2m" };
  const value = Number(m[1]);
  const unit = m[2] ?? "s";
  const scale: Record<string, number> = {
    ns: 1,
    us: 1e3,
    µs: 1e3,
    ms: 1e6,
    s: 1e9,
    sec: 1e9,
    m: 60e9,
    min: 60e9,
    h: 3600e9,
  };
  const ns = Math.round(value * (scale[unit] ?? 1e9));
  if (!Number.isSafeInteger(ns)) return { ok: false, why: "too long" };
  return { ok: true, ns };
}

/** Parses a minimum cost in USD ("0.05", "$0.05"). */
export function parseCost(text: string): { ok: true; usd: number | null } | { ok: false; why: string } {
  const t = text.trim().replace(/^\$/, "").trim();
  if (t === "") return { ok: true, usd: null };
  if (!/^(\d+(?:\.\d*)?|\.\d+)$/.test(t)) return { ok: false, why: "use a number of dollars: 0.05" };
  return { ok: true, usd: Number(t) };
}
