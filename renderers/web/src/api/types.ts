// Shapes of the platform's answers the web app reads. App-specific record shapes stay
// dynamic: they are described at run time by the reader schema and the view schemas.

export type RecordData = Record<string, unknown> & { id: number; version: number };

export interface User {
  id: number;
  email: string;
  name: string;
  is_admin: boolean;
  locale: string | null;
  department?: string | null;
  manager?: string | null;
}

export interface AppSummary {
  slug: string;
  label: string | Record<string, string>;
  version: number | null;
}

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

export interface Operation {
  id: number;
  kind: string;
  status: "queued" | "running" | "succeeded" | "failed";
  app?: string | null;
  progress: { done: number; total: number | null; percent: number | null;
              step: { name: string; label: string } | null };
  error?: { detail?: string } | null;
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

export interface SavedViewIn {
  label: string;
  base: string;
  filter?: unknown;
  sort?: string | null;
  columns?: string[] | null;
  q?: string | null;
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
