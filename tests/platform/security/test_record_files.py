"""Files of file and image fields: uploaded by whoever may set the field, checked by what
the bytes are (not what the sender says), downloaded by whoever may read the field — the
same permission check as every read; hidden, foreign or unknown files are 404."""

from __future__ import annotations

import base64

import httpx
from company import Company
from fixture_kit import patch_read

APP = "/api/apps/acct"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
                       "hgGAWjR9awAAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def upload(client: httpx.AsyncClient, field: str, name: str, data: bytes,
                 claimed: str = "application/octet-stream") -> httpx.Response:
    return await client.post(f"{APP}/files/customer/{field}",
                             files={"file": (name, data, claimed)})


async def test_a_photo_goes_onto_the_record_and_comes_back_to_its_readers(
        company: Company) -> None:
    record = await company.customer("华为", "rep1", "east")
    rep, desk = company.clients["rep1"], company.clients["desk"]

    sent = await upload(rep, "photo", "门头照片.png", PNG, "image/png")

    assert sent.status_code == 201, sent.text
    photo = sent.json()
    assert (photo["name"], photo["size"], photo["type"]) == ("门头照片.png", len(PNG),
                                                             "image/png")
    assert photo["url"] == f"{APP}/files/{photo['key']}" and len(photo["key"]) >= 32
    saved = await patch_read(rep, f"{APP}/records/customer/{record}", {"photo": [photo]})
    assert saved.status_code == 200, saved.text
    assert saved.json()["photo"][0]["key"] == photo["key"]

    for reader in (rep, desk, company.admin):
        got = await reader.get(photo["url"])
        assert got.status_code == 200, got.text
        assert got.content == PNG and got.headers["content-type"] == "image/png"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"


async def test_hidden_foreign_and_unknown_files_are_not_found(company: Company) -> None:
    rep = company.clients["rep1"]
    scan = (await upload(rep, "contract_scan", "合同扫描件.pdf", PDF)).json()
    assert scan["type"] == "application/pdf"

    assert (await rep.get(scan["url"])).status_code == 200
    assert (await company.clients["desk"].get(scan["url"])).status_code == 404  # hidden
    assert (await company.clients["nobody"].get(scan["url"])).status_code == 404  # no role
    assert (await company.clients["stranger"].get(scan["url"])).status_code == 404
    assert (await rep.get(f"{APP}/files/{'x' * 32}")).status_code == 404


async def test_uploads_are_refused_by_what_they_are_and_who_sends_them(
        company: Company) -> None:
    rep = company.clients["rep1"]

    disguised = await upload(rep, "photo", "cat.png", b"<html><script>alert(1)</script>",
                             "image/png")
    assert disguised.status_code == 415, disguised.text
    assert "cat.png" in disguised.json()["detail"]
    assert (await upload(rep, "photo", "scan.pdf", PDF)).status_code == 415  # not an image
    assert (await upload(rep, "contract_scan", "setup.exe", b"MZ\x90\x00")).status_code == 415
    assert (await upload(rep, "contract_scan", "a.txt", b"")).status_code == 400
    assert (await upload(rep, "notes", "a.png", PNG)).status_code == 404  # not a file field
    assert (await upload(rep, "nope", "a.png", PNG)).status_code == 404
    raw = await rep.post(f"{APP}/files/customer/photo", content=PNG,
                         headers={"content-type": "image/png"})
    assert raw.status_code == 415 and "'file'" in raw.json()["detail"]
    assert (await upload(company.clients["desk"], "photo", "a.png", PNG)).status_code == 403
    assert (await upload(company.clients["stranger"], "photo", "a.png", PNG)).status_code \
        == 404
    named = await upload(rep, "contract_scan", "../../etc/报价单.txt", "报价 12,000 元".encode())
    assert named.status_code == 201, named.text
    assert named.json()["name"] == "报价单.txt"
    assert named.json()["type"] == "text/plain; charset=utf-8"
