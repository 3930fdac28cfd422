// PromQL as the query box needs it: where the caret is (a metric or function name, a label
// name inside `{…}` or `by (…)`, a label value inside quotes, a range in `[…]`), what to
// offer there, and what the text becomes when an offer is taken. Also the queries the
// shortcut buttons write (rate of a counter, quantiles of a histogram).
//
// This is not a parser: it reads the text left of the caret with a small scanner (strings,
// brackets, commas) so it works on half-typed queries, where a real parser only has errors.
// The engine's parser stays the judge of what is valid.

/** Functions the engine evaluates (src/promql/functions.rs), with their arguments. */
export const FUNCTIONS: ReadonlyArray<{ name: string; args: string }> = [
  { name: "abs", args: "v instant-vector" },
  { name: "absent", args: "v instant-vector" },
  { name: "absent_over_time", args: "v range-vector" },
  { name: "acos", args: "v instant-vector" },
  { name: "acosh", args: "v instant-vector" },
  { name: "asin", args: "v instant-vector" },
  { name: "asinh", args: "v instant-vector" },
  { name: "atan", args: "v instant-vector" },
  { name: "atanh", args: "v instant-vector" },
  { name: "avg_over_time", args: "v range-vector" },
  { name: "ceil", args: "v instant-vector" },
  { name: "changes", args: "v range-vector" },
  { name: "clamp", args: "v instant-vector, min scalar, max scalar" },
  { name: "clamp_max", args: "v instant-vector, max scalar" },
  { name: "clamp_min", args: "v instant-vector, min scalar" },
  { name: "cos", args: "v instant-vector" },
  { name: "cosh", args: "v instant-vector" },
  { name: "count_over_time", args: "v range-vector" },
  { name: "day_of_month", args: "v=vector(time()) instant-vector" },
  { name: "day_of_week", args: "v=vector(time()) instant-vector" },
  { name: "day_of_year", args: "v=vector(time()) instant-vector" },
  { name: "days_in_month", args: "v=vector(time()) instant-vector" },
  { name: "deg", args: "v instant-vector" },
  { name: "delta", args: "v range-vector" },
  { name: "deriv", args: "v range-vector" },
  { name: "exp", args: "v instant-vector" },
  { name: "floor", args: "v instant-vector" },
  { name: "histogram_quantile", args: "φ scalar, b instant-vector" },
  { name: "hour", args: "v=vector(time()) instant-vector" },
  { name: "idelta", args: "v range-vector" },
  { name: "increase", args: "v range-vector" },
  { name: "irate", args: "v range-vector" },
  { name: "label_join", args: "v instant-vector, dst string, sep string, src string…" },
  { name: "label_replace", args: "v instant-vector, dst string, replacement string, src string, regex string" },
  { name: "last_over_time", args: "v range-vector" },
  { name: "ln", args: "v instant-vector" },
  { name: "log10", args: "v instant-vector" },
  { name: "log2", args: "v instant-vector" },
  { name: "max_over_time", args: "v range-vector" },
  { name: "min_over_time", args: "v range-vector" },
  { name: "minute", args: "v=vector(time()) instant-vector" },
  { name: "month", args: "v=vector(time()) instant-vector" },
  { name: "pi", args: "" },
  { name: "predict_linear", args: "v range-vector, t scalar" },
  { name: "present_over_time", args: "v range-vector" },
  { name: "quantile_over_time", args: "φ scalar, v range-vector" },
  { name: "rad", args: "v instant-vector" },
  { name: "rate", args: "v range-vector" },
  { name: "resets", args: "v range-vector" },
  { name: "round", args: "v instant-vector, to_nearest=1 scalar" },
  { name: "scalar", args: "v instant-vector" },
  { name: "sgn", args: "v instant-vector" },
  { name: "sin", args: "v instant-vector" },
  { name: "sinh", args: "v instant-vector" },
  { name: "sort", args: "v instant-vector" },
  { name: "sort_desc", args: "v instant-vector" },
  { name: "sqrt", args: "v instant-vector" },
  { name: "stddev_over_time", args: "v range-vector" },
  { name: "stdvar_over_time", args: "v range-vector" },
  { name: "sum_over_time", args: "v range-vector" },
  { name: "tan", args: "v instant-vector" },
  { name: "tanh", args: "v instant-vector" },
  { name: "time", args: "" },
  { name: "timestamp", args: "v instant-vector" },
  { name: "vector", args: "s scalar" },
  { name: "year", args: "v=vector(time()) instant-vector" },
];

