"""A delete says what it does before it does it: ``GET …/{id}/delete-impact`` answers what
deleting the record would delete (cascade, all the way down), clear (set null) and run
into (restrict), changing nothing; the delete itself answers what it did, and its recycle
bin item."""

from __future__ import annotations

from typing import Any

import httpx
from fixture_kit import if_match, problem_of
from lab_app import LAB, create


async def _customer(api: httpx.AsyncClient, name: str = "华为", *,
                    contacts: int = 0) -> dict[str, Any]:
    customer = await create(api, "customer", {"name": name})
    ref = {"customer": customer["id"]}
    visits = [await create(api, "visit", {"topic": f"v{n}", **ref}) for n in range(2)]
    return {"customer": customer,
            "contacts": [await create(api, "contact", {"name": f"c{n}", **ref})
                         for n in range(contacts)],
            "notes": [await create(api, "note", {"text": f"n{n}", **ref}) for n in range(3)],
            "visits": visits,
            "report": await create(api, "visit_report", {"summary": "ok",
                                                          "visit": visits[0]["id"]}),
            "sample": await create(api, "sample", {"title": "s", **ref})}


async def _versions(api: httpx.AsyncClient, made: dict[str, Any]) -> list[tuple[int, Any]]:
    """Every record of ``made`` as stored now: (version, customer or visit it points at)."""
    out = []
    for key in ("notes", "visits", "contacts"):
        for record in made[key]:
            entity = key[:-1]
            stored = (await api.get(f"{LAB}/{entity}/{record['id']}")).json()
            out.append((stored["version"], stored["customer"]))
    return out


async def test_the_impact_of_a_delete_changes_nothing(lab: httpx.AsyncClient) -> None:
    made = await _customer(lab, contacts=2)
    url = f"{LAB}/customer/{made['customer']['id']}"
    before = await _versions(lab, made)

    for locale, contact, report, refused in (
            ("en", "Contact", "Visit report", "still used by 2 Contact record(s)"),
            ("zh-CN", "联系人", "拜访报告", "仍被 2 条联系人记录引用")):
        response = await lab.get(f"{url}/delete-impact", headers={"accept-language": locale})
        assert response.status_code == 200, response.text
        impact = response.json()
        assert (impact["entity"], impact["id"], impact["allowed"]) == (
            "customer", made["customer"]["id"], False)
        # the visits would go, the report on one of them holds it back (further down)
        assert [(d["entity"], d["count"]) for d in impact["deletes"]] == [("visit", 2)]
        assert [(c["entity"], c["field"], c["count"]) for c in impact["clears"]] == [
            ("note", "customer", 3), ("sample", "customer", 1)]
        assert [(r["entity"], r["label"], r["count"]) for r in impact["restricts"]] == [
            ("contact", contact, 2), ("visit_report", report, 1)]
        assert refused in impact["errors"][0]["message"]
        assert impact["named_by"] == []

    assert await _versions(lab, made) == before
    assert (await lab.get(url)).json()["version"] == 1
    # the delete is refused for the same reasons, and changes nothing either
    problem = problem_of(await lab.delete(url, headers={**if_match(1),
                                                        "accept-language": "en"}), 409)
    assert [e["code"] for e in problem["errors"]] == ["referenced", "referenced"]
    assert await _versions(lab, made) == before


async def test_the_delete_answers_what_its_impact_said(lab: httpx.AsyncClient) -> None:
    made = await _customer(lab)
    kept = await _customer(lab, "腾讯")
    await lab.delete(f"{LAB}/visit_report/{made['report']['id']}", headers=if_match(1))
    url = f"{LAB}/customer/{made['customer']['id']}"

    impact = (await lab.get(f"{url}/delete-impact", headers={"accept-language": "en"})).json()
    done = await lab.delete(url, headers={**if_match(1), "accept-language": "en"})

    assert impact["allowed"] is True and impact["errors"] == [] and impact["restricts"] == []
    assert done.status_code == 200, done.text
    answer = done.json()
    assert (answer["entity"], answer["id"]) == ("customer", made["customer"]["id"])
    assert isinstance(answer["recycle_bin_id"], int)
    assert answer["deletes"] == impact["deletes"] == [
        {"entity": "visit", "label": "Visit", "count": 2}]
    assert answer["clears"] == impact["clears"] == [
        {"entity": "note", "label": "Note", "field": "customer", "field_label": "Customer",
         "count": 3},
        {"entity": "sample", "label": "Sample", "field": "customer", "field_label": "Customer",
         "count": 1}]
    # the other customer's records were not counted, nor touched
    for note in kept["notes"]:
        assert (await lab.get(f"{LAB}/note/{note['id']}")).json()["customer"] == \
            kept["customer"]["id"]


async def test_the_impact_of_what_cannot_be_reached(lab: httpx.AsyncClient) -> None:
    problem_of(await lab.get(f"{LAB}/customer/999/delete-impact"), 404)
    problem_of(await lab.get(f"{LAB}/nothing/1/delete-impact"), 404)


async def test_a_delete_clearing_many_references_is_not_a_runaway(
        lab: httpx.AsyncClient) -> None:
    """One delete may clear more references than a rule chain may write (500): it is the
    plan, not a runaway."""
    customer = await create(lab, "customer", {"name": "华为"})
    notes = await lab.post(f"{LAB}/note/_bulk", json=[
        {"text": f"n{n}", "customer": customer["id"]} for n in range(620)])
    assert notes.status_code == 201, notes.text
    url = f"{LAB}/customer/{customer['id']}"

    impact = (await lab.get(f"{url}/delete-impact")).json()
    deleted = await lab.delete(url, headers=if_match(customer))

    assert impact["clears"][0]["count"] == 620 and impact["allowed"] is True
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["clears"][0]["count"] == 620
    left = await lab.get(f"{LAB}/note", params={"filter": '{"!": {"is_blank": {"var": '
                                                          '"customer"}}}', "count": "true"})
    assert left.json()["count"] == 0
