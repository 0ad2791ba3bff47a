"""One field's value from its generator. Pure: everything a generator may read — the record
so far, its parent, the as-of moment, the records of earlier steps, the demo users — comes
in a ``Scope``, and all randomness from the scope's seeded generator."""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from loom.engines.demo import specs
from loom.engines.demo.vocabulary import SAFE_TLD, Vocabulary
from loom.engines.expressions.compiled import Compiled, compile_condition
from loom.metamodel.fields import FieldSpec, FieldType

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)(?::(\d+))?\}")


@dataclass(frozen=True)
class Ref:
    """A record made by an earlier step, known by its place until it has an id."""

    step: str
    index: int


@dataclass
class Candidate:
    """A record a ``ref`` generator may point at: a new one (``ref``) or a stored one."""

    values: dict[str, Any]
    ref: Ref | None = None
    record_id: int | None = None

    @property
    def value(self) -> Any:
        return self.ref if self.ref is not None else self.record_id


@dataclass
class Scope:
    rng: random.Random
    vocabulary: Vocabulary
    as_of: datetime
    tz: tzinfo
    values: dict[str, Any]
    parent: dict[str, Any] | None
    parent_value: Any
    index: int
    siblings: int
    pools: dict[str, list[Candidate]]
    users: dict[str, list[str]]
    splits: dict[str, list[Decimal]] = field(default_factory=dict)
    moment: datetime | None = None
    cities: dict[Any, dict[str, str]] = field(default_factory=dict)

    def city(self, region: Any) -> dict[str, str]:
        """One city per record: its company name and its address agree."""
        if region not in self.cities:
            self.cities[region] = self.vocabulary.city(self.rng, region)
        return self.cities[region]

    def resolve(self, reference: str) -> Any:
        if reference == "as_of":
            return self.as_of
        if reference == "moment":
            return self.moment
        if reference.startswith("parent."):
            return (self.parent or {}).get(reference.removeprefix("parent."))
        return self.values.get(reference)


def generate(spec: Any, target: FieldSpec, scope: Scope) -> Any:
    """The value for one field, or None (blank by chance or by ``when``)."""
    if spec.when is not None and not condition(spec.when).evaluate(plain_values(scope.values)):
        return None
    if spec.blank and scope.rng.random() < spec.blank:
        return None
    return MAKERS[spec.gen](spec, target, scope)


def condition(rule: Any) -> Compiled:
    """A recipe's JSON Logic condition, compiled once (a recipe repeats it per record)."""
    return _compiled(json.dumps(rule, sort_keys=True))


@lru_cache(maxsize=256)
def _compiled(rule: str) -> Compiled:
    return compile_condition(json.loads(rule))


def plain_values(values: dict[str, Any]) -> dict[str, Any]:
    """The record as a condition reads it (dates as ISO text, references as ids or None)."""
    out = {}
    for name, value in values.items():
        if isinstance(value, Ref):
            value = None
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        out[name] = value
    return out


def _choice(spec: specs.Choice, target: FieldSpec, scope: Scope) -> Any:
    options: Any = spec.options
    if spec.by is not None and spec.cases:
        options = spec.cases.get(str(scope.resolve(spec.by)), options)
    if options is None:
        options = target.option_values()
    if isinstance(options, dict):
        values, weights = list(options), list(options.values())
    else:
        values, weights = list(options), [1.0] * len(options)
    if not values:
        return None
    if spec.cycle:
        return values[scope.index % len(values)]
    if spec.pick is not None:
        low, high = spec.pick
        count = min(scope.rng.randint(low, high), len(values))
        chosen: list[Any] = []
        while len(chosen) < count:
            item = scope.rng.choices(values, weights)[0]
            if item not in chosen:
                chosen.append(item)
        return chosen
    return scope.rng.choices(values, weights)[0]


def _number(spec: specs.Number, target: FieldSpec, scope: Scope) -> Any:
    low, high = spec.min, spec.max
    if spec.distribution == "lognormal" and low > 0:
        # min and max as the 5th and 95th percentiles: most values mid-range, a long tail
        mu, sigma = (math.log(low) + math.log(high)) / 2, (math.log(high) - math.log(low)) / 3.29
        number = min(max(scope.rng.lognormvariate(mu, sigma), low), high)
    elif spec.distribution == "triangular":
        number = scope.rng.triangular(low, high)
    else:
        number = scope.rng.uniform(low, high)
    if spec.round:
        number = max(round(number / spec.round) * spec.round, low)
    if target.type in (FieldType.INTEGER, FieldType.RATING):
        return round(number)
    return Decimal(str(number)).quantize(Decimal(1).scaleb(-spec.scale), ROUND_HALF_UP)