export const AGGREGATIONS: readonly string[] = [
  "avg",
  "bottomk",
  "count",
  "count_values",
  "group",
  "max",
  "min",
  "quantile",
  "stddev",
  "stdvar",
  "sum",
  "topk",
];

/** Aggregations also offered with a grouping, as people most often write them. */
const GROUPED_AGGREGATIONS: readonly string[] = ["sum", "avg", "max", "min", "count"];

export const KEYWORDS: readonly string[] = [
  "and",
  "bool",
  "by",
  "group_left",
  "group_right",
  "ignoring",
  "offset",
  "on",
  "or",
  "unless",
  "without",
];

/** Words before a `(` that holds label names rather than an expression. */
const GROUPING = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

const RANGES: readonly string[] = ["10s", "30s", "1m", "2m", "5m", "10m", "15m", "30m", "1h", "6h", "1d"];

const NAMES = new Set<string>([...FUNCTIONS.map((f) => f.name), ...AGGREGATIONS, ...KEYWORDS]);

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const IDENT_CHAR = /[a-zA-Z0-9_:]/;

export type CompletionContext =
  | { kind: "none" }
  /** A metric, function, aggregation or keyword. */
  | { kind: "expr"; from: number; to: number; prefix: string }
  /** A label name inside a selector's braces or a grouping's parentheses. */
  | { kind: "labelName"; from: number; to: number; prefix: string; metric: string | null; where: "braces" | "grouping" }
  /**
   * A label value after `label=` (or `!=`, `=~`, `!~`). `quote` is the opening quote when one
   * was typed, `closed` whether its closing quote is there already (then `to` stops before it).
   */
  | {
      kind: "labelValue";
      from: number;
      to: number;
      prefix: string;
      label: string;
      metric: string | null;
      quote: string | null;
      closed: boolean;
    }
  /** The range of a range vector or subquery: `[5m]`. */
  | { kind: "duration"; from: number; to: number; prefix: string };

interface Open {
  ch: "{" | "(" | "[";
  at: number;
  /** For `{`: the metric name right before it. */
  metric: string | null;
  /** For `(`: a grouping's label list. */
  grouping: boolean;
  /** The last `,` directly inside this bracket. */
  sep: number;
}

/** The identifier that ends right before `end` (spaces skipped), or "". */
function wordBefore(text: string, end: number): string {
  let i = end;
  while (i > 0 && /\s/.test(text[i - 1])) i--;
  const stop = i;
  while (i > 0 && IDENT_CHAR.test(text[i - 1])) i--;
  const w = text.slice(i, stop);
  return /^[a-zA-Z_:]/.test(w) ? w : "";
}

/** Where the identifier that the caret is in ends (the caret itself when it is not in one). */
function identEnd(text: string, at: number): number {
  let j = at;
  while (j < text.length && IDENT_CHAR.test(text[j])) j++;
  return j;
}

interface Scan {
  stack: Open[];
  /** The string the position is in, if any. */
  str: { quote: string; at: number } | null;
  comment: boolean;
}

