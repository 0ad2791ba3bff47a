// Dashboard figures as people read them: the API sends numbers with a format hint (integer,
// number, currency, percent, days, date); the page writes them out. Pure, for unit tests.
import { formatMoney, formatNumber } from "@/widgets/format";

export interface FigureFormat {
  type: "integer" | "number" | "currency" | "percent" | "days" | "date";
  scale?: number;
  currency?: string;
  unit?: string;
}

export function figure(value: unknown, format: FigureFormat | undefined, locale: string,
                       daysWord: string): string {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "number") return String(value);
  switch (format?.type) {
    case "currency":
      return formatMoney(value, locale);
    case "percent":
      return `${formatNumber(value, locale, Math.min(format.scale ?? 1, 1))}%`;
    case "days":
      return `${formatNumber(value, locale, 1)} ${daysWord}`;
    case "integer":
      return formatNumber(value, locale, 0);
    default:
      return formatNumber(value, locale, format?.scale ?? 2);
  }
}

/** A short form for chart axes: 1.2万 / 1.2M. */
export function compact(value: number, locale: string): string {
  return new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 })
    .format(value);
}
