import { describe, expect, it } from "vitest";

import type { EntitySchema, StagePath, TimelineEntry } from "@/api";
import { headerFields, missingFields, newRecordDefaults, stageStates, timelineDays,
         timelineShows } from "@/record/facts";

const opportunity: EntitySchema = {
  name: "opportunity", label: "商机", title_field: "name",
  permissions: { create: true, read: true, update: true, delete: true, export: true,
                 import: true },
  actions: [],
  fields: [
    { name: "name", label: "名称", type: "text" },
    { name: "customer", label: "客户", type: "lookup", ref: "customer" },
    { name: "stage", label: "阶段", type: "select",
      options: [{ value: "initial", label: "初步接洽", category: "open" }] },
    { name: "source", label: "来源", type: "select" },
    { name: "amount", label: "金额", type: "currency" },
    { name: "owner", label: "负责人", type: "user" },
    { name: "expected_close_date", label: "预计成交", type: "date" },
    { name: "notes", label: "备注", type: "textarea" },
  ],
};

function path(current: string, missing: string[] = []): StagePath {
  const stage = (value: string, final = false) => ({
    value, label: value, final, guidance: null, key_fields: [], key_conditions: [],
    time_limit: null, time_limit_text: null });
  return { field: "stage", label: "阶段",
           stages: [stage("initial"), stage("needs"), stage("quote"), stage("won", true),
                    stage("lost", true)],
           current: { value: current, entered_at: null, due_at: null, overdue: false,
                      missing: { fields: missing.map((name) => ({ name, label: name })),
                                 conditions: [] } },
           history: [] };
}

describe("the record page", () => {
  it("heads a record with a status, the owner, an amount and its main reference", () => {
    expect(headerFields(opportunity, ["stage"]).map((field) => field.name))
      .toEqual(["owner", "amount", "customer", "expected_close_date"]);
    expect(headerFields(opportunity).map((field) => field.name)[0]).toBe("stage");
  });

  it("places every stage of a path before, at or after the current one", () => {
    expect(stageStates(path("needs"))).toEqual(["done", "current", "ahead", "ahead", "ahead"]);
    expect(stageStates(path("lost"))).toEqual(["done", "done", "done", "skipped", "current"]);
    expect(stageStates(path("gone"))).toEqual(["ahead", "ahead", "ahead", "ahead", "ahead"]);
    expect([...missingFields(path("needs", ["budget", "pain_points"]))])
      .toEqual(["budget", "pain_points"]);
  });

  it("prefills a new related record with its direct link only", () => {
    expect(newRecordDefaults({ via: "customer" }, 7)).toEqual({ customer: "7" });
    expect(newRecordDefaults({ via: "contract.customer" }, 7)).toEqual({});
  });

  it("groups the timeline by day in the app's time zone and filters it by kind", () => {
    const entry = (id: string, at: string, type = "changed"): TimelineEntry => (
      { id, type, at, title: id, by: null });
    // 17:00 UTC is already the next day in Shanghai; 15:00 UTC is not
    const days = timelineDays([entry("a", "2026-11-02T23:30:00Z"),
                               entry("b", "2026-11-02T17:00:00Z", "activity"),
                               entry("c", "2026-11-02T15:00:00Z")], "en", "Asia/Shanghai");
    expect(days.map((day) => day.entries.map((item) => item.id))).toEqual([["a", "b"], ["c"]]);
    expect(days[0].day).toContain("November 3");
    expect(timelineShows("activity", entry("b", "", "activity"))).toBe(true);
    expect(timelineShows("changes", entry("b", "", "activity"))).toBe(false);
    expect(timelineShows("messages", entry("e", "", "email"))).toBe(true);
  });
});

describe("a new record from a related list", () => {
  it("starts with the values its address gives, typed, for the form's own fields", async () => {
    const { presetValues } = await import("@/forms/logic");
    const fields = [
      { name: "customer", label: "客户", type: "lookup", ref: "customer" },
      { name: "name", label: "姓名", type: "text" },
      { name: "is_primary", label: "主要", type: "boolean" },
      { name: "locked", label: "锁定", type: "text", readonly: true },
    ];
    expect(presetValues(fields, { customer: "42", name: "王", is_primary: "true",
                                  locked: "x", other: "y" }))
      .toEqual({ customer: 42, name: "王", is_primary: true });
    expect(presetValues(fields, { customer: "abc" })).toEqual({});
  });
});
