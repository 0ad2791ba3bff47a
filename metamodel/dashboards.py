"""Dashboards: named pages of figures computed from an app's records.

A dashboard is a list of widgets; every widget is made of *measures* — an aggregate
(``count``, ``count_distinct``, ``sum``, ``avg``, ``min``, ``max``) of a field or of a formula
over one entity, narrowed by a JSON Logic ``filter`` and, when it names a ``date_field``,
by the period the reader asks for. Widget kinds:

* ``metric``    one measure: a single number;
* ``ratio``     numerator / denominator, as a percentage by default;
* ``breakdown`` one entity grouped by a field (select, user, lookup, date in buckets…) with
  one or more measures, sorted, optionally cut to the top N;
* ``funnel``    ordered steps (each a measure, possibly on different entities), or the
  options of one select field in order, with conversion from step to step;
* ``series``    measures over time buckets, side by side (sales against a target).

The numbers are computed in the database by the engines; this module only says what they are.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loom.metamodel.fields import ApiName, LocalizedText, OptionCategory

Aggregate = Literal["count", "count_distinct", "sum", "avg", "min", "max"]
Bucket = Literal["day", "week", "month", "quarter", "year"]
PeriodPreset = Literal[
    "today", "yesterday", "this_week", "last_week", "this_month", "last_month",
    "this_quarter", "last_quarter", "this_year", "last_year", "last_7_days", "last_30_days",
    "last_90_days", "last_12_months", "all"]
# How a number is shown; the reader's page formats it, the API only hints.
NumberFormat = Literal["integer", "number", "currency", "percent", "days", "date"]
Chart = Literal["number", "gauge", "bar", "column", "line", "area", "pie", "funnel", "table"]


class MeasureSpec(BaseModel):
    """An aggregate over the records of one entity the reader may see."""

    model_config = ConfigDict(extra="forbid")

    entity: ApiName
    aggregate: Aggregate = "count"
    field: ApiName | None = Field(
        default=None, description="The field aggregated (count without one counts records)")
    expression: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None, description="A formula aggregated instead of a field, e.g. "
        "IF(score >= 5, 1, 0)")
    filter: dict[str, Any] | None = Field(
        default=None, description="JSON Logic: only the records it holds for")
    date_field: ApiName | None = Field(
        default=None, description="The date or datetime the requested period applies to")
    label: LocalizedText | None = None
    format: NumberFormat | None = Field(
        default=None, description="How to show the number (by default from the field)")
    unit: LocalizedText | None = Field(default=None, description="e.g. 天 / days")


class NamedMeasure(MeasureSpec):
    """A measure with a name, as a step, a series or a column of a breakdown."""

    name: ApiName


class BreakdownMeasure(BaseModel):
    """A column of a breakdown: an aggregate over the breakdown's entity."""

    model_config = ConfigDict(extra="forbid")

    name: ApiName
    aggregate: Aggregate = "count"
    field: ApiName | None = None
    expression: Annotated[str, Field(max_length=2000)] | None = None
    filter: dict[str, Any] | None = Field(
        default=None, description="JSON Logic: this column counts only these records")
    label: LocalizedText | None = None
    format: NumberFormat | None = None
    unit: LocalizedText | None = None


class WidgetBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ApiName
    label: LocalizedText
    description: LocalizedText | None = Field(
        default=None, description="What the figure means (its definition), shown with it")
    chart: Chart | None = Field(default=None, description="A drawing hint for pages")
    width: Annotated[int, Field(ge=1, le=12)] | None = Field(
        default=None, description="Columns of a 12-column grid the widget spans")
    period: PeriodPreset | None = Field(
        default=None, description="The widget's own period (e.g. this_year for a monthly "
        "series), instead of the one the reader asks for")


class MetricWidget(WidgetBase, MeasureSpec):
    kind: Literal["metric"]


