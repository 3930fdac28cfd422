// What a run looked like at one moment: the step it was on, the tools in flight, and the
// tokens, cost and errors it had run up so far.
//
// The replay asks this at every animation frame, and a run can hold 100,000 spans, so the
// index is built once (sorts and prefix sums, O(n log n)) and each question costs a few
// binary searches (O(log n)), never a pass over the spans:
// - cumulative tokens and cost: LLM spans sorted by end time with prefix sums, so "ended by
//   t" is one binary search;
// - errors so far: error spans' end times, sorted;
// - tools in flight: tools started by t minus tools ended by t (every span ends after it
//   starts), and the few names shown come from a max-tree over end times in start order;
// - the current step: the latest-started span still running is the rightmost span, in start
//   order, among those started by t whose end is after t: a max-tree over all spans finds it.
// Sums are compensated (Neumaier), and once every LLM call has ended the run's own totals
// (summed by the engine) are reported, so the last frame shows exactly the runs list's figure.
// The run view builds the index only when the replay first leaves the end (a scrub, Play).

import type { SpanKind } from "../../api";
import { ERROR } from "./spans";

/** The columns of a run's spans the replay reads (`RunSpans` has them), by position. */
export interface ReplayInput {
  readonly n: number;
  /** Start and end, ns since the run's start; an end is never before its start. */
  readonly start: Float64Array;
  readonly end: Float64Array;
  /** Position of each span's parent, -1 for none; parents come before their children. */
  readonly parent: Int32Array;
  /** Kind of each span, as an index into `kinds`. */
  readonly kind: Uint8Array;
  readonly kinds: readonly SpanKind[];
  /** The ERROR bit marks a failed span. */
  readonly flags: Uint8Array;
  /** NaN where a span has none. */
  readonly cost: Float64Array;
  readonly inputTokens: Float64Array;
  readonly outputTokens: Float64Array;
}

export interface ReplayTotals {
  cost: number;
  inputTokens: number;
  outputTokens: number;
}

export interface ReplayState {
  /** The moment asked about, ns since the run's start. */
  t: number;
  /** The latest-started span running at `t`, or -1. */
  active: number;
  /** The step it belongs to: its nearest chain (an agent iteration), else agent, else itself; -1 when idle. */
  step: number;
  /** Spans started by `t` (start <= t). */
  started: number;
  /** Tool spans with start <= t < end. */
  toolsInFlight: number;
  /** Up to `maxTools` of them, latest-started first. */
  tools: number[];
  inputTokens: number;
  outputTokens: number;
  cost: number;
  /** LLM calls that ended by `t`. */
  llmDone: number;
  /** Error spans that ended by `t`. */
  errors: number;
  /** The last error span to end by `t`, or -1. */
  lastError: number;
}

/** Index of the first element of sorted `a` greater than `x` (= how many are <= x). */
export function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A max segment tree over a fixed array: "the rightmost index below k whose value exceeds x"
 * in O(log n).
 */
export class MaxTree {
  private readonly size: number;
  private readonly tree: Float64Array;

  constructor(values: Float64Array) {
    let size = 1;
    while (size < values.length) size *= 2;
    this.size = size;
    this.tree = new Float64Array(2 * size).fill(-Infinity);
    this.tree.set(values, size);
    for (let i = size - 1; i >= 1; i--) this.tree[i] = Math.max(this.tree[2 * i], this.tree[2 * i + 1]);
  }

  /** The largest i < k with values[i] > x, or -1. */
  rightmostAbove(k: number, x: number): number {
    if (k <= 0) return -1;
    return this.find(1, 0, this.size, Math.min(k, this.size), x);
  }

  private find(node: number, lo: number, hi: number, k: number, x: number): number {
    if (lo >= k || this.tree[node] <= x) return -1;
    if (hi - lo === 1) return lo;
    const mid = (lo + hi) >>> 1;
    const right = this.find(2 * node + 1, mid, hi, k, x);
    if (right !== -1) return right;
    return this.find(2 * node, lo, mid, k, x);
  }
}

function byKey(keys: Float64Array, idx: Int32Array): Int32Array {
  // Ties keep index order, so a child starting with its parent sorts after it.
  return idx.sort((a, b) => keys[a] - keys[b] || a - b);
}

/** Neumaier-compensated prefix sums: out[k] = sum of the first k values. */
function prefixSums(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length + 1);
  let sum = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    if (Math.abs(sum) >= Math.abs(v)) c += sum - t + v;
    else c += v - t + sum;
    sum = t;
    out[i + 1] = sum + c;
  }
  return out;
}

export class ReplayIndex {
  readonly n: number;
  /** The run's length: the last end (at least 1 ns, so a scale never divides by zero). */
  readonly duration: number;

  private readonly stepOf: Int32Array;
  private readonly totals: ReplayTotals | null;

  private readonly startsSorted: Float64Array;
  private readonly byStart: Int32Array;
  private readonly runningTree: MaxTree;

  private readonly llmEnds: Float64Array;
  private readonly llmCost: Float64Array;
  private readonly llmIn: Float64Array;
  private readonly llmOut: Float64Array;

  private readonly errEnds: Float64Array;
  private readonly errByEnd: Int32Array;

  private readonly toolStarts: Float64Array;
  private readonly toolEnds: Float64Array;
  private readonly toolByStart: Int32Array;
  private readonly toolTree: MaxTree;

