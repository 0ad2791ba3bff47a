// The apps the reader may use and, for the app open now, its reader schema: the entities,
// views, forms and dashboards this reader may open, labelled in their language.
import { defineStore } from "pinia";
import { computed, ref } from "vue";

import { api, type AppSummary, type EntitySchema, type ReaderSchema } from "@/api";
import { currentLocale } from "@/i18n";

export function localized(label: AppSummary["label"] | null | undefined): string {
  if (!label) return "";
  if (typeof label === "string") return label;
  return label[currentLocale()] ?? label["zh-CN"] ?? label.en ?? Object.values(label)[0] ?? "";
}

export const useWorkspace = defineStore("workspace", () => {
  const apps = ref<AppSummary[] | null>(null);
  const schema = ref<ReaderSchema | null>(null);
  let schemaKey = "";

  async function loadApps(force = false): Promise<AppSummary[]> {
    if (!apps.value || force) apps.value = await api.apps();
    return apps.value;
  }

  /** The reader schema of ``slug`` in the current language (cached until either changes). */
  async function open(slug: string, force = false): Promise<ReaderSchema> {
    const key = `${slug}|${currentLocale()}`;
    if (!schema.value || schemaKey !== key || force) {
      schema.value = await api.schema(slug);
      schemaKey = key;
    }
    return schema.value;
  }

  function reset(): void {
    apps.value = null;
    schema.value = null;
    schemaKey = "";
  }

  const entities = computed(() => new Map((schema.value?.entities ?? []).map(
    (entity) => [entity.name, entity] as [string, EntitySchema])));

  return { apps, schema, entities, loadApps, open, reset };
});
