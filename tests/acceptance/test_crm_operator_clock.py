"""Time moved the way an operator moves it: ``loom worker --once --as-of …`` in its own
process, against the CRM's database, while people use the API. The first-call reminder of
a claimed lead (CRM_TEMPLATE.md §1) and the nightly RFM run (§2) happen when the operator
says it is that moment — and not before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cli_run import loom
from crm_world import World

HOUR = timedelta(hours=1)


async def test_the_worker_run_as_of_a_moment_does_what_is_due_then(
        world: World, database_url: str, tmp_path: Path) -> None:
    lead = await world.create("lead", {"name": "何静", "company": "绍兴越州纺织有限公司",
                                       "phone": "13611112222", "region": "east_china",
                                       "source": "website"})
    assert (await world.action("lead", lead["id"], "claim", by="zhang")).status_code == 200
    customer = await world.create("customer", {"name": "绍兴越州纺织有限公司",
                                               "owner": world.id("zhang"), "tag": "formal"})
    await world.create("order", {"customer": customer["id"], "order_date": "2026-11-01",
                                 "amount": 8800}, by="finance")
    claimed = world.now()

    early = loom(database_url, "worker", "--once", "--as-of",
                 (claimed + 16 * HOUR).isoformat(), cwd=tmp_path)  # 01:30 the next night
    assert early.returncode == 0, early.stderr
    assert not any("首次电话联系" in t for t in await world.titles("zhang"))
    # the latest 02:00 is this morning's, which no worker had run yet: it runs now, once
    assert (await world.get("customer", customer["id"]))["rfm_as_of"] == "2026-11-02"

    later = loom(database_url, "worker", "--once", "--as-of",
                 (claimed + 21 * HOUR).isoformat(), cwd=tmp_path)  # 06:30

    assert later.returncode == 0, later.stderr
    reminders = [t for t in await world.titles("zhang") if "首次电话联系" in t]
    assert len(reminders) == 1, await world.titles("zhang")
    scored = await world.get("customer", customer["id"])
    assert scored["rfm_as_of"] == "2026-11-03" and scored["rfm_tier"] is not None

    bad = loom(database_url, "worker", "--as-of", "next tuesday", cwd=tmp_path)
    assert bad.returncode == 2 and "--as-of must be an ISO 8601" in bad.stderr
    assert "Traceback" not in bad.stderr
