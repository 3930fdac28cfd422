// Numbers for people: byte sizes, counts, percentages.

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** "0 B", "512 B", "1.5 KiB", "12.3 MiB", "4 GiB". One decimal below 100, none above. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const digits = value < 100 ? 1 : 0;
  const text = value.toFixed(digits).replace(/\.0$/, "");
  return `${text} ${BYTE_UNITS[unit]}`;
}

const COUNT = new Intl.NumberFormat("en-US");

/** "1,234,567" (grouping for reading; test hooks use the bare digits instead). */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? COUNT.format(n) : "—";
}

/** `n` followed by the right form of `word`: "1 record", "2 records". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 ? word : many}`;
}

/** Whole percent of done/total, 0..100; 0 when the total is unknown. */
export function percent(done: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}