/** Strings, comments and brackets from the start of `text` up to `end`. */
function scan(text: string, end: number): Scan {
  const stack: Open[] = [];
  let str: Scan["str"] = null;
  for (let i = 0; i < end; i++) {
    const c = text[i];
    if (str) {
      if (c === "\\" && str.quote !== "`") i++;
      else if (c === str.quote) str = null;
      continue;
    }
    switch (c) {
      case '"':
      case "'":
      case "`":
        str = { quote: c, at: i };
        break;
      case "#": {
        const nl = text.indexOf("\n", i);
        if (nl < 0 || nl >= end) return { stack, str: null, comment: true };
        i = nl;
        break;
      }
      case "{": {
        const w = wordBefore(text, i);
        stack.push({ ch: "{", at: i, metric: w !== "" && !NAMES.has(w) ? w : null, grouping: false, sep: i });
        break;
      }
      case "(":
        stack.push({ ch: "(", at: i, metric: null, grouping: GROUPING.has(wordBefore(text, i)), sep: i });
        break;
      case "[":
        stack.push({ ch: "[", at: i, metric: null, grouping: false, sep: i });
        break;
      case "}":
      case ")":
      case "]":
        // Lenient on mismatches: the text is being typed.
        stack.pop();
        break;
      case ",": {
        const top = stack.at(-1);
        if (top) top.sep = i;
        break;
      }
    }
  }
  return { stack, str, comment: false };
}

/** The text of a quoted PromQL string without its escapes. */
export function unescapeString(body: string): string {
  return body.replace(/\\(.)/g, (_, ch: string) => (ch === "n" ? "\n" : ch === "r" ? "\r" : ch === "t" ? "\t" : ch));
}

/**
 * `value` as the inside of a PromQL string in `quote`s: backslash, the quote and line breaks
 * escaped. Label values in matchers (charts, silences) are written with this.
 */
export function escapeString(value: string, quote = '"'): string {
  if (quote === "`") return value.replaceAll("`", "");
  let out = "";
  for (const ch of value) {
    if (ch === "\\" || ch === quote) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else out += ch;
  }
  return out;
}

/** What could be typed at `cursor` in `text`. */
export function completionContext(text: string, cursor: number): CompletionContext {
  const at = Math.max(0, Math.min(cursor, text.length));
  const { stack, str, comment } = scan(text, at);
  if (comment) return { kind: "none" };
  const top = stack.at(-1);

  if (str) {
    if (top?.ch !== "{") return { kind: "none" };
    const m = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*$/.exec(text.slice(top.sep + 1, str.at));
    if (!m) return { kind: "none" };
    // The value runs to its closing quote, if there is one.
    let close = -1;
    for (let j = at; j < text.length; j++) {
      const c = text[j];
      if (c === "\\" && str.quote !== "`") j++;
      else if (c === str.quote) {
        close = j;
        break;
      } else if (c === "\n") break;
    }
    return {
      kind: "labelValue",
      from: str.at + 1,
      to: close >= 0 ? close : at,
      prefix: unescapeString(text.slice(str.at + 1, at)),
      label: m[1],
      metric: top.metric,
      quote: str.quote,
      closed: close >= 0,
    };
  }

  if (top?.ch === "{" || (top?.ch === "(" && top.grouping)) {
    const seg = text.slice(top.sep + 1, at);
    const name = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)?$/.exec(seg);
    if (name) {
      const prefix = name[1] ?? "";
      return {
        kind: "labelName",
        from: at - prefix.length,
        to: identEnd(text, at),
        prefix,
        metric: top.ch === "{" ? top.metric : guessMetric(text),
        where: top.ch === "{" ? "braces" : "grouping",
      };
    }
    const op = top.ch === "{" ? /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*$/.exec(seg) : null;
    if (op) {
      return { kind: "labelValue", from: at, to: at, prefix: "", label: op[1], metric: top.metric, quote: null, closed: false };
    }
    return { kind: "none" };
  }

  if (top?.ch === "[") {
    const m = /^\s*(?:[0-9a-z]+\s*:\s*)?([0-9a-z]*)$/.exec(text.slice(top.at + 1, at));
    if (!m) return { kind: "none" };
    let to = at;
    while (to < text.length && /[0-9a-z]/.test(text[to])) to++;
    return { kind: "duration", from: at - m[1].length, to, prefix: m[1] };
  }

  const before = text.slice(0, at);
  const m = /[a-zA-Z_:][a-zA-Z0-9_:]*$/.exec(before);
  const prefix = m ? m[0] : "";
  const from = at - prefix.length;
  // Letters right after a digit are a number's (1e3) or a duration's (5m), not a name.
  if (from > 0 && /[0-9.]/.test(text[from - 1])) return { kind: "none" };
  return { kind: "expr", from, to: identEnd(text, at), prefix };
}

