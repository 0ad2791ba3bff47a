// Values of one page in the reader's language and the app's time zone (one context, shared
// by the header, the fields, the stage path and the related lists).
import { computed, type Ref } from "vue";
import { useI18n } from "vue-i18n";

import type { FieldSchema } from "@/api";
import { useWorkspace } from "@/stores/workspace";
import { formatDateTime, formatValue, type Titles } from "@/widgets/format";

export function useFormat(titles: Ref<Titles | undefined>) {
  const { t, locale } = useI18n();
  const workspace = useWorkspace();
  const timezone = computed(() => workspace.schema?.app.timezone ?? "Asia/Shanghai");
  const context = computed(() => ({ locale: locale.value, timezone: timezone.value,
                                    titles: titles.value, yes: t("list.yes"),
                                    no: t("list.no") }));
  return {
    timezone,
    value: (field: FieldSchema, raw: unknown) => formatValue(field, raw, context.value),
    moment: (iso: string | null | undefined) => (iso ? formatDateTime(iso, locale.value,
                                                                       timezone.value) : ""),
  };
}
