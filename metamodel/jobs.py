"""Jobs: named, scheduled, set-based computations over an app's records (the ``jobs``
section). Two kinds: ``rfm`` scores customers (any "subject" entity) from their events
(orders) by recency, frequency and monetary value and sorts them into tiers; ``clv`` fits
the BG/NBD and Gamma-Gamma models to the same kind of events and writes each customer's
probability of being alive, expected purchases, expected spend and lifetime value.

The models say what a job is; ``check_jobs`` says whether it fits the app's entities. Both
run at publish, so a job that names a missing field or a tier value that is not an option
never reaches the database.
"""

from __future__ import annotations

from itertools import product
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from loom.metamodel.errors import Problem
from loom.metamodel.fields import NUMBER_TYPES, ApiName, FieldType, LocalizedText
from loom.metamodel.i18n import message, register_messages

if TYPE_CHECKING:
    from loom.metamodel.app import AppDocument as AppView

register_messages({
    "job_unknown_entity": {"en": "there is no entity '{name}' in this app",
                           "zh-CN": "此应用中没有实体“{name}”"},
    "job_unknown_field": {"en": "there is no field '{name}' on {entity}",
                          "zh-CN": "{entity}上没有字段“{name}”"},
    "job_field_type": {
        "en": "'{name}' on {entity} is {type}; a job writes {wanted} here",
        "zh-CN": "{entity}上的“{name}”是 {type} 类型，此处需要 {wanted} 类型的字段",
    },
    "job_field_computed": {
        "en": "'{name}' on {entity} is computed ({type}); a job cannot write it",
        "zh-CN": "{entity}上的“{name}”是计算字段（{type}），任务不能写入",
    },
    "job_field_twice": {"en": "the job writes '{name}' twice",
                        "zh-CN": "任务重复写入字段“{name}”"},
    "job_link_not_to_subject": {
        "en": "'{name}' on {entity} must be a lookup to {subject}",
        "zh-CN": "{entity}上的“{name}”必须是指向{subject}的查找字段",
    },
    "job_bad_cron": {"en": "'{cron}' is not a cron schedule of five fields, such as "
                           "'0 2 * * *'",
                     "zh-CN": "“{cron}”不是五段式 cron 计划，例如“0 2 * * *”"},
    "job_bad_timezone": {"en": "'{zone}' is not a time zone name such as Asia/Shanghai",
                         "zh-CN": "“{zone}”不是时区名称，例如 Asia/Shanghai"},
    "job_tier_key": {
        "en": "'{combination}' is not a tier combination; write one of high_r/low_r, high_f/low_f, "
              "high_m/low_m each, e.g. high_r,low_f,high_m",
        "zh-CN": "“{combination}”不是分层组合；请依次写出 high_r/low_r、high_f/low_f、"
                 "high_m/low_m，例如 high_r,low_f,high_m",
    },
    "job_tier_missing": {"en": "no tier is named for {combination}",
                         "zh-CN": "没有为组合 {combination} 指定分层"},
    "job_tier_not_option": {"en": "'{value}' is not an option of '{name}' on {entity}",
                            "zh-CN": "“{value}”不是{entity}上“{name}”的选项"},
})

TIER_KEYS = tuple(",".join(parts) for parts in product(("high_r", "low_r"),
                                                       ("high_f", "low_f"),
                                                       ("high_m", "low_m")))


class JobSchedule(BaseModel):
    """When the worker runs the job: a five-field cron in a time zone (the app's by
    default)."""

    model_config = ConfigDict(extra="forbid")

    cron: str = Field(description="Five-field cron, e.g. '0 2 * * *' for 02:00 every day")
    timezone: str | None = Field(default=None, description="Default: the app's time zone")


class JobEvents(BaseModel):
    """The events a subject is computed from: which entity, its link to the subject, its
    date and its amount."""

    model_config = ConfigDict(extra="forbid")

    entity: ApiName
    link: ApiName = Field(description="Lookup from the event to the subject")
    date: ApiName = Field(description="A date field of the event")
    amount: ApiName = Field(description="A number field of the event (spend)")


