// Bundles among the paths to open: archives someone exported (`.zip`, `.tar`, `.tar.gz`,
// `.tgz`), told apart by their names, and the workspace name a bundle would get.
//
// Opening a bundle can go into the current workspace or a new one named after it; the
// engine names that workspace (src/ingest/bundle.rs, `workspace_name`), and `bundleName`
// reads the name the same way, so the question the user is asked names what they will get.

/** Archive extensions, longest first so `.tar.gz` wins over `.gz`. */
const ARCHIVE_EXTENSIONS = ["tar.gz", "tgz", "tar", "zip"] as const;
/** The engine keeps this many characters of a bundle's name. */
const MAX_NAME_CHARS = 60;

function fileName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  const i = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  return i >= 0 ? trimmed.slice(i + 1) : trimmed;
}

/** The archive extension a path ends in (case-insensitive), without the dot; null for none. */
export function archiveExtension(path: string): string | null {
  const lower = fileName(path).toLowerCase();
  return ARCHIVE_EXTENSIONS.find((ext) => lower.endsWith(`.${ext}`)) ?? null;
}

export function isArchive(path: string): boolean {
  return archiveExtension(path) !== null;
}

/** The archives among `paths`, in order. */
export function archivesIn(paths: readonly string[]): string[] {
  return paths.filter(isArchive);
}

/**
 * The name of the workspace a bundle opens into: its file name without the archive
 * extension, with anything but letters, digits, `-`, `_` and `.` turned into `_`, at most
 * 60 characters, no leading dots; "bundle" when nothing is left.
 */
export function bundleName(path: string): string {
  const name = fileName(path);
  const ext = archiveExtension(path);
  const stem = ext === null ? name : name.slice(0, name.length - ext.length - 1);
  const clean = [...stem]
    .map((c) => (/^[\p{L}\p{N}\-_.]$/u.test(c) ? c : "_"))
    .slice(0, MAX_NAME_CHARS)
    .join("")
    .replace(/^\.+/, "");
  return clean === "" ? "bundle" : clean;
}
