import { describe, expect, it } from "vitest";
import { focusKind, keyAction, viewShortcut, type FocusKind, type KeyPress } from "./keys";

const press = (key: string, focus: FocusKind = "other", mods: Partial<KeyPress> = {}): KeyPress => ({
  key,
  focus,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe("keyAction", () => {
  it("maps the documented keys", () => {
    expect(keyAction(press("j"))).toBe("next");
    expect(keyAction(press("ArrowDown"))).toBe("next");
    expect(keyAction(press("k"))).toBe("prev");
    expect(keyAction(press("ArrowUp"))).toBe("prev");
    expect(keyAction(press("/"))).toBe("focusSearch");
    expect(keyAction(press("e"))).toBe("nextError");
    expect(keyAction(press("E"))).toBe("prevError");
    expect(keyAction(press("Enter"))).toBe("open");
    expect(keyAction(press("Escape"))).toBe("escape");
    expect(keyAction(press("?"))).toBe("toggleKeymap");
    expect(keyAction(press("PageDown"))).toBe("pageDown");
    expect(keyAction(press("PageUp"))).toBe("pageUp");
    expect(keyAction(press("Home"))).toBe("first");
    expect(keyAction(press("G"))).toBe("last");
  });

  it("ignores everything but Esc while typing", () => {
    for (const key of ["j", "k", "/", "e", "E", "Enter", "?", "ArrowDown", "g"]) {
      expect(keyAction(press(key, "text"))).toBeNull();
    }
    expect(keyAction(press("Escape", "text"))).toBe("escape");
  });

  it("leaves Enter to a focused button", () => {
    expect(keyAction(press("Enter", "control"))).toBeNull();
    expect(keyAction(press("j", "control"))).toBe("next");
  });

  it("leaves modified keys to the browser and the OS", () => {
    expect(keyAction(press("k", "other", { ctrlKey: true }))).toBeNull();
    expect(keyAction(press("e", "other", { metaKey: true }))).toBeNull();
    expect(keyAction(press("j", "other", { altKey: true }))).toBeNull();
  });

  it("ignores other keys", () => {
    expect(keyAction(press("x"))).toBeNull();
    expect(keyAction(press("Shift"))).toBeNull();
  });
});

describe("focusKind", () => {
  const el = (tagName: string, type: string | null = null, isContentEditable = false) => ({
    tagName,
    isContentEditable,
    getAttribute: (n: string) => (n === "type" ? type : null),
  });

  it("treats text fields, selects and editable content as typing", () => {
    expect(focusKind(el("INPUT"))).toBe("text");
    expect(focusKind(el("INPUT", "search"))).toBe("text");
    expect(focusKind(el("input", "text"))).toBe("text");
    expect(focusKind(el("TEXTAREA"))).toBe("text");
    expect(focusKind(el("SELECT"))).toBe("text");
    expect(focusKind(el("DIV", null, true))).toBe("text");
  });

  it("treats buttons and checkboxes as controls", () => {
    expect(focusKind(el("BUTTON"))).toBe("control");
    expect(focusKind(el("INPUT", "checkbox"))).toBe("control");
    expect(focusKind(el("A"))).toBe("control");
  });

  it("treats the rest (the list, the body) as free for shortcuts", () => {
    expect(focusKind(el("DIV"))).toBe("other");
    expect(focusKind(el("BODY"))).toBe("other");
    expect(focusKind(null)).toBe("other");
  });
});

describe("keyAction in a run", () => {
  it("maps the Run view's keys", () => {
    const run = (key: string, focus: FocusKind = "other") => keyAction(press(key, focus), "run");
    expect(run("j")).toBe("next");
    expect(run("k")).toBe("prev");
    expect(run("h")).toBe("collapse");
    expect(run("ArrowLeft")).toBe("collapse");
    expect(run("l")).toBe("expand");
    expect(run("e")).toBe("nextError");
    expect(run("E")).toBe("prevError");
    expect(run("c")).toBe("nextCostly");
    expect(run(" ")).toBe("playPause");
    expect(run("[")).toBe("slower");
    expect(run("]")).toBe("faster");
    expect(run("+")).toBe("zoomIn");
    expect(run("-")).toBe("zoomOut");
    expect(run("0")).toBe("zoomReset");
    expect(run("End")).toBe("replayEnd");
    expect(run("Home")).toBe("replayStart");
    expect(run("Escape")).toBe("escape");
    expect(run("?")).toBe("toggleKeymap");
  });

  it("keeps the run's keys out of the lists", () => {
    for (const key of ["h", "l", "c", " ", "[", "]", "+", "-", "0"]) expect(keyAction(press(key))).toBeNull();
    expect(keyAction(press("End"))).toBe("last");
    expect(keyAction(press("Home"))).toBe("first");
  });

  it("leaves Space to a focused button and everything to a text field", () => {
    expect(keyAction(press(" ", "control"), "run")).toBeNull();
    for (const key of ["h", "c", " ", "[", "0", "End"]) expect(keyAction(press(key, "text"), "run")).toBeNull();
  });
});

describe("keyAction in the metrics", () => {
  const press = (key: string, focus: FocusKind = "other"): KeyPress => ({ key, ctrlKey: false, metaKey: false, altKey: false, focus });

  it("edits the query with q and moves in the list like any list", () => {
    expect(keyAction(press("q"), "metrics")).toBe("focusQuery");
    expect(keyAction(press("q"))).toBeNull();
    expect(keyAction(press("q", "text"), "metrics")).toBeNull();
    expect(keyAction(press("j"), "metrics")).toBe("next");
    expect(keyAction(press("/"), "metrics")).toBe("focusSearch");
    expect(keyAction(press("Enter"), "metrics")).toBe("open");
  });
});

describe("viewShortcut", () => {
  const mods = (key: string, m: Partial<KeyPress>) => ({ key, ctrlKey: false, metaKey: false, altKey: false, ...m });

  it("switches views with Ctrl or Cmd and a digit", () => {
    expect(viewShortcut(mods("1", { ctrlKey: true }))).toBe("logs");
    expect(viewShortcut(mods("2", { metaKey: true }))).toBe("runs");
    expect(viewShortcut(mods("3", { ctrlKey: true }))).toBe("sources");
    expect(viewShortcut(mods("3", {}))).toBeNull();
    expect(viewShortcut(mods("3", { ctrlKey: true, altKey: true }))).toBeNull();
    expect(viewShortcut(mods("4", { ctrlKey: true }))).toBe("metrics");
    expect(viewShortcut(mods("5", { ctrlKey: true }))).toBe("alerts");
    expect(viewShortcut(mods("6", { ctrlKey: true }))).toBe("costs");
    expect(viewShortcut(mods("7", { ctrlKey: true }))).toBeNull();
  });
});
