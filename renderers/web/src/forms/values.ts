// Values between the server and the form's inputs: numbers typed with separators and ¥,
// datetimes as wall-clock times of the app's time zone (the server reads a time without a
// zone in the app's zone), file sizes people read.

/** A number from what a person typed ("¥1,234.50", "12.5%", "1 000"); null for blank,
 * undefined for text that is no number (kept in the input, not sent). */
export function parseNumber(text: string): number | null | undefined {
  const cleaned = text.replace(/[¥￥,，\s%]/g, "").replace(/。/g, ".");
  if (cleaned === "" || cleaned === "-") return null;
  if (!/^-?(\d+\.?\d*|\.\d+)$/.test(cleaned)) return undefined;
  return Number(cleaned);
}

/** A number as an input shows it while editing: no grouping, at most ``scale`` decimals. */
export function numberText(value: unknown, scale?: number): string {
  if (value === null || value === undefined || value === "") return "";
  const number = Number(value);
  if (!Number.isFinite(number)) return String(value);
  if (scale === undefined) return String(number);
  return String(Number(number.toFixed(scale)));
}

function parts(moment: Date, timezone: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const part of new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(moment)) {
    found[part.type] = part.value;
  }
  return found;
}

/** A stored instant ("2026-11-02T01:30:00Z") as the app's wall clock
 * ("2026-11-02 09:30:00"), which the date picker edits. */
export function toWallClock(value: unknown, timezone: string): string | null {
  if (typeof value !== "string" || !value) return null;
  const moment = new Date(value);
  if (Number.isNaN(moment.getTime())) return value;
  const p = parts(moment, timezone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

export function fileSize(bytes: number, locale: string): string {
  const units = ["B", "KB", "MB", "GB"];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: unit ? 1 : 0 })
    .format(size)} ${units[unit]}`;
}

/** Whether a file may be sent to a field: within the server's size limit and of a kind
 * its picker offers (the server still decides from the bytes). */
export function fileRefusal(file: { name: string; size: number }, maxBytes: number,
                            accept: string): "size" | "kind" | null {
  if (file.size > maxBytes) return "size";
  const suffix = file.name.includes(".") ? `.${file.name.split(".").pop()!.toLowerCase()}`
    : "";
  return accept.split(",").includes(suffix) ? null : "kind";
}
