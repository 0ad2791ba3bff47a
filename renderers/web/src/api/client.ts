// The one door to the server: JSON in and out, the session's CSRF token on every command,
// the reader's language, and problem+json answers turned into ApiError. Components never
// call fetch themselves.

import type { components } from "./platform";

// the problem+json document of every refusal, as the platform's OpenAPI document has it
export type FieldProblem = components["schemas"]["FieldProblem"];
export type Problem = components["schemas"]["Problem"] & { [extension: string]: unknown };

/** A refusal from the server, with its problem document. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly retryAfter: number | null;

  constructor(problem: Problem, retryAfter: number | null = null) {
    super(problem.detail || problem.title);
    this.status = problem.status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** Messages per field name ("" for the record as a whole). */
  byField(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const item of this.problem.errors ?? []) {
      (out[item.field ?? ""] ??= []).push(item.message);
    }
    return out;
  }
}

/** The server could not be reached at all (network down, server stopped). */
export class Unreachable extends Error {}

type Listener = () => void;
const listeners = { unauthenticated: new Set<Listener>(), unreachable: new Set<Listener>(),
                    reachable: new Set<Listener>() };

export function on(event: keyof typeof listeners, listener: Listener): () => void {
  listeners[event].add(listener);
  return () => listeners[event].delete(listener);
}

let language = "zh-CN";
export function setRequestLanguage(locale: string): void {
  language = locale;
}

const CSRF_COOKIE = "loom_csrf";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Whether this browser holds a session's cookies (it may still have expired). */
export function mayBeSignedIn(): boolean {
  return csrfToken() !== null;
}

function csrfToken(): string | null {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return null;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  ifMatch?: number | string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** a 401 is the caller's to handle (the sign-in page), not a redirect */
  quiet401?: boolean;
}

export function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export interface Answer<T> {
  data: T;
  status: number;
  headers: Headers;
}

export async function send<T>(method: string, path: string,
                              options: RequestOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: "application/json",
                                            "Accept-Language": language,
                                            ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) {
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] ??= "application/json";
  }
  if (UNSAFE.has(method)) {
    const token = csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
  }
  if (options.ifMatch !== undefined) headers["If-Match"] = `"${options.ifMatch}"`;
  let response: Response;
  try {
    response = await fetch(url(path, options.query), { method, headers, body,
                                                       credentials: "same-origin",
                                                       signal: options.signal });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    listeners.unreachable.forEach((listener) => listener());
    throw new Unreachable(String(error));
  }
  listeners.reachable.forEach((listener) => listener());
  if (response.status >= 400) {
    const problem = await readProblem(response);
    if (response.status === 401 && !options.quiet401) {
      listeners.unauthenticated.forEach((listener) => listener());
    }
    const retry = Number(response.headers.get("retry-after"));
    throw new ApiError(problem, Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  const data = response.status === 204 ? (undefined as T) : await readBody<T>(response);
  return { data, status: response.status, headers: response.headers };
}

async function readBody<T>(response: Response): Promise<T> {
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json")) return (await response.json()) as T;
  return (await response.text()) as unknown as T;
}

async function readProblem(response: Response): Promise<Problem> {
  try {
    const body = await response.json();
    if (body && typeof body === "object" && "status" in body) {
      return { errors: [], ...body } as Problem;
    }
  } catch {
    // not JSON: a proxy's page, say; fall through to a generic problem
  }
  return { type: "about:blank", title: response.statusText || "Error", status: response.status,
           detail: response.statusText || `HTTP ${response.status}`, errors: [] };
}

export const http = {
  get: <T>(path: string, options?: RequestOptions) =>
    send<T>("GET", path, options).then((answer) => answer.data),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    send<T>("POST", path, { ...options, body }).then((answer) => answer.data),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    send<T>("PUT", path, { ...options, body }).then((answer) => answer.data),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    send<T>("PATCH", path, { ...options, body }).then((answer) => answer.data),
  delete: <T>(path: string, options?: RequestOptions) =>
    send<T>("DELETE", path, options).then((answer) => answer.data),
};
