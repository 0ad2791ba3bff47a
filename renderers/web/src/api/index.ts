// The platform's endpoints the web app uses, typed. One function per call.
import { http, type Query, send, url } from "./client";
import type {
  MyChange, Page, Person, PlatformAnswer, ReaderSchema, RecordData, SavedView, SavedViewIn,
  SearchGroup, User, ViewPage,
} from "./types";

export * from "./client";
export type * from "./types";

const app = (slug: string) => `/api/apps/${encodeURIComponent(slug)}`;

export const api = {
  me: () => http.get<PlatformAnswer<"/api/me", "get">>("/api/me", { quiet401: true }),
  updateMe: (changes: MyChange) =>
    http.patch<PlatformAnswer<"/api/me", "patch">>("/api/me", changes),
  signIn: (email: string, password: string) =>
    http.post<{ user: User }>("/api/auth/session", { email, password }, { quiet401: true }),
  signOut: () => http.delete<void>("/api/auth/session"),

  apps: () =>
    http.get<PlatformAnswer<"/api/apps", "get">>("/api/apps").then((body) => body.items),
  schema: (slug: string) => http.get<ReaderSchema>(`${app(slug)}/schema`),

  search: (slug: string, q: string) =>
    http.get<{ groups: SearchGroup[] }>(`${app(slug)}/search`, { query: { q } })
      .then((body) => body.groups),

  records: (slug: string, entity: string, query: Query) =>
    http.get<Page>(`${app(slug)}/records/${entity}`, { query }),
  record: (slug: string, entity: string, id: number) =>
    http.get<RecordData>(`${app(slug)}/records/${entity}/${id}`),

  view: (slug: string, name: string, query: Query) =>
    http.get<ViewPage>(`${app(slug)}/views/${encodeURIComponent(name)}`, { query }),
  updateRecord: (slug: string, entity: string, id: number, version: number,
                 changes: Record<string, unknown>) =>
    send<RecordData>("PATCH", `${app(slug)}/records/${entity}/${id}`,
                     { body: changes, ifMatch: version }).then((answer) => answer.data),
  deleteRecord: (slug: string, entity: string, id: number, version: number) =>
    send<void>("DELETE", `${app(slug)}/records/${entity}/${id}`, { ifMatch: version })
      .then(() => undefined),
  exportUrl: (slug: string, entity: string, query: Query) =>
    url(`${app(slug)}/records/${entity}/export`, query),

  savedViews: (slug: string, base: string) =>
    http.get<{ items: SavedView[] }>(`${app(slug)}/saved-views`, { query: { base } })
      .then((body) => body.items),
  saveView: (slug: string, view: SavedViewIn, id?: number) =>
    id === undefined ? http.post<SavedView>(`${app(slug)}/saved-views`, view)
      : http.put<SavedView>(`${app(slug)}/saved-views/${id}`, view),
  deleteSavedView: (slug: string, id: number) =>
    http.delete<void>(`${app(slug)}/saved-views/${id}`),
  shareSavedView: (slug: string, id: number, name: string, label: Record<string, string>) =>
    http.post<unknown>(`${app(slug)}/saved-views/${id}/share`, { name, label }),

  // read by prefix: a preference not kept yet is simply absent (no 404 to report)
  preferences: (prefix: string) =>
    http.get<{ items: Record<string, unknown> }>("/api/me/preferences", { query: { prefix } })
      .then((body) => body.items),
  keepPreference: (key: string, value: unknown) =>
    http.put<unknown>(`/api/me/preferences/${key}`, value),

  people: (query: Query) =>
    http.get<{ items: Person[] }>("/api/people", { query }).then((body) => body.items),
  departments: (q: string) =>
    http.get<{ items: { id: number; name: string }[] }>("/api/departments", { query: { q } })
      .then((body) => body.items),

  dashboard: <T>(slug: string, name: string, query: Query) =>
    http.get<T>(`${app(slug)}/dashboards/${encodeURIComponent(name)}`, { query }),

  operations: (query: Query) =>
    http.get<PlatformAnswer<"/api/operations", "get">>("/api/operations", { query })
      .then((body) => body.items),
  operation: (id: number) =>
    http.get<PlatformAnswer<"/api/operations/{operation_id}", "get">>(
      `/api/operations/${id}`),
};