/**
 * The metric a query is about, for label completions outside its braces (`sum by (…)`):
 * the first name that is not a function, aggregation or keyword, outside strings, braces
 * and grouping lists. Null when there is none.
 */
export function guessMetric(text: string): string | null {
  const re = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const w = m[0];
    const start = m.index;
    if (NAMES.has(w)) continue;
    if (start > 0 && /[0-9.]/.test(text[start - 1])) continue;
    const { stack, str, comment } = scan(text, start);
    if (str || comment) continue;
    if (stack.some((o) => o.ch === "{" || o.ch === "[" || o.grouping)) continue;
    let j = start + w.length;
    while (j < text.length && /\s/.test(text[j])) j++;
    if (text[j] === "(") continue;
    return w;
  }
  return null;
}

// ---- suggestions ------------------------------------------------------------------------

export type SuggestionKind = "metric" | "function" | "aggregation" | "keyword" | "label" | "value" | "range";

export interface Suggestion {
  kind: SuggestionKind;
  /** What the list shows. */
  label: string;
  /** What replaces the context's `from`..`to`. */
  insert: string;
  /** Where the caret goes, counted from `from`; the end of `insert` when absent. */
  caret?: number;
  /** A short note beside it (a metric's kind and help, a function's arguments). */
  detail: string;
}

export interface CompletionSources {
  metrics: ReadonlyArray<{ name: string; kind: string; help: string }>;
  /** Label names for the context's metric; null while they load. */
  labelNames: readonly string[] | null;
  /** Label values for the context's label; null while they load. */
  labelValues: readonly string[] | null;
}

/** How well `candidate` matches what was typed: 0 a prefix, 1 a word inside, 2 anywhere; null not at all. */
export function matchRank(candidate: string, typed: string): number | null {
  if (typed === "") return 0;
  const c = candidate.toLowerCase();
  const t = typed.toLowerCase();
  if (c.startsWith(t)) return 0;
  const i = c.indexOf(t);
  if (i < 0) return null;
  return /[_:.\-/ ]/.test(c[i - 1]) ? 1 : 2;
}

const KIND_ORDER: Record<SuggestionKind, number> = {
  label: 0,
  value: 0,
  range: 0,
  metric: 0,
  function: 1,
  aggregation: 1,
  keyword: 2,
};

function ranked(items: Suggestion[], typed: string, limit: number, key: (s: Suggestion) => string = (s) => s.label): Suggestion[] {
  const scored: Array<{ s: Suggestion; r: number }> = [];
  for (const s of items) {
    const r = matchRank(key(s), typed);
    if (r !== null) scored.push({ s, r });
  }
  scored.sort(
    (a, b) =>
      a.r - b.r ||
      KIND_ORDER[a.s.kind] - KIND_ORDER[b.s.kind] ||
      key(a.s).length - key(b.s).length ||
      (key(a.s) < key(b.s) ? -1 : key(a.s) > key(b.s) ? 1 : 0),
  );
  return scored.slice(0, limit).map((x) => x.s);
}