class RfmScores(BaseModel):
    """Where the 1–5 scores go."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["quintile"] = "quintile"
    recency: ApiName
    frequency: ApiName
    monetary: ApiName


class RfmValues(BaseModel):
    """Where the raw figures go (optional, each one)."""

    model_config = ConfigDict(extra="forbid")

    recency_days: ApiName | None = None
    frequency: ApiName | None = None
    monetary: ApiName | None = None


class RfmTiers(BaseModel):
    """The 8-tier model: above/below the mean per dimension → a select option."""

    model_config = ConfigDict(extra="forbid")

    field: ApiName
    split: Literal["mean"] = "mean"
    names: dict[str, str] = Field(description="'high_r,high_f,high_m' → option value, for "
                                  "all eight combinations")


class _SubjectJob(BaseModel):
    """What every job over ``subject`` records and their dated ``events`` has."""

    model_config = ConfigDict(extra="forbid")

    kind: str  # each kind names itself
    label: LocalizedText
    description: LocalizedText | None = None
    enabled: bool = Field(default=True, description="A disabled job runs only on demand")
    subject: ApiName
    events: JobEvents


class RfmJob(_SubjectJob):
    """RFM scoring of ``subject`` records from their ``events`` as of a date."""

    kind: Literal["rfm"]
    window_days: int | None = Field(default=None, ge=1, le=36500,
                                    description="Look back this many days (None: all)")
    schedule: JobSchedule | None = None
    scores: RfmScores
    values: RfmValues | None = None
    tiers: RfmTiers | None = None
    last_event_field: ApiName | None = None
    as_of_field: ApiName | None = None

    def outputs(self) -> dict[str, str]:
        """What the job writes: {role: field}, in a fixed order."""
        found = {"recency_score": self.scores.recency, "frequency_score": self.scores.frequency,
                 "monetary_score": self.scores.monetary}
        if self.values:
            for role, name in (("recency_days", self.values.recency_days),
                               ("frequency", self.values.frequency),
                               ("monetary", self.values.monetary)):
                if name:
                    found[role] = name
        if self.tiers:
            found["tier"] = self.tiers.field
        if self.last_event_field:
            found["last_event"] = self.last_event_field
        if self.as_of_field:
            found["as_of"] = self.as_of_field
        return found


class ClvPredictions(BaseModel):
    """Where each customer's predictions go (each optional, at least one)."""

    model_config = ConfigDict(extra="forbid")

    p_alive: ApiName | None = Field(default=None, description="Probability alive, 0–1")
    expected_purchases: ApiName | None = Field(
        default=None, description="Purchases expected within horizon_days")
    expected_spend: ApiName | None = Field(default=None,
                                           description="Expected spend per purchase")
    clv: ApiName | None = Field(default=None, description="Discounted value over clv_months")

    @model_validator(mode="after")
    def _some(self) -> ClvPredictions:
        if not any((self.p_alive, self.expected_purchases, self.expected_spend, self.clv)):
            raise ValueError("name at least one field to write a prediction to")
        return self


# Days per time unit of the models (a month is a twelfth of a mean Gregorian year).
TIME_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.2425 / 12}


class ClvJob(_SubjectJob):
    """Customer lifetime value: BG/NBD (repeat purchases, alive or not) and Gamma-Gamma
    (spend) fitted by maximum likelihood to the ``events`` of each ``subject`` dated on or
    before the as-of date (the calibration period), then each subject's predictions."""

    kind: Literal["clv"]
    window_days: int | None = Field(default=None, ge=1, le=36500,
                                    description="Calibrate on this many days up to the "
                                    "as-of date (None: all history)")
    schedule: JobSchedule | None = None
    time_unit: Literal["day", "week", "month"] = Field(
        default="week", description="The unit the models measure time in")
    horizon_days: int = Field(default=90, ge=1, le=3660,
                              description="The window of expected_purchases")
    clv_months: int = Field(default=12, ge=1, le=120,
                            description="How many months ahead the lifetime value counts")
    monthly_discount_rate: float = Field(default=0.01, ge=0, le=1,
                                         description="Discount per month, e.g. 0.01")
    predictions: ClvPredictions
    as_of_field: ApiName | None = None

    def outputs(self) -> dict[str, str]:
        """What the job writes: {role: field}, in a fixed order."""
        found = {role: name for role, name in self.predictions.model_dump().items() if name}
        if self.as_of_field:
            found["as_of"] = self.as_of_field
        return found


JobSpec = Annotated[RfmJob | ClvJob, Field(discriminator="kind")]
AnyJob = RfmJob | ClvJob

# The field types each output role accepts.
_INTEGERS = frozenset({FieldType.INTEGER, FieldType.RATING, *NUMBER_TYPES})
_ROLE_TYPES = {"recency_score": _INTEGERS, "frequency_score": _INTEGERS,
               "monetary_score": _INTEGERS, "recency_days": _INTEGERS, "frequency": _INTEGERS,
               "monetary": frozenset(NUMBER_TYPES), "tier": frozenset({FieldType.SELECT}),
               "last_event": frozenset({FieldType.DATE}), "as_of": frozenset({FieldType.DATE}),
               "p_alive": frozenset(NUMBER_TYPES), "expected_purchases": frozenset(NUMBER_TYPES),
               "expected_spend": frozenset(NUMBER_TYPES), "clv": frozenset(NUMBER_TYPES)}
