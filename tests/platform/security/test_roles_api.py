"""Roles over the API: definitions are published as versions, members are set without one,
and both land in the metadata audit trail."""

from __future__ import annotations

from company import DOC, Company
from fixture_kit import problem_of

ROLES = "/api/apps/acct/roles"


async def _version(company: Company) -> int:
    return (await company.admin.get("/api/apps/acct")).json()["version"]


async def test_roles_list_their_permissions_and_members(company: Company) -> None:
    listed = (await company.admin.get(ROLES)).json()["items"]
    rep = next(r for r in listed if r["name"] == "rep")
    assert rep["label"] == {"zh-CN": "销售", "en": "Sales rep"}
    assert rep["permissions"]["customer"]["read"] == "own"
    assert [m["email"] for m in rep["members"]] == ["rep1@example.com", "rep2@example.com"]
    assert (await company.clients["rep1"].get(ROLES)).status_code == 403


async def test_redefining_a_role_publishes_a_version_and_takes_effect(
        company: Company) -> None:
    before = await _version(company)
    customer = await company.customer("华为", "boss")
    rep = company.clients["rep1"]
    assert (await rep.get(f"/api/apps/acct/records/customer/{customer}")).status_code == 404

    put = await company.admin.put(f"{ROLES}/rep", json={"permissions": {"customer": {
        "create": True, "read": "all", "update": "own"}}})

    assert put.status_code == 200, put.text
    assert await _version(company) == before + 1
    assert (await rep.get(f"/api/apps/acct/records/customer/{customer}")).status_code == 200
    again = await company.admin.put(f"{ROLES}/rep", json={"permissions": {"customer": {
        "create": True, "read": "all", "update": "own", "export": False}}})
    assert again.status_code == 200
    assert await _version(company) == before + 1  # the same definition: no new version
    versions = (await company.admin.get("/api/apps/acct/metadata/versions")).json()["items"]
    assert versions[0]["message"] == "role 'rep' changed"


async def test_a_role_may_reach_records_by_several_scopes_at_once(company: Company) -> None:
    mine = await company.customer("华为", "rep1")
    northern = await company.customer("中兴", "boss", region="north")
    other = await company.customer("联想", "boss")
    rep = company.clients["rep1"]

    put = await company.admin.put(f"{ROLES}/rep", json={"permissions": {"customer": {
        "create": True, "read": ["own", {"==": [{"var": "region"}, "north"]}],
        "update": "own"}}})

    assert put.status_code == 200, put.text
    listed = await rep.get("/api/apps/acct/records/customer", params={"sort": "id"})
    assert [c["id"] for c in listed.json()["items"]] == [mine, northern]
    assert (await rep.get(f"/api/apps/acct/records/customer/{other}")).status_code == 404
    # reaching a record to read it is not reaching it to change it: seen, so 403
    change = await rep.patch(f"/api/apps/acct/records/customer/{northern}",
                             json={"notes": "x"}, headers={"If-Match": '"1"'})
    assert change.status_code == 403
    # each condition of the list is checked, and named by its place in it
    bad = await company.admin.put(f"{ROLES}/rep", json={"permissions": {"customer": {
        "read": ["own", {"==": [{"var": "regoin"}, "east"]}]}}})
    problem = problem_of(bad, 422)["errors"][0]
    assert problem["field"] == "roles.rep.permissions.customer.read[1] (regoin)"


async def test_members_change_without_a_version_and_are_audited(company: Company) -> None:
    before = await _version(company)

    put = await company.admin.put(f"{ROLES}/auditor", json={"members": [
        "audit@example.com", "desk@example.com"]})

    assert put.status_code == 200, put.text
    assert [m["email"] for m in put.json()["members"]] == ["audit@example.com",
                                                           "desk@example.com"]
    assert await _version(company) == before
    trail = (await company.admin.get("/api/apps/acct/metadata/audit")).json()["items"]
    assert trail[0]["action"] == "members_changed"
    assert [c["summary"] for c in trail[0]["changes"]] == ["desk@example.com joined the role"]
    unknown = await company.admin.put(f"{ROLES}/auditor", json={"members": ["x@example.com"]})
    assert unknown.status_code == 422 and "x@example.com" in unknown.json()["detail"]
    missing = await company.admin.put(f"{ROLES}/ghost", json={"members": []})
    assert missing.status_code == 404


async def test_bad_definitions_are_refused_naming_the_problem(company: Company) -> None:
    before = await _version(company)
    bad_scope = await company.admin.put(f"{ROLES}/rep", json={"permissions": {"customer": {
        "read": "everything"}}})
    assert bad_scope.status_code == 422
    assert bad_scope.json()["errors"][0]["field"].startswith("permissions.customer.read")
    bad_entity = await company.admin.put(f"{ROLES}/rep", json={"permissions": {"lead": {
        "read": "all"}}})
    assert bad_entity.status_code == 422
    assert bad_entity.json()["errors"][0]["field"] == "roles.rep.permissions.lead"
    bad_condition = await company.admin.put(f"{ROLES}/rep", json={"permissions": {"customer": {
        "read": {"==": [{"var": "regoin"}, "east"]}}}})
    assert bad_condition.status_code == 422
    assert "regoin" in bad_condition.json()["errors"][0]["message"]
    assert await _version(company) == before


async def test_removing_a_role_removes_its_access(company: Company) -> None:
    customer = await company.customer("华为", "rep1")
    removed = await company.admin.delete(f"{ROLES}/rep")
    assert removed.status_code == 204
    denied = await company.clients["rep1"].get(f"/api/apps/acct/records/customer/{customer}")
    assert denied.status_code == 403
    assert (await company.admin.get(f"{ROLES}/rep")).status_code == 404


async def test_app_builders_edit_metadata_but_not_people(company: Company) -> None:
    await company.admin.put(f"{ROLES}/designer", json={
        "label": "Designer", "app_builder": True, "permissions": {},
        "members": ["desk@example.com"]})
    builder, rep = company.clients["desk"], company.clients["rep1"]
    doc = (await builder.get("/api/apps/acct/metadata/draft")).json()
    doc["entities"]["customer"]["fields"]["wechat"] = {"type": "text"}

    assert (await builder.put("/api/apps/acct/metadata/draft", json=doc)).status_code == 200
    published = await builder.post("/api/apps/acct/metadata/publish", json={})
    assert published.status_code == 200, published.text
    assert (await builder.get("/api/apps/acct/metadata/versions")).status_code == 200
    assert (await builder.get("/api/apps/acct/metadata/audit")).status_code == 200

    assert (await builder.put(f"{ROLES}/rep", json={"members": []})).status_code == 403
    assert (await builder.post("/api/apps", json={"slug": "mine", "metadata": DOC})
            ).status_code == 403
    for path in ("/api/apps/acct/metadata/draft", "/api/apps/acct/metadata/versions",
                 "/api/apps/acct/metadata/audit"):
        assert (await rep.get(path)).status_code == 403, path
    assert (await rep.put("/api/apps/acct/metadata/draft", json=doc)).status_code == 403