function oneLine(text: string, max = 90): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** What to offer in context `ctx`, best first, at most `limit`. */
export function suggest(ctx: CompletionContext, src: CompletionSources, text: string, limit = 50): Suggestion[] {
  switch (ctx.kind) {
    case "none":
      return [];
    case "expr": {
      const items: Suggestion[] = [];
      for (const m of src.metrics) {
        if (m.name === ctx.prefix) continue;
        items.push({ kind: "metric", label: m.name, insert: m.name, detail: [m.kind, oneLine(m.help)].filter(Boolean).join(" · ") });
      }
      for (const f of FUNCTIONS) {
        items.push({ kind: "function", label: f.name, insert: `${f.name}(`, detail: `(${f.args})` });
      }
      for (const a of AGGREGATIONS) {
        items.push({ kind: "aggregation", label: a, insert: `${a}(`, detail: "aggregation" });
      }
      for (const a of GROUPED_AGGREGATIONS) {
        items.push({ kind: "aggregation", label: `${a} by (…)`, insert: `${a} by ()`, caret: a.length + 5, detail: "aggregation by labels" });
      }
      if (ctx.prefix !== "") {
        for (const k of KEYWORDS) if (k !== ctx.prefix) items.push({ kind: "keyword", label: k, insert: k, detail: "keyword" });
      }
      return ranked(items, ctx.prefix, limit, (s) => (s.kind === "aggregation" ? s.label.split(" ")[0] : s.label));
    }
    case "labelName": {
      const names = (src.labelNames ?? []).filter((n) => n !== ctx.prefix && (n !== "__name__" || ctx.prefix.startsWith("_")));
      // Inside braces a name is followed by a matcher: `name="…"`, the caret between the quotes.
      const matcherFollows = /^\s*(=|!=|=~|!~)/.test(text.slice(ctx.to));
      const items = names.map<Suggestion>((n) =>
        ctx.where === "braces" && !matcherFollows
          ? { kind: "label", label: n, insert: `${n}=""`, caret: n.length + 2, detail: "label" }
          : { kind: "label", label: n, insert: n, detail: "label" },
      );
      return ranked(items, ctx.prefix, limit);
    }
    case "labelValue": {
      const quote = ctx.quote ?? '"';
      const items = (src.labelValues ?? []).map<Suggestion>((v) => {
        const body = escapeString(v, quote);
        if (ctx.quote === null) return { kind: "value", label: v, insert: `${quote}${body}${quote}`, detail: ctx.label };
        if (ctx.closed) return { kind: "value", label: v, insert: body, caret: body.length + 1, detail: ctx.label };
        return { kind: "value", label: v, insert: `${body}${quote}`, detail: ctx.label };
      });
      return ranked(items, ctx.prefix, limit);
    }
    case "duration": {
      // Shortest first, as people read durations, not as strings sort.
      return RANGES.filter((r) => r.startsWith(ctx.prefix) && r !== ctx.prefix)
        .slice(0, limit)
        .map((r) => ({ kind: "range", label: r, insert: r, detail: "range" }));
    }
  }
}

/** The text and caret after taking `s` in context `ctx`. */
export function applySuggestion(text: string, ctx: CompletionContext, s: Suggestion): { text: string; cursor: number } {
  if (ctx.kind === "none") return { text, cursor: text.length };
  const out = text.slice(0, ctx.from) + s.insert + text.slice(ctx.to);
  return { text: out, cursor: Math.min(out.length, ctx.from + (s.caret ?? s.insert.length)) };
}

/** Whether the list should open by itself while typing here (not only on Ctrl+Space). */
export function opensByItself(ctx: CompletionContext): boolean {
  switch (ctx.kind) {
    case "none":
      return false;
    case "expr":
      return ctx.prefix !== "";
    default:
      return true;
  }
}

// ---- the shortcut buttons ---------------------------------------------------------------

