// A form's behaviour while it is filled in, decided in the browser for instant feedback:
// which fields are visible, required and read-only, the formulas' and roll-ups' values,
// the defaults of a new record. The same condition language the server enforces
// (json-logic-js with Loom's operators); the server decides what is saved.
import jsonLogic from "json-logic-js";
import loomLogic from "loom-logic";

import type { Condition, FormField, FormFormula, FormSchema, FormSection,
              FormSubtable } from "@/api/types";

loomLogic.install(jsonLogic);

export type Values = Record<string, unknown>;
export type Row = Record<string, unknown>;

export interface FieldState {
  visible: boolean;
  required: boolean;
  readonly: boolean;
}

/** What conditions see of the world: the app's time zone and the person filling in. */
export function setLogicEnv(env: { timezone: string; user?: Record<string, unknown> }): void {
  loomLogic.setEnv(env);
}

export function isBlank(value: unknown): boolean {
  return value === null || value === undefined || value === ""
    || (Array.isArray(value) && value.length === 0);
}

/** Whether a condition holds for ``data``; ``fallback`` when there is none or it cannot
 * be decided here (the server decides then, as it always does on save). */
export function holds(condition: Condition | null | undefined, data: Values,
                      fallback: boolean): boolean {
  if (condition === null || condition === undefined) return fallback;
  if (typeof condition === "boolean") return condition;
  try {
    return jsonLogic.truthy(jsonLogic.apply(condition as jsonLogic.RulesLogic, data));
  } catch {
    return fallback;
  }
}

/** Every section of a form with the conditions of the tab around it. */
export function sectionsOf(form: FormSchema): { section: FormSection; tab: Condition }[] {
  if (form.tabs) {
    return form.tabs.flatMap((tab) => tab.sections.map((section) => ({ section,
                                                                      tab: tab.visible })));
  }
  return (form.sections ?? []).map((section) => ({ section, tab: true }));
}

export function fieldsOf(form: FormSchema): FormField[] {
  return sectionsOf(form).flatMap(({ section }) => section.fields);
}

export function subtablesOf(form: FormSchema): FormSubtable[] {
  return sectionsOf(form).flatMap(({ section }) => section.subtables);
}

/** The state of every placed field for ``data``: a field is visible when it, its section
 * and its tab are; required only while visible (nobody can fill in what they cannot see);
 * read-only when the form or the reader's permissions say so. */
export function fieldStates(form: FormSchema, data: Values): Record<string, FieldState> {
  const states: Record<string, FieldState> = {};
  for (const { section, tab } of sectionsOf(form)) {
    const outer = holds(tab, data, true) && holds(section.visible, data, true);
    for (const field of section.fields) {
      const visible = outer && holds(field.visible, data, true);
      states[field.name] = {
        visible,
        required: visible && field.required !== undefined
          && holds(field.required as Condition, data, true),
        readonly: holds(field.readonly, data, false),
      };
    }
    for (const table of section.subtables) {
      states[table.field] = { visible: outer && holds(table.visible, data, true),
                              required: false, readonly: holds(table.readonly, data, false) };
    }
  }
  return states;
}

/** The state of each column of a sub-table's row. */
export function columnStates(table: FormSubtable, row: Row): Record<string, FieldState> {
  return Object.fromEntries(table.columns.map((column) => [column.name, {
    visible: true, readonly: !!column.readonly && holds(column.readonly, row, false),
    required: column.required === true }]));
}

/** The required fields (and line items' required cells) left blank, by path
 * (``items[1].quantity``): checked here before a save, so a person hears at once. */
export function blankRequired(form: FormSchema, values: Values,
                              states: Record<string, FieldState>,
                              computed: Set<string>): { path: string; label: string }[] {
  const found: { path: string; label: string }[] = [];
  for (const field of fieldsOf(form)) {
    const state = states[field.name];
    if (state?.visible && state.required && !state.readonly && !computed.has(field.name)
        && isBlank(values[field.name])) found.push({ path: field.name, label: field.label });
  }
  for (const table of subtablesOf(form)) {
    if (!states[table.field]?.visible || states[table.field]?.readonly) continue;
    ((values[table.field] ?? []) as Row[]).forEach((row, index) => {
      const rowStates = columnStates(table, row);
      for (const column of table.columns) {
        if (rowStates[column.name].required && column.readonly !== true
            && isBlank(row[column.name])) {
          found.push({ path: `${table.field}[${index}].${column.name}`, label: column.label });
        }
      }
    });
  }
  return found;
}

