// What the progress banner says of an operation: the demo load has words of its own; other
// work (an import, a hand-over) is named by the step it reports, in the reader's language.
import type { Operation } from "@/api";

type Translate = (key: string, values?: Record<string, unknown>) => string;

export function runningText(t: Translate, operation: Operation): string {
  const { done, total, step } = operation.progress;
  const label = step?.label ?? "…";
  if (operation.kind === "demo_load") {
    return total ? t("operation.demoLoading", { done, total })
      : t("operation.demoStep", { step: label });
  }
  return total ? t("operation.working", { step: label, done, total })
    : t("operation.workingStep", { step: label });
}

export function finishedText(t: Translate, operation: Operation): string {
  const reason = operation.error?.detail ?? "";
  if (operation.kind === "demo_load") {
    return operation.status === "failed" ? t("operation.failed", { reason })
      : t("operation.demoDone");
  }
  return operation.status === "failed" ? t("operation.workFailed", { reason })
    : t("operation.done", { step: operation.progress.step?.label ?? operation.kind });
}
