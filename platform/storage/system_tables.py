"""The platform's own tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create
them; a test proves the migrations and these definitions agree."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from loom.platform.storage.types import ID, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

system_metadata = MetaData(naming_convention=NAMING)

workspaces = Table(
    "workspaces", system_metadata,
    Column("id", ID, primary_key=True),
    Column("slug", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

departments = Table(
    "departments", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("parent_id", ID, ForeignKey("departments.id"), nullable=True),
    Column("head_id", ID, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

users = Table(
    "users", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("manager_id", ID, ForeignKey("users.id"), nullable=True),
    Column("department_id", ID, ForeignKey("departments.id"), nullable=True),
    Column("locale", String(10), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deactivated_at", UTCDateTime, nullable=True),
)

api_tokens = Table(
    "api_tokens", system_metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    # what the token may do: a subset of read, write, admin (NULL: rows from before scopes,
    # which may do whatever their user may)
    Column("scopes", JSON, nullable=True),
)

# Failed sign-ins per email and per client address (keys are hashes of either), and the
# lock they lead to. Kept in the database so every app process sees the same counts.
login_throttle = Table(
    "login_throttle", system_metadata,
    Column("key", String(80), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", UTCDateTime, nullable=True),
    Column("locked_until", UTCDateTime, nullable=True),
)

# Password reset links: single use, short-lived, stored as a SHA-256 hash only.
password_resets = Table(
    "password_resets", system_metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

apps = Table(
    "apps", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("slug", String(40), nullable=False),
    Column("label", JSON, nullable=False),
    Column("current_version", Integer, nullable=True),
    Column("draft", JSON, nullable=True),
    Column("draft_revision", Integer, nullable=False, default=0),
    Column("draft_updated_at", UTCDateTime, nullable=True),
    Column("draft_updated_by", ID, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", ID, ForeignKey("users.id"), nullable=True),
    UniqueConstraint("workspace_id", "slug"),
)

metadata_versions = Table(
    "metadata_versions", system_metadata,
    Column("id", ID, primary_key=True),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("document", JSON, nullable=False),
    Column("message", Text, nullable=True),
    Column("author_id", ID, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("app_id", "version"),
)

record_audit = Table(
    "record_audit", system_metadata,
    Column("id", ID, primary_key=True),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("record_id", ID, nullable=False),
    Column("action", String(10), nullable=False),
    Column("version", Integer, nullable=False),
    Column("actor_id", ID, ForeignKey("users.id"), nullable=True),
    Column("source", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("changes", JSON, nullable=False),
    Index("ix_record_audit_record", "app_id", "entity", "record_id"),
)

serial_counters = Table(
    "serial_counters", system_metadata,
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
    Column("entity", String(40), primary_key=True),
    Column("field", String(40), primary_key=True),
    Column("period", String(20), primary_key=True),
    Column("value", ID, nullable=False),
)

outbox = Table(
    "outbox", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=True),
    Column("kind", String(20), nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("payload", JSON, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    # the record whose change sent it (its timeline shows it), when there is one
    Column("entity", String(40), nullable=True),
    Column("record_id", ID, nullable=True),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_record", "app_id", "entity", "record_id"),
)

notifications = Table(
    "notifications", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=True),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=True),
    # title and body for any reader's language (metamodel.i18n.stored_text); the columns
    # above hold them as the recipient read them when written
    Column("texts", JSON, nullable=True),
    Column("entity", String(40), nullable=True),
    Column("record_id", ID, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime, nullable=True),
    Index("ix_notifications_inbox", "user_id", "read_at"),
    Index("ix_notifications_record", "app_id", "entity", "record_id"),
)

role_members = Table(
    "role_members", system_metadata,
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(40), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), primary_key=True),
)

rule_runs = Table(
    "rule_runs", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("app_version", Integer, nullable=False),
    Column("rule", String(40), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("record_id", ID, nullable=True),
    Column("trigger", String(20), nullable=False),
    Column("status", String(10), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", ID, ForeignKey("users.id"), nullable=True),
    Column("source", String(20), nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("error", Text, nullable=True),
    Index("ix_rule_runs_record", "app_id", "entity", "record_id"),
    Index("ix_rule_runs_rule", "app_id", "rule"),
)

# What a timed rule has done, so running the worker twice fires nothing twice: one row per
# (rule, record, moment); record_id 0 marks a schedule's tick as done.
rule_firings = Table(
    "rule_firings", system_metadata,
    Column("id", ID, primary_key=True),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("rule", String(40), nullable=False),
    Column("record_id", ID, nullable=False),
    Column("slot", String(40), nullable=False),
    Column("fired_at", UTCDateTime, nullable=False),
    UniqueConstraint("app_id", "rule", "record_id", "slot"),
)

# Round-robin assignment: the last user chosen per rule action and candidate group.
assignment_pointers = Table(
    "assignment_pointers", system_metadata,
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("last_user_id", ID, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

tasks = Table(
    "tasks", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("entity", String(40), nullable=True),
    Column("record_id", ID, nullable=True),
    Column("kind", String(20), nullable=False),
    Column("title", Text, nullable=False),
    Column("notes", Text, nullable=True),
    Column("texts", JSON, nullable=True),  # title and notes for any reader's language
    Column("assignee_id", ID, ForeignKey("users.id"), nullable=True),
    Column("status", String(10), nullable=False),
    Column("due_at", UTCDateTime, nullable=True),
    Column("source_rule", String(40), nullable=True),
    Column("source_action", Integer, nullable=True),  # its index in the rule's actions
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime, nullable=True),
    Column("completed_by", ID, ForeignKey("users.id"), nullable=True),
    # flow tasks: the activation they belong to, the candidates of a pool, the decision
    Column("activation_id", ID, nullable=True, index=True),
    Column("candidates", JSON, nullable=True),
    Column("outcome", String(20), nullable=True),
    Column("comment", Text, nullable=True),
    Index("ix_tasks_inbox", "assignee_id", "status"),
    Index("ix_tasks_record", "app_id", "entity", "record_id"),
)

timers = Table(
    "timers", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True),
    Column("activation_id", ID, nullable=True, index=True),
    Column("sla_id", ID, nullable=True, index=True),
    Column("due_at", UTCDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(10), nullable=False),
    Column("fired_at", UTCDateTime, nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Index("ix_timers_due", "status", "due_at"),
)

# --- flows: instances pinned to the app version they started on, the paths waiting at a
# node (activations), and the append-only history ------------------------------------------

flow_instances = Table(
    "flow_instances", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("app_version", Integer, nullable=False),
    Column("flow", String(40), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("record_id", ID, nullable=False),
    Column("status", String(12), nullable=False),
    Column("outcome", String(40), nullable=True),
    Column("initiator_id", ID, ForeignKey("users.id"), nullable=True),
    Column("parent_activation_id", ID, nullable=True, index=True),  # of a subflow node
    Column("joins", JSON, nullable=False),
    Column("step", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Index("ix_flow_instances_record", "app_id", "entity", "record_id"),
)

flow_activations = Table(
    "flow_activations", system_metadata,
    Column("id", ID, primary_key=True),
    Column("instance_id", ID, ForeignKey("flow_instances.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("node", String(40), nullable=False),
    Column("branch", JSON, nullable=False),
    Column("status", String(12), nullable=False),
    Column("state", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
)

flow_history = Table(
    "flow_history", system_metadata,
    Column("id", ID, primary_key=True),
    Column("instance_id", ID, ForeignKey("flow_instances.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("node", String(40), nullable=True),
    Column("event", String(20), nullable=False),
    Column("actor_id", ID, ForeignKey("users.id"), nullable=True),
    Column("task_id", ID, nullable=True),
    Column("comment", Text, nullable=True),
    Column("details", JSON, nullable=False),
)

# SLA clocks of flow instances: working seconds used so far, since when the clock runs
# (None while paused), the due moment of the current stretch.
flow_slas = Table(
    "flow_slas", system_metadata,
    Column("id", ID, primary_key=True),
    Column("instance_id", ID, ForeignKey("flow_instances.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("name", String(40), nullable=False),
    Column("status", String(12), nullable=False),
    Column("target_seconds", Integer, nullable=False),
    Column("used_seconds", Integer, nullable=False),
    Column("running_since", UTCDateTime, nullable=True),
    Column("due_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("stretch", Integer, nullable=False),
)

# Who changed an app's metadata, when and how: drafts saved, publishes, rollbacks, imports,
# template upgrades, deletion. Keyed by the app's slug as well, so the trail outlives the
# app (a deleted app's row keeps its slug, its app_id becomes NULL). Append-only.
metadata_audit = Table(
    "metadata_audit", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="SET NULL"), nullable=True),
    Column("app_slug", String(40), nullable=False),
    Column("action", String(20), nullable=False),
    Column("version", Integer, nullable=True),
    Column("draft_revision", Integer, nullable=True),
    Column("actor_id", ID, ForeignKey("users.id"), nullable=True),
    Column("source", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("message", Text, nullable=True),
    Column("changes", JSON, nullable=False),
    Index("ix_metadata_audit_app", "workspace_id", "app_slug", "id"),
)

# Files uploaded for the file and image fields of an app's records: the bytes live under
# ``data_dir/files``; a record's field holds the descriptor with the unguessable key.
stored_files = Table(
    "stored_files", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(64), nullable=False, unique=True),
    Column("entity", String(40), nullable=False),
    Column("field", String(40), nullable=False),
    Column("name", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", ID, ForeignKey("users.id"), nullable=True),
    Column("uploaded_at", UTCDateTime, nullable=False),
)

# What the web app keeps per person: a grid's columns and sort, and the like (by key).
user_preferences = Table(
    "user_preferences", system_metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("value", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "key"),
)

# A person's own saved views of a list: its base (an entity, or a shared view) with their
# filter, sort and columns. Builders may share one as a view of the app's metadata.
saved_views = Table(
    "saved_views", system_metadata,
    Column("id", ID, primary_key=True),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("base", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_saved_views_user_id", "user_id", "app_id"),
)

# Who changed people and their rights, when and how: users added and edited (old → new,
# administrator rights and deactivation included), API tokens issued and revoked, passwords
# changed or reset. Never a secret: a token is named, a password only said to have changed.
# Append-only, like the other trails.
security_audit = Table(
    "security_audit", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", ID, ForeignKey("users.id"), nullable=True),
    Column("source", String(20), nullable=False),
    Column("action", String(30), nullable=False),
    Column("user_id", ID, ForeignKey("users.id"), nullable=True),
    Column("changes", JSON, nullable=False),
    Index("ix_security_audit_workspace", "workspace_id", "id"),
)

# The template an app was created from, as it was when last installed or upgraded: the base
# layer under the app's own changes. ``pending_*`` holds a template upgrade merged into the
# draft, which becomes the base when that draft is published.
app_bases = Table(
    "app_bases", system_metadata,
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
    Column("template", String(40), nullable=False),
    Column("template_version", String(40), nullable=True),
    Column("document", JSON, nullable=False),
    Column("installed_at", UTCDateTime, nullable=False),
    Column("pending_version", String(40), nullable=True),
    Column("pending_document", JSON, nullable=True),
)

# Records shared explicitly with a user, beyond what their roles reach.
record_shares = Table(
    "record_shares", system_metadata,
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
    Column("entity", String(40), primary_key=True),
    Column("record_id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("access", String(10), nullable=False),
    Column("shared_by", ID, ForeignKey("users.id"), nullable=True),
    Column("shared_at", UTCDateTime, nullable=False),
    Index("ix_record_shares_user", "app_id", "entity", "user_id"),
)

# Runs of an app's jobs (RFM scoring …): what ran, as of which date, how it went. A
# scheduled run carries its tick as ``slot``, and the unique (app, job, slot) makes the
# worker run each due time once, however many workers race for it; on-demand runs have none.
job_runs = Table(
    "job_runs", system_metadata,
    Column("id", ID, primary_key=True),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("job", String(40), nullable=False),
    Column("trigger", String(10), nullable=False),
    Column("slot", String(40), nullable=True),
    Column("as_of", Date, nullable=False),
    Column("status", String(10), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("actor_id", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("counts", JSON, nullable=False),
    Column("result", JSON, nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("app_id", "job", "slot"),
    Index("ix_job_runs_app_job", "app_id", "job", "id"),
)

# Long work a request started and a client follows (``platform/operations``): a demo load,
# an import, a hand-over. Progress is saved with the work it counts; ``heartbeat_at`` says
# the process running it is alive, so a server that starts finds those left by a dead one.
operations = Table(
    "operations", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=True),
    Column("kind", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("params", JSON, nullable=False),
    Column("done", Integer, nullable=False),
    Column("total", Integer, nullable=True),
    Column("step", JSON, nullable=True),
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("started_by", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("runner", String(100), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("heartbeat_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_operations_workspace_status", "workspace_id", "status", "id"),
    Index("ix_operations_started_by", "started_by", "id"),
)

# Deleted records, kept for LOOM_RECYCLE_DAYS so they can be restored: one row per delete,
# holding the record, the records its delete cascaded to (``payload.rows``, dependants
# first) and the references it cleared (``payload.cleared``). Restoring marks the row; the
# worker purges rows older than the retention period.
recycle_bin = Table(
    "recycle_bin", system_metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("record_id", ID, nullable=False),
    Column("title", Text, nullable=True),
    Column("app_version", Integer, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=False),
    Column("deleted_by", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("restored_at", UTCDateTime, nullable=True),
    Column("restored_by", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Index("ix_recycle_bin_app", "app_id", "entity", "id"),
    Index("ix_recycle_bin_deleted_at", "deleted_at"),
)

# The stages a record went through on each stage-path field (a select field whose options
# carry a stage SOP): when it entered and left each one, when its time limit falls due, and
# whether the owner was reminded. The open entry (``left_at`` blank) is the current stage.
stage_entries = Table(
    "stage_entries", system_metadata,
    Column("id", ID, primary_key=True),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("record_id", ID, nullable=False),
    Column("field", String(40), nullable=False),
    Column("value", String(100), nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Column("entered_by", ID, ForeignKey("users.id"), nullable=True),
    Column("left_at", UTCDateTime, nullable=True),
    Column("due_at", UTCDateTime, nullable=True),
    Column("reminded_at", UTCDateTime, nullable=True),
    Index("ix_stage_entries_record", "app_id", "entity", "record_id", "field"),
    # the reminder duty's question: open, unreminded, due
    Index("ix_stage_entries_due", "reminded_at", "left_at", "due_at"),
)

# Worker processes and when each last showed it is alive (``beat_at``, every few seconds
# from its own task) and finished a round of its duties (``round_at``): the readiness check
# and the administrators' worker page read them. Runtime state: never in a backup.
worker_heartbeats = Table(
    "worker_heartbeats", system_metadata,
    Column("worker", String(200), primary_key=True),  # host:pid
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
    Column("round_at", UTCDateTime, nullable=True),
    Column("rounds", Integer, nullable=False),
    Column("failed_rounds", Integer, nullable=False),
    Column("last_round", JSON, nullable=True),  # what the last round did, duty by duty
    Column("last_error", Text, nullable=True),
    Column("stopped_at", UTCDateTime, nullable=True),
)
