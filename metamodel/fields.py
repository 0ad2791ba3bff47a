"""Fields: the field types of the public contract and the attributes each one takes."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

API_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
ApiName = Annotated[str, StringConstraints(pattern=API_NAME_PATTERN, max_length=40)]
LocaleTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")]
LocalizedText = str | dict[LocaleTag, str]


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    RICH_TEXT = "rich_text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    CURRENCY = "currency"
    PERCENT = "percent"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    SELECT = "select"
    MULTISELECT = "multiselect"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    USER = "user"
    DEPARTMENT = "department"
    LOOKUP = "lookup"
    SUBTABLE = "subtable"
    FILE = "file"
    IMAGE = "image"
    SIGNATURE = "signature"
    ADDRESS = "address"
    LOCATION = "location"
    SERIAL = "serial"
    FORMULA = "formula"
    ROLLUP = "rollup"
    RATING = "rating"
    JSON = "json"


TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.TEXTAREA, FieldType.RICH_TEXT, FieldType.EMAIL,
                        FieldType.PHONE, FieldType.URL, FieldType.SELECT, FieldType.SERIAL})
NUMBER_TYPES = frozenset({FieldType.DECIMAL, FieldType.CURRENCY, FieldType.PERCENT})
REFERENCE_TYPES = frozenset({FieldType.LOOKUP, FieldType.USER, FieldType.DEPARTMENT})
# Types whose value the platform computes; input for them is never accepted.
COMPUTED_TYPES = frozenset({FieldType.FORMULA, FieldType.ROLLUP, FieldType.SERIAL})
# Types that have no column on the entity's own table.
VIRTUAL_TYPES = frozenset({FieldType.SUBTABLE})
# The rows of one subtable a record carries inline: in one save, and in one read.
SUBTABLE_ROWS_MAX = 500
# Types that cannot carry a unique index.
NON_UNIQUE_TYPES = frozenset({FieldType.MULTISELECT, FieldType.SUBTABLE, FieldType.JSON,
                              FieldType.ADDRESS, FieldType.LOCATION, FieldType.FILE,
                              FieldType.IMAGE, FieldType.SIGNATURE, FieldType.RICH_TEXT,
                              FieldType.BOOLEAN, FieldType.FORMULA, FieldType.ROLLUP})
# What a formula may return.
FORMULA_RESULT_TYPES = frozenset({FieldType.TEXT, FieldType.INTEGER, FieldType.DECIMAL,
                                  FieldType.CURRENCY, FieldType.PERCENT, FieldType.BOOLEAN,
                                  FieldType.DATE, FieldType.DATETIME})

OptionCategory = Literal["open", "won", "lost", "active", "paused", "resolved", "closed"]


class KeyCondition(BaseModel):
    """Something a stage needs beyond filled fields ("a sent quote"): a condition on the
    record, usually a ``related`` aggregate, and how a person names it."""

    model_config = ConfigDict(extra="forbid")

    label: LocalizedText = Field(description="What is needed, e.g. 已发送的报价 / a sent quote")
    condition: dict[str, Any] = Field(description="JSON Logic on the record that must hold")


class Option(BaseModel):
    """One choice of a select or multiselect field. The stage SOP keys (``guidance``,
    ``key_fields``, ``key_conditions``, ``time_limit``) make a select field a stage path."""

    model_config = ConfigDict(extra="forbid")

    value: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    label: LocalizedText | None = None
    category: OptionCategory | None = Field(
        default=None,
        description="Semantic meaning engines read (funnels, SLAs), so options can be renamed.",
    )
    color: str | None = None
    guidance: LocalizedText | None = Field(
        default=None, description="Stage SOP: what to do in this stage")
    key_fields: list[ApiName] | None = Field(
        default=None, description="Fields to fill before a record moves past this stage "
        "(for a won or lost stage: before it moves to it)")
    key_conditions: list[KeyCondition] | None = Field(
        default=None, description="Conditions that must hold, like key_fields")
    time_limit: str | None = Field(
        default=None, description="ISO 8601 duration (P7D): longer in the stage reminds "
        "the record's owner")

    @property
    def sop(self) -> bool:
        """Whether this option carries stage SOP metadata."""
        return any(value is not None for value in (self.guidance, self.key_fields,
                                                   self.key_conditions, self.time_limit))


class Rollup(BaseModel):
    """An aggregate over the child records that point at this record."""

    model_config = ConfigDict(extra="forbid")

    entity: ApiName = Field(description="The child entity, e.g. payment")
    link_field: ApiName = Field(description="The child's lookup pointing back, e.g. contract")
    function: Literal["sum", "count", "min", "max", "avg"] = "sum"
    field: ApiName | None = Field(default=None, description="The child field aggregated")
    filter: dict[str, Any] | None = Field(
        default=None, description="JSON Logic condition on the child records")


class FieldSpec(BaseModel):
    """A field of an entity. ``type`` decides which of the other attributes apply."""

    model_config = ConfigDict(extra="forbid")

    type: FieldType
    label: LocalizedText | None = None
    description: LocalizedText | None = None
    required: bool = False
    required_if: dict[str, Any] | None = Field(
        default=None, description="JSON Logic: the field is required when this holds")
    unique: bool = False
    index: bool = False
    readonly: bool = False
    default: Any = None
    # select / multiselect
    options: list[Option] | None = None
    # lookup
    ref: ApiName | None = None
    on_delete: Literal["restrict", "set_null", "cascade"] | None = None
    # subtable: the child entity and its lookup back to this record
    entity: ApiName | None = None
    link_field: ApiName | None = None
    # formula / rollup
    formula: str | None = None
    returns: FieldType | None = None
    rollup: Rollup | None = None
    # serial, e.g. "HT-{YYYY}{MM}-{seq:4}"
    format: str | None = None
    # limits
    max_length: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    digits: Annotated[int, Field(ge=1, le=38)] | None = Field(
        default=None, description="Total significant digits of a decimal field")
    scale: Annotated[int, Field(ge=0, le=12)] | None = Field(
        default=None, description="Digits after the decimal point")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    max_rating: Annotated[int, Field(ge=1, le=10)] | None = None
    accept: list[str] | None = Field(
        default=None, description="Accepted file types for file/image fields (e.g. image/png)")

    def decimal_scale(self) -> int:
        if self.scale is not None:
            return self.scale
        return 4 if self.storage_type() is FieldType.DECIMAL else 2

    def decimal_digits(self) -> int:
        return self.digits or 18

    def storage_type(self) -> FieldType:
        """The type that decides the column: a formula stores what it returns."""
        if self.type is FieldType.FORMULA:
            return self.returns or FieldType.TEXT
        if self.type is FieldType.ROLLUP:
            if self.rollup is not None and self.rollup.function == "count":
                return FieldType.INTEGER
            return self.returns or FieldType.DECIMAL
        return self.type

    @property
    def computed(self) -> bool:
        return self.type in COMPUTED_TYPES

    @property
    def has_column(self) -> bool:
        return self.type not in VIRTUAL_TYPES

    def option_values(self) -> list[str]:
        return [option.value for option in self.options or []]

    def option_label(self, value: Any) -> Any:
        """The label of the option ``value`` (a localized text), or the value itself
        when it is not one of the options."""
        for option in self.options or []:
            if option.value == value:
                return option.label or option.value
        return value

    @property
    def is_stage_path(self) -> bool:
        """A select field whose options carry stage SOP metadata (a stage path)."""
        return self.type is FieldType.SELECT and any(o.sop for o in self.options or [])
