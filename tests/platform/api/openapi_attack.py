"""Schemathesis against a live OpenAPI document, through the test suite's own client.

Schemathesis generates the requests (valid ones, and invalid ones that break the schema on
purpose) and checks the answers; the requests travel through the suite's ``httpx`` client
on the test's own event loop, where the database engine lives. Hypothesis runs in a worker
thread and hands each request to that loop, so the app, its connection pool and the
generated cases never cross event loops."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import time
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, example, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

BASE_URL = "http://loom.test"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


SEED_VARIABLE = "LOOM_ATTACK_SEED"


def attack_seed() -> int:
    """The run's seed: ``LOOM_ATTACK_SEED`` replays a run, else each run takes a new one."""
    given_seed = os.environ.get(SEED_VARIABLE, "").strip()
    return int(given_seed) if given_seed else secrets.randbits(32)


@dataclass
class Budget:
    """How many cases each operation gets, per kind of case, and the run's seed (each
    operation derives its own from it and its label, so a replay regenerates its cases)."""

    valid: int = 12
    invalid: int = 8
    request_timeout: float = 60.0
    seed: int = field(default_factory=attack_seed)

    def seed_of(self, label: str) -> int:
        return self.seed ^ zlib.crc32(label.encode())


@dataclass
class Ready:
    """What one operation runs against, found just before it runs: path parameters and
    headers of things that exist then (``known``), and requests that must succeed
    (``sure``: keyword arguments of ``operation.Case``, run first as explicit cases)."""

    known: Mapping[str, Sequence[Any]]
    sure: list[dict[str, Any]] = field(default_factory=list)


Prepare = Callable[[Any], Ready]


