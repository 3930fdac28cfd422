// Which keyboard shortcut a key press means, decided without touching the DOM.
//
// Shortcuts are single keys (j, k, /, e, E, ?), so they must never fire while the user
// types: in text fields only Esc counts (to leave the field). Presses with Ctrl, Cmd or Alt
// belong to the browser and the OS. On a focused button Enter and Space keep their meaning.

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
  | "toggleKeymap";

/** What has focus: a place to type, a control that handles Enter itself, or anything else. */
export type FocusKind = "text" | "control" | "other";

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  focus: FocusKind;
}

export function keyAction(k: KeyPress): KeyAction | null {
  if (k.key === "Escape") return "escape";
  if (k.focus === "text" || k.ctrlKey || k.metaKey || k.altKey) return null;
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

/** Rows of the key map overlay. */
export const KEYMAP: ReadonlyArray<{ keys: string[]; what: string }> = [
  { keys: ["j", "↓"], what: "Next row" },
  { keys: ["k", "↑"], what: "Previous row" },
  { keys: ["PgDn", "PgUp"], what: "Page down / up" },
  { keys: ["g", "Home"], what: "First row" },
  { keys: ["G", "End"], what: "Last row" },
  { keys: ["e"], what: "Next error" },
  { keys: ["E"], what: "Previous error" },
  { keys: ["Enter"], what: "Open the selected row" },
  { keys: ["/"], what: "Search" },
  { keys: ["Esc"], what: "Close the detail or this overlay, leave a field" },
  { keys: ["?"], what: "Show or hide this key map" },
];