// --- formulas ------------------------------------------------------------------------------

type Tree = unknown;

/** A formula's tree made readable here: a path through a sub-table (``items.amount``)
 * becomes the list of that field of every row. */
function overRows(tree: Tree, subtables: Set<string>): Tree {
  if (Array.isArray(tree)) return tree.map((item) => overRows(item, subtables));
  if (!tree || typeof tree !== "object") return tree;
  const entries = Object.entries(tree as Record<string, unknown>);
  if (entries.length === 1 && entries[0][0] === "var") {
    const path = Array.isArray(entries[0][1]) ? entries[0][1][0] : entries[0][1];
    if (typeof path === "string" && path.includes(".")) {
      const [head, ...rest] = path.split(".");
      if (subtables.has(head)) return { map: [{ var: head }, { var: rest.join(".") }] };
    }
  }
  return Object.fromEntries(entries.map(([key, value]) => [key, overRows(value, subtables)]));
}

/** Whether a tree reads through a lookup (``customer.region``): the referenced record's
 * values are on the server, so the server computes it. */
function readsThroughLookup(tree: Tree, subtables: Set<string>): boolean {
  if (Array.isArray(tree)) return tree.some((item) => readsThroughLookup(item, subtables));
  if (!tree || typeof tree !== "object") return false;
  for (const [key, value] of Object.entries(tree as Record<string, unknown>)) {
    if (key === "var") {
      const path = Array.isArray(value) ? value[0] : value;
      if (typeof path === "string" && path.includes(".")
          && !subtables.has(path.split(".")[0])) return true;
    } else if (readsThroughLookup(value, subtables)) {
      return true;
    }
  }
  return false;
}

export interface FormulaResult {
  values: Values;
  /** formulas this browser cannot compute (server-only operators, lookup paths) */
  server: string[];
}

/** The formulas' values for ``data``, in dependency order (a formula reading another
 * runs after it: repeated until nothing changes, at most once per formula). */
