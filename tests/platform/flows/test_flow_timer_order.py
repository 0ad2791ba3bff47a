"""One worker, one instance, after downtime: a task's timers fire in the order they are
due, whatever order the flow lists them in (on both databases).

A task listing its auto-approval (after two hours) before its reminder (after one) still
gets the reminder first: leased work comes back in due order, and a timer fires the earlier
due timers of its node before itself.
"""

from __future__ import annotations

from collections import Counter

from flow_crowd import AFTER, STEPS, crowd_doc, outcome
from flow_office import Office

from loom.platform.services import Services
from loom.platform.worker import Worker


async def test_timers_listed_out_of_order_fire_in_due_order(services: Services) -> None:
    doc = crowd_doc()
    doc["flows"]["approval"]["nodes"]["manager"]["timers"].reverse()  # auto-approve first
    office = Office(services)
    await office.setup(doc)
    contract = await office.contract("5")
    report = await Worker(services).run_once(services.clock.now() + AFTER)
    result = await outcome(office, [contract])
    assert result.instances == {contract: ("completed", "approved")}
    assert result.timers == {contract: {0: "fired", 1: "fired"}}
    assert result.reminders == Counter({contract: 1})
    assert result.histories[contract] == STEPS
    assert report.done["flows"] == 2
