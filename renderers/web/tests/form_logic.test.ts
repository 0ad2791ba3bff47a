import { describe, expect, it } from "vitest";

import type { FormField, FormSchema } from "@/api/types";
import {
  changedMeanwhile, computeFormulas, defaultsOf, fieldStates, rollupValue, rowsToSend,
  setLogicEnv,
} from "@/forms/logic";

const field = (name: string, extra: Partial<FormField> = {}): FormField =>
  ({ name, label: name, type: "text", ...extra });

const opportunity: FormSchema = {
  name: "opportunity", entity: "opportunity", label: "商机", description: null,
  entity_label: "商机", timezone: "Asia/Shanghai", formulas: [],
  files: { max_bytes: 1, accept: "", accept_images: "", kinds: "", image_kinds: "" },
  tabs: [{ name: "main", label: "主要", visible: true, sections: [{
    name: "deal", label: "进展", columns: 2, collapsed: false, visible: true, subtables: [],
    fields: [
      field("stage", { type: "select", required: true }),
      field("lost_reason", { visible: { "==": [{ var: "stage" }, "lost"] },
                             required: { "==": [{ var: "stage" }, "lost"] } }),
      field("amount", { readonly: { ">": [{ var: "signed_amount" }, 0] } }),
      field("notes", { required: false }),
    ] }] },
    { name: "closing", label: "结束", visible: { "in": [{ var: "stage" }, ["won", "lost"]] },
      sections: [{ name: "end", label: "结束", columns: 1, collapsed: false, visible: true,
                   subtables: [], fields: [field("closed_on")] }] }],
};

describe("a form's conditions in the browser", () => {
  it("show a field and require it once its condition holds", () => {
    const open = fieldStates(opportunity, { stage: "demo" });
    expect(open.lost_reason).toEqual({ visible: false, required: false, readonly: false });
    const lost = fieldStates(opportunity, { stage: "lost" });
    expect(lost.lost_reason).toEqual({ visible: true, required: true, readonly: false });
    expect(lost.stage.required).toBe(true);
    expect(lost.notes.required).toBe(false);
  });

  it("hide a tab's fields with the tab and lock fields by condition", () => {
    expect(fieldStates(opportunity, { stage: "demo" }).closed_on.visible).toBe(false);
    expect(fieldStates(opportunity, { stage: "won" }).closed_on.visible).toBe(true);
    expect(fieldStates(opportunity, { signed_amount: 10 }).amount.readonly).toBe(true);
    expect(fieldStates(opportunity, { signed_amount: null }).amount.readonly).toBe(false);
  });

  it("use the app's time zone and the person for Loom's operators", () => {
    setLogicEnv({ timezone: "Asia/Shanghai", user: { id: 7, roles: ["sales"] } });
    const mine: FormSchema = { ...opportunity, tabs: undefined, sections: [{
      name: "s", label: "s", columns: 1, collapsed: false, visible: true, subtables: [],
      fields: [field("owner", { readonly: { "!=": [{ var: "owner" }, { current_user: [] }] } })],
    }] };
    expect(fieldStates(mine, { owner: 7 }).owner.readonly).toBe(false);
    expect(fieldStates(mine, { owner: 8 }).owner.readonly).toBe(true);
  });
});

const amount = { field: "amount", tree: { round: [{ "*": [
  { var: "quantity" }, { var: "unit_price" },
  { "-": [1, { "/": [{ blank_value: [{ var: "discount" }, 0] }, 100] }] }] }, 2] } };

describe("formulas recomputed as the user types", () => {
  it("give a line's amount as the server does, blanks staying blank", () => {
    expect(computeFormulas([amount], { quantity: 3, unit_price: 19.99, discount: 10 }).values)
      .toEqual({ amount: 53.97 });
    expect(computeFormulas([amount], { quantity: 1.005, unit_price: 1 }).values.amount)
      .toBe(1.01);
    expect(computeFormulas([amount], { quantity: 2, unit_price: null }).values.amount)
      .toBeNull();
  });

  it("run a formula after the formulas it reads, whatever their order", () => {
    const formulas = [{ field: "doubled", tree: { "*": [{ var: "weighted" }, 2] } },
                      { field: "weighted", tree: { round: [{ "*": [{ var: "amount" },
                        { "/": [{ var: "probability" }, 100] }] }, 2] } }];
    expect(computeFormulas(formulas, { amount: 12345.67, probability: 30 }).values)
      .toEqual({ weighted: 3703.7, doubled: 7407.4 });
  });

  it("sum a sub-table's rows and leave lookups and server-only functions to the server", () => {
    const total = { field: "total", tree: { sum: [{ var: "items.amount" }] } };
    const region = { field: "region", tree: { cat: [{ var: "customer.region" }, "区"] } };
    const label = { field: "label", tree: { text: [{ var: "total" }] } };
    const result = computeFormulas([total, region, label],
                                   { items: [{ amount: 1.1 }, { amount: 2.2 }, {}] },
                                   ["items"]);
    expect(result.values.total).toBeCloseTo(3.3, 10);
    expect(result.server.sort()).toEqual(["label", "region"]);
  });

  it("roll up the rows in the form, with a filter", () => {
    const total = field("total", { rollup: { subtable: "items", function: "sum",
                                             field: "amount", filter: null } });
    expect(rollupValue(total, [{ amount: 0.1 }, { amount: 0.2 }, { amount: null }])).toBe(0.3);
    const big = field("big", { rollup: { subtable: "items", function: "count", field: null,
                                         filter: { ">": [{ var: "amount" }, 1] } } });
    expect(rollupValue(big, [{ amount: 0.5 }, { amount: 5 }])).toBe(1);
  });
});

