// The spans of an open run as typed arrays by display position, built once from the
// engine's columns (`runs_get` sends a `RunColumns`).
//
// A run can hold 100,000 spans, so nothing here makes an object per span: the engine sends
// each field as one array (names and tool names as indices into a table of names, kind and
// status as indices into small tables, times as ns after the run's start, cost and tokens
// only for the spans that have them, critical path and orphans as lists of positions), and
// this turns them into typed arrays the tree, the canvas and the replay index read
// directly. A `SpanView` object is made on demand for the few spans on screen. Roll-ups
// over a subtree are summed when asked, over the subtree's contiguous range of positions.

import type { RunColumns, SpanKind, SpanStatus } from "../../api";
import { buildTree, type SpanTree } from "./tree";

/** Bits of `RunSpans.flags`. */
export const CRITICAL = 1;
export const ORPHAN = 2;
export const ERROR = 4;

/** One span as the tree row, the tooltip and the detail pane show it. */
export interface SpanView {
  /** Display position. */
  pos: number;
  span_id: string;
  name: string;
  kind: SpanKind;
  status: SpanStatus;
  status_message: string | null;
  /** Start, ns since the run's start. */
  start: number;
  /** End minus start, as recorded. */
  duration: number;
  cost: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  tool_name: string | null;
  critical: boolean;
  orphan: boolean;
}

/** LLM cost and tokens of a span and everything below it. */
export interface SubtreeTotals {
  cost: number;
  inputTokens: number;
  outputTokens: number;
}

export class RunSpans {
  readonly n: number;
  readonly tree: SpanTree;
  /** Position of each span's parent, -1 for a top-level span (the tree's). */
  readonly parent: Int32Array;
  readonly spanId: readonly string[];
  readonly names: readonly string[];
  /** Index into `names`. */
  readonly name: Int32Array;
  /** Index into `names`, -1 for no tool. */
  readonly toolName: Int32Array;
  readonly kinds: readonly SpanKind[];
  /** Index into `kinds`. */
  readonly kind: Uint8Array;
  readonly statuses: readonly SpanStatus[];
  /** Index into `statuses`. */
  readonly status: Uint8Array;
  /** Start, ns since the run's start. */
  readonly start: Float64Array;
  /** End, ns since the run's start; never before the start, so a bar never has a negative width. */
  readonly end: Float64Array;
  /** End minus start as recorded (what the rows print). */
  readonly duration: Float64Array;
  /** NaN where the span has none. */
  readonly cost: Float64Array;
  readonly inputTokens: Float64Array;
  readonly outputTokens: Float64Array;
  /** CRITICAL | ORPHAN | ERROR bits. */
  readonly flags: Uint8Array;
  /** The run's length on the time axis: the last end, at least 1 ns (a scale never divides by zero). */
  readonly extent: number;

  private readonly messages = new Map<number, string>();
  private readonly llm: number;

