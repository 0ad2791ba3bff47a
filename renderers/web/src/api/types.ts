// Shapes of the platform's answers the web app reads. Those the platform's OpenAPI document
// describes are taken from it (platform.d.ts, made by `npm run api:types` before every build
// and typecheck), so they cannot drift from the server; the view schemas' shapes are written
// here. App-specific record shapes stay dynamic: they are described at run time by the
// reader schema and the view schemas.
import type { components, paths } from "./platform";

type Schemas = components["schemas"];
type Method = "get" | "post" | "put" | "patch" | "delete";
type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : never;

type Known<T> = [T] extends [never] ? unknown : T;

/** The JSON a documented platform endpoint answers with (its 200, else its 201); unknown —
 * which no use of it gets past the typecheck — when the document does not say. */
export type PlatformAnswer<P extends keyof paths, M extends Method> = Known<
  NonNullable<paths[P][M]> extends { responses: infer R }
    ? R extends { 200: infer Ok } ? JsonOf<Ok> : R extends { 201: infer Made } ? JsonOf<Made>
      : never
    : never>;

export type RecordData = Record<string, unknown> & { id: number; version: number };

export type User = Schemas["User"];
export type AppSummary = Schemas["AppSummary"];
export type MyChange = Schemas["MyChange"];
export type Operation = Schemas["Operation"];
export type SavedViewIn = Schemas["SavedViewIn"];

export interface Option {
  value: string;
  label: string;
  category?: string | null;
  color?: string | null;
}

export interface FieldSchema {
  name: string;
  label: string;
  type: string;
  required?: boolean | unknown;
  readonly?: boolean;
  options?: Option[];
  ref?: string;
  entity?: string;
  format?: string;
  returns?: string;
  scale?: number;
  description?: string;
}

export interface ActionSchema {
  name: string;
  label: string;
  condition?: unknown;
}

export interface EntitySchema {
  name: string;
  label: string;
  plural_label?: string | null;
  title_field: string | null;
  permissions: Record<"create" | "read" | "update" | "delete" | "export" | "import", boolean>;
  fields: FieldSchema[];
  actions: ActionSchema[];
  default_form?: string | null;
  views?: string[];
}

export interface ViewSummary {
  name: string;
  label: string;
  entity: string;
  kind: "list" | "kanban";
  group_by?: string | null;
}

export interface ReaderSchema {
  app: { slug: string; label: string; description?: string | null; timezone: string;
         version: number; home?: { view?: string; dashboard?: string } };
  you: { roles: string[]; builder: boolean; admin: boolean };
  entities: EntitySchema[];
  views: ViewSummary[];
  forms: { name: string; label: string; entity: string }[];
  dashboards: { name: string; label: string }[];
}

export interface Page<T = RecordData> {
  items: T[];
  next_cursor: string | null;
  count?: number;
  count_capped?: boolean;
}

export interface SearchHit {
  id: number;
  title: string;
  subtitle?: string | null;
}

export interface SearchGroup {
  entity: string;
  label: string;
  items: SearchHit[];
}

export interface Person {
  id: number;
  name: string;
  email: string;
  department: string | null;
}

export interface SavedView extends SavedViewIn {
  id: number;
  updated_at: string;
}

export interface KanbanLane {
  value: string | null;
  label: string;
  category?: string | null;
  count: number;
  count_capped: boolean;
  sum?: number | null;
  items: RecordData[];
  next_cursor: string | null;
}

export interface ViewPage {
  view: ViewSummary & { sort?: string | null; page_size: number; sum?: string | null;
                        rank?: string | null };
  columns: FieldSchema[] | KanbanLane[];
  fields?: FieldSchema[];
  items?: RecordData[];
  next_cursor?: string | null;
  count?: number;
  count_capped?: boolean;
  titles?: Record<string, Record<string, string>>;
}

/** A condition in the condition language, or a constant. */
export type Condition = boolean | Record<string, unknown>;

/** A field as a form places it: its schema plus conditions, default, limits, computing. */
export interface FormField extends Omit<FieldSchema, "readonly"> {
  span?: number;
  help?: string | null;
  visible?: Condition;
  required?: Condition;
  readonly?: Condition;
  default?: unknown;
  min?: number;
  max?: number;
  max_length?: number;
  max_rating?: number;
  accept?: string[];
  rollup?: { subtable: string; function: "sum" | "count" | "min" | "max" | "avg";
             field: string | null; filter: Condition | null };
}

