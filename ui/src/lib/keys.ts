// Which keyboard shortcut a key press means, decided without touching the DOM.
//
// Shortcuts are single keys (j, k, /, e, E, ?), so they must never fire while the user
// types: in text fields only Esc counts (to leave the field). Presses with Ctrl, Cmd or Alt
// belong to the browser and the OS, except Ctrl/Cmd+1..6, which switch views. On a focused
// button Enter and Space keep their meaning.
//
// A key can mean different things in different places: in a list (the logs, the runs) End
// is the last row, in a run it moves the replay to the end. The caller says which scope it
// is in; keys of one view never reach another.

import type { View } from "./settings";

export type KeyAction =
  | "next"
  | "prev"
  | "pageDown"
  | "pageUp"
  | "first"
  | "last"
  | "focusSearch"
  | "nextError"
  | "prevError"
  | "open"
  | "escape"
  | "toggleKeymap"
  // The Run view only:
  | "collapse"
  | "expand"
  | "nextCostly"
  | "playPause"
  | "slower"
  | "faster"
  | "zoomIn"
  | "zoomOut"
  | "zoomReset"
  | "replayStart"
  | "replayEnd"
  // The Metrics view only:
  | "focusQuery";

/** Where the key was pressed: a list of rows, a run's tree and timeline, or the metrics. */
export type KeyScope = "list" | "run" | "metrics";

/** What has focus: a place to type, a control that handles Enter itself, or anything else. */
export type FocusKind = "text" | "control" | "other";

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  focus: FocusKind;
}

export function keyAction(k: KeyPress, scope: KeyScope = "list"): KeyAction | null {
  if (k.key === "Escape") return "escape";
  if (k.focus === "text" || k.ctrlKey || k.metaKey || k.altKey) return null;
  if (scope === "run") {
    const a = runKeyAction(k);
    if (a !== null) return a;
  }
  if (scope === "metrics" && k.key === "q") return "focusQuery";
  switch (k.key) {
    case "j":
    case "ArrowDown":
      return "next";
    case "k":
    case "ArrowUp":
      return "prev";
    case "PageDown":
      return "pageDown";
    case "PageUp":
      return "pageUp";
    case "Home":
    case "g":
      return "first";
    case "End":
    case "G":
      return "last";
    case "/":
      return "focusSearch";
    case "e":
      return "nextError";
    case "E":
      return "prevError";
    case "Enter":
      return k.focus === "control" ? null : "open";
    case "?":
      return "toggleKeymap";
    default:
      return null;
  }
}

function runKeyAction(k: KeyPress): KeyAction | null {
  switch (k.key) {
    case "h":
    case "ArrowLeft":
      return "collapse";
    case "l":
    case "ArrowRight":
      return "expand";
    case "c":
      return "nextCostly";
    case " ":
      return k.focus === "control" ? null : "playPause";
    case "[":
      return "slower";
    case "]":
      return "faster";
    case "+":
    case "=":
      return "zoomIn";
    case "-":
      return "zoomOut";
    case "0":
      return "zoomReset";
    case "Home":
      return "replayStart";
    case "End":
      return "replayEnd";
    default:
      return null;
  }
}

/**
 * Ctrl/Cmd+1, 2, 3, 4, 5: Logs, Runs, Sources, Metrics, Alerts, numbered as the View menu numbers them (where the
 * native menu's accelerators catch them first, this never fires; both do the same thing); Ctrl/Cmd+6: Costs,
 * which the menu does not list. Works while typing, too.
 */
export function viewShortcut(k: Omit<KeyPress, "focus">): View | null {
  if (!(k.ctrlKey || k.metaKey) || k.altKey) return null;
  switch (k.key) {
    case "1":
      return "logs";
    case "2":
      return "runs";
    case "3":
      return "sources";
    case "4":
      return "metrics";
    case "5":
      return "alerts";
    case "6":
      return "costs";
    default:
      return null;
  }
}

/** The shape of a focused element that `focusKind` needs (an `Element` satisfies it). */
export interface FocusTarget {
  tagName: string;
  isContentEditable?: boolean;
  getAttribute?(name: string): string | null;
}

const TEXT_INPUT_TYPES = new Set(["", "text", "search", "email", "url", "tel", "password", "number", "date", "datetime-local", "time"]);

