"""Metadata leaves and enters as a zip of one JSON file per item: the same app exports to
the same bytes, an export imports back identically, and importing over an app shows the
diff before anything is published."""

from __future__ import annotations

import io
import json
import zipfile

from sales_app import App, sales

ZIP = {"content-type": "application/zip"}


def _files(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def _zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


async def _export(app: App, slug: str | None = None, **params: str) -> bytes:
    response = await app.api.get(f"/api/apps/{slug or app.slug}/metadata/export",
                                 params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return response.content


async def test_an_export_is_one_readable_file_per_item_and_reproducible(app: App) -> None:
    first = await _export(app)

    files = _files(first)
    assert list(files) == ["app.json", "entities/customer.json", "entities/opportunity.json",
                           "rules/big_deal.json", "flows/approval.json"]
    customer = files["entities/customer.json"]
    assert '"zh-CN": "客户"' in customer  # Chinese as written, not \\u-escaped
    assert customer.startswith('{\n  "label"')
    assert json.loads(customer)["fields"]["name"]["required"] is True
    assert await _export(app) == first


async def test_export_then_import_round_trips_identically(app: App) -> None:
    exported = await _export(app)

    created = await app.api.post("/api/apps/copy/metadata/import", params={"create": "true"},
                                 content=exported, headers=ZIP)

    assert created.status_code == 201, created.text
    assert created.json()["created"] is True
    assert await _export(app, "copy") == exported
    diff = await app.api.get("/api/apps/copy/metadata/diff", params={"from": 1, "to": 1})
    assert diff.json()["changes"] == []


async def test_importing_over_an_app_stages_a_draft_and_shows_the_diff(app: App) -> None:
    files = _files(await _export(app))
    customer = json.loads(files["entities/customer.json"])
    customer["fields"]["phone"] = {"type": "phone", "label": {"zh-CN": "电话", "en": "Phone"}}
    files["entities/customer.json"] = json.dumps(customer, ensure_ascii=False)
    del files["rules/big_deal.json"]

    imported = await app.api.post(f"{app.base}/metadata/import", content=_zip(files),
                                  headers=ZIP)

    assert imported.status_code == 200, imported.text
    assert [c["summary"] for c in imported.json()["changes"]] == [
        "field 'phone' added (phone)", "rule 'big_deal' removed"]
    assert await app.version() == 1  # nothing published until the admin says so
    published = await app.api.post(f"{app.base}/metadata/publish", json={})
    assert published.status_code == 200, published.text
    assert "phone" in (await app.metadata())["entities"]["customer"]["fields"]


async def test_an_import_never_replaces_an_unpublished_draft(app: App) -> None:
    exported = await _export(app)
    doc = sales()
    doc["app"]["label"] = "Sales (work in progress)"
    await app.api.put(f"{app.base}/metadata/draft", json=doc)

    refused = await app.api.post(f"{app.base}/metadata/import", content=exported, headers=ZIP)

    assert refused.status_code == 409, refused.text
    assert "draft" in refused.json()["detail"]
    assert (await app.api.get(f"{app.base}/metadata/draft")).json() == doc


async def test_a_zipped_folder_is_accepted_and_clutter_ignored(app: App) -> None:
    files = {f"sales-export/{name}": text for name, text in _files(await _export(app)).items()}
    files["sales-export/README.md"] = "# our sales app"
    files["__MACOSX/sales-export/._app.json"] = b"\x00\x05"

    created = await app.api.post("/api/apps/folder/metadata/import",
                                 params={"create": "true"}, content=_zip(files), headers=ZIP)

    assert created.status_code == 201, created.text
    assert await _export(app, "folder") == await _export(app)


async def test_the_draft_can_be_exported(app: App) -> None:
    doc = sales()
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}
    await app.api.put(f"{app.base}/metadata/draft", json=doc)

    draft = _files(await _export(app, version="draft"))
    published = _files(await _export(app, version="1"))

    assert "phone" in json.loads(draft["entities/customer.json"])["fields"]
    assert "phone" not in json.loads(published["entities/customer.json"])["fields"]


async def test_bad_archives_are_refused_with_what_is_wrong(app: App) -> None:
    async def send(data: bytes, slug: str = "sales", **headers: str):
        return await app.api.post(f"/api/apps/{slug}/metadata/import", content=data,
                                  headers=headers or ZIP)

    not_zip = await send(b"PK but not really")
    assert not_zip.status_code == 422 and "not a zip" in not_zip.json()["detail"]

    broken = await send(_zip({"app.json": '{"label": "x"}', "entities/lead.json": "{oops"}))
    assert broken.status_code == 422
    [error] = broken.json()["errors"]
    assert error["field"] == "entities/lead.json" and "not valid JSON" in error["message"]

    misplaced = await send(_zip({"app.json": '{"label": "x"}', "widgets/a.json": "{}"}))
    assert misplaced.json()["errors"][0]["field"] == "widgets/a.json"

    no_app = await send(_zip({"entities/lead.json": "{}"}))
    assert no_app.status_code == 422 and "app.json" in no_app.json()["detail"]

    unsafe = await send(_zip({"app.json": "{}", "../escape.json": "{}"}))
    assert unsafe.status_code == 422

    as_json = await send(b"{}", **{"content-type": "application/json"})
    assert as_json.status_code == 400 and "application/zip" in as_json.json()["detail"]

    nowhere = await send(await _export(app), slug="nowhere")
    assert nowhere.status_code == 404
    assert await app.version() == 1


async def test_an_archive_that_unpacks_too_large_is_refused(app: App, services) -> None:
    services.settings.max_body_bytes = 20_000
    huge = _zip({"app.json": '{"label": "x"}', "entities/big.json": " " * 200_000})

    refused = await app.api.post(f"{app.base}/metadata/import", content=huge, headers=ZIP)

    assert refused.status_code == 413, refused.text