export interface FormFormula {
  field: string;
  tree: unknown;
}

export interface FormSubtable {
  field: string;
  entity: string;
  link_field: string;
  label: string;
  columns: FormField[];
  formulas: FormFormula[];
  max_rows: number;
  visible: Condition;
  readonly: Condition;
}

export interface FormSection {
  name: string;
  label: string;
  columns: number;
  collapsed: boolean;
  visible: Condition;
  fields: FormField[];
  subtables: FormSubtable[];
}

export interface FormTab {
  name: string;
  label: string;
  visible: Condition;
  sections: FormSection[];
}

export interface FormSchema {
  name: string;
  entity: string;
  label: string;
  description: string | null;
  entity_label: string;
  tabs?: FormTab[];
  sections?: FormSection[];
  formulas: FormFormula[];
  timezone: string;
  files: { max_bytes: number; accept: string; accept_images: string; kinds: string;
           image_kinds: string };
}

export interface FormCheck {
  valid: boolean;
  fields: Record<string, { visible: boolean; required: boolean; readonly: boolean }>;
  errors: { field: string | null; message: string }[];
  values: Record<string, unknown>;
  rows: Record<string, Record<string, unknown>[]>;
}

export interface FileValue {
  key?: string;
  url?: string;
  name: string;
  size?: number;
  type?: string;
}

// --- the record page (360°) ---------------------------------------------------------------

export interface ActionState {
  name: string;
  label: string;
  available: boolean;
  reason?: string;
  confirm?: string;
}

export interface KeyField {
  name: string;
  label: string;
}

export interface Stage {
  value: string;
  label: string;
  category?: string | null;
  final: boolean;
  guidance: string | null;
  key_fields: KeyField[];
  key_conditions: { label: string }[];
  time_limit: string | null;
  time_limit_text: string | null;
}

export interface StagePath {
  field: string;
  label: string;
  stages: Stage[];
  current: { value: string | null; entered_at: string | null; due_at: string | null;
             overdue: boolean;
             missing: { fields: KeyField[]; conditions: { label: string }[] } };
  history: { value: string; entered_at: string | null; left_at: string | null }[];
}

export interface RelatedList {
  name: string;
  entity: string;
  via: string;
  label: string;
  columns: FieldSchema[];
  items: RecordData[];
  titles?: Record<string, Record<string, string>>;
  count: number | null;
  count_capped: boolean;
  more: string;
}

export interface RecordView {
  entity: string;
  record: RecordData;
  actions: ActionState[];
  related: RelatedList[];
  stages: StagePath[];
  may: { update: boolean; delete: boolean };
}

export interface PersonRef {
  id: number;
  name: string;
}

export interface TimelineChange {
  field: string;
  label: string;
  old: unknown;
  new: unknown;
  old_text?: string;
  new_text?: string;
}

export interface TimelineEntry {
  id: string;
  type: "created" | "changed" | "deleted" | "restored" | "shared" | "activity" | "flow"
    | "email" | "notification" | string;
  at: string | null;
  title: string;
  by: PersonRef | null;
  source?: string;
  changes?: TimelineChange[];
  // activity
  entity?: string;
  entity_label?: string;
  record_id?: number;
  subject?: string;
  kind?: { value: string; label: string } | null;
  text?: { field: string; label: string; text: string }[];
  // flow
  flow?: { name: string; label: string; instance: number };
  event?: string;
  node_label?: string | null;
  comment?: string | null;
  assignee?: PersonRef | null;
  // email, notification
  to?: string[] | PersonRef | null;
  cc?: string[];
  status?: string;
  body?: string | null;
}

export interface TimelinePage {
  items: TimelineEntry[];
  next_cursor: string | null;
}

export interface FlowInstance {
  id: number;
  flow: string;
  label?: string;
  status: string;
  started_at: string;
  ended_at: string | null;
  waiting?: { node: string; label: string }[];
  open_tasks: { id: number; title: string; assignee_id: number | null;
                assignee_name?: string | null; candidates: number[] | null;
                due_at: string | null }[];
}

export interface Share {
  user_id: number;
  email: string;
  name: string;
  access: "read" | "write";
  shared_at: string;
}
