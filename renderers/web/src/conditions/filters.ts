// The filter builder's model — rows of field / operator / value in AND/OR groups — and
// its translation to the condition language (JSON Logic with Loom's operators) and back.
// The builder only ever writes the shapes `compile` produces, so `parse(compile(x))` gives
// x back; a condition it did not write is kept whole as `custom` and never reshaped.
import type { FieldSchema } from "@/api/types";

export type Join = "and" | "or";

export interface FilterRow {
  kind: "row";
  field: string;
  op: Operator;
  value?: unknown;
}

export interface FilterGroup {
  kind: "group";
  join: Join;
  items: FilterNode[];
}

export interface CustomCondition {
  kind: "custom";
  rule: unknown;
}

export type FilterNode = FilterRow | FilterGroup | CustomCondition;

export type Operator =
  | "contains" | "not_contains" | "starts_with" | "eq" | "neq"
  | "gt" | "gte" | "lt" | "lte" | "between"
  | "in" | "not_in" | "includes"
  | "is_true" | "is_false" | "is_me" | "is_not_me"
  | "on" | "before" | "after" | "today" | "last_days" | "next_days" | "overdue"
  | "is_blank" | "not_blank";

export type Kind = "text" | "number" | "date" | "choice" | "choices" | "boolean" | "user"
  | "reference" | "other";

const TEXT = new Set(["text", "textarea", "rich_text", "email", "phone", "url", "serial"]);
const NUMBER = new Set(["integer", "decimal", "currency", "percent", "rating"]);

/** What kind of value a field holds, for choosing operators and value editors. */
export function kindOf(field: Pick<FieldSchema, "type" | "returns">): Kind {
  const type = field.type === "formula" || field.type === "rollup"
    ? field.returns ?? "text" : field.type;
  if (TEXT.has(type)) return "text";
  if (NUMBER.has(type)) return "number";
  if (type === "date" || type === "datetime") return "date";
  if (type === "select") return "choice";
  if (type === "multiselect") return "choices";
  if (type === "boolean") return "boolean";
  if (type === "user") return "user";
  if (type === "lookup") return "reference";
  return "other";
}

const BLANKS: Operator[] = ["is_blank", "not_blank"];
export const OPERATORS: Record<Kind, Operator[]> = {
  text: ["contains", "not_contains", "eq", "neq", "starts_with", ...BLANKS],
  number: ["eq", "neq", "gt", "gte", "lt", "lte", "between", ...BLANKS],
  date: ["today", "last_days", "next_days", "on", "before", "after", "between", "overdue",
         ...BLANKS],
  choice: ["in", "not_in", ...BLANKS],
  choices: ["includes", ...BLANKS],
  boolean: ["is_true", "is_false"],
  user: ["is_me", "is_not_me", "in", ...BLANKS],
  reference: ["in", ...BLANKS],
  other: BLANKS,
};

/** Operators that take no value. */
export const NO_VALUE = new Set<Operator>(["is_true", "is_false", "is_me", "is_not_me",
                                           "today", "overdue", "is_blank", "not_blank"]);

export function emptyGroup(join: Join = "and"): FilterGroup {
  return { kind: "group", join, items: [] };
}

type Rule = Record<string, unknown>;
const v = (field: string): Rule => ({ var: field });
const today: Rule = { today: [] };
const me: Rule = { current_user: "id" };
const not = (rule: unknown): Rule => ({ "!": rule });
const daysFromToday = (days: number): Rule => ({ date_add: [today, days, "days"] });

/** A row's condition, or null while the row is not filled in. */
export function compileRow(row: FilterRow): Rule | null {
  const f = v(row.field);
  const value = row.value;
  const blank = value === undefined || value === null || value === ""
    || (Array.isArray(value) && value.length === 0);
  if (!NO_VALUE.has(row.op) && blank) return null;
  switch (row.op) {
    case "contains": return { in: [value, f] };
    case "not_contains": return not({ in: [value, f] });
    case "starts_with": return { starts_with: [f, value] };
    case "eq": case "on": return { "==": [f, value] };
    case "neq": return { "!=": [f, value] };
    case "gt": case "after": return { ">": [f, value] };
    case "gte": return { ">=": [f, value] };
    case "lt": case "before": return { "<": [f, value] };
    case "lte": return { "<=": [f, value] };
    case "between": {
      const [low, high] = value as [unknown, unknown];
      if (low === null || low === undefined || high === null || high === undefined) {
        return null;
      }
      return { "<=": [low, f, high] };
    }
    case "in": return { in: [f, value] };
    case "not_in": return not({ in: [f, value] });
    case "includes": return { includes: [f, value] };
    case "is_true": return { "==": [f, true] };
    case "is_false": return { "!=": [f, true] };
    case "is_me": return { "==": [f, me] };
    case "is_not_me": return { "!=": [f, me] };
    case "today": return { "==": [f, today] };
    case "last_days": return { "<=": [daysFromToday(-Number(value)), f, today] };
    case "next_days": return { "<=": [today, f, daysFromToday(Number(value))] };
    case "overdue": return { "<": [f, today] };
    case "is_blank": return { is_blank: f };
    case "not_blank": return not({ is_blank: f });
  }
}

