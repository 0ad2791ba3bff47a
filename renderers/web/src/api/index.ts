// The platform's endpoints the web app uses, typed. One function per call.
import { http, type Query } from "./client";
import type {
  AppSummary, Operation, Page, ReaderSchema, RecordData, SearchGroup, User,
} from "./types";

export * from "./client";
export type * from "./types";

const app = (slug: string) => `/api/apps/${encodeURIComponent(slug)}`;

export const api = {
  me: () => http.get<User>("/api/me", { quiet401: true }),
  updateMe: (changes: Partial<Pick<User, "locale" | "name">>) =>
    http.patch<User>("/api/me", changes),
  signIn: (email: string, password: string) =>
    http.post<{ user: User }>("/api/auth/session", { email, password }, { quiet401: true }),
  signOut: () => http.delete<void>("/api/auth/session"),

  apps: () => http.get<{ items: AppSummary[] }>("/api/apps").then((body) => body.items),
  schema: (slug: string) => http.get<ReaderSchema>(`${app(slug)}/schema`),

  search: (slug: string, q: string) =>
    http.get<{ groups: SearchGroup[] }>(`${app(slug)}/search`, { query: { q } })
      .then((body) => body.groups),

  records: (slug: string, entity: string, query: Query) =>
    http.get<Page>(`${app(slug)}/records/${entity}`, { query }),
  record: (slug: string, entity: string, id: number) =>
    http.get<RecordData>(`${app(slug)}/records/${entity}/${id}`),

  operations: (query: Query) =>
    http.get<{ items: Operation[] }>("/api/operations", { query }).then((body) => body.items),
  operation: (id: number) => http.get<Operation>(`/api/operations/${id}`),
};