_ROLE_PATHS = {"recency_score": "scores.recency", "frequency_score": "scores.frequency",
               "monetary_score": "scores.monetary", "recency_days": "values.recency_days",
               "frequency": "values.frequency", "monetary": "values.monetary",
               "tier": "tiers.field", "last_event": "last_event_field", "as_of": "as_of_field",
               "p_alive": "predictions.p_alive",
               "expected_purchases": "predictions.expected_purchases",
               "expected_spend": "predictions.expected_spend", "clv": "predictions.clv"}


def _types(kinds: frozenset[FieldType]) -> str:
    return "/".join(sorted(str(kind) for kind in kinds))


def _field_problem(doc: AppView, entity: str, name: str, path: str,
                   wanted: frozenset[FieldType]) -> Problem | None:
    spec = doc.entities[entity].fields.get(name)
    if spec is None:
        return Problem(path, message("job_unknown_field", name=name, entity=entity))
    if spec.type in (FieldType.FORMULA, FieldType.ROLLUP, FieldType.SERIAL):
        return Problem(path, message("job_field_computed", name=name, entity=entity,
                                     type=spec.type))
    if spec.type not in wanted:
        return Problem(path, message("job_field_type", name=name, entity=entity,
                                     type=spec.type, wanted=_types(wanted)))
    return None


def _check_events(doc: AppView, job: AnyJob, path: str) -> list[Problem]:
    events = job.events
    if events.entity not in doc.entities:
        return [Problem(f"{path}.events.entity",
                        message("job_unknown_entity", name=events.entity))]
    problems = []
    link = doc.entities[events.entity].fields.get(events.link)
    if link is None or link.type is not FieldType.LOOKUP or link.ref != job.subject:
        problems.append(Problem(f"{path}.events.link", message(
            "job_link_not_to_subject", name=events.link, entity=events.entity,
            subject=job.subject)))
    for attribute, wanted in (("date", frozenset({FieldType.DATE})),
                              ("amount", frozenset({FieldType.INTEGER, *NUMBER_TYPES}))):
        name = getattr(events, attribute)
        spec = doc.entities[events.entity].fields.get(name)
        if spec is None:
            problems.append(Problem(f"{path}.events.{attribute}", message(
                "job_unknown_field", name=name, entity=events.entity)))
        elif spec.storage_type() not in wanted:
            problems.append(Problem(f"{path}.events.{attribute}", message(
                "job_field_type", name=name, entity=events.entity, type=spec.type,
                wanted=_types(wanted))))
    return problems


def _check_outputs(doc: AppView, job: AnyJob, path: str) -> list[Problem]:
    problems, seen = [], set()
    for role, name in job.outputs().items():
        where = f"{path}.{_ROLE_PATHS[role]}"
        if name in seen:
            problems.append(Problem(where, message("job_field_twice", name=name)))
        seen.add(name)
        found = _field_problem(doc, job.subject, name, where, _ROLE_TYPES[role])
        if found:
            problems.append(found)
    return problems


def _check_tiers(doc: AppView, job: AnyJob, path: str) -> list[Problem]:
    tiers = job.tiers if isinstance(job, RfmJob) else None
    if tiers is None:
        return []
    problems = [Problem(f"{path}.tiers.names.{key}", message("job_tier_key", combination=key))
                for key in tiers.names if key not in TIER_KEYS]
    problems += [Problem(f"{path}.tiers.names", message("job_tier_missing", combination=key))
                 for key in TIER_KEYS if key not in tiers.names]
    spec = doc.entities[job.subject].fields.get(tiers.field)
    if spec is not None and spec.type is FieldType.SELECT:
        options = {option.value for option in spec.options or []}
        problems += [Problem(f"{path}.tiers.names.{key}", message(
            "job_tier_not_option", value=value, name=tiers.field, entity=job.subject))
            for key, value in tiers.names.items() if value not in options]
    return problems


def _check_schedule(job: AnyJob, path: str) -> list[Problem]:
    schedule = job.schedule
    if schedule is None:
        return []
    problems = []
    if len(schedule.cron.split()) != 5 or not croniter.is_valid(schedule.cron):
        problems.append(Problem(f"{path}.schedule.cron",
                                message("job_bad_cron", cron=schedule.cron)))
    if schedule.timezone is not None:
        try:
            ZoneInfo(schedule.timezone)
        except (ValueError, KeyError, OSError):
            problems.append(Problem(f"{path}.schedule.timezone",
                                    message("job_bad_timezone", zone=schedule.timezone)))
    return problems


def check_jobs(doc: AppView) -> list[Problem]:
    """Every problem of the app's jobs, each naming its metadata path."""
    problems: list[Problem] = []
    for name, job in doc.jobs.items():
        path = f"jobs.{name}"
        problems += _check_schedule(job, path)
        if job.subject not in doc.entities:
            problems.append(Problem(f"{path}.subject",
                                    message("job_unknown_entity", name=job.subject)))
            continue
        problems += _check_events(doc, job, path)
        problems += _check_outputs(doc, job, path)
        problems += _check_tiers(doc, job, path)
    return problems
