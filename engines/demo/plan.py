"""Running a recipe: the demo users and, step by step, the records to write — decided, not
written (the platform writes them through the pipeline). Each step and the users draw from
their own generator seeded with ``seed/<name>``, so the same seed and as-of moment give the
same plan, and changing one step leaves the others as they were."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from loom.engines.demo.specs import DateGen, Each, Recipe, Step, sized
from loom.engines.demo.values import Candidate, Ref, Scope, condition, generate, plain_values
from loom.engines.demo.vocabulary import vocabulary
from loom.metamodel.app import AppDocument
from loom.metamodel.fields import FieldSpec, FieldType

DATETIME_FIELD = FieldSpec(type=FieldType.DATETIME)


@dataclass(frozen=True)
class DemoUser:
    group: str
    email: str
    name: str
    title: str | None
    department: str | None
    manager: str | None  # the manager's email
    roles: tuple[str, ...]


@dataclass
class DemoRecord:
    step: str
    index: int
    values: dict[str, Any]
    moment: datetime  # when it happened: the clock the pipeline writes it under
    record_id: int | None = None  # an existing record this step changes
    stored: dict[str, Any] | None = None  # that record as stored, with the changes

    @property
    def whole(self) -> dict[str, Any]:
        """All the record's values, as a child step reads its parent."""
        return self.stored if self.stored is not None else self.values

    @property
    def reference(self) -> Any:
        """What a child's lookup holds: the stored id, or the place of a new record."""
        return self.record_id if self.record_id is not None else Ref(self.step, self.index)


@dataclass
class StepPlan:
    step: Step
    records: list[DemoRecord]

    def in_time_order(self) -> list[DemoRecord]:
        return sorted(self.records, key=lambda r: (r.moment, r.index))


@dataclass
class DemoPlan:
    users: list[DemoUser]
    steps: list[StepPlan] = field(default_factory=list)

    def count(self) -> int:
        return sum(len(step.records) for step in self.steps)


def make_users(recipe: Recipe, seed: int, size: str, domain: str | None = None
               ) -> list[DemoUser]:
    """The demo's people, group by group; a group's manager is the first user of the group
    it names."""
    if recipe.users is None:
        return []
    rng, words = random.Random(f"{seed}/users"), vocabulary()
    domain = domain or recipe.users.domain
    made: list[DemoUser] = []
    taken: set[str] = set()
    first: dict[str, str] = {}
    for group in recipe.users.groups:
        for _ in range(sized(group.count, size)):
            name = words.person_name(rng)
            local, n = words.pinyin(name), 1
            while f"{local}{n if n > 1 else ''}@{domain}" in taken:
                n += 1
            email = f"{local}{n if n > 1 else ''}@{domain}"
            taken.add(email)
            first.setdefault(group.name, email)
            made.append(DemoUser(group.name, email, name, group.title, group.department,
                                 first.get(group.manager) if group.manager else None,
                                 tuple(group.roles)))
    return made


def make_plan(recipe: Recipe, document: AppDocument, *, seed: int, as_of: datetime,
              size: str | None = None, existing: dict[str, list[dict[str, Any]]] | None = None,
              users: list[DemoUser] | None = None) -> DemoPlan:
    """Every record the recipe makes. ``existing``: the app's stored records by entity (with
    ``id``), for steps that change them and references that point at them."""
    size = size or recipe.default_size
    users = users if users is not None else make_users(recipe, seed, size)
    tz = ZoneInfo(document.app.timezone)
    plan = DemoPlan(users)
    pools: dict[str, list[Candidate]] = {
        entity: [Candidate(row, record_id=row["id"]) for row in rows]
        for entity, rows in (existing or {}).items()}
    by_group: dict[str, list[str]] = {}
    for user in users:
        by_group.setdefault(user.group, []).append(user.email)
    made: dict[str, StepPlan] = {}
    for step in recipe.steps:
        maker = _StepMaker(step, document, random.Random(f"{seed}/{step.name}"), as_of, tz,
                           pools, by_group)
        if step.existing:
            records = maker.change_existing(pools.get(step.entity, []))
        elif step.per is not None:
            records = maker.per_parent(made[step.per])
        else:
            records = maker.count(sized(step.count or 0, size))
        step_plan = StepPlan(step, records)
        made[step.name] = step_plan
        plan.steps.append(step_plan)
        if not step.existing:
            pools.setdefault(step.entity, []).extend(
                Candidate(r.values, ref=Ref(step.name, r.index)) for r in records)
    return plan


