// What the record page decides without a server: which fields the header shows, where each
// stage of a stage path stands, what a related list's "new" is prefilled with, and how the
// timeline is grouped by day. Pure, so it is tested without a browser.
import type { EntitySchema, FieldSchema, RelatedList, StagePath, TimelineEntry } from "@/api";

const HEADER_FIELDS = 4;
// the kinds of field that say most about a record at a glance, in the order they are taken
// the kinds of field that say most about a record at a glance, in the order they are taken
const HEADER_PREFERENCE: ((field: FieldSchema) => boolean)[] = [
  (field) => field.type === "select" && !!field.options?.some((option) => option.category),
  (field) => field.type === "user",
  (field) => field.type === "currency" || (field.type === "rollup" && field.returns === "currency")
    || (field.type === "formula" && field.returns === "currency"),
  (field) => field.type === "lookup",
  (field) => field.type === "date" || field.type === "datetime",
];

/** The few fields the header shows: a status (a select whose options have categories), the
 *  owner, an amount, the main reference, a date — never the title (it is the heading) nor
 *  a stage-path field (the path shows it). */
export function headerFields(entity: EntitySchema, stageFields: string[] = []): FieldSchema[] {
  const candidates = entity.fields.filter((field) => field.name !== entity.title_field
    && !stageFields.includes(field.name));
  const chosen: FieldSchema[] = [];
  for (const kind of HEADER_PREFERENCE) {
    const found = candidates.find((field) => kind(field) && !chosen.includes(field));
    if (found) chosen.push(found);
    if (chosen.length === HEADER_FIELDS) break;
  }
  return chosen;
}

export type StageState = "done" | "current" | "ahead" | "skipped";

/** Where each stage stands: those before the current one are done; at a final stage (won,
 *  lost), every open stage is done and the other final stages were not taken. */
export function stageStates(path: StagePath): StageState[] {
  const current = path.stages.findIndex((stage) => stage.value === path.current.value);
  const finalNow = current >= 0 && path.stages[current].final;
  return path.stages.map((stage, index) => {
    if (index === current) return "current";
    if (current < 0) return "ahead";
    if (finalNow) return stage.final ? "skipped" : "done";
    return index < current && !stage.final ? "done" : "ahead";
  });
}

/** The key fields the record still lacks before it may move past its stage. */
export function missingFields(path: StagePath): Set<string> {
  return new Set(path.current.missing.fields.map((field) => field.name));
}

/** What "new" in a related list fills in: the link to this record, when the list's records
 *  point at it directly (through a path of lookups there is nothing single to fill). */
export function newRecordDefaults(list: Pick<RelatedList, "via">,
                                  recordId: number): Record<string, string> {
  return list.via.includes(".") ? {} : { [list.via]: String(recordId) };
}

export interface TimelineDay {
  day: string;
  entries: TimelineEntry[];
}

/** Entries grouped by their day in the app's time zone, keeping their order. */
export function timelineDays(entries: TimelineEntry[], locale: string,
                             timezone: string): TimelineDay[] {
  const format = new Intl.DateTimeFormat(locale, { timeZone: timezone, year: "numeric",
                                                   month: "long", day: "numeric",
                                                   weekday: "short" });
  const days: TimelineDay[] = [];
  for (const entry of entries) {
    const day = entry.at ? format.format(new Date(entry.at)) : "—";
    const last = days[days.length - 1];
    if (last && last.day === day) last.entries.push(entry);
    else days.push({ day, entries: [entry] });
  }
  return days;
}

export type TimelineFilter = "all" | "activity" | "changes" | "flows" | "messages";

const FILTERED: Record<Exclude<TimelineFilter, "all">, string[]> = {
  activity: ["activity"],
  changes: ["created", "changed", "deleted", "restored", "shared"],
  flows: ["flow"],
  messages: ["email", "notification"],
};

export function timelineShows(filter: TimelineFilter, entry: TimelineEntry): boolean {
  return filter === "all" || FILTERED[filter].includes(entry.type);
}