export function computeFormulas(formulas: FormFormula[], data: Values,
                                subtables: Iterable<string> = []): FormulaResult {
  const through = new Set(subtables);
  const values: Values = {};
  const server = new Set<string>();
  const runnable = formulas.filter((formula) => {
    if (!readsThroughLookup(formula.tree, through)) return true;
    server.add(formula.field);
    return false;
  }).map((formula) => ({ field: formula.field, tree: overRows(formula.tree, through) }));
  for (let pass = 0; pass <= runnable.length; pass += 1) {
    let changed = false;
    for (const formula of runnable) {
      if (server.has(formula.field)) continue;
      let value: unknown;
      try {
        value = jsonLogic.apply(formula.tree as jsonLogic.RulesLogic, { ...data, ...values });
      } catch {
        server.add(formula.field);  // an operator only the server runs
        continue;
      }
      value = value === undefined || (typeof value === "number" && !Number.isFinite(value))
        ? null : value;
      if (values[formula.field] !== value) {
        values[formula.field] = value;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return { values, server: [...server] };
}

/** A roll-up over a sub-table's rows as they stand in the form. */
export function rollupValue(field: FormField, rows: Row[]): number | null {
  const rollup = field.rollup;
  if (!rollup) return null;
  const counted = rows.filter((row) => holds(rollup.filter, row, true));
  if (rollup.function === "count") return counted.length;
  const numbers = counted.map((row) => row[rollup.field ?? ""])
    .filter((value) => !isBlank(value)).map(Number).filter(Number.isFinite);
  if (rollup.function === "sum") return roundTo(numbers.reduce((sum, n) => sum + n, 0), 10);
  if (!numbers.length) return null;
  if (rollup.function === "min") return Math.min(...numbers);
  if (rollup.function === "max") return Math.max(...numbers);
  return roundTo(numbers.reduce((sum, n) => sum + n, 0) / numbers.length, 10);
}

/** A float result to ``digits`` decimals (clears binary noise like 0.30000000000000004). */
export function roundTo(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

const NUMERIC_PRESETS = new Set(["lookup", "user", "department", "integer", "decimal",
                                  "currency", "percent", "rating"]);

/** Values given to a new record from outside (the address of the page: a related list's
 *  "new" names the record it belongs to), for the fields of the form that are not
 *  read-only, each as its type holds it; anything else is left out. */
export function presetValues(fields: FormField[], preset: Record<string, string>): Values {
  const values: Values = {};
  for (const field of fields) {
    const text = preset[field.name];
    if (typeof text !== "string" || text === "" || field.readonly === true) continue;
    if (NUMERIC_PRESETS.has(field.type)) {
      const number = Number(text);
      if (Number.isFinite(number)) values[field.name] = number;
    } else if (field.type === "boolean") {
      values[field.name] = text === "true";
    } else if (field.type !== "subtable") {
      values[field.name] = text;
    }
  }
  return values;
}

/** A new record's (or row's) starting values: each field's default, an expression
 * default (``{"today": []}``) evaluated here. */
export function defaultsOf(fields: FormField[]): Values {
  const values: Values = {};
  for (const field of fields) {
    if (field.default === undefined || field.default === null) continue;
    if (typeof field.default === "object" && !Array.isArray(field.default)) {
      try {
        const value = jsonLogic.apply(field.default as jsonLogic.RulesLogic, {});
        if (!isBlank(value)) values[field.name] = value;
      } catch {
        // left for the server, which applies defaults on create as well
      }
    } else {
      values[field.name] = field.default;
    }
  }
  return values;
}

// --- what changed ---------------------------------------------------------------------------

export function same(a: unknown, b: unknown): boolean {
  if (isBlank(a) && isBlank(b)) return true;
  if (typeof a === "number" || typeof b === "number") {
    return !isBlank(a) && !isBlank(b) && Number(a) === Number(b);
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The fields of ``current`` that differ from ``original`` among ``names``. */
export function changedFields(original: Values, current: Values, names: string[]): string[] {
  return names.filter((name) => !same(original[name], current[name]));
}

/** A sub-table's rows as a save sends them: every row still there (the complete new set),
 * a kept row by its id (and version, so a stale row is a conflict) with what changed,
 * a new row with what was filled in. Null when nothing changed. */
export function rowsToSend(before: Row[], after: Row[], editable: string[]): Row[] | null {
  const byId = new Map(before.map((row) => [row.id, row]));
  let changed = before.length !== after.length;
  const rows = after.map((row) => {
    const old = row.id !== undefined && row.id !== null ? byId.get(row.id) : undefined;
    if (!old) {
      changed = true;
      return Object.fromEntries(editable.filter((name) => !isBlank(row[name]))
        .map((name) => [name, row[name]]));
    }
    const diff = changedFields(old, row, editable);
    if (diff.length) changed = true;
    return { id: row.id, ...(diff.length && row.version !== undefined
      ? { version: row.version } : {}),
             ...Object.fromEntries(diff.map((name) => [name, row[name]])) };
  });
  return changed ? rows : null;
}

/** What another person changed since this form was opened: for each field, what it was,
 * what it is now, and what this person typed (when they changed it too). */
export interface Meanwhile {
  field: string;
  before: unknown;
  theirs: unknown;
  mine: unknown;
  clash: boolean;
}

export function changedMeanwhile(base: Values, latest: Values, mine: Values,
                                 names: string[]): Meanwhile[] {
  return names.filter((name) => !same(base[name], latest[name])).map((name) => {
    const touched = !same(base[name], mine[name]);
    return { field: name, before: base[name], theirs: latest[name],
             mine: touched ? mine[name] : undefined,
             clash: touched && !same(mine[name], latest[name]) };
  });
}