class RatioWidget(WidgetBase):
    kind: Literal["ratio"]
    numerator: MeasureSpec
    denominator: MeasureSpec
    percent: bool = Field(default=True, description="Shown as a percentage (× 100)")
    scale: Annotated[int, Field(ge=0, le=6)] = Field(
        default=2, description="Digits after the decimal point")
    format: NumberFormat | None = Field(
        default=None, description="How to show it, when not as a percentage (an NPS is "
        "a number from -100 to 100)")


class BreakdownWidget(WidgetBase):
    kind: Literal["breakdown"]
    entity: ApiName
    group_by: ApiName = Field(description="A select, user, lookup, text, boolean, number or "
                              "date field (dates in buckets)")
    bucket: Bucket | None = Field(default=None, description="For a date group: its buckets")
    bins: Annotated[list[float], Field(min_length=1, max_length=20)] | None = Field(
        default=None, description="For a number group: ascending edges; the groups are "
        "below the first, between each two (lower edge included) and from the last up")
    measures: Annotated[list[BreakdownMeasure], Field(min_length=1, max_length=12)]
    filter: dict[str, Any] | None = None
    date_field: ApiName | None = None
    sort: str | None = Field(
        default=None, description="A measure name or 'group', '-' first for descending; "
        "by default options in order, otherwise the first measure descending")
    limit: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None, description="Top N groups")
    include_blank: bool = Field(default=True, description="A group for records without a "
                                "value")


class StageFunnel(BaseModel):
    """A funnel over the options of one select field, in the order they are defined."""

    model_config = ConfigDict(extra="forbid")

    entity: ApiName
    field: ApiName
    aggregate: Aggregate = "count"
    value_field: ApiName | None = Field(default=None, description="Aggregated instead of "
                                        "counting (e.g. amount)")
    filter: dict[str, Any] | None = None
    date_field: ApiName | None = None
    exclude_categories: list[OptionCategory] = Field(
        default_factory=lambda: ["lost"], description="Options left out of the steps; "
        "their records still entered the funnel, so they count in the first step")
    cumulative: bool = Field(
        default=True, description="A record counts in its stage and every stage before it "
        "(it passed them); false: only in the stage it is in")


class FunnelWidget(WidgetBase):
    kind: Literal["funnel"]
    steps: Annotated[list[NamedMeasure], Field(min_length=2, max_length=20)] | None = None
    stages: StageFunnel | None = None


class SeriesWidget(WidgetBase):
    kind: Literal["series"]
    bucket: Bucket = "month"
    series: Annotated[list[NamedMeasure], Field(min_length=1, max_length=12)]


Widget = Annotated[MetricWidget | RatioWidget | BreakdownWidget | FunnelWidget | SeriesWidget,
                   Field(discriminator="kind")]


class DashboardSpec(BaseModel):
    """A dashboard: who may open it, the period it opens with, and its widgets in order."""

    model_config = ConfigDict(extra="forbid")

    label: LocalizedText
    description: LocalizedText | None = None
    roles: list[ApiName] = Field(
        default_factory=list, description="Roles whose members see it (empty: everyone in "
        "the app); each figure still counts only what the reader may read")
    default_period: PeriodPreset = "this_month"
    order: int = Field(default=100, description="Position in the list of dashboards")
    widgets: Annotated[list[Widget], Field(min_length=1, max_length=60)]


def widget_measures(widget: Any) -> list[tuple[str, MeasureSpec]]:
    """The entity measures a widget is made of, with the path each is written at (stage
    funnels and breakdowns have their own shape and are not listed)."""
    if isinstance(widget, MetricWidget):
        return [("", widget)]
    if isinstance(widget, RatioWidget):
        return [("numerator", widget.numerator), ("denominator", widget.denominator)]
    if isinstance(widget, FunnelWidget):
        return [(f"steps[{i}]", step) for i, step in enumerate(widget.steps or [])]
    if isinstance(widget, SeriesWidget):
        return [(f"series[{i}]", item) for i, item in enumerate(widget.series)]
    return []
