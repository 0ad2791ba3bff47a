import { describe, expect, it } from "vitest";

import { compile, compileRow, type FilterGroup, type FilterRow, kindOf, OPERATORS, parse,
         parseRow } from "@/conditions/filters";

const rows: FilterRow[] = [
  { kind: "row", field: "name", op: "contains", value: "华为" },
  { kind: "row", field: "name", op: "not_contains", value: "测试" },
  { kind: "row", field: "name", op: "starts_with", value: "上海" },
  { kind: "row", field: "code", op: "eq", value: "C-1" },
  { kind: "row", field: "code", op: "neq", value: "C-1" },
  { kind: "row", field: "amount", op: "gt", value: 100000 },
  { kind: "row", field: "amount", op: "gte", value: 1 },
  { kind: "row", field: "amount", op: "lt", value: 5 },
  { kind: "row", field: "amount", op: "lte", value: 5 },
  { kind: "row", field: "amount", op: "between", value: [10, 20] },
  { kind: "row", field: "stage", op: "in", value: ["demo", "quote"] },
  { kind: "row", field: "stage", op: "not_in", value: ["lost"] },
  { kind: "row", field: "tags", op: "includes", value: ["vip"] },
  { kind: "row", field: "active", op: "is_true" },
  { kind: "row", field: "active", op: "is_false" },
  { kind: "row", field: "owner", op: "is_me" },
  { kind: "row", field: "owner", op: "is_not_me" },
  { kind: "row", field: "due_on", op: "today" },
  { kind: "row", field: "due_on", op: "last_days", value: 7 },
  { kind: "row", field: "due_on", op: "next_days", value: 30 },
  { kind: "row", field: "due_on", op: "overdue" },
  { kind: "row", field: "phone", op: "is_blank" },
  { kind: "row", field: "phone", op: "not_blank" },
];

describe("a filter row", () => {
  it.each(rows)("round-trips through the condition language: $op", (row) => {
    const rule = compileRow(row);
    expect(rule).not.toBeNull();
    const back = parseRow(rule)!;
    // on/after/before compile to the same shapes as eq/gt/lt: the builder shows them as such
    expect(back).toEqual(row);
  });

  it("writes Loom's operators for relative dates and the current user", () => {
    expect(compileRow({ kind: "row", field: "created_at", op: "last_days", value: 7 }))
      .toEqual({ "<=": [{ date_add: [{ today: [] }, -7, "days"] }, { var: "created_at" },
                        { today: [] }] });
    expect(compileRow({ kind: "row", field: "owner", op: "is_me" }))
      .toEqual({ "==": [{ var: "owner" }, { current_user: "id" }] });
  });

  it("is left out until it has a value", () => {
    expect(compileRow({ kind: "row", field: "name", op: "contains", value: "" })).toBeNull();
    expect(compileRow({ kind: "row", field: "stage", op: "in", value: [] })).toBeNull();
    expect(compileRow({ kind: "row", field: "amount", op: "between", value: [1, null] }))
      .toBeNull();
  });
});

describe("a filter group", () => {
  const group: FilterGroup = {
    kind: "group", join: "and", items: [
      rows[0],
      { kind: "group", join: "or", items: [rows[10], rows[15]] },
    ],
  };

  it("nests AND and OR and comes back the same", () => {
    const rule = compile(group);
    expect(rule).toEqual({ and: [compileRow(rows[0]),
                                 { or: [compileRow(rows[10]), compileRow(rows[15])] }] });
    expect(parse(rule)).toEqual(group);
  });

  it("keeps a condition it did not write whole, never reshaped", () => {
    const foreign = { and: [{ "==": [{ var: "a" }, 1] },
                            { some: [{ var: "items" }, { ">": [{ var: "q" }, 2] }] }] };
    const model = parse(foreign);
    expect(model.items[1]).toEqual({ kind: "custom",
                                     rule: { some: [{ var: "items" }, { ">": [{ var: "q" }, 2] }] } });
    expect(compile(model)).toEqual(foreign);
  });

  it("is nothing when empty, and one condition without a wrapper", () => {
    expect(compile({ kind: "group", join: "and", items: [] })).toBeNull();
    expect(compile({ kind: "group", join: "or", items: [rows[0]] }))
      .toEqual(compileRow(rows[0]));
  });
});

describe("operators by field type", () => {
  it("offer what fits the type", () => {
    expect(kindOf({ type: "currency" })).toBe("number");
    expect(kindOf({ type: "formula", returns: "date" })).toBe("date");
    expect(OPERATORS[kindOf({ type: "user" })]).toContain("is_me");
    expect(OPERATORS[kindOf({ type: "select" })]).toContain("in");
    expect(OPERATORS[kindOf({ type: "text" })]).not.toContain("gt");
  });
});
