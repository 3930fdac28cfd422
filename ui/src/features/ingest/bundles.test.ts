import { describe, expect, it } from "vitest";
import { archiveExtension, archivesIn, bundleName, isArchive } from "./bundles";

describe("archives by name", () => {
  it("knows zip, tar, tar.gz and tgz, in any case, and nothing else", () => {
    expect(archiveExtension("/x/failed-run.tar.gz")).toBe("tar.gz");
    expect(archiveExtension("/x/run.TGZ")).toBe("tgz");
    expect(archiveExtension("C:\\exports\\Run 12.ZIP")).toBe("zip");
    expect(archiveExtension("/x/a.tar")).toBe("tar");
    expect(isArchive("/x/agent.log")).toBe(false);
    expect(isArchive("/x/agent.log.gz")).toBe(false);
    expect(isArchive("/x/zip")).toBe(false);
    expect(isArchive("/x/folder.zip/")).toBe(true);
    expect(isArchive("/x/archive.zip.d/notes.txt")).toBe(false);
  });

  it("picks the archives out of a mixed list, keeping their order", () => {
    expect(archivesIn(["/a.log", "/b.zip", "/c", "/d.tgz"])).toEqual(["/b.zip", "/d.tgz"]);
    expect(archivesIn(["/a.log"])).toEqual([]);
  });
});

describe("bundleName", () => {
  it("names the workspace as the engine does", () => {
    // The engine's own cases (src/ingest/bundle.rs, folder_names).
    expect(bundleName("/x/failed-run.tar.gz")).toBe("failed-run");
    expect(bundleName("/x/Run 12.ZIP")).toBe("Run_12");
    expect(bundleName("/x/..zip")).toBe("bundle");
  });

  it("keeps letters of any script, and cuts long names", () => {
    expect(bundleName("/x/prüfung.v2.tgz")).toBe("prüfung.v2");
    expect(bundleName(`/x/${"a".repeat(80)}.zip`)).toBe("a".repeat(60));
    expect(bundleName("C:\\Users\\me\\incident (1).zip")).toBe("incident__1_");
  });
});
