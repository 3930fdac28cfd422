import { describe, expect, it } from "vitest";
import { formatBytes, formatCount, percent, plural } from "./format";

describe("formatBytes", () => {
  it("uses binary units with one decimal below 100", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1 KiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(12.3 * 1024 * 1024)).toBe("12.3 MiB");
    expect(formatBytes(150 * 1024 * 1024)).toBe("150 MiB");
    expect(formatBytes(4 * 1024 ** 3)).toBe("4 GiB");
    expect(formatBytes(2 * 1024 ** 4)).toBe("2 TiB");
  });

  it("does not invent numbers", () => {
    expect(formatBytes(-1)).toBe("—");
    expect(formatBytes(Number.NaN)).toBe("—");
  });
});

describe("counts", () => {
  it("groups digits", () => {
    expect(formatCount(10_000_000)).toBe("10,000,000");
    expect(formatCount(7)).toBe("7");
  });

  it("pluralises", () => {
    expect(plural(1, "record")).toBe("1 record");
    expect(plural(0, "record")).toBe("0 records");
    expect(plural(1200, "file")).toBe("1,200 files");
  });

  it("computes bounded percentages", () => {
    expect(percent(50, 200)).toBe(25);
    expect(percent(5, 0)).toBe(0);
    expect(percent(300, 200)).toBe(100);
  });
});
