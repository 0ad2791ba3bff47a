"""The newcomer's path, against a real server process: upgrade, serve, create an app with
two entities and a lookup, write and query records, add a field, publish, lose nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

EMAIL, PASSWORD = "newcomer@example.com", "newcomer-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(empty_database_url: str, tmp_path: Path) -> Iterator[str]:
    env = {**os.environ, "LOOM_DATABASE_URL": empty_database_url, "LOOM_ADMIN_EMAIL": EMAIL,
           "LOOM_ADMIN_PASSWORD": PASSWORD, "LOOM_DATA_DIR": str(tmp_path)}
    cli = [sys.executable, "-m", "loom.platform.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True,
                   timeout=120)
    port = _free_port()
    process = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("the server did not start")
        yield base
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
        assert "Traceback" not in output, output


def test_newcomer_path(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        token = http.post("/api/auth/token", json={"email": EMAIL, "password": PASSWORD})
        assert token.status_code == 200, token.text
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

        metadata = {
            "app": {"label": {"zh-CN": "销售", "en": "Sales"}},
            "entities": {
                "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
                    "name": {"type": "text", "required": True}}},
                "deal": {"label": {"zh-CN": "商机", "en": "Deal"}, "fields": {
                    "title": {"type": "text", "required": True},
                    "customer": {"type": "lookup", "ref": "customer"},
                    "amount": {"type": "currency"}}},
            },
        }
        assert http.post("/api/apps", json={"slug": "sales", "metadata": metadata}
                         ).status_code == 201
        customer = http.post("/api/apps/sales/records/customer", json={"name": "小米科技"})
        assert customer.status_code == 201
        cid = customer.json()["id"]
        for n in range(5):
            made = http.post("/api/apps/sales/records/deal", json={
                "title": f"商机 {n}", "customer": cid, "amount": f"{(n + 1) * 1000}.50"})
            assert made.status_code == 201, made.text
        listed = http.get("/api/apps/sales/records/deal", params={"sort": "-amount",
                                                                  "limit": 2})
        assert [d["title"] for d in listed.json()["items"]] == ["商机 4", "商机 3"]
        deal = listed.json()["items"][0]
        changed = http.patch(f"/api/apps/sales/records/deal/{deal['id']}",
                             json={"amount": 99}, headers={"If-Match": f'"{deal["version"]}"'})
        assert changed.status_code == 200
        stale = http.patch(f"/api/apps/sales/records/deal/{deal['id']}",
                           json={"amount": 1}, headers={"If-Match": f'"{deal["version"]}"'})
        assert stale.status_code == 409
        assert stale.headers["content-type"].startswith("application/problem+json")

        draft = http.patch("/api/apps/sales/metadata/draft", json={"entities": {"deal": {
            "fields": {"stage": {"type": "select", "options": [
                {"value": "open", "label": {"zh-CN": "进行中", "en": "Open"}},
                {"value": "won", "label": {"zh-CN": "赢单", "en": "Won"}}]}}}}})
        assert draft.status_code == 200 and draft.json()["problems"] == []
        published = http.post("/api/apps/sales/metadata/publish", json={"message": "stage"})
        assert published.status_code == 200, published.text
        assert published.json()["version"] == 2

        deals = http.get("/api/apps/sales/records/deal", params={"count": "true"}).json()
        assert deals["count"] == 5
        assert all(d["stage"] is None for d in deals["items"])
        assert {d["title"] for d in deals["items"]} == {f"商机 {n}" for n in range(5)}
