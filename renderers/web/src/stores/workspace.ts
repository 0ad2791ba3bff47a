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
  // the reader's grid preferences of the open app, fetched with its schema (not per list)
  const preferences = ref<Record<string, unknown>>({});
  let schemaKey = "";
  let pending: { key: string; answer: Promise<ReaderSchema> } | null = null;

  async function loadApps(force = false): Promise<AppSummary[]> {
    if (!apps.value || force) apps.value = await api.apps();
    return apps.value;
  }

  /** The reader schema of ``slug`` in the current language (cached until either changes). */
  async function open(slug: string, force = false): Promise<ReaderSchema> {
    const key = `${slug}|${currentLocale()}`;
    if (schema.value && schemaKey === key && !force) return schema.value;
    if (pending?.key === key && !force) return pending.answer;  // asked already: wait for it
    const answer = Promise.all([api.schema(slug),
                                api.preferences(`grid/${slug}/`).catch(() => ({}))])
      .then(([found, kept]) => {
        schema.value = found;
        preferences.value = kept;
        schemaKey = key;
        return found;
      }).finally(() => { if (pending?.answer === answer) pending = null; });
    pending = { key, answer };
    return answer;
  }

  function reset(): void {
    apps.value = null;
    schema.value = null;
    preferences.value = {};
    schemaKey = "";
  }

  /** Keep a preference of the open app (here at once, on the server soon after). */
  async function keepPreference(key: string, value: unknown): Promise<void> {
    preferences.value = { ...preferences.value, [key]: value };
    await api.keepPreference(key, value);
  }

  const entities = computed(() => new Map((schema.value?.entities ?? []).map(
    (entity) => [entity.name, entity] as [string, EntitySchema])));

  return { apps, schema, preferences, entities, loadApps, open, reset, keepPreference };
});
