// The endpoints record forms use, typed: loaded with the forms, not with the first screen.
import { http } from "./client";
import type { FileValue, FormCheck, FormSchema, RecordData } from "./types";

const app = (slug: string) => `/api/apps/${encodeURIComponent(slug)}`;

export const formsApi = {
  /** A record with the names of what it references (``_titles``). */
  recordWithTitles: (slug: string, entity: string, id: number) =>
    http.get<RecordData & { _titles?: Record<string, Record<string, string>> }>(
      `${app(slug)}/records/${entity}/${id}`, { query: { titles: true } }),
  createRecord: (slug: string, entity: string, values: Record<string, unknown>) =>
    http.post<RecordData>(`${app(slug)}/records/${entity}`, values),
  form: (slug: string, name: string) =>
    http.get<FormSchema>(`${app(slug)}/forms/${encodeURIComponent(name)}`),
  checkForm: (slug: string, name: string, values: Record<string, unknown>,
              signal?: AbortSignal) =>
    http.post<FormCheck>(`${app(slug)}/forms/${encodeURIComponent(name)}/check`, values,
                         { signal }),
  upload: (slug: string, entity: string, field: string, file: File) => {
    const body = new FormData();
    body.append("file", file);
    return http.post<FileValue>(`${app(slug)}/files/${entity}/${field}`, body);
  },
};
