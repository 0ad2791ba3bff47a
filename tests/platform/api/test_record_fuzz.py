"""Random JSON for every field of the sample entity, created, changed and listed on both
databases: each answer is a success or a clear 4xx problem, never a 500 — and what was
accepted reads back as it was returned."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
from fixture_kit import if_match
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lab_app import LAB, lab_document

SAMPLE = f"{LAB}/sample"
FIELDS = sorted(lab_document()["entities"]["sample"]["fields"])

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str).map(Decimal),
    st.text(max_size=12),
    st.sampled_from(["", " ", "\x00", "2026-02-29", "2026-01-02 09:30", "won", "vip,hot",
                     "li@example.com", "https://x.cn", "+86 138 0000 0000", "是", "1,000",
                     "1e400", "-0", "华为", "admin@example.com", "NaN"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["id", "name", "url", "key", "lat", "lng", "city",
                                     "image", "x"]), inner, max_size=3)), max_leaves=6)
records = st.dictionaries(st.sampled_from([*FIELDS, "nope", "id", "version"]), values,
                          max_size=6)


def body(record: dict[str, Any]) -> bytes:
    return json.dumps(record, default=str, ensure_ascii=False).encode()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=records, second=records)
async def test_no_input_is_a_server_error(lab: httpx.AsyncClient, first: dict[str, Any],
                                          second: dict[str, Any]) -> None:
    headers = {"content-type": "application/json"}
    created = await lab.post(SAMPLE, content=body({"title": "fuzz", **first}),
                             headers=headers)
    assert created.status_code in (201, 400, 422), created.text
    if created.status_code != 201:
        assert created.json()["errors"] or created.status_code == 400
        return
    record = created.json()
    url = f"{SAMPLE}/{record['id']}"
    assert (await lab.get(url)).json() == record
    changed = await lab.patch(url, content=body(second), headers={**headers,
                                                                  **if_match(record)})
    assert changed.status_code in (200, 400, 422), changed.text
    if changed.status_code == 200:
        assert (await lab.get(url)).json() == changed.json()
    for sort in ("-" + name for name in ("quantity", "price", "stage", "due", "meeting",
                                         "active", "customer", "rating")):
        page = await lab.get(SAMPLE, params={"sort": sort, "limit": 1})
        assert page.status_code == 200, page.text
        if page.json()["next_cursor"]:
            rest = await lab.get(SAMPLE, params={"sort": sort, "limit": 1,
                                                 "cursor": page.json()["next_cursor"]})
            assert rest.status_code == 200, rest.text
