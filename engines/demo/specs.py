"""The demo-data recipe language: what a template's ``demo/recipe.json`` may say.

A recipe is a list of steps, run in order. A step makes records of one entity — a number
of them, or some per record of an earlier step (its *parent*), or it changes records that
already exist (a template's seed) — and says, per field, which generator fills it. The
models here only describe; ``checks`` holds them against the app, ``plan`` runs them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SIZES = ("small", "medium", "large")
Reference = str  # "field", "parent.field", "as_of" or "moment"


class Gen(BaseModel):
    """What every generator accepts: leave the field blank with a probability, or only fill
    it when a JSON Logic condition holds for the record generated so far."""

    model_config = ConfigDict(extra="forbid")
    blank: float = Field(default=0.0, ge=0, le=1)
    when: Any = None


class PersonName(Gen):
    gen: Literal["person_name"]


class CompanyName(Gen):
    gen: Literal["company_name"]
    region: Reference | None = Field(default=None, description="field holding a region key")
    industry: Reference | None = Field(default=None, description="field holding an industry")


class Mobile(Gen):
    gen: Literal["mobile"]


class Email(Gen):
    gen: Literal["email"]
    person: Reference | None = Field(default=None, description="a name to spell in pinyin")
    company: Reference | None = Field(default=None, description="a company name: its domain")
    domain: str | None = Field(default=None, description="a fixed domain, e.g. demo.example")


class Choice(Gen):
    gen: Literal["choice"]
    options: list[Any] | dict[str, float] | None = Field(
        default=None, description="values (uniform) or value → weight; default: the options")
    by: Reference | None = Field(default=None, description="choose options by this value")
    cases: dict[str, dict[str, float]] | None = None
    pick: tuple[int, int] | None = Field(default=None, description="multiselect: how many")
    cycle: bool = Field(default=False, description="take the options in turn")


class Number(Gen):
    gen: Literal["number"]
    min: float = 0
    max: float = 100
    distribution: Literal["uniform", "lognormal", "triangular"] = "uniform"
    round: float | None = Field(default=None, description="a multiple to round to, e.g. 100")
    scale: int = Field(default=2, ge=0, le=6, description="decimal places")


class DateGen(Gen):
    gen: Literal["date", "datetime"]
    days_ago: tuple[float, float] | None = None
    after: Reference | None = None
    days: tuple[float, float] = (0, 0)
    hours: tuple[float, float] = Field(default=(9, 18), description="time of day window")
    seasonality: list[float] | None = Field(default=None, min_length=12, max_length=12)
    weekdays: bool = False
    future: bool = Field(default=False, description="may fall after the as-of moment")
    each_month: bool = Field(default=False, description="the n-th record (or child) gets the "
                             "first day of the month n months before as-of")


class RefGen(Gen):
    gen: Literal["ref"]
    entity: str
    where: Any = None
    match: dict[str, Reference] = Field(default_factory=dict,
                                        description="their field → a value of this record")
    skew: float = Field(default=0.0, ge=0, le=4, description="0: uniform; more: a few "
                        "records get most references")


class ParentGen(Gen):
    gen: Literal["parent"]


class Copy(Gen):
    gen: Literal["copy"]
    source: Reference = Field(alias="from")


class UserGen(Gen):
    gen: Literal["user"]
    groups: list[str] = Field(default_factory=list)
    by: Reference | None = None
    cases: dict[str, list[str]] | None = None


class UserEmails(Gen):
    gen: Literal["user_emails"]
    groups: list[str] = Field(default_factory=list)
    by: Reference | None = None
    cases: dict[str, list[str]] | None = None


class Const(Gen):
    gen: Literal["const"]
    value: Any


class Text(Gen):
    gen: Literal["text"]
    pattern: str = "{pick}"
    pick: list[str] = Field(default_factory=list)
    cycle: bool = Field(default=False, description="take the picks in turn, not at random")


class Split(Gen):
    gen: Literal["split"]
    of: Reference
    fill: tuple[float, float] = (1.0, 1.0)
    full: float = Field(default=0.0, ge=0, le=1, description="chance the whole is used")
    scale: int = Field(default=2, ge=0, le=6)


class Boolean(Gen):
    gen: Literal["boolean"]
    p: float = Field(default=0.5, ge=0, le=1)


class Address(Gen):
    gen: Literal["address"]
    region: Reference | None = None


class City(Gen):
    gen: Literal["city"]
    region: Reference | None = None


Generator = Annotated[
    PersonName | CompanyName | Mobile | Email | Choice | Number | DateGen | RefGen
    | ParentGen | Copy | UserGen | UserEmails | Const | Text | Split | Boolean | Address
    | City, Field(discriminator="gen")]


class Each(BaseModel):
    """How many children each parent gets."""

    model_config = ConfigDict(extra="forbid")
    min: int = Field(default=0, ge=0)
    max: int = Field(default=3, ge=0, le=1000)
    distribution: Literal["uniform", "geometric"] = "uniform"
    mean: float | None = Field(default=None, gt=0, description="geometric: the mean count")


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    entity: str
    count: int | dict[str, int] | None = Field(default=None, description="records, or per size")
    per: str | None = Field(default=None, description="an earlier step: children per record")
    each: Each | None = None
    where: Any = Field(default=None, description="only parents (or existing records) for "
                       "which this JSON Logic condition holds")
    existing: bool = Field(default=False, description="change the entity's existing records")
    moment: str | DateGen | None = Field(
        default=None, description="when the record happened: one of its date or datetime "
        "fields, or a date generator of its own (read by other generators as 'moment')")
    fields: dict[str, Generator] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> Step:
        sources = [self.count is not None, self.per is not None, self.existing]
        if sum(sources) != 1:
            raise ValueError("give exactly one of count, per (with each) or existing")
        if self.per is not None and self.each is None:
            self.each = Each(min=1, max=1)
        return self


class UserGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    count: int | dict[str, int] = 1
    title: str | None = None
    department: str | None = None
    manager: str | None = Field(default=None, description="a group whose first user manages")
    roles: list[str] = Field(default_factory=list)


class Users(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=10)
    domain: str = "demo.example"
    groups: list[UserGroup]


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: Any = None
    default_size: Literal["small", "medium", "large"] = "small"
    users: Users | None = None
    steps: list[Step]


def sized(count: int | dict[str, int], size: str) -> int:
    """A count that may differ by size (missing sizes use the nearest smaller one)."""
    if isinstance(count, int):
        return count
    for name in reversed(SIZES[:SIZES.index(size) + 1]):
        if name in count:
            return count[name]
    return next(iter(count.values()), 0)
