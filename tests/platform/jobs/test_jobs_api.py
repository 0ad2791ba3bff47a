"""Who may run and read jobs over HTTP (administrators and the app's builders; everyone
else is refused as elsewhere in the API), and the refusals of bad requests — on both
databases."""

from __future__ import annotations

import httpx
import pytest
from fixture_kit import finished
from shop_app import APP, bulk, run, shop_app

import loom.platform.api.routes.jobs as job_routes
from loom.platform.security.tokens import issue_token
from loom.platform.services import Services

ROLES = {"builder": {"app_builder": True, "permissions": {"customer": {"read": "all"}}},
         "clerk": {"permissions": {"customer": {"read": "all", "update": "all"},
                                   "order": {"read": "all"}}}}


async def _person(api: httpx.AsyncClient, services: Services, email: str) -> dict[str, str]:
    response = await api.post("/api/users", json={"email": email, "name": email[:5]})
    assert response.status_code == 201, response.text
    async with services.database.write() as conn:
        token = await issue_token(conn, response.json()["id"], services.clock)
    return {"Authorization": f"Bearer {token}"}


async def test_admins_and_builders_run_jobs_others_are_refused(
        api: httpx.AsyncClient, services: Services) -> None:
    doc = shop_app()
    doc["roles"] = ROLES
    assert (await api.post("/api/apps", json={"slug": "shop", "metadata": doc})).status_code \
        == 201
    (customer,) = await bulk(api, "customer", [{"code": "C1"}])
    await bulk(api, "order", [{"customer": customer["id"], "order_date": "1998-06-01",
                               "amount": "10.00"}])
    builder = await _person(api, services, "builder@example.com")
    clerk = await _person(api, services, "clerk@example.com")
    stranger = await _person(api, services, "stranger@example.com")
    for role, email in (("builder", "builder@example.com"), ("clerk", "clerk@example.com")):
        response = await api.put(f"{APP}/roles/{role}", json={"members": [email]})
        assert response.status_code == 200, response.text

    for headers in (clerk, stranger):
        refused = await run(api, "1998-07-01", headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (await api.get(f"{APP}/jobs", headers=headers)).status_code == 403
        assert (await api.get(f"{APP}/jobs/rfm/runs", headers=headers)).status_code == 403

    done = await run(api, "1998-07-01", headers=builder)
    assert done.status_code == 200, done.text
    assert done.json()["counts"]["changed"] == 1
    listed = (await api.get(f"{APP}/jobs", headers=builder)).json()["items"]
    assert listed[0]["last_run"]["id"] == done.json()["id"]
    assert (await run(api, "1998-07-01")).status_code == 200  # the administrator

    runs = (await api.get(f"{APP}/jobs/rfm/runs", params={"limit": 1})).json()["items"]
    assert len(runs) == 1 and runs[0]["trigger"] == "manual"
    assert runs[0]["result"]["means"]["frequency"] is not None

    anonymous = await api.post(f"{APP}/jobs/rfm/run", json={},
                               headers={"Authorization": ""})
    assert anonymous.status_code == 401


async def test_bad_requests_are_refused_with_readable_problems(
        api: httpx.AsyncClient, services: Services) -> None:
    assert (await api.post("/api/apps", json={"slug": "shop", "metadata": shop_app()})
            ).status_code == 201
    missing_job = await api.post(f"{APP}/jobs/nope/run", json={},
                                 headers={"Accept-Language": "en"})
    assert missing_job.status_code == 404
    assert "no job 'nope'" in missing_job.json()["detail"]
    assert (await api.post("/api/apps/nowhere/jobs/rfm/run", json={})).status_code == 404
    bad_date = await run(api, "1998-13-01")
    assert bad_date.status_code == 422
    assert bad_date.json()["errors"][0]["field"] == "as_of"
    extra = await api.post(f"{APP}/jobs/rfm/run", json={"as_of": "1998-07-01", "x": 1})
    assert extra.status_code == 422
    today = await api.post(f"{APP}/jobs/rfm/run")  # no body: as of today
    assert today.status_code == 200, today.text
    assert today.json()["as_of"] == services.clock.now().date().isoformat()


async def test_a_run_over_many_records_is_an_operation(
        api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``INLINE_SUBJECTS`` records (lowered here to two) the run answers 202 at once;
    the operation ends with the run as its result, the same the request would answer."""
    monkeypatch.setattr(job_routes, "INLINE_SUBJECTS", 2)
    assert (await api.post("/api/apps", json={"slug": "shop", "metadata": shop_app()})
            ).status_code == 201
    found = await bulk(api, "customer", [{"code": f"C{n}"} for n in range(3)])
    await bulk(api, "order", [{"customer": c["id"], "order_date": "1998-06-01",
                               "amount": "10.00"} for c in found])

    accepted = await run(api, "1998-07-01")

    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["kind"] == "job_run"
    assert accepted.json()["params"] == {"job": "rfm", "as_of": "1998-07-01", "subjects": 3}
    done = await finished(api, accepted.json())
    assert done["status"] == "succeeded", done
    assert done["result"]["counts"]["changed"] == 3 and done["result"]["status"] == "done"
    runs = (await api.get(f"{APP}/jobs/rfm/runs")).json()["items"]
    assert [r["id"] for r in runs] == [done["result"]["id"]]
