// The app's languages: zh-CN and English. The choice is remembered per user on the server
// (and in this browser until signed in); Element Plus and dayjs follow it.
import "dayjs/locale/zh-cn";

import dayjs from "dayjs";
import elEn from "element-plus/es/locale/lang/en";
import elZhCn from "element-plus/es/locale/lang/zh-cn";
import { computed } from "vue";
import { createI18n } from "vue-i18n";

import { setRequestLanguage } from "@/api/client";

import dashboard from "./dashboard";
import list from "./list";
import shell from "./shell";

// Every area's texts, merged per language (an area owns its top-level keys).
const AREAS = [shell, list, dashboard];
type Messages = Record<string, string | Record<string, unknown>>;
const merged = (locale: "zh-CN" | "en"): Messages =>
  Object.assign({}, ...AREAS.map((area) => area[locale] as Messages));

export const LOCALES = ["zh-CN", "en"] as const;
export type Locale = (typeof LOCALES)[number];
const STORED = "loom.locale";

function guess(): Locale {
  const stored = localStorage.getItem(STORED);
  if (stored === "en" || stored === "zh-CN") return stored;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

export const i18n = createI18n<[Messages], Locale, false>({
  legacy: false,
  locale: guess(),
  fallbackLocale: "en",
  messages: { "zh-CN": merged("zh-CN"), en: merged("en") },
});

/** Add the texts of an area loaded with its pages (kept out of the first screen's code). */
export function addArea(area: Record<Locale, Messages>): void {
  for (const locale of LOCALES) i18n.global.mergeLocaleMessage(locale, area[locale]);
}

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale;
}

export function applyLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  localStorage.setItem(STORED, locale);
  document.documentElement.lang = locale;
  dayjs.locale(locale === "zh-CN" ? "zh-cn" : "en");
  setRequestLanguage(locale);
}

export const elementLocale = computed(() => (i18n.global.locale.value === "zh-CN" ? elZhCn : elEn));

applyLocale(guess());
