import { describe, expect, it } from "vitest";
import type { AppError } from "../bindings";
import { ApiError, describeError, describeUnknown, invalidArgument, queryError } from "./errors";

describe("describeError", () => {
  const cases: Array<[AppError, string]> = [
    [{ type: "NotFound", data: { path: "/x/y.log" } }, "Nothing found at /x/y.log"],
    [{ type: "Unreadable", data: { path: "/x/y.log", reason: "permission denied" } }, "Cannot read /x/y.log: permission denied"],
    [{ type: "NotJson", data: { path: "/x", line: 3 } }, "Line 3 of /x is not JSON"],
    [{ type: "NotJson", data: { path: "/x.bin", line: null } }, "/x.bin is not a JSON log file"],
    [{ type: "WorkspaceLocked", data: { path: "/p" } }, "The workspace /p is locked by another program"],
    [{ type: "WorkspaceCorrupt", data: { path: "/p", reason: "bad header" } }, "The workspace /p is damaged: bad header"],
    [{ type: "WorkspaceTooNew", data: { path: "/p" } }, "The workspace /p was written by a newer Sightline; update the app to open it"],
    [
      { type: "InvalidArgument", data: { what: "since", value: "yesterday-ish", why: "expected a duration like 15m or an RFC 3339 time" } },
      "“yesterday-ish” is not a valid since: expected a duration like 15m or an RFC 3339 time",
    ],
    [{ type: "Busy", data: { what: "an ingest is running" } }, "Sightline is busy (an ingest is running); try again when it finishes"],
    [{ type: "Internal", data: { message: "writer thread stopped" } }, "Something went wrong inside Sightline: writer thread stopped"],
    [{ type: "Query", data: { message: "unknown function rat() at 1:1" } }, "unknown function rat() at 1:1"],
    [{ type: "Invalid", data: { message: "only http:// webhook URLs are supported" } }, "only http:// webhook URLs are supported"],
  ];

  it.each(cases)("words for %j", (e, words) => {
    expect(describeError(e)).toBe(words);
  });

  it("never shows JSON or braces", () => {
    for (const [e] of cases) {
      const text = describeError(e);
      expect(text).not.toMatch(/[{}]/);
      expect(text).not.toContain('"type"');
    }
  });

  it("copes with what invoke really rejects with", () => {
    expect(describeError("command logs_page not found" as unknown as AppError)).toBe("command logs_page not found");
    expect(describeError({ type: "Unknown", data: {} } as unknown as AppError)).toBe("Something went wrong inside Sightline.");
    expect(describeError(null as unknown as AppError)).toBe("Something went wrong inside Sightline.");
  });
});

describe("ApiError", () => {
  it("keeps the kind and says it in words", () => {
    const kind: AppError = { type: "NotFound", data: { path: "/a" } };
    const e = new ApiError(kind);
    expect(e).toBeInstanceOf(Error);
    expect(e.kind).toBe(kind);
    expect(e.message).toBe("Nothing found at /a");
    expect(describeUnknown(e)).toBe("Nothing found at /a");
  });

  it("picks out InvalidArgument", () => {
    const data = { what: "until", value: "x", why: "bad" };
    expect(invalidArgument(new ApiError({ type: "InvalidArgument", data }))).toEqual(data);
    expect(invalidArgument(new ApiError({ type: "Busy", data: { what: "ingest" } }))).toBeNull();
    expect(invalidArgument(new Error("x"))).toBeNull();
  });

  it("picks out Query", () => {
    expect(queryError(new ApiError({ type: "Query", data: { message: "unexpected end of input" } }))).toBe("unexpected end of input");
    expect(queryError(new ApiError({ type: "Internal", data: { message: "x" } }))).toBeNull();
    expect(queryError("Query")).toBeNull();
  });

  it("describes anything else thrown", () => {
    expect(describeUnknown(new TypeError("window.__TAURI_INTERNALS__ is undefined"))).toBe("window.__TAURI_INTERNALS__ is undefined");
    expect(describeUnknown("plain")).toBe("plain");
    expect(describeUnknown({ type: "NotFound", data: { path: "/b" } })).toBe("Nothing found at /b");
    expect(describeUnknown(42)).toBe("Something went wrong.");
  });
});
