"""If-then rules: ``{"name", "entity", "trigger", "condition", "actions", "order", "enabled"}``.

A rule fires when its trigger happens and its condition (JSON Logic) holds; its actions run
in order. Record triggers (create, update, field_change, delete) decide during the save;
``schedule`` and ``date_offset`` rules are run by the worker; ``flow_event`` rules by the
flow engine. The expressions inside are checked by the engines at publish.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loom.metamodel.fields import ApiName, LocalizedText

Duration = Annotated[str, Field(pattern=r"^-?P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?"
                                        r"(T(\d+H)?(\d+M)?(\d+S)?)?$",
                                description="ISO 8601 duration, e.g. P3D, PT24H, -P1D")]
Expression = Any  # a literal, or JSON Logic


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Trigger(_Strict):
    on: Literal["create", "update", "delete", "field_change", "schedule", "date_offset",
                "flow_event"]
    fields: list[ApiName] | None = Field(
        default=None, description="field_change: the fields whose change fires the rule")
    cron: str | None = Field(default=None, description="schedule: cron, in the app's zone")
    field: ApiName | None = Field(default=None, description="date_offset: the date field")
    offset: Duration = Field(default="P0D", description="date_offset: after (or -before)")
    at: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = Field(
        default="09:00", description="date_offset on a date field: the time of day")
    catch_up: Duration = Field(
        default="P7D", description="date_offset: how late a missed moment still fires")
    flow: ApiName | None = None
    event: Literal["started", "completed", "approved", "rejected", "withdrawn"] | None = None


class Recipient(_Strict):
    """Who: ``user`` (by email), ``field`` (a user field, also through a lookup:
    ``team.manager``), ``manager`` (of a user field, the actor or the owner; N levels up),
    ``owner``, ``actor`` (who made the change), ``role`` (its members), ``email`` (an
    address, or ``field`` holding one)."""

    kind: Literal["user", "field", "manager", "owner", "actor", "role", "email"]
    user: str | None = None
    field: str | None = None
    of: str | None = Field(default=None, description="manager: 'owner', 'actor' or a field")
    levels: Annotated[int, Field(ge=1, le=10)] = 1
    role: ApiName | None = None
    email: str | None = None


class Candidates(_Strict):
    """The users an assignment chooses among."""

    users: list[str] | None = Field(default=None, description="emails")
    field: str | None = Field(default=None, description="a list of users, e.g. team.members")
    role: ApiName | None = None


class Load(_Strict):
    """For least-loaded assignment: what counts as one open item of a user."""

    entity: ApiName | None = Field(default=None, description="default: the rule's entity")
    field: ApiName | None = Field(default=None, description="default: the assigned field")
    condition: Expression = None


class SetField(_Strict):
    type: Literal["set_field"]
    field: ApiName
    value: Expression = None
    match: ApiName | None = Field(
        default=None, description="lookups: find the record whose unique field has value")


class RecordTarget(_Strict):
    entity: ApiName
    values: dict[ApiName, Expression] = Field(default_factory=dict)
    link: ApiName | None = Field(default=None,
                                 description="field of this record that keeps the new id")
    match: list[ApiName] | None = Field(
        default=None, description="reuse an existing record with these values instead")
    name: ApiName | None = Field(default=None,
                                 description="how later targets refer to it: {'created': name}")


class CreateRecord(RecordTarget):
    type: Literal["create_record"]


class Convert(_Strict):
    type: Literal["convert"]
    targets: Annotated[list[RecordTarget], Field(min_length=1, max_length=10)]


class UpdateRelated(_Strict):
    type: Literal["update_related"]
    lookup: ApiName | None = Field(default=None,
                                   description="the record this one's lookup points at")
    entity: ApiName | None = Field(default=None, description="records pointing at this one…")
    via: ApiName | None = Field(default=None, description="…through their lookup `via`")
    condition: Expression = None
    values: dict[ApiName, Expression]


class Assign(_Strict):
    type: Literal["assign"]
    field: ApiName | None = Field(default=None, description="default: the owner field")
    strategy: Literal["user", "field", "round_robin", "least_loaded", "pool"]
    user: str | None = None
    source: str | None = Field(default=None, description="strategy field: the user path")
    candidates: Candidates | None = None
    load: Load | None = None


class CreateTask(_Strict):
    type: Literal["create_task"]
    title: LocalizedText
    assignee: Recipient
    due: Duration | None = None
    remind_before: Duration | None = None
    escalate_after: Duration | None = Field(default=None,
                                            description="after the due time")
    escalate_to: Recipient | None = None
    notes: LocalizedText | None = None
    done_when: Expression = Field(
        default=None, description="the task closes by itself once a save of its record "
        "meets this condition (a call logged, the ticket resolved)")


class Notify(_Strict):
    type: Literal["notify"]
    to: Annotated[list[Recipient], Field(min_length=1)]
    title: LocalizedText
    body: LocalizedText | None = None


class SendEmail(_Strict):
    type: Literal["send_email"]
    to: Annotated[list[Recipient], Field(min_length=1)]
    cc: list[Recipient] = Field(default_factory=list)
    subject: LocalizedText
    body: LocalizedText
    locale: str | None = Field(default=None, description="default: the app's language")


class Webhook(_Strict):
    type: Literal["webhook"]
    url: Annotated[str, Field(pattern=r"^https?://")]
    secret_env: str | None = Field(default=None,
                                   description="environment variable holding the secret")
    body: dict[str, Expression] | None = Field(
        default=None, description="default: the event, the app, the entity and the record")


class StartFlow(_Strict):
    type: Literal["start_flow"]
    flow: ApiName


class Tag(_Strict):
    type: Literal["tag"]
    field: ApiName = "tags"
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


Action = Annotated[SetField | CreateRecord | Convert | UpdateRelated | Assign | CreateTask
                   | Notify | SendEmail | Webhook | StartFlow | Tag,
                   Field(discriminator="type")]


class RuleSpec(_Strict):
    name: ApiName | None = Field(default=None, description="Defaults to the key in `rules`")
    label: LocalizedText | None = None
    description: LocalizedText | None = None
    entity: ApiName
    trigger: Trigger
    condition: Expression = None
    actions: Annotated[list[Action], Field(min_length=1, max_length=50)]
    order: int = 100
    enabled: bool = True
    stop_on_match: bool = Field(default=False,
                                description="later rules of this trigger do not run")
    group: ApiName | None = Field(
        default=None, description="first match wins among the rules of one group")


class RecordAction(_Strict):
    """A button on a record (claim, release, convert, …): rule actions run through the
    pipeline, allowed while ``condition`` holds."""

    label: LocalizedText
    condition: Expression = None
    steps: Annotated[list[Action], Field(min_length=1, max_length=50)]
    confirm: LocalizedText | None = None
    unavailable_message: LocalizedText | None = Field(
        default=None, description="What people are told while the condition does not hold; "
        "default: the failing parts of the condition, in words")