export function focusKind(t: FocusTarget | null | undefined): FocusKind {
  if (!t || typeof t.tagName !== "string") return "other";
  const tag = t.tagName.toUpperCase();
  if (t.isContentEditable) return "text";
  if (tag === "TEXTAREA" || tag === "SELECT") return "text";
  if (tag === "INPUT") {
    const type = (t.getAttribute?.("type") ?? "").toLowerCase();
    return TEXT_INPUT_TYPES.has(type) ? "text" : "control";
  }
  if (tag === "BUTTON" || tag === "A" || tag === "SUMMARY") return "control";
  return "other";
}

export interface KeyMapSection {
  title: string;
  entries: ReadonlyArray<{ keys: string[]; what: string }>;
}

/** Sections of the key map overlay. */
export const KEYMAP: ReadonlyArray<KeyMapSection> = [
  {
    title: "Logs and runs lists",
    entries: [
      { keys: ["j", "↓"], what: "Next row" },
      { keys: ["k", "↑"], what: "Previous row" },
      { keys: ["PgDn", "PgUp"], what: "Page down / up" },
      { keys: ["g", "Home"], what: "First row" },
      { keys: ["G", "End"], what: "Last row" },
      { keys: ["e"], what: "Next error (logs)" },
      { keys: ["E"], what: "Previous error (logs)" },
      { keys: ["Enter"], what: "Open the selected row" },
      { keys: ["/"], what: "Search" },
    ],
  },
  {
    title: "A run",
    entries: [
      { keys: ["j", "↓"], what: "Next span" },
      { keys: ["k", "↑"], what: "Previous span" },
      { keys: ["PgDn", "PgUp"], what: "Page down / up" },
      { keys: ["g", "G"], what: "First / last span" },
      { keys: ["h", "←"], what: "Collapse (or go to the parent)" },
      { keys: ["l", "→"], what: "Expand (or go to the first child)" },
      { keys: ["e"], what: "Next error span" },
      { keys: ["E"], what: "Previous error span" },
      { keys: ["c"], what: "Next most expensive LLM call" },
      { keys: ["Space"], what: "Play or pause the replay" },
      { keys: ["[", "]"], what: "Replay slower / faster" },
      { keys: ["Home", "End"], what: "Replay to the start / the end" },
      { keys: ["+", "-"], what: "Zoom the timeline in / out" },
      { keys: ["0"], what: "Show the whole run" },
      { keys: ["Enter"], what: "Show the selected span" },
      { keys: ["Esc"], what: "Close the span, then back to the runs" },
      { keys: ["Wheel"], what: "Zoom the timeline around the pointer" },
      { keys: ["Shift+Wheel", "Drag"], what: "Pan the timeline" },
      { keys: ["Drag the axis"], what: "Move the replay" },
    ],
  },
  {
    title: "Metrics",
    entries: [
      { keys: ["j", "↓"], what: "Next metric" },
      { keys: ["k", "↑"], what: "Previous metric" },
      { keys: ["g", "G"], what: "First / last metric" },
      { keys: ["Enter"], what: "Chart the selected metric" },
      { keys: ["/"], what: "Filter the metrics" },
      { keys: ["q"], what: "Edit the query" },
      { keys: ["Tab"], what: "Insert the highlighted completion" },
      { keys: ["Ctrl+Space"], what: "Show completions" },
      { keys: ["Enter"], what: "Run the query (in the query box)" },
      { keys: ["Drag"], what: "Zoom the chart to a time range" },
    ],
  },
  {
    title: "Costs",
    entries: [
      { keys: ["Drag"], what: "Zoom the chart to a time range" },
      { keys: ["Click"], what: "Show the runs of one bucket" },
    ],
  },
  {
    title: "Everywhere",
    entries: [
      { keys: ["Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4", "Ctrl+5", "Ctrl+6"], what: "Logs, Runs, Sources, Metrics, Alerts, Costs" },
      { keys: ["Ctrl+E"], what: "Export a bundle" },
      { keys: ["Esc"], what: "Close a dialog, the detail or this overlay, leave a field" },
      { keys: ["?"], what: "Show or hide this key map" },
    ],
  },
];