  /** `totals`, when given, are the run's engine-side totals, reported once every LLM call has ended. */
  constructor(spans: ReplayInput, totals: ReplayTotals | null = null) {
    const n = spans.n;
    this.n = n;
    this.totals = totals;
    const { start, end, parent, kind, kinds, flags } = spans;
    // Codes of the kinds that matter here; -1 (never a Uint8Array value) when absent.
    const LLM = kinds.indexOf("llm");
    const TOOL = kinds.indexOf("tool");
    const CHAIN = kinds.indexOf("chain");
    const AGENT = kinds.indexOf("agent");
    let last = 0;
    let llm = 0;
    let err = 0;
    let tool = 0;
    for (let i = 0; i < n; i++) {
      if (end[i] > last) last = end[i];
      if (kind[i] === LLM) llm++;
      if (kind[i] === TOOL) tool++;
      if (flags[i] & ERROR) err++;
    }
    this.duration = Math.max(1, last);

    // The step of each span: itself if a chain, else its parent's step; agents stand in
    // where there is no chain above. Parents come first, so one forward pass does it.
    const chainOf = new Int32Array(n).fill(-1);
    const agentOf = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      const p = parent[i];
      const hasParent = p >= 0 && p < i;
      chainOf[i] = kind[i] === CHAIN ? i : hasParent ? chainOf[p] : -1;
      agentOf[i] = kind[i] === AGENT ? i : hasParent ? agentOf[p] : -1;
    }
    this.stepOf = new Int32Array(n);
    for (let i = 0; i < n; i++) this.stepOf[i] = chainOf[i] !== -1 ? chainOf[i] : agentOf[i] !== -1 ? agentOf[i] : i;

    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    this.byStart = byKey(start, all);
    this.startsSorted = new Float64Array(n);
    const endsInStartOrder = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      this.startsSorted[k] = start[this.byStart[k]];
      endsInStartOrder[k] = end[this.byStart[k]];
    }
    this.runningTree = new MaxTree(endsInStartOrder);

    const llmIdx = new Int32Array(llm);
    const errIdx = new Int32Array(err);
    const toolIdx = new Int32Array(tool);
    for (let i = 0, a = 0, b = 0, c = 0; i < n; i++) {
      if (kind[i] === LLM) llmIdx[a++] = i;
      if (flags[i] & ERROR) errIdx[b++] = i;
      if (kind[i] === TOOL) toolIdx[c++] = i;
    }

    byKey(end, llmIdx);
    this.llmEnds = new Float64Array(llm);
    const cost = new Float64Array(llm);
    const tin = new Float64Array(llm);
    const tout = new Float64Array(llm);
    for (let k = 0; k < llm; k++) {
      const i = llmIdx[k];
      this.llmEnds[k] = end[i];
      cost[k] = zeroIfNaN(spans.cost[i]);
      tin[k] = zeroIfNaN(spans.inputTokens[i]);
      tout[k] = zeroIfNaN(spans.outputTokens[i]);
    }
    this.llmCost = prefixSums(cost);
    this.llmIn = prefixSums(tin);
    this.llmOut = prefixSums(tout);

    this.errByEnd = byKey(end, errIdx);
    this.errEnds = new Float64Array(err);
    for (let k = 0; k < err; k++) this.errEnds[k] = end[this.errByEnd[k]];

    this.toolByStart = byKey(start, toolIdx);
    this.toolStarts = new Float64Array(tool);
    this.toolEnds = new Float64Array(tool);
    const toolEndsInStartOrder = new Float64Array(tool);
    for (let k = 0; k < tool; k++) {
      const i = this.toolByStart[k];
      this.toolStarts[k] = start[i];
      toolEndsInStartOrder[k] = end[i];
      this.toolEnds[k] = end[i];
    }
    this.toolEnds.sort();
    this.toolTree = new MaxTree(toolEndsInStartOrder);
  }

  /** The state at `t` ns after the run's start; `maxTools` bounds the names listed. */
  at(t: number, maxTools = 8): ReplayState {
    const started = upperBound(this.startsSorted, t);
    const k = this.runningTree.rightmostAbove(started, t);
    const active = k === -1 ? -1 : this.byStart[k];

    const toolsStarted = upperBound(this.toolStarts, t);
    const toolsInFlight = toolsStarted - upperBound(this.toolEnds, t);
    const tools: number[] = [];
    for (let at = toolsStarted; tools.length < maxTools; ) {
      const j = this.toolTree.rightmostAbove(at, t);
      if (j === -1) break;
      tools.push(this.toolByStart[j]);
      at = j;
    }

    const llmDone = upperBound(this.llmEnds, t);
    const all = llmDone === this.llmEnds.length && this.totals !== null;
    const errors = upperBound(this.errEnds, t);
    return {
      t,
      active,
      step: active === -1 ? -1 : this.stepOf[active],
      started,
      toolsInFlight,
      tools,
      inputTokens: all && this.totals ? this.totals.inputTokens : Math.round(this.llmIn[llmDone]),
      outputTokens: all && this.totals ? this.totals.outputTokens : Math.round(this.llmOut[llmDone]),
      cost: all && this.totals ? this.totals.cost : this.llmCost[llmDone],
      llmDone,
      errors,
      lastError: errors > 0 ? this.errByEnd[errors - 1] : -1,
    };
  }
}

function zeroIfNaN(v: number): number {
  return Number.isNaN(v) ? 0 : v;
}