describe("a new record and what a save sends", () => {
  it("starts from the fields' defaults, expressions evaluated", () => {
    setLogicEnv({ timezone: "Asia/Shanghai", user: { id: 7 } });
    expect(defaultsOf([field("status", { default: "draft" }),
                       field("owner", { default: { current_user: "id" } }),
                       field("quantity", { default: 1 }), field("notes")]))
      .toEqual({ status: "draft", owner: 7, quantity: 1 });
  });

  it("sends the complete set of rows: kept ones by id with what changed, new ones whole", () => {
    const before = [{ id: 1, version: 3, quantity: 1, description: "A" },
                    { id: 2, version: 1, quantity: 2, description: "B" }];
    const after = [{ id: 1, version: 3, quantity: 5, description: "A" },
                   { quantity: 1, description: "C", unit_price: null }];
    expect(rowsToSend(before, after, ["quantity", "description", "unit_price"])).toEqual([
      { id: 1, version: 3, quantity: 5 }, { quantity: 1, description: "C" }]);
    expect(rowsToSend(before, before.map((row) => ({ ...row })), ["quantity"])).toBeNull();
  });

  it("names what another person changed meanwhile and where it clashes", () => {
    const found = changedMeanwhile({ amount: 100, notes: "a", stage: "demo" },
                                   { amount: 200, notes: "a", stage: "won" },
                                   { amount: 150, notes: "b", stage: "demo" },
                                   ["amount", "notes", "stage"]);
    expect(found).toEqual([
      { field: "amount", before: 100, theirs: 200, mine: 150, clash: true },
      { field: "stage", before: "demo", theirs: "won", mine: undefined, clash: false }]);
  });
});

describe("values typed and shown in a form", async () => {
  const { fileRefusal, fileSize, numberText, parseNumber, toWallClock } =
    await import("@/forms/values");

  it("read money and percentages as people type them", () => {
    expect(parseNumber("¥1,234.50")).toBe(1234.5);
    expect(parseNumber("12.5%")).toBe(12.5);
    expect(parseNumber(" ")).toBeNull();
    expect(parseNumber("12a")).toBeUndefined();
    expect(numberText(1234.5, 2)).toBe("1234.5");
    expect(numberText(0.1 + 0.2, 2)).toBe("0.3");
    expect(numberText(null)).toBe("");
  });

  it("edit datetimes on the app's wall clock, wherever the browser is", () => {
    expect(toWallClock("2026-11-02T01:30:00Z", "Asia/Shanghai")).toBe("2026-11-02 09:30:00");
    expect(toWallClock("2026-11-02T01:30:00+00:00", "UTC")).toBe("2026-11-02 01:30:00");
    expect(toWallClock(null, "UTC")).toBeNull();
  });

  it("check a file against the server's limits before sending it", () => {
    expect(fileRefusal({ name: "报价.PDF", size: 10 }, 100, ".png,.pdf")).toBeNull();
    expect(fileRefusal({ name: "big.pdf", size: 101 }, 100, ".png,.pdf")).toBe("size");
    expect(fileRefusal({ name: "run.exe", size: 1 }, 100, ".png,.pdf")).toBe("kind");
    expect(fileSize(10 * 1024 * 1024, "zh-CN")).toBe("10 MB");
  });
});

describe("required fields left blank", () => {
  it("are found before a save: visible ones and line items' required cells", async () => {
    const { blankRequired } = await import("@/forms/logic");
    const quote: FormSchema = { ...opportunity, tabs: undefined, sections: [{
      name: "s", label: "s", columns: 1, collapsed: false, visible: true,
      fields: [field("stage", { required: true }), field("lost_reason", {
        visible: { "==": [{ var: "stage" }, "lost"] }, required: true }),
               field("total", { required: true })],
      subtables: [{ field: "items", entity: "quote_item", link_field: "quote", label: "明细",
                    max_rows: 500, visible: true, readonly: false, formulas: [],
                    columns: [field("quantity", { required: true }), field("notes")] }] }] };
    const values = { stage: null, items: [{ quantity: 1 }, { quantity: null, notes: "x" }] };
    const states = fieldStates(quote, values);
    expect(blankRequired(quote, values, states, new Set(["total"]))).toEqual([
      { path: "stage", label: "stage" }, { path: "items[1].quantity", label: "quantity" }]);
  });
});
