"""SLA clocks of flow instances (ticket response and resolution): they start with the
instance, count working time on the app's business calendar, stop while ``pause_when``
holds (waiting on the customer) and end when ``met_when`` holds. The record shows the state
(``status_field``: on_track → at_risk → breached, or met; ``due_field``: when it is due).
Each running stretch schedules an at-risk and a breach timer; a pause or the end makes them
stale (the stretch number moves on) and cancels them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from loom.engines.flows.calendar import BusinessCalendar
from loom.engines.flows.navigator import Arrival
from loom.engines.timing import parse_duration
from loom.metamodel.flows import ActionNode, SlaSpec
from loom.platform.flows.instance import Instance
from loom.platform.storage.system_tables import flow_slas, timers
from loom.platform.tasks.store import add_timer

SLA_TIMER_KINDS = ("sla_at_risk", "sla_breach")
OPEN = ("on_track", "at_risk", "breached")


def _calendar(instance: Instance, spec: SlaSpec) -> BusinessCalendar:
    app = instance.runtime.doc.app
    return BusinessCalendar.from_spec(app.calendars.get(spec.calendar or ""), app.timezone)


def _target(spec: SlaSpec, data: dict[str, Any]) -> int | None:
    text = spec.target
    if spec.targets is not None:
        text = spec.targets.values.get(str(data.get(spec.targets.field)), spec.targets.default)
    return int(parse_duration(text).delta.total_seconds()) if text else None


class SlaClocks:
    """Mixed into the FlowRuntime."""

    async def start_slas(self: Any, instance: Instance) -> None:
        if not instance.flow.spec.slas:
            return
        data, env = await self._data(instance)
        for name, spec in instance.flow.spec.slas.items():
            target = _target(spec, data)
            if target is None:
                continue
            result = await instance.conn.execute(insert(flow_slas).values(
                instance_id=instance.id, name=name, status="on_track", target_seconds=target,
                used_seconds=0, running_since=None, stretch=0).returning(flow_slas.c.id))
            row = dict((await instance.conn.execute(select(flow_slas).where(
                flow_slas.c.id == result.scalar_one()))).mappings().one())
            await self._settle_sla(instance, spec, row, data, env)

    async def recheck_slas(self: Any, instance: Instance) -> None:
        """After a save of the record: met, paused or running again."""
        rows = await self._open_slas(instance)
        if not rows:
            return
        data, env = await self._data(instance)
        for row in rows:
            await self._settle_sla(instance, instance.flow.spec.slas[row["name"]], row, data,
                                   env)

    async def _open_slas(self: Any, instance: Instance) -> list[dict[str, Any]]:
        rows = await instance.conn.execute(select(flow_slas).where(
            flow_slas.c.instance_id == instance.id, flow_slas.c.ended_at.is_(None))
            .order_by(flow_slas.c.id))
        return [dict(row) for row in rows.mappings()]

    async def _settle_sla(self: Any, instance: Instance, spec: SlaSpec, row: dict[str, Any],
                          data: dict[str, Any], env: Any) -> None:
        met, pause = instance.flow.slas[row["name"]]
        calendar, now = _calendar(instance, spec), instance.now
        used = row["used_seconds"]
        if row["running_since"] is not None:
            used += int(calendar.between(row["running_since"], now))
        if met.holds(data, env):
            status = "breached" if row["status"] == "breached" else "met"
            await self._save_sla(instance, row, status=status, used_seconds=used,
                                 running_since=None, ended_at=now)
            await self._show(instance, spec, status, None)
        elif pause is not None and pause.holds(data, env):
            if row["running_since"] is not None or row["stretch"] == 0:
                await self._save_sla(instance, row, used_seconds=used, running_since=None,
                                     due_at=None)
                await self._show(instance, spec, row["status"], None)
        elif row["running_since"] is None:
            left = max(row["target_seconds"] - used, 0)
            due = calendar.add(now, left)
            await self._save_sla(instance, row, used_seconds=used, running_since=now,
                                 due_at=due)
            risk = row["target_seconds"] * spec.at_risk - used
            if risk > 0 and row["status"] == "on_track":
                await self._sla_timer(instance, row, "sla_at_risk", calendar.add(now, risk))
            if row["status"] != "breached":
                await self._sla_timer(instance, row, "sla_breach", due)
            await self._show(instance, spec, row["status"], due)

    async def _save_sla(self: Any, instance: Instance, row: dict[str, Any],
                        **values: Any) -> None:
        """Store the clock; every change of stretch makes the old timers stale."""
        values["stretch"] = row["stretch"] + 1
        await instance.conn.execute(update(flow_slas).where(flow_slas.c.id == row["id"])
                                    .values(**values))
        await instance.conn.execute(update(timers).where(
            timers.c.sla_id == row["id"], timers.c.status == "pending")
            .values(status="cancelled", fired_at=instance.now))
        row.update(values)

    async def _sla_timer(self: Any, instance: Instance, row: dict[str, Any], kind: str,
                         due: datetime) -> None:
        timer = await add_timer(instance.conn, workspace_id=instance.runtime.workspace_id,
                                app_id=instance.runtime.app_id, kind=kind, due_at=due,
                                payload={"instance": instance.id, "stretch": row["stretch"]})
        await instance.conn.execute(update(timers).where(timers.c.id == timer)
                                    .values(sla_id=row["id"]))

    async def _show(self: Any, instance: Instance, spec: SlaSpec, status: str,
                    due: datetime | None) -> None:
        changes: dict[str, Any] = {}
        if spec.status_field:
            changes[spec.status_field] = status
        if spec.due_field:
            changes[spec.due_field] = due
        if changes:
            await self._write(instance, changes)

    async def fire_sla(self: Any, instance: Instance, timer: dict[str, Any]) -> bool:
        row = (await instance.conn.execute(select(flow_slas).where(
            flow_slas.c.id == timer["sla_id"]).with_for_update())).mappings().first()
        if row is None or row["ended_at"] is not None or row["running_since"] is None or \
                row["stretch"] != timer["payload"].get("stretch"):
            return False
        row = dict(row)
        spec = instance.flow.spec.slas[row["name"]]
        status = "at_risk" if timer["kind"] == "sla_at_risk" else "breached"
        await instance.conn.execute(update(flow_slas).where(flow_slas.c.id == row["id"])
                                    .values(status=status))
        await self._show(instance, spec, status, row["due_at"])
        if status == "breached" and spec.on_breach:
            node = ActionNode(type="action", actions=spec.on_breach)
            await self._run_actions(instance, Arrival(f"sla_{row['name']}"), node)
        return True

    async def stop_slas(self: Any, instance: Instance) -> None:
        """The instance ended: a clock whose target the record now meets is met (a ticket
        closed in the very save that ended the flow), the others stop where they are."""
        if not instance.flow.spec.slas:
            return  # the flow has no clocks (their rows come from its spec)
        rows = await self._open_slas(instance)
        data, env = await self._data(instance) if rows else ({}, None)
        for row in rows:
            spec = instance.flow.spec.slas[row["name"]]
            met, _pause = instance.flow.slas[row["name"]]
            if met.holds(data, env):
                await self._settle_sla(instance, spec, row, data, env)
                continue
            used = row["used_seconds"]
            if row["running_since"] is not None:
                used += int(_calendar(instance, spec).between(row["running_since"],
                                                               instance.now))
            await self._save_sla(instance, row, used_seconds=used, running_since=None,
                                 ended_at=instance.now)
