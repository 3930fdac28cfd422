import { describe, expect, it } from "vitest";
import { focusKind, keyAction, type FocusKind, type KeyPress } from "./keys";

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
