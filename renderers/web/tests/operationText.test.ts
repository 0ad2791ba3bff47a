import { describe, expect, it } from "vitest";
import { createI18n } from "vue-i18n";

import type { Operation } from "@/api";
import shell from "@/i18n/shell";
import { finishedText, runningText } from "@/shell/operationText";

const { t } = createI18n({ legacy: false, locale: "en", messages: { en: shell.en } }).global;
const translate = (key: string, values?: Record<string, unknown>) => t(key, values ?? {});

function operation(kind: string, changes: Partial<Operation> = {}): Operation {
  return { id: 1, kind, status: "running", app: "crm",
           progress: { done: 40, total: 100, percent: 40,
                       step: { name: "rows", label: "Importing Customer records" } },
           ...changes };
}

describe("the progress banner's words", () => {
  it("name the demo load as such", () => {
    expect(runningText(translate, operation("demo_load"))).toBe(
      "Preparing the demo data: 40 of 100");
    expect(finishedText(translate, operation("demo_load", { status: "succeeded" }))).toBe(
      "The demo data is ready.");
  });

  it("name other work by its step", () => {
    expect(runningText(translate, operation("record_import"))).toBe(
      "Importing Customer records: 40 of 100");
    expect(finishedText(translate, operation("record_import", { status: "succeeded" }))).toBe(
      "Done: Importing Customer records.");
    expect(finishedText(translate, operation("record_import", {
      status: "failed", error: { detail: "1 row(s) were refused" } }))).toBe(
      "This did not finish: 1 row(s) were refused");
  });
});