/** The group as one condition; null when nothing is filled in. */
export function compile(node: FilterNode): unknown {
  if (node.kind === "custom") return node.rule;
  if (node.kind === "row") return compileRow(node);
  const parts = node.items.map(compile).filter((part) => part !== null && part !== undefined);
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0] : { [node.join]: parts };
}

// --- back from the condition language -------------------------------------------------

function isVar(value: unknown): value is { var: string } {
  return !!value && typeof value === "object" && !Array.isArray(value)
    && Object.keys(value).length === 1 && typeof (value as Rule).var === "string";
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function single(rule: unknown): [string, unknown] | null {
  if (!rule || typeof rule !== "object" || Array.isArray(rule)) return null;
  const keys = Object.keys(rule);
  return keys.length === 1 ? [keys[0], (rule as Rule)[keys[0]]] : null;
}

function daysOffset(value: unknown): number | null {
  const found = single(value);
  if (!found || found[0] !== "date_add" || !Array.isArray(found[1])) return null;
  const [base, days, unit] = found[1];
  return same(base, today) && typeof days === "number" && unit === "days" ? days : null;
}

function row(field: string, op: Operator, value?: unknown): FilterRow {
  return value === undefined ? { kind: "row", field, op } : { kind: "row", field, op, value };
}

/** A row for a condition `compileRow` writes, else null. */
export function parseRow(rule: unknown): FilterRow | null {
  const found = single(rule);
  if (!found) return null;
  const [op, args] = found;
  if (op === "!") {
    const inner = single(args);
    if (inner?.[0] === "is_blank" && isVar(inner[1])) return row(inner[1].var, "not_blank");
    if (inner?.[0] === "in" && Array.isArray(inner[1])) {
      const [a, b] = inner[1];
      if (isVar(b)) return row(b.var, "not_contains", a);
      if (isVar(a) && Array.isArray(b)) return row(a.var, "not_in", b);
    }
    return null;
  }
  if (op === "is_blank") return isVar(args) ? row(args.var, "is_blank") : null;
  if (!Array.isArray(args)) return null;
  if (op === "in" && args.length === 2) {
    if (isVar(args[1]) && !isVar(args[0])) return row(args[1].var, "contains", args[0]);
    if (isVar(args[0]) && Array.isArray(args[1])) return row(args[0].var, "in", args[1]);
    return null;
  }
  if (op === "includes" && isVar(args[0])) return row(args[0].var, "includes", args[1]);
  if (op === "starts_with" && isVar(args[0])) return row(args[0].var, "starts_with", args[1]);
  if (op === "<=" && args.length === 3 && isVar(args[1])) {
    const field = args[1].var;
    const low = daysOffset(args[0]);
    if (low !== null && same(args[2], today)) return row(field, "last_days", -low);
    const high = daysOffset(args[2]);
    if (high !== null && same(args[0], today)) return row(field, "next_days", high);
    return row(field, "between", [args[0], args[2]]);
  }
  if (args.length !== 2 || !isVar(args[0])) return null;
  const field = args[0].var;
  const value = args[1];
  if (op === "==") {
    if (value === true) return row(field, "is_true");
    if (same(value, me)) return row(field, "is_me");
    if (same(value, today)) return row(field, "today");
    return row(field, "eq", value);
  }
  if (op === "!=") {
    if (value === true) return row(field, "is_false");
    if (same(value, me)) return row(field, "is_not_me");
    return row(field, "neq", value);
  }
  if (op === "<" && same(value, today)) return row(field, "overdue");
  const simple: Record<string, Operator> = { ">": "gt", ">=": "gte", "<": "lt", "<=": "lte" };
  return simple[op] ? row(field, simple[op], value) : null;
}

/** The builder's model of a condition; what it cannot show as rows stays `custom`. */
export function parse(rule: unknown): FilterGroup {
  if (rule === null || rule === undefined) return emptyGroup();
  return asGroup(parseNode(rule));
}

function parseNode(rule: unknown): FilterNode {
  const found = single(rule);
  if (found && (found[0] === "and" || found[0] === "or") && Array.isArray(found[1])) {
    return { kind: "group", join: found[0], items: found[1].map(parseNode) };
  }
  return parseRow(rule) ?? { kind: "custom", rule };
}

function asGroup(node: FilterNode): FilterGroup {
  return node.kind === "group" ? node : { kind: "group", join: "and", items: [node] };
}

/** Field names a condition model reads (to check them against what the reader may see). */
export function fieldsOf(node: FilterNode): string[] {
  if (node.kind === "row") return [node.field];
  if (node.kind === "group") return node.items.flatMap(fieldsOf);
  return [];
}

/** Whether the operator applies to the field's kind (a field's type may have changed). */
export function fits(field: FieldSchema, op: Operator): boolean {
  return OPERATORS[kindOf(field)].includes(op);
}
