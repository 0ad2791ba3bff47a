"""Writing demo data: the recipe's plan (``loom.engines.demo``) becomes users, role members
and records — every record through the one write pipeline, so defaults, formulas, roll-ups,
rules, flows and validation apply as for any other change.

History is simulated with the clock: each record is written by a pipeline whose clock
stands at the moment the recipe gives it (its order date, payment date, …), so its
``created_at``, audit entry, rule traces, tasks, timers and outbox entries carry that
moment, and rules that read "now" or "today" see it. Records of one step that fall on
the same day are written together (in small batches), under the first one's moment.

A load is checked first (``prepare_demo``: a refusal writes nothing), then written
(``write_demo``) in short transactions (``ShortTransactions``), so a load of thousands of
records never keeps anyone else waiting; progress is saved with each of them. A load that
fails part-way stops there: what it wrote stays, and its progress says how much that was.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.demo import (
    SIZES,
    DemoPlan,
    DemoRecord,
    DemoUser,
    Recipe,
    Ref,
    make_plan,
    make_users,
)
from loom.engines.demo.plan import StepPlan
from loom.metamodel.errors import BadRequest, Conflict, Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.platform.apps.roles import members, put_role
from loom.platform.apps.service import require_admin
from loom.platform.clock import FixedClock
from loom.platform.compiled.app import AppRuntime
from loom.platform.demo.recipes import app_recipe
from loom.platform.operations.progress import Progress, Step
from loom.platform.security.actors import Actor
from loom.platform.security.passwords import hash_password
from loom.platform.security.users import NewUser, create_user
from loom.platform.services import Services, build_services
from loom.platform.storage.chunks import ShortTransactions
from loom.platform.storage.system_tables import users, workspaces

MAX_EXISTING = 10_000  # stored records a recipe may read per entity (seed data is small)
# records written by one set-based create: fixed, not paced, because what the rules do
# depends on it (a roll-up saves its parent once per batch: versions, updated_at), and the
# same seed must give the same records on any machine; transactions stay short all the same,
# as they commit between batches once their budget is spent
BATCH = 4

register_messages({
    "demo_not_empty": {"en": "The app already has {count} {entity} record(s); demo data goes "
                             "into an empty app (force to add it anyway)",
                       "zh-CN": "应用已有 {count} 条“{entity}”记录；演示数据只加载到空应用"
                                "（强制加载请使用 force）"},
    "demo_unknown_size": {"en": "The size must be one of: {sizes}",
                          "zh-CN": "规模必须是以下之一：{sizes}"},
    "demo_records_refused": {"en": "The demo data recipe made {count} record(s) the app "
                                   "refuses",
                             "zh-CN": "演示数据配方生成的 {count} 条记录未通过校验"},
    "demo_bad_as_of": {"en": "The as-of moment must lie between the years 1971 and 9000",
                       "zh-CN": "基准时间必须在 1971 年到 9000 年之间"},
    "demo_email_elsewhere": {"en": "{email} belongs to another workspace",
                             "zh-CN": "{email} 属于另一个工作区"},
    "demo_step_people": {"en": "Demo people", "zh-CN": "演示人员"},
})


@dataclass
class DemoResult:
    slug: str
    seed: int
    size: str
    as_of: datetime
    password: str | None
    users: list[DemoUser]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "size": self.size, "as_of": self.as_of.isoformat(),
                "records": self.counts, "seconds": round(self.seconds, 2),
                "password": self.password,
                "users": [{"email": u.email, "name": u.name, "title": u.title,
                           "department": u.department, "roles": list(u.roles)}
                          for u in self.users]}


@dataclass(frozen=True)
class DemoRequest:
    """A load that passed its checks: what to write into which app."""

    slug: str
    app_id: int
    seed: int
    size: str
    as_of: datetime
    force: bool
    recipe_raw: Any = None  # None: the template's

    def as_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "size": self.size, "as_of": self.as_of.isoformat(),
                "force": self.force}


async def prepare_demo(services: Services, conn: AsyncConnection, actor: Actor, slug: str, *,
                       seed: int = 1, size: str | None = None, as_of: datetime | None = None,
                       force: bool = False, recipe_raw: Any = None) -> DemoRequest:
    """Check a load before anything is written: the recipe against the app, the size, the
    as-of moment, and (without ``force``) that the app has none of the records it makes."""
    require_admin(actor)
    runtime = await services.apps.runtime(conn, actor, slug)
    recipe = app_recipe(runtime.doc, recipe_raw)
    size = size or recipe.default_size
    if size not in SIZES:
        raise BadRequest(message("demo_unknown_size", sizes=", ".join(SIZES)))
    as_of = as_of or datetime.now(UTC)
    if not 1971 <= as_of.year <= 9000:  # a year of history before it, dates after it
        raise BadRequest(message("demo_bad_as_of"))
    as_of = as_of.astimezone(UTC).replace(microsecond=0)
    if not force:
        await _refuse_filled(conn, runtime, recipe)
    return DemoRequest(slug, runtime.app_id, seed, size, as_of, force, recipe_raw)


async def write_demo(services: Services, actor: Actor, request: DemoRequest,
                     progress: Progress | None = None) -> DemoResult:
    """Write a prepared load: the people, then the plan, in short transactions."""
    started = time.perf_counter()
    progress = progress or Progress()
    async with services.database.read() as conn:
        runtime = await services.apps.runtime(conn, actor, request.slug)
        recipe = app_recipe(runtime.doc, request.recipe_raw)
        domain = await _user_domain(conn, actor, recipe)
    people = make_users(recipe, request.seed, request.size, domain)
    chunks = ShortTransactions(services.database, budget_ms=services.settings.write_chunk_ms,
                               before_commit=progress.save)
    progress.so_far["records"] = {}  # so that a load stopped among the people says so
    progress.note(0, step=Step("people", message("demo_step_people")))
    async with chunks:
        await _plant_users(services, chunks, actor, request.slug, recipe, people,
                           refill_check=not request.force)
    async with services.database.read() as conn:
        existing = await _stored_records(conn, runtime, recipe)
    # deciding the data is pure and takes a moment: off the event loop, which serves others
    plan = await asyncio.to_thread(make_plan, recipe, runtime.doc, seed=request.seed,
                                   as_of=request.as_of, size=request.size, existing=existing,
                                   users=people)
    writer = _PlanWriter(services, actor.via("system"), request.slug, request.as_of)
    async with chunks:
        counts = await writer.write(plan, progress, chunks)
    return DemoResult(request.slug, request.seed, request.size, request.as_of,
                      recipe.users.password if recipe.users else None, people, counts,
                      time.perf_counter() - started)


async def load_demo(services: Services, actor: Actor, slug: str, *, seed: int = 1,
                    size: str | None = None, as_of: datetime | None = None,
                    force: bool = False, recipe_raw: Any = None,
                    progress: Progress | None = None) -> DemoResult:
    """Check, then write, a load in the foreground (the command line)."""
    async with services.database.read() as conn:
        request = await prepare_demo(services, conn, actor, slug, seed=seed, size=size,
                                     as_of=as_of, force=force, recipe_raw=recipe_raw)
    return await write_demo(services, actor, request, progress)


async def _refuse_filled(conn: AsyncConnection, runtime: AppRuntime, recipe: Recipe) -> None:
    """Demo data goes into an app without records of the entities it creates (a template's
    seed, such as the sales teams, is what a recipe builds on)."""
    for entity in dict.fromkeys(s.entity for s in recipe.steps if not s.existing):
        table = runtime.tables[entity]
        count = await conn.scalar(select(func.count()).select_from(table)) or 0
        if count:
            raise Conflict(message("demo_not_empty", count=count,
                                   entity=runtime.entity(entity).label))


async def _user_domain(conn: AsyncConnection, actor: Actor, recipe: Recipe) -> str | None:
    """The demo people's mail domain; outside the default workspace it names the workspace,
    as an email address belongs to one workspace only."""
    if recipe.users is None:
        return None
    slug = await conn.scalar(select(workspaces.c.slug).where(
        workspaces.c.id == actor.workspace_id))
    if slug in (None, "default"):
        return recipe.users.domain
    return f"{slug}.{recipe.users.domain}"


async def _plant_users(services: Services, chunks: ShortTransactions, actor: Actor,
                       slug: str, recipe: Recipe, people: list[DemoUser], *,
                       refill_check: bool) -> None:
    """Create the demo people (or find them, from an earlier demo app of the workspace) and
    put them in the app's roles; ``refill_check``: first make sure the app is still empty
    (another load may have filled it since the checks)."""
    # one hash for the one demo password: argon2 is slow on purpose (so outside any
    # transaction), and these accounts share a published password anyway
    shared_hash = await asyncio.to_thread(hash_password, recipe.users.password) \
        if recipe.users else None
    if refill_check:
        runtime = await services.apps.runtime(await chunks.connection(), actor, slug)
        await _refuse_filled(await chunks.connection(), runtime, recipe)
    if recipe.users is None:
        return
    for person in people:
        conn = await chunks.connection()
        row = (await conn.execute(select(users.c.workspace_id).where(
            users.c.email == person.email))).first()
        if row is not None:
            if row.workspace_id != actor.workspace_id:
                raise Conflict(message("demo_email_elsewhere", email=person.email))
            continue
        created = await create_user(conn, actor.workspace_id, NewUser(
            email=person.email, name=person.name, manager=person.manager,
            department=person.department, locale="zh-CN"), services.clock, actor=actor)
        await conn.execute(update(users).where(users.c.id == created["id"])
                           .values(password_hash=shared_hash))
        await chunks.checkpoint()
    conn = await chunks.connection()
    app_id = (await services.apps.runtime(conn, actor, slug)).app_id
    current = await members(conn, app_id)
    wanted: dict[str, list[str]] = {}
    for person in people:
        for role in person.roles:
            wanted.setdefault(role, [m["email"] for m in current.get(role, [])])
            wanted[role].append(person.email)
    for role, emails in wanted.items():
        await put_role(services.apps, await chunks.connection(), actor, slug, role, None,
                       list(dict.fromkeys(emails)), "en")
        await chunks.checkpoint()


async def _stored_records(conn: AsyncConnection, runtime: AppRuntime,
                          recipe: Recipe) -> dict[str, list[dict[str, Any]]]:
    """The stored records a recipe reads: those its steps change or its references may
    point at (a template's seed)."""
    wanted = {s.entity for s in recipe.steps if s.existing}
    wanted |= {spec.entity for s in recipe.steps for spec in s.fields.values()
               if spec.gen == "ref"}
    out = {}
    for entity in sorted(wanted):
        table = runtime.tables[entity]
        rows = (await conn.execute(select(table).order_by(table.c.id)
                                   .limit(MAX_EXISTING))).mappings().all()
        out[entity] = [dict(row) for row in rows]
    return out


class _PlanWriter:
    """Writes a plan step by step, each record under a clock set to its moment."""

    def __init__(self, services: Services, actor: Actor, slug: str, as_of: datetime) -> None:
        self.clock = FixedClock(as_of)
        # the same database and settings; only the clock is the simulation's
        self.services = build_services(services.settings, self.clock, services.database)
        self.actor, self.slug = actor, slug
        self.ids: dict[Ref, int] = {}

    async def write(self, plan: DemoPlan, progress: Progress,
                    chunks: ShortTransactions) -> dict[str, int]:
        async with self.services.database.read() as conn:
            runtime = await self.services.apps.runtime(conn, self.actor, self.slug)
        counts: dict[str, int] = progress.so_far.setdefault("records", {})
        total, done = plan.count(), 0
        for step_plan in plan.steps:
            entity = step_plan.step.entity
            step = Step(step_plan.step.name, runtime.entity(entity).label)
            counts.setdefault(entity, 0)
            progress.note(done, total, step)
            for day in _days(step_plan, runtime):
                start = 0
                while start < len(day):
                    batch, start = day[start:start + BATCH], start + BATCH
                    await self._write_batch(await chunks.connection(), runtime, step_plan,
                                            day[0].moment, batch)
                    done += len(batch)
                    counts[entity] += len(batch)
                    progress.note(done, total, step)
                    await chunks.checkpoint()
        return counts

    async def _write_batch(self, conn: AsyncConnection, runtime: AppRuntime,
                           step_plan: StepPlan, moment: datetime,
                           batch: list[DemoRecord]) -> None:
        step, pipeline = step_plan.step, self.services.pipeline
        self.clock.set(moment.astimezone(UTC))
        if step.existing:
            for record in batch:
                await pipeline.update(conn, runtime, self.actor, step.entity,
                                      record.record_id, self._values(record))
            return
        created, refused = await pipeline.create_valid(
            conn, runtime, self.actor, step.entity, [self._values(r) for r in batch])
        if refused:
            problems = [Problem(p.field, p.message, p.code, batch[pos].index)
                        for pos, found in sorted(refused.items()) for p in found]
            raise ValidationFailed(message("demo_records_refused", count=len(refused)),
                                   [Problem(f"{step.name}[{p.index}].{p.field or ''}",
                                            p.message, p.code) for p in problems[:20]])
        for pos, record in created.items():
            self.ids[Ref(step.name, batch[pos].index)] = record["id"]

    def _values(self, record: DemoRecord) -> dict[str, Any]:
        return {name: self.ids.get(value) if isinstance(value, Ref) else value
                for name, value in record.values.items() if value is not None}


def _days(step_plan: StepPlan, runtime: AppRuntime) -> list[list[DemoRecord]]:
    """The step's records by day (in the app's time zone), in time order."""
    zone = ZoneInfo(runtime.doc.app.timezone)
    days: list[list[DemoRecord]] = []
    for record in step_plan.in_time_order():
        day = record.moment.astimezone(zone).date()
        if days and days[-1][0].moment.astimezone(zone).date() == day:
            days[-1].append(record)
        else:
            days.append([record])
    return days
