// The calls of the record page (360°): kept apart from the app-wide client so they load
// with the record page, not with every first screen.
import { http, send } from "./client";
import type { FlowInstance, RecordData, RecordView, Share, TimelinePage } from "./types";

const app = (slug: string) => `/api/apps/${encodeURIComponent(slug)}`;

export const recordApi = {
  recordView: (slug: string, entity: string, id: number) =>
    http.get<RecordView>(`${app(slug)}/records/${entity}/${id}/related`),
  recordTitles: (slug: string, entity: string, id: number) =>
    http.get<RecordData & { _titles?: Record<string, Record<string, string>> }>(
      `${app(slug)}/records/${entity}/${id}`, { query: { titles: true } }),
  runAction: (slug: string, entity: string, id: number, name: string, version: number) =>
    send<RecordData>("POST", `${app(slug)}/records/${entity}/${id}/actions/${name}`,
                     { ifMatch: version }).then((answer) => answer.data),
  timeline: (slug: string, entity: string, id: number, cursor?: string | null) =>
    http.get<TimelinePage>(`${app(slug)}/records/${entity}/${id}/timeline`,
                           { query: { cursor, limit: 20 } }),
  flowInstances: (slug: string, entity: string, id: number) =>
    http.get<{ items: FlowInstance[] }>(`${app(slug)}/flow-instances`,
                                        { query: { entity, record: id } })
      .then((body) => body.items),
  shares: (slug: string, entity: string, id: number) =>
    http.get<{ items: Share[] }>(`${app(slug)}/records/${entity}/${id}/shares`)
      .then((body) => body.items),
  share: (slug: string, entity: string, id: number, user: string, access: "read" | "write") =>
    http.post<void>(`${app(slug)}/records/${entity}/${id}/shares`, { user, access }),
  unshare: (slug: string, entity: string, id: number, userId: number) =>
    http.delete<void>(`${app(slug)}/records/${entity}/${id}/shares/${userId}`),
};
