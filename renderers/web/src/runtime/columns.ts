// Which fields a list of an entity offers as columns, and which it shows before the reader
// chooses: short values first; long texts, files and line items are for the record page.
import type { EntitySchema, FieldSchema } from "@/api";

const NOT_LISTED = new Set(["subtable", "json", "rich_text", "signature", "location"]);
const NOT_SHOWN_FIRST = new Set(["textarea", "file", "image", "address", "multiselect"]);
const SHOWN_FIRST = 8;

export function systemColumns(label: (key: string) => string): FieldSchema[] {
  return [
    { name: "created_at", label: label("list.createdAt"), type: "datetime", readonly: true },
    { name: "updated_at", label: label("list.updatedAt"), type: "datetime", readonly: true },
  ];
}

export function entityColumns(entity: EntitySchema,
                              label: (key: string) => string): { columns: FieldSchema[];
                                                                  hidden: string[] } {
  const listed = entity.fields.filter((field) => !NOT_LISTED.has(field.type));
  const first = [
    ...listed.filter((field) => field.name === entity.title_field),
    ...listed.filter((field) => field.name !== entity.title_field
      && !NOT_SHOWN_FIRST.has(field.type)),
  ].slice(0, SHOWN_FIRST).map((field) => field.name);
  const known = new Set(listed.map((field) => field.name));
  const columns = [...listed, ...systemColumns(label).filter((field) => !known.has(field.name))];
  return { columns, hidden: columns.map((field) => field.name)
    .filter((name) => !first.includes(name)) };
}
