// How a field's value reads in lists, cards and read-only forms, by field type: option
// labels for stored values, ¥ for money, dates in the app's time zone, names for
// references. Pure, so lists and forms agree and tests can run it without a browser.
import type { FieldSchema } from "@/api/types";

/** Names of referenced records, people ("@user") and departments ("@department"). */
export type Titles = Record<string, Record<string, string>>;

export interface FormatContext {
  locale: string;
  timezone: string;
  titles?: Titles;
  yes?: string;
  no?: string;
}

const NUMBER_TYPES = new Set(["integer", "decimal", "currency", "percent", "rating"]);

export function isNumeric(field: Pick<FieldSchema, "type" | "returns">): boolean {
  return NUMBER_TYPES.has(field.type) || NUMBER_TYPES.has(field.returns ?? "");
}

function valueType(field: Pick<FieldSchema, "type" | "returns">): string {
  return field.type === "formula" || field.type === "rollup" ? field.returns ?? "text"
    : field.type;
}

export function referenceKey(field: Pick<FieldSchema, "type" | "ref">): string | null {
  if (field.type === "lookup") return field.ref ?? null;
  if (field.type === "user") return "@user";
  if (field.type === "department") return "@department";
  return null;
}

export function formatNumber(value: number, locale: string, digits?: number): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits ?? 4,
                                          minimumFractionDigits: digits ?? 0 }).format(value);
}

export function formatMoney(value: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: "currency", currency: "CNY",
                                          currencyDisplay: "narrowSymbol" }).format(value);
}

export function formatDateTime(value: string, locale: string, timezone: string): string {
  const moment = new Date(value);
  if (Number.isNaN(moment.getTime())) return value;
  return new Intl.DateTimeFormat(locale, { timeZone: timezone, year: "numeric",
                                           month: "2-digit", day: "2-digit", hour: "2-digit",
                                           minute: "2-digit", hour12: false }).format(moment);
}

function optionLabel(field: FieldSchema, value: unknown): string {
  const found = field.options?.find((option) => option.value === value);
  return found ? found.label : String(value);
}

function titleOf(field: FieldSchema, value: unknown, titles?: Titles): string {
  const key = referenceKey(field);
  const name = key ? titles?.[key]?.[String(value)] : undefined;
  return name ?? `#${String(value)}`;
}

/** The value as text a person reads; "" for a blank. */
export function formatValue(field: FieldSchema, value: unknown, context: FormatContext): string {
  if (value === null || value === undefined || value === "") return "";
  const type = valueType(field);
  switch (type) {
    case "select":
      return optionLabel(field, value);
    case "multiselect":
      return Array.isArray(value) ? value.map((item) => optionLabel(field, item)).join("、")
        : optionLabel(field, value);
    case "boolean":
      return value ? context.yes ?? "✓" : context.no ?? "✗";
    case "currency":
      return formatMoney(Number(value), context.locale);
    case "percent":
      return `${formatNumber(Number(value), context.locale, undefined)}%`;
    case "integer":
    case "decimal":
    case "rating":
      return formatNumber(Number(value), context.locale,
                          type === "integer" || type === "rating" ? 0 : field.scale);
    case "datetime":
      return formatDateTime(String(value), context.locale, context.timezone);
    case "lookup":
    case "user":
    case "department":
      return Array.isArray(value) ? value.map((item) => titleOf(field, item, context.titles))
        .join("、") : titleOf(field, value, context.titles);
    case "file":
    case "image":
      return Array.isArray(value) ? value.map((item) => fileName(item)).join("、")
        : fileName(value);
    case "address":
      return addressText(value);
    case "signature":
      return context.yes ?? "✓";
    case "json":
    case "location":
      return typeof value === "string" ? value : JSON.stringify(value);
    default:
      return Array.isArray(value) ? value.join("、") : String(value);
  }
}

function fileName(value: unknown): string {
  if (value && typeof value === "object" && "name" in value) return String(value.name);
  return String(value);
}

function addressText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const parts = ["country", "province", "city", "district", "street", "line1", "line2"]
      .map((key) => (value as Record<string, unknown>)[key])
      .filter((part) => typeof part === "string" && part);
    if (parts.length) return parts.join(" ");
  }
  return JSON.stringify(value);
}
