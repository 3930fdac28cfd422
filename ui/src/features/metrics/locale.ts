// Makes `navigator.language` a tag Intl accepts, before uPlot loads.
//
// uPlot builds `new Intl.NumberFormat(navigator.language)` when its module is evaluated.
// WebKitGTK reports the POSIX locale as the language, so under LANG=C or C.UTF-8 (containers,
// CI, Xvfb) it says "C", Intl throws a RangeError, and the import would take the whole window
// down with it. Imported first by ./uplot.ts; ES modules are evaluated in import order.

/** Whether Intl takes `tag` as a locale. */
export function validLocale(tag: unknown): boolean {
  if (typeof tag !== "string" || tag === "") return false;
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

if (typeof navigator !== "undefined" && !validLocale(navigator.language)) {
  try {
    Object.defineProperty(navigator, "language", { value: "en-US", configurable: true });
  } catch {
    // Nothing else to try; uPlot will say why it cannot load.
  }
}
