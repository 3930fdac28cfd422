import { describe, expect, it } from "vitest";
import { addedWords, baseName, fileStatusLabel, reasonCounts, skipReasonLabel } from "./words";

describe("words", () => {
  it("names every skip reason, and survives new ones", () => {
    expect(skipReasonLabel("non_json")).toBe("not JSON");
    expect(skipReasonLabel("incomplete_last_line")).toBe("incomplete last line");
    expect(skipReasonLabel("some_new_reason")).toBe("some new reason");
  });

  it("names file statuses", () => {
    expect(fileStatusLabel("unchanged")).toBe("already up to date");
    expect(fileStatusLabel("not_json")).toBe("not a JSON log");
    expect(fileStatusLabel("empty")).toBe("empty so far");
  });

  it("sorts reason counts, most frequent first, dropping zeros", () => {
    expect(reasonCounts({ blank: 2, non_json: 5, comment: 0, truncated_json: undefined })).toEqual([
      ["non_json", 5],
      ["blank", 2],
    ]);
  });

  it("takes the last path component", () => {
    expect(baseName("/var/log/app/agent.jsonl")).toBe("agent.jsonl");
    expect(baseName("C:\\logs\\a.log")).toBe("a.log");
    expect(baseName("/var/log/")).toBe("log");
    expect(baseName("plain")).toBe("plain");
  });
});

describe("addedWords", () => {
  it("names each kind that was added, and nothing for none", () => {
    expect(addedWords({ records_added: 1204, spans_added: 262, samples_added: 0 })).toBe("1,204 records, 262 spans");
    expect(addedWords({ records_added: 0, spans_added: 1, samples_added: 3 })).toBe("1 span, 3 metric samples");
    expect(addedWords({ records_added: 0, spans_added: 0, samples_added: 0 })).toBe("");
  });
});
