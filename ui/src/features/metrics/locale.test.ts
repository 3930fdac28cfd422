import { describe, expect, it } from "vitest";
import { validLocale } from "./locale";

describe("validLocale", () => {
  it("tells the tags Intl takes from the POSIX names WebKitGTK reports", () => {
    expect(validLocale("en-US")).toBe(true);
    expect(validLocale("de")).toBe(true);
    expect(validLocale("C")).toBe(false);
    expect(validLocale("")).toBe(false);
    expect(validLocale(undefined)).toBe(false);
  });
});
