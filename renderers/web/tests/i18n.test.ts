import { describe, expect, it } from "vitest";

import dashboard from "@/i18n/dashboard";
import form from "@/i18n/form";
import list from "@/i18n/list";
import record from "@/i18n/record";
import shell from "@/i18n/shell";

const AREAS = { shell, list, dashboard, form, record };

function keys(value: unknown, prefix = ""): string[] {
  if (!value || typeof value !== "object") return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => keys(inner, prefix ? `${prefix}.${key}` : key));
}

describe("the app's texts", () => {
  it.each(Object.entries(AREAS))("of %s exist in both languages", (_name, area) => {
    expect(keys(area.en).sort()).toEqual(keys(area["zh-CN"]).sort());
  });

  it.each(Object.entries(AREAS))("of %s are never empty", (_name, area) => {
    for (const locale of ["en", "zh-CN"] as const) {
      const flat = keys(area[locale]).map((key) => key.split(".").reduce<unknown>(
        (node, part) => (node as Record<string, unknown>)[part], area[locale]));
      expect(flat.every((text) => typeof text === "string" && text.trim())).toBe(true);
    }
  });
});