def _date(spec: specs.DateGen, target: FieldSpec, scope: Scope) -> Any:
    rng = scope.rng
    as_of_local = scope.as_of.astimezone(scope.tz)
    offset = timedelta(days=rng.uniform(*spec.days))
    if spec.each_month:
        months = as_of_local.year * 12 + as_of_local.month - 1 - scope.index
        first = date(months // 12, months % 12 + 1, 1)
        return first if spec.gen == "date" else _at(first, spec.hours, scope)
    if spec.after is not None:
        base = scope.resolve(spec.after)
        if base is None:
            return None
        moment = base if isinstance(base, datetime) else _at(base, spec.hours, scope)
        moment = moment.astimezone(scope.tz) + offset
    else:
        ago = _days_ago(spec, as_of_local.date(), rng) if spec.days_ago else 0
        moment = _at(as_of_local.date() - timedelta(days=ago), spec.hours, scope) + offset
    if spec.weekdays:
        while moment.weekday() >= 5:
            moment -= timedelta(days=1)
    if not spec.future and moment > as_of_local:
        moment = as_of_local
    moment = moment.replace(microsecond=0)
    return moment.date() if spec.gen == "date" else moment


def _days_ago(spec: specs.DateGen, as_of: date, rng: random.Random) -> int:
    low, high = spec.days_ago or (0, 0)
    weights = spec.seasonality
    for _ in range(50):  # rejection sampling: months with more weight are drawn more often
        ago = round(rng.uniform(low, high))
        if not weights or rng.random() * max(weights) <= weights[(as_of - timedelta(
                days=ago)).month - 1]:
            return ago
    return ago


def _at(day: date, hours: tuple[float, float], scope: Scope) -> datetime:
    seconds = round(scope.rng.uniform(*hours) * 3600)
    return datetime.combine(day, time(0), scope.tz) + timedelta(seconds=seconds)


def _ref(spec: specs.RefGen, target: FieldSpec, scope: Scope) -> Any:
    candidates = scope.pools.get(spec.entity, [])
    if spec.where is not None:
        holds = condition(spec.where)
        candidates = [c for c in candidates if holds.evaluate(plain_values(c.values))]
    for theirs, mine in spec.match.items():
        wanted = scope.resolve(mine)
        candidates = [c for c in candidates if c.values.get(theirs) == wanted]
    if not candidates:
        return None
    if not spec.skew:
        return scope.rng.choice(candidates).value
    # Zipf-like: the k-th record (in their made order) is chosen with weight 1/k^skew
    weights = [1 / (rank + 1) ** spec.skew for rank in range(len(candidates))]
    return scope.rng.choices(candidates, weights)[0].value


def _user_groups(spec: specs.UserGen | specs.UserEmails, scope: Scope) -> list[str]:
    groups = spec.groups
    if spec.by is not None and spec.cases:
        groups = spec.cases.get(str(scope.resolve(spec.by)), groups)
    return [email for group in groups for email in scope.users.get(group, [])]


def _user(spec: specs.UserGen, target: FieldSpec, scope: Scope) -> Any:
    emails = _user_groups(spec, scope)
    return scope.rng.choice(emails) if emails else None


def _text(spec: specs.Text, target: FieldSpec, scope: Scope) -> str:
    picked = ""
    if spec.pick:
        picked = spec.pick[scope.index % len(spec.pick)] if spec.cycle else \
            scope.rng.choice(spec.pick)

    def fill(match: re.Match[str]) -> str:
        name, width = match.group(1), match.group(2)
        if name == "pick":
            return picked
        if name == "n":
            return str(scope.index + 1).zfill(int(width or 0))
        value = scope.resolve(name)
        return "" if value is None or isinstance(value, Ref) else str(value)

    return PLACEHOLDER.sub(fill, spec.pattern)


def _split(spec: specs.Split, target: FieldSpec, scope: Scope) -> Any:
    """The parent's amount shared out among its children (payments of a contract)."""
    if spec.of not in scope.splits:
        whole = scope.resolve(spec.of)
        if whole is None:
            return None
        rng = scope.rng
        share = 1.0 if rng.random() < spec.full else rng.uniform(*spec.fill)
        unit = Decimal(1).scaleb(-spec.scale)
        total = (Decimal(str(whole)) * Decimal(str(share))).quantize(unit, ROUND_HALF_UP)
        weights = [rng.uniform(0.5, 1.5) for _ in range(scope.siblings)]
        parts = [(total * Decimal(str(w / sum(weights)))).quantize(unit, ROUND_HALF_UP)
                 for w in weights]
        parts[-1] = total - sum(parts[:-1])
        scope.splits[spec.of] = parts
    return scope.splits[spec.of][scope.index % scope.siblings]


def _email(spec: specs.Email, target: FieldSpec, scope: Scope) -> str:
    vocabulary, rng = scope.vocabulary, scope.rng
    person = scope.resolve(spec.person) if spec.person else None
    local = vocabulary.pinyin(person) if isinstance(person, str) else \
        vocabulary.pinyin(vocabulary.person_name(rng))
    if rng.random() < 0.3:
        local += str(rng.randint(1, 99))
    company = scope.resolve(spec.company) if spec.company else None
    domain = spec.domain or (vocabulary.company_domain(company) if isinstance(company, str)
                             else f"mail.{SAFE_TLD}")
    return f"{local}@{domain}"


MAKERS: dict[str, Any] = {
    "person_name": lambda spec, target, scope: scope.vocabulary.person_name(scope.rng),
    "company_name": lambda spec, target, scope: scope.vocabulary.company_name(
        scope.rng, scope.city(scope.resolve(spec.region) if spec.region else None),
        scope.resolve(spec.industry) if spec.industry else None),
    "mobile": lambda spec, target, scope: scope.vocabulary.mobile(scope.rng),
    "email": _email,
    "choice": _choice,
    "number": _number,
    "date": _date,
    "datetime": _date,
    "ref": _ref,
    "parent": lambda spec, target, scope: scope.parent_value,
    "copy": lambda spec, target, scope: scope.resolve(spec.source),
    "user": _user,
    "user_emails": lambda spec, target, scope: _user_groups(spec, scope),
    "const": lambda spec, target, scope: spec.value,
    "text": _text,
    "split": _split,
    "boolean": lambda spec, target, scope: scope.rng.random() < spec.p,
    "address": lambda spec, target, scope: scope.vocabulary.address(
        scope.rng, scope.city(scope.resolve(spec.region) if spec.region else None)),
    "city": lambda spec, target, scope: scope.city(
        scope.resolve(spec.region) if spec.region else None)["city"],
}