  constructor(v: RunColumns) {
    const n = v.span_id.length;
    this.n = n;
    const parents = new Int32Array(n);
    for (let i = 0; i < n; i++) parents[i] = v.parent[i] ?? -1;
    const tree = buildTree(parents);
    this.tree = tree;
    this.parent = tree.parent;
    const order = tree.order;
    // The engine sends tree order already, so positions are almost always the input's.
    let same = true;
    for (let p = 0; p < n && same; p++) same = order[p] === p;
    let posOf: Int32Array | null = null;
    if (!same) {
      posOf = new Int32Array(n);
      for (let p = 0; p < n; p++) posOf[order[p]] = p;
    }
    const pos = (i: number): number => (posOf === null ? i : i >= 0 && i < n ? posOf[i] : -1);

    this.names = v.names;
    this.kinds = v.kinds;
    this.statuses = v.statuses;
    const errorCode = v.statuses.indexOf("error");
    this.llm = v.kinds.indexOf("llm");

    const spanId = same ? v.span_id : new Array<string>(n);
    this.name = new Int32Array(n);
    this.toolName = new Int32Array(n);
    this.kind = new Uint8Array(n);
    this.status = new Uint8Array(n);
    this.start = new Float64Array(n);
    this.end = new Float64Array(n);
    this.duration = new Float64Array(n);
    this.flags = new Uint8Array(n);
    let last = 0;
    for (let p = 0; p < n; p++) {
      const i = order[p];
      if (!same) spanId[p] = v.span_id[i];
      this.name[p] = v.name[i] ?? -1;
      this.toolName[p] = v.tool_name[i] ?? -1;
      this.kind[p] = v.kind[i] ?? 255;
      const status = v.status[i] ?? 255;
      this.status[p] = status;
      if (status === errorCode) this.flags[p] = ERROR;
      const a = v.start[i] ?? 0;
      const b = v.end[i] ?? a;
      const e = Math.max(a, b);
      this.start[p] = a;
      this.end[p] = e;
      this.duration[p] = b - a;
      if (e > last) last = e;
    }
    this.spanId = spanId;
    this.extent = Math.max(1, last);

    this.cost = new Float64Array(n).fill(NaN);
    this.inputTokens = new Float64Array(n).fill(NaN);
    this.outputTokens = new Float64Array(n).fill(NaN);
    v.metered.forEach((i, k) => {
      const p = pos(i);
      if (p < 0 || p >= n) return;
      this.cost[p] = v.cost[k] ?? NaN;
      this.inputTokens[p] = v.input_tokens[k] ?? NaN;
      this.outputTokens[p] = v.output_tokens[k] ?? NaN;
    });
    for (const i of v.critical) {
      const p = pos(i);
      if (p >= 0 && p < n) this.flags[p] |= CRITICAL;
    }
    for (const i of v.orphan) {
      const p = pos(i);
      if (p >= 0 && p < n) this.flags[p] |= ORPHAN;
    }
    v.message_at.forEach((i, k) => {
      const p = pos(i);
      const m = v.message[k];
      if (p >= 0 && p < n && m !== undefined) this.messages.set(p, m);
    });
  }

  kindOf(p: number): SpanKind {
    return this.kinds[this.kind[p]] ?? "other";
  }

  statusOf(p: number): SpanStatus {
    return this.statuses[this.status[p]] ?? "unset";
  }

  nameOf(p: number): string {
    return this.names[this.name[p]] ?? "";
  }

  toolNameOf(p: number): string | null {
    return this.names[this.toolName[p]] ?? null;
  }

  isError(p: number): boolean {
    return (this.flags[p] & ERROR) !== 0;
  }

  costOf(p: number): number | null {
    return orNull(this.cost[p]);
  }

  isLlm(p: number): boolean {
    return this.kind[p] === this.llm;
  }

  /** The span at position `p` as an object (for what is on screen, not for passes over the run). */
  view(p: number): SpanView {
    return {
      pos: p,
      span_id: this.spanId[p],
      name: this.nameOf(p),
      kind: this.kindOf(p),
      status: this.statusOf(p),
      status_message: this.messages.get(p) ?? null,
      start: this.start[p],
      duration: this.duration[p],
      cost: this.costOf(p),
      input_tokens: orNull(this.inputTokens[p]),
      output_tokens: orNull(this.outputTokens[p]),
      tool_name: this.toolNameOf(p),
      critical: (this.flags[p] & CRITICAL) !== 0,
      orphan: (this.flags[p] & ORPHAN) !== 0,
    };
  }

  /** LLM cost and tokens of the span at `p` and everything below it (its subtree is the range [p, end[p])). */
  subtreeTotals(p: number): SubtreeTotals {
    let cost = 0;
    let inputTokens = 0;
    let outputTokens = 0;
    const end = this.tree.end[p] ?? p;
    for (let q = p; q < end; q++) {
      if (this.kind[q] !== this.llm) continue;
      cost += zeroIfNaN(this.cost[q]);
      inputTokens += zeroIfNaN(this.inputTokens[q]);
      outputTokens += zeroIfNaN(this.outputTokens[q]);
    }
    return { cost, inputTokens, outputTokens };
  }
}

function orNull(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

function zeroIfNaN(v: number): number {
  return Number.isNaN(v) ? 0 : v;
}