/** A Prometheus duration for `ms`: `90s`, `5m`, `1h30m`, `500ms`. */
export function formatPromDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return "0s";
  const parts: Array<[number, string]> = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "m"],
    [1000, "s"],
    [1, "ms"],
  ];
  let rest = total;
  let out = "";
  for (const [size, unit] of parts) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/**
 * The range of a `rate()` for a chart of step `stepMs`: at least `minMs` (so a few scrapes fall
 * in it) and at least four steps (so no sample falls between two windows), rounded up to a
 * whole minute past the first.
 */
export function rateWindow(stepMs: number, minMs: number): string {
  const want = Math.max(minMs, 4 * stepMs);
  const rounded = want <= 60_000 ? want : Math.ceil(want / 60_000) * 60_000;
  return formatPromDuration(rounded);
}

/** Whether rates make sense for this metric: a counter, or an untyped `_total`. */
export function isCounter(m: { name: string; kind: string }): boolean {
  return m.kind === "counter" || (m.kind === "unknown" && m.name.endsWith("_total"));
}

/** The histogram family a metric belongs to (its name without `_bucket`), or null. */
export function histogramBase(m: { name: string; kind: string }): string | null {
  if (m.name.endsWith("_bucket")) return m.name.slice(0, -"_bucket".length);
  if (m.kind === "histogram" || m.kind === "gaugehistogram") {
    if (m.name.endsWith("_sum") || m.name.endsWith("_count")) return null;
    return m.name;
  }
  return null;
}

/** `rate(x[w])`, `sum(rate(x[w]))` (`by` empty) or `sum by (a, b) (rate(x[w]))`. */
export function rateQuery(metric: string, window: string, by: readonly string[] | null = null): string {
  const rate = `rate(${metric}[${window}])`;
  if (by === null) return rate;
  if (by.length === 0) return `sum(${rate})`;
  return `sum by (${by.join(", ")}) (${rate})`;
}

/** `histogram_quantile(q, sum by (le, …) (rate(base_bucket[w])))`. */
export function quantileQuery(base: string, q: number, window: string, by: readonly string[] = []): string {
  const labels = ["le", ...by.filter((l) => l !== "le")].join(", ");
  return `histogram_quantile(${q}, sum by (${labels}) (rate(${base}_bucket[${window}])))`;
}

/**
 * `expr` narrowed to `label="value"`: when it is a plain selector of `metric`, the matcher is
 * added (or replaces one on the same label); otherwise a new selector of `metric` is written.
 */
export function withMatcher(expr: string, metric: string, label: string, value: string): string {
  const matcher = `${label}="${escapeString(value)}"`;
  const e = expr.trim();
  if (e === metric) return `${metric}{${matcher}}`;
  if (e.startsWith(`${metric}{`) && e.endsWith("}")) {
    const inner = e.slice(metric.length + 1, -1);
    const parts = splitMatchers(inner);
    if (parts !== null) {
      const kept = parts.filter((p) => !new RegExp(`^${label}\\s*(=|!=|=~|!~)`).test(p));
      return `${metric}{${[...kept, matcher].join(", ")}}`;
    }
  }
  return `${metric}{${matcher}}`;
}

/** The matchers of a selector's braces, split at top-level commas; null when unreadable. */
function splitMatchers(inner: string): string[] | null {
  const out: string[] = [];
  let cur = "";
  let quote: string | null = null;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (quote) {
      cur += c;
      if (c === "\\" && quote !== "`" && i + 1 < inner.length) cur += inner[++i];
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === "`") {
      quote = c;
      cur += c;
    } else if (c === ",") {
      if (cur.trim() !== "") out.push(cur.trim());
      cur = "";
    } else {
      cur += c;
    }
  }
  if (quote) return null;
  if (cur.trim() !== "") out.push(cur.trim());
  return out.every((p) => /^[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*["'`]/.test(p)) ? out : null;
}

/** Whether `name` can be written bare in PromQL. */
export function isPlainLabel(name: string): boolean {
  return LABEL.test(name);
}
