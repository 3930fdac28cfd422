// "Follow live": keeping the replay's playhead at the newest moment of a run that is still
// growing, and telling such a run from a finished one. Pure numbers, so RunState only
// applies them.
//
// The engine does not mark a run as finished (spans arrive when they end, a root span last
// of all, or never), so "in progress" is read from what the run shows: its root span has not
// arrived yet (the root the engine picked is itself an orphan: its children point at a
// parent that is not there), or something in it ended moments ago, or it grew since it was
// last read.

import type { RunColumns } from "../../api";
import { clampWindow, fullWindow, type TimeWindow } from "./timeline";

/** A run whose last span ended this recently (by the computer's clock) may still be going. */
export const LIVE_RECENT_MS = 15_000;
/** A run still waiting for its root span counts as going for this long after its last span. */
export const ROOT_PENDING_MS = 120_000;

/** Whether the run's root span has not arrived (the root shown is an orphan). */
export function rootPending(view: Pick<RunColumns, "orphan">): boolean {
  // Positions are in tree order: the root is position 0, and `orphan` is ascending.
  return view.orphan.length > 0 && view.orphan[0] === 0;
}

/** Whether a run looks in progress at `nowMs`, from its own data. */
export function runLooksLive(view: Pick<RunColumns, "orphan" | "run">, nowMs: number): boolean {
  const ageMs = nowMs - view.run.end_ns / 1e6;
  // Far in the future is a clock that is wrong, not a run that is going.
  if (ageMs < -LIVE_RECENT_MS) return false;
  return ageMs <= (rootPending(view) ? ROOT_PENDING_MS : LIVE_RECENT_MS);
}

/** Whether a reload shows the run grew: more spans, or a later end. */
export function runGrew(before: { spans: number; extent: number }, after: { spans: number; extent: number }): boolean {
  return after.spans > before.spans || after.extent > before.extent;
}

/**
 * Whether to follow after the run grew: on when it was on, and on by itself when the user
 * never moved the playhead and it sat at the old end (where a run opens).
 */
export function followAfterGrowth(follow: boolean, userMoved: boolean, playhead: number, oldDuration: number): boolean {
  return follow || (!userMoved && playhead >= oldDuration);
}

/** The playhead after the run's length went from its old value to `newDuration`. */
export function playheadAfterGrowth(playhead: number, newDuration: number, follow: boolean): number {
  return follow ? newDuration : Math.max(0, Math.min(playhead, newDuration));
}

function sameWindow(a: TimeWindow, b: TimeWindow): boolean {
  const tol = Math.max(1, b.span * 1e-9);
  return Math.abs(a.start - b.start) <= tol && Math.abs(a.span - b.span) <= tol;
}

/**
 * The time window after the run's length changed: a window showing the whole run keeps
 * showing the whole run; a zoomed one stays where it is, except that when following it
 * pages along to keep the newest moment on screen (near its right edge).
 */
export function windowAfterGrowth(w: TimeWindow, oldDuration: number, newDuration: number, follow: boolean): TimeWindow {
  if (sameWindow(w, fullWindow(oldDuration))) return fullWindow(newDuration);
  const kept = clampWindow(w, newDuration);
  if (follow && (newDuration < kept.start || newDuration > kept.start + kept.span * 0.95)) {
    return clampWindow({ start: newDuration - kept.span * 0.9, span: kept.span }, newDuration);
  }
  return kept;
}