class _StepMaker:
    def __init__(self, step: Step, document: AppDocument, rng: random.Random,
                 as_of: datetime, tz: ZoneInfo, pools: dict[str, list[Candidate]],
                 users: dict[str, list[str]]) -> None:
        self.step, self.rng, self.as_of, self.tz = step, rng, as_of, tz
        self.fields = document.entities[step.entity].fields
        self.pools, self.users = pools, users
        self.where = condition(step.where) if step.where is not None else None

    def count(self, how_many: int) -> list[DemoRecord]:
        return [self._record(i, None, None, None, 0, 1, {}) for i in range(how_many)]

    def per_parent(self, parents: StepPlan) -> list[DemoRecord]:
        records: list[DemoRecord] = []
        for parent in parents.records:
            if not self._holds(parent.whole):
                continue
            children = _how_many(self.step.each or Each(), self.rng)
            splits: dict[str, Any] = {}
            for k in range(children):
                records.append(self._record(len(records), parent.whole, parent.reference,
                                            parent.moment, k, children, splits))
        return records

    def change_existing(self, stored: list[Candidate]) -> list[DemoRecord]:
        records = []
        for candidate in stored:
            if not self._holds(candidate.values):
                continue
            record = self._record(len(records), None, None, None, 0, 1, {},
                                  base=candidate.values)
            record.record_id = candidate.record_id
            record.stored = {**candidate.values, **record.values}
            records.append(record)
        return records

    def _holds(self, values: dict[str, Any]) -> bool:
        return self.where is None or bool(self.where.evaluate(plain_values(values)))

    def _record(self, index: int, parent: dict[str, Any] | None, parent_value: Any,
                parent_moment: datetime | None, sibling: int, siblings: int,
                splits: dict[str, Any], base: dict[str, Any] | None = None) -> DemoRecord:
        values: dict[str, Any] = dict(base or {})
        scope = Scope(self.rng, vocabulary(), self.as_of, self.tz, values, parent,
                      parent_value, sibling if parent is not None else index, siblings,
                      self.pools, self.users, splits, moment=parent_moment)
        changed: dict[str, Any] = {}
        if isinstance(self.step.moment, DateGen):
            scope.moment = generate(self.step.moment, DATETIME_FIELD, scope)
        for name, spec in self.step.fields.items():
            value = generate(spec, self.fields[name], scope)
            values[name] = value
            changed[name] = value
        moment = self._moment(values.get(self.step.moment) if isinstance(
            self.step.moment, str) else scope.moment, parent_moment)
        return DemoRecord(self.step.name, index, changed if base is not None else values,
                          moment)

    def _moment(self, value: Any, parent_moment: datetime | None) -> datetime:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            seconds = round(self.rng.uniform(9, 18) * 3600)
            moment = datetime.combine(value, time(0), self.tz) + timedelta(seconds=seconds)
        else:
            moment = parent_moment or self.as_of
        return min(moment, self.as_of)


def _how_many(each: Each, rng: random.Random) -> int:
    if each.distribution == "geometric":
        mean = max((each.mean or (each.min + each.max) / 2) - each.min, 0.01)
        p = 1 / (mean + 1)
        count = each.min + math.floor(math.log(1 - rng.random()) / math.log(1 - p))
    else:
        count = rng.randint(each.min, max(each.min, each.max))
    return min(count, each.max)