@dataclass
class AttackReport:
    """What one run did: requests per operation, status codes seen, and every failure."""

    requests: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, set[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    no_invalid: list[str] = field(default_factory=list)
    seconds: float = 0.0
    seed: int = 0

    @property
    def replay(self) -> str:
        return f"replay with {SEED_VARIABLE}={self.seed}"

    def summary(self) -> str:
        lines = [f"{sum(self.requests.values())} requests over {len(self.requests)} "
                 f"operations in {self.seconds:.1f}s, seed {self.seed} ({self.replay})"]
        lines += [f"  {label}: {self.requests[label]} requests, statuses "
                  f"{sorted(self.statuses.get(label, ()))}" for label in self.requests]
        return "\n".join(lines)


def load_schema(document: dict[str, Any]) -> Any:
    """The Schemathesis view of an OpenAPI document, with no configuration read from disk."""
    return schemathesis.openapi.from_dict(document, config=schemathesis.Config())


def _wire_headers(headers: Mapping[str, str]) -> dict[str, bytes]:
    """Header values as an HTTP client puts them on the wire (ISO-8859-1 bytes; httpx
    itself would only take ASCII text). The client's own token wins over generated ones."""
    wire = {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            continue
        try:
            wire[name] = value.encode("latin-1") if isinstance(value, str) else value
        except UnicodeEncodeError:
            reject()  # no HTTP client can send it
    return wire


def _sender(client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop,
            timeout: float) -> Callable[[Any], httpx.Response]:
    def send(case: Any) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url=BASE_URL)
        prepared = requests.Request(
            method=kwargs["method"], url=kwargs["url"], headers=kwargs.get("headers"),
            params=kwargs.get("params"), json=kwargs.get("json"), data=kwargs.get("data"),
            files=kwargs.get("files"), cookies=kwargs.get("cookies")).prepare()
        request = client.build_request(prepared.method or "GET", prepared.url or "/",
                                       headers=_wire_headers(prepared.headers),
                                       content=prepared.body)
        try:
            return asyncio.run_coroutine_threadsafe(client.send(request), loop).result(timeout)
        except Exception as exc:
            # the test transport raises what escaped the app; a server answers it with 500
            raise AssertionError(f"server error: {case.method} {case.formatted_path} "
                                 f"raised {type(exc).__name__}: {exc}") from exc
    return send


def _strategy(operation: Any, mode: GenerationMode,
              known: Mapping[str, Sequence[Any]]) -> st.SearchStrategy[Any]:
    """Cases with generated path parameters, mixed with cases that address things that
    exist (the app, its entities, seeded records) with headers they hold (the If-Match of
    a seeded record's version), so handlers get past their lookups."""
    generated = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    choices = [name for name in names if name in known]
    if not choices:
        return generated
    headers = {p.name: known[p.name][0] for p in operation.headers if p.name in known}
    combos = [dict(zip(choices, values, strict=True))
              for values in itertools.product(*(known[name] for name in choices))]
    existing = st.sampled_from(combos).flatmap(
        lambda given_: operation.as_strategy(generation_mode=mode, path_parameters=given_,
                                             headers=headers or None))
    return st.one_of(existing, generated)


def _spared(case: Any, spare: Mapping[str, Collection[Any]]) -> bool:
    return any(str(case.path_parameters.get(name)) in {str(value) for value in values}
               for name, values in spare.items())


def _run_operation(operation: Any, send: Callable[[Any], httpx.Response], ready: Ready,
                   spare: Mapping[str, Collection[Any]], budget: Budget,
                   report: AttackReport) -> None:
    label = operation.label
    report.requests.setdefault(label, 0)
    for mode, examples in ((GenerationMode.POSITIVE, budget.valid),
                           (GenerationMode.NEGATIVE, budget.invalid)):
        if not examples:
            continue

        @settings(max_examples=examples, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), print_blob=False,
                  phases=[Phase.explicit, Phase.generate, Phase.shrink])
        @seed(budget.seed_of(f"{label} {mode.value}"))
        @given(case=_strategy(operation, mode, ready.known))
        def one_case(case: Any) -> None:
            if _spared(case, spare):
                reject()
            response = send(case)
            report.requests[label] += 1
            report.statuses.setdefault(label, set()).add(response.status_code)
            case.validate_response(response, checks=CHECKS)

        if mode is GenerationMode.POSITIVE:
            for given_case in ready.sure:
                one_case = example(case=operation.Case(**given_case))(one_case)
        try:
            one_case()
        except Unsatisfiable as exc:
            if mode is GenerationMode.POSITIVE:
                report.failures.append(f"{label}: no valid request can be made: {exc}")
            else:
                # nothing in the operation can be broken (no parameters, or free-form
                # strings only): every request is a valid one, and those ran above
                report.no_invalid.append(label)
        except (Exception, BaseExceptionGroup) as exc:  # all failures, reported at once
            report.failures.append(f"{label} ({mode.value}): {exc}")


def attack(client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop, schema: Any, *,
           known: Mapping[str, Sequence[Any]], budget: Budget,
           last: Sequence[str] = (), spare: Mapping[str, Collection[Any]] | None = None,
           prepare: Prepare | None = None) -> AttackReport:
    """Run every operation of ``schema``; those named in ``last`` at the end, in that order
    (they destroy what the others use: the app, the caller's token), and no request whose
    path parameter is one of ``spare`` (the caller's own user and token). ``prepare``
    looks, just before an operation runs, for what exists then (else ``known`` serves).
    Call it in a worker thread; ``loop`` runs ``client``."""
    report = AttackReport(seed=budget.seed)
    started = time.perf_counter()
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:  # an operation Schemathesis cannot read is a defect of the document
            report.failures.append(f"unusable operation: {result.err()}")
    order = {label: position for position, label in enumerate(last, start=1)}
    operations.sort(key=lambda op: order.get(op.label, 0))
    send = _sender(client, loop, budget.request_timeout)
    for operation in operations:
        ready = prepare(operation) if prepare is not None else Ready(known)
        _run_operation(operation, send, ready, spare or {}, budget, report)
    report.seconds = time.perf_counter() - started
    return report
