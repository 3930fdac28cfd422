// Typed errors from the engine, and the plain words the UI shows for them.
//
// Commands answer `Result<T, AppError>`; `ApiError` carries the `AppError` unchanged so a
// feature can branch on `error.kind.type` (never on message text), while `describeError`
// is the one place that turns a kind into a sentence. Nothing here ever shows raw JSON.

import type { AppError } from "../bindings";

export class ApiError extends Error {
  readonly kind: AppError;

  constructor(kind: AppError) {
    super(describeError(kind));
    this.name = "ApiError";
    this.kind = kind;
  }
}

/** Plain words for one engine error. */
export function describeError(e: AppError): string {
  // The generated bindings pass through whatever `invoke` rejected with when it is not an
  // `Error` (an unknown command rejects with a bare string), so the type is a promise the
  // runtime does not always keep.
  const loose: unknown = e;
  if (typeof loose === "string") return loose;
  if (typeof loose !== "object" || loose === null || !("type" in loose)) {
    return "Something went wrong inside Sightline.";
  }
  switch (e.type) {
    case "NotFound":
      return `Nothing found at ${e.data.path}`;
    case "Unreadable":
      return `Cannot read ${e.data.path}: ${e.data.reason}`;
    case "NotJson":
      return e.data.line === null
        ? `${e.data.path} is not a JSON log file`
        : `Line ${e.data.line} of ${e.data.path} is not JSON`;
    case "WorkspaceLocked":
      return `The workspace ${e.data.path} is locked by another program`;
    case "WorkspaceCorrupt":
      return `The workspace ${e.data.path} is damaged: ${e.data.reason}`;
    case "WorkspaceTooNew":
      return `The workspace ${e.data.path} was written by a newer Sightline; update the app to open it`;
    case "InvalidArgument":
      return `“${e.data.value}” is not a valid ${e.data.what}: ${e.data.why}`;
    case "Busy":
      return `Sightline is busy (${e.data.what}); try again when it finishes`;
    case "Internal":
      return `Something went wrong inside Sightline: ${e.data.message}`;
    case "Query":
      return e.data.message;
    case "Invalid":
      return e.data.message;
    default:
      return "Something went wrong inside Sightline.";
  }
}

/** Plain words for anything a promise rejected with. */
export function describeUnknown(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === "string") return e;
  if (typeof e === "object" && e !== null && "type" in e) return describeError(e as AppError);
  return "Something went wrong.";
}

/** The engine's `InvalidArgument` payload, if that is what `e` is. */
export function invalidArgument(e: unknown): { what: string; value: string; why: string } | null {
  if (e instanceof ApiError && e.kind.type === "InvalidArgument") return e.kind.data;
  return null;
}

/** The message of a PromQL parse or evaluation failure (kind `Query`), if that is what `e` is. */
export function queryError(e: unknown): string | null {
  if (e instanceof ApiError && e.kind.type === "Query") return e.kind.data.message;
  return null;
}
