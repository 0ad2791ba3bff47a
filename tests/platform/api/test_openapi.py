"""The OpenAPI documents: the platform's, and each app's with the real field schemas — which
the records the API returns and the bodies it accepts actually satisfy."""

from __future__ import annotations

from typing import Any

import httpx
from fixture_kit import if_match
from jsonschema import Draft202012Validator, FormatChecker
from lab_app import LAB, create, lab_document

from loom.renderers.openapi_models import pascal

ENTITIES = sorted(lab_document()["entities"])


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def by_ref(schemas: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator of ``schemas[name]`` that follows its references to the others."""
    return validator({"$ref": f"#/components/schemas/{name}",
                      "components": {"schemas": schemas}})


async def test_the_platform_document(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/openapi.json")  # public, like the docs page
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    for path in ("/api/health", "/api/auth/token", "/api/users", "/api/apps",
                 "/api/apps/{app}/records/{entity}", "/api/apps/{app}/records/{entity}/_bulk",
                 "/api/apps/{app}/records/{entity}/{record_id}",
                 "/api/apps/{app}/records/{entity}/{record_id}/history",
                 "/api/apps/{app}/openapi.json"):
        assert path in document["paths"], path
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    record = document["paths"]["/api/apps/{app}/records/{entity}"]
    assert record["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "object"}


async def test_an_apps_document_describes_its_entities(lab: httpx.AsyncClient) -> None:
    response = await lab.get("/api/apps/lab/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["openapi"] == "3.1.0" and document["info"]["version"] == "1"
    schemas = document["components"]["schemas"]
    for entity in ENTITIES:
        model = pascal(entity)
        for suffix in ("", "Create", "Update", "Page", "BulkResult"):
            Draft202012Validator.check_schema(schemas[model + suffix])
            assert schemas[model + suffix]["title"] == model + suffix
        base = f"{LAB}/{entity}"
        assert set(document["paths"][base]) == {"get", "post"}
        assert set(document["paths"][f"{base}/{{record_id}}"]) == {
            "parameters", "get", "patch", "delete"}
        assert "post" in document["paths"][f"{base}/_bulk"]

    read, create_schema, update = (schemas["Sample"], schemas["SampleCreate"],
                                   schemas["SampleUpdate"])
    assert create_schema["required"] == ["title"]
    assert "required" not in update
    assert create_schema["additionalProperties"] is update["additionalProperties"] is False
    props = create_schema["properties"]
    # a select's values are a model of their own, nullable where the field is used
    assert props["stage"]["anyOf"] == [{"$ref": "#/components/schemas/SampleStageOption"},
                                       {"type": "null"}]
    assert props["stage"]["title"] == "Stage"
    assert schemas["SampleStageOption"]["enum"] == ["new", "won"]
    assert props["tags"]["items"] == {"$ref": "#/components/schemas/SampleTagsOption"}
    assert schemas["SampleTagsOption"]["enum"] == ["vip", "hot", "new"]
    assert props["attachments"]["items"] == {"$ref": "#/components/schemas/File"}
    assert props["location"]["anyOf"][0] == {"$ref": "#/components/schemas/Location"}
    assert props["quantity"]["type"] == ["integer", "null"]
    assert (props["quantity"]["minimum"], props["quantity"]["maximum"]) == (0, 1000)
    assert props["title"]["maxLength"] == 20 and props["title"]["title"] == "Title"
    assert props["price"]["type"] == ["number", "null"]
    assert props["meeting"]["format"] == "date-time" and props["due"]["format"] == "date"
    assert props["locked"]["readOnly"] is True
    assert set(read["properties"]) >= {"id", "version", "created_at", "updated_by"}
    assert read["properties"]["id"]["readOnly"] is True
    assert set(read["properties"]) - {"id", "version", "created_at", "updated_at",
                                      "created_by", "updated_by"} == set(props)
    assert schemas["SamplePage"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/Sample"}
    # computed fields are read, never written
    contract = schemas["Contract"]["properties"]
    assert contract["number"]["readOnly"] is True
    assert "number" not in schemas["ContractUpdate"]["properties"]
    # line items go inline: read as the child's records, written as rows of it
    assert contract["lines"]["items"] == {"$ref": "#/components/schemas/ContractLine"}
    for suffix in ("Create", "Update"):
        assert schemas["Contract" + suffix]["properties"]["lines"]["items"] == {
            "$ref": "#/components/schemas/ContractLineRow"}
    row = schemas["ContractLineRow"]
    assert {"id", "version", "amount"} <= set(row["properties"])
    assert row["additionalProperties"] is False and "required" not in row
    # every operation is named for its entity and what it does
    operations = {operation["operationId"] for item in document["paths"].values()
                  for key, operation in item.items() if key != "parameters"}
    assert {"sample_list", "sample_create", "sample_create_many", "sample_read",
            "sample_update", "sample_delete", "sample_delete_impact", "sample_export",
            "sample_import"} <= operations
    assert len(operations) == 9 * len(ENTITIES)


async def test_model_names_stay_when_other_entities_change(lab: httpx.AsyncClient) -> None:
    """Names come from API names alone: a new entity, one named like another's models, and
    relabelled fields leave the others' models as they were."""
    before = (await lab.get("/api/apps/lab/openapi.json")).json()["components"]["schemas"]
    document = lab_document()
    document["entities"]["sample"]["label"] = {"zh-CN": "样本", "en": "Specimen"}
    document["entities"]["sample"]["fields"]["stage"]["label"] = {"en": "Phase"}
    for name in ("sample_page", "sample_stage", "problem", "file"):
        document["entities"][name] = {"label": {"en": name}, "fields": {
            "stage": {"type": "select", "options": [{"value": "x"}]}}}
    response = await lab.put("/api/apps/lab/metadata/draft", json=document)
    assert response.status_code == 200, response.text
    response = await lab.post("/api/apps/lab/metadata/publish", json={})
    assert response.status_code == 200, response.text
    after = (await lab.get("/api/apps/lab/openapi.json")).json()["components"]["schemas"]
    assert set(before) <= set(after)
    for name in before:
        if not name.startswith("Sample"):  # untouched: the very same models
            assert after[name] == before[name], name
    assert after["SampleStageOption"] == before["SampleStageOption"]
    assert {"SamplePageRecord", "SamplePageRecordCreate", "SampleStage", "ProblemRecord",
            "ProblemRecordUpdate", "FileRecord", "SampleStageStageOption"} <= set(after)
    assert after["Problem"]["required"][:3] == ["type", "title", "status"]
    titles = [schema.get("title") for schema in after.values()]
    assert len(titles) == len(set(titles)) == len(after)


async def test_what_the_api_returns_fits_the_documented_schema(
        lab: httpx.AsyncClient) -> None:
    schemas = (await lab.get("/api/apps/lab/openapi.json")).json()["components"]["schemas"]
    customer = await create(lab, "customer", {"name": "华为"})
    body = {"title": "全字段", "code": "S-1", "notes": "n", "body": "<p>b</p>",
            "quantity": 3, "weight": 1.5, "price": 9.99, "discount": 15, "active": True,
            "due": "2026-02-28", "meeting": "2026-01-02T09:30:00+08:00", "stage": "won",
            "tags": ["vip", "hot"], "email": "a@example.com", "phone": "+86 138 0013 8000",
            "website": "https://example.com", "owner": customer["created_by"],
            "customer": customer["id"],
            "attachments": [{"name": "a.pdf", "url": "https://files/a.pdf", "size": 3}],
            "photo": [{"name": "p.png", "key": "k"}], "signature": {"image": "data:,x"},
            "address": {"city": "深圳"}, "location": {"lat": 22.5, "lng": 114.1},
            "rating": 5, "extra": {"free": ["form"]}}
    by_ref(schemas, "SampleCreate").validate(body)
    record = await create(lab, "sample", body)
    blank = await create(lab, "sample", {"title": "空"})
    read = by_ref(schemas, "Sample")
    for item in [record, blank, *(await lab.get(f"{LAB}/sample")).json()["items"]]:
        read.validate(item)
    by_ref(schemas, "Customer").validate(customer)
    contract = await create(lab, "contract", {"title": "合同"})
    by_ref(schemas, "Contract").validate(contract)
    # a record with its rows, as it is sent and as it reads back
    rows = {"title": "合同", "lines": [{"amount": 5}, {"amount": 6.5}]}
    by_ref(schemas, "ContractCreate").validate(rows)
    contract = await create(lab, "contract", rows)
    by_ref(schemas, "Contract").validate(contract)
    change = {"lines": [{"id": contract["lines"][0]["id"], "version": 1, "amount": 7},
                        {"amount": 1}]}
    by_ref(schemas, "ContractUpdate").validate(change)
    assert not by_ref(schemas, "ContractUpdate").is_valid({"lines": [{"colour": "red"}]})
    changed = await lab.patch(f"{LAB}/contract/{contract['id']}", json=change,
                              headers=if_match(contract))
    assert changed.status_code == 200, changed.text
    by_ref(schemas, "Contract").validate(changed.json())
    # and what it refuses, the schema refuses too
    create_validator = by_ref(schemas, "SampleCreate")
    for bad in ({"title": "x", "stage": "lost"}, {"title": "x", "tags": ["cold"]},
                {"title": "x", "quantity": 1001}, {"title": "x", "colour": "red"},
                {"stage": "won"}, {"title": "x" * 21},
                {"title": "x", "location": {"lat": 91, "lng": 0}}):
        assert not create_validator.is_valid(bad), bad
        assert (await lab.post(f"{LAB}/sample", json=bad)).status_code == 422, bad
