"""Flows: approval and process definitions. ``{"name", "entity", "start", "nodes", "edges"}``
— the implicit node ``start`` begins every flow; ``nodes`` are keyed by id; edges carry an
optional condition (JSON Logic on the record), an outcome (``approve``, ``reject``,
``timeout``, ``error``) or ``default``. A published flow is immutable: each instance runs on
the app version it started with. Checked by the flow engine at publish."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loom.metamodel.fields import ApiName, LocalizedText
from loom.metamodel.rules import Action, Candidates, Duration, Expression

START = "start"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FlowStart(_Strict):
    on: Literal["create", "update", "field_change", "manual"] = "manual"
    fields: list[ApiName] | None = None
    condition: Expression = None


class Assignee(_Strict):
    """Who handles a task: ``user`` (email), ``role``, ``manager`` (of the initiator or
    owner, N levels up, or up to the first manager holding ``up_to_role``),
    ``department_head`` (of the initiator's department), ``field`` (a user field),
    ``initiator``, ``owner``, or ``pool`` (candidates who claim the task)."""

    kind: Literal["user", "role", "manager", "department_head", "field", "initiator", "owner",
                  "pool"]
    user: str | None = None
    role: ApiName | None = None
    field: str | None = None
    of: Literal["initiator", "owner"] = "initiator"
    levels: Annotated[int, Field(ge=1, le=10)] = 1
    up_to_role: ApiName | None = None
    candidates: Candidates | None = None


class FlowTimer(_Strict):
    """Something that happens when a node has waited long: ``after`` its activation, or
    ``before_due`` of its deadline."""

    after: Duration | None = None
    before_due: Duration | None = None
    action: Literal["remind", "escalate", "reassign", "add_approver", "auto_approve",
                    "auto_reject", "auto_return", "timeout"]
    to: list[Assignee] = Field(default_factory=list)


class UserTask(_Strict):
    type: Literal["user_task"]
    label: LocalizedText
    kind: Literal["approval", "handle", "fill"] = "approval"
    assignees: Annotated[list[Assignee], Field(min_length=1)]
    mode: Literal["single", "any", "all", "sequential", "quorum"] = "single"
    quorum: Annotated[int, Field(ge=1)] | None = None
    due: Duration | None = None
    due_field: ApiName | None = None
    timers: list[FlowTimer] = Field(default_factory=list)
    field_permissions: dict[ApiName, Literal["hidden", "read", "write"]] = Field(
        default_factory=dict)
    cc: list[Assignee] = Field(default_factory=list)
    on_empty: Literal["auto_approve", "admin", "fail"] = "admin"
    initiator_approves: Literal["keep", "skip"] = Field(
        default="keep", description="when the initiator is among the approvers")
    resubmit: Literal["rerun", "return_to_me"] = Field(
        default="rerun", description="after a send-back: run the flow again from the "
        "returned node, or come straight back to this node")


class Retry(_Strict):
    max: Annotated[int, Field(ge=0, le=20)] = 3
    backoff: Duration = "PT1M"


class ActionNode(_Strict):
    type: Literal["action"]
    label: LocalizedText | None = None
    actions: Annotated[list[Action], Field(min_length=1)]
    retry: Retry = Field(default_factory=Retry)


class Gateway(_Strict):
    type: Literal["gateway"]
    label: LocalizedText | None = None
    kind: Literal["exclusive", "parallel", "inclusive"] = "exclusive"


class Join(_Strict):
    type: Literal["join"]
    label: LocalizedText | None = None


class Wait(_Strict):
    type: Literal["wait"]
    label: LocalizedText | None = None
    duration: Duration | None = None
    until_field: ApiName | None = None
    condition: Expression = None
    timeout: Duration | None = None


class Subflow(_Strict):
    type: Literal["subflow"]
    label: LocalizedText | None = None
    flow: ApiName


class End(_Strict):
    type: Literal["end"]
    label: LocalizedText | None = None
    outcome: ApiName | None = None
    terminate: bool = False


Node = Annotated[UserTask | ActionNode | Gateway | Join | Wait | Subflow | End,
                 Field(discriminator="type")]


class Edge(_Strict):
    source: str = Field(alias="from")
    to: str
    condition: Expression = None
    outcome: Literal["approve", "reject", "timeout", "error"] | None = None
    default: bool = False


class SlaTargets(_Strict):
    """A target chosen by a field of the record (priority p1 → PT1H, p2 → PT4H)."""

    field: ApiName
    values: dict[str, Duration]
    default: Duration | None = None


class SlaSpec(_Strict):
    """A clock over the whole instance: ``met_when`` stops it in time (or late), working
    time only (``calendar``), stopped while ``pause_when`` holds; its state is written to
    the record (``status_field``: on_track, at_risk, breached, met; ``due_field``)."""

    label: LocalizedText | None = None
    target: Duration | None = None
    targets: SlaTargets | None = None
    calendar: ApiName | None = Field(default=None, description="Default: round the clock")
    met_when: Expression
    pause_when: Expression = None
    status_field: ApiName | None = None
    due_field: ApiName | None = None
    at_risk: Annotated[float, Field(gt=0, lt=1)] = 0.8
    on_breach: list[Action] = Field(default_factory=list)


class FlowSpec(_Strict):
    name: ApiName | None = Field(default=None, description="Defaults to the key in `flows`")
    label: LocalizedText | None = None
    entity: ApiName
    start: FlowStart = Field(default_factory=FlowStart)
    nodes: dict[ApiName, Node]
    edges: Annotated[list[Edge], Field(min_length=1)]
    withdraw: Literal["before_action", "any_time", "never"] = "before_action"
    slas: dict[ApiName, SlaSpec] = Field(default_factory=dict)

    def outgoing(self, node: str) -> list[Edge]:
        return [edge for edge in self.edges if edge.source == node]

    def incoming(self, node: str) -> list[Edge]:
        return [edge for edge in self.edges if edge.to == node]

    def node_ids(self) -> set[str]:
        return {START, *self.nodes}

    def dump_edge(self, edge: Edge) -> dict[str, Any]:
        return edge.model_dump(by_alias=True, exclude_defaults=True)
