"""Message templates of rules (notification titles, email subjects and bodies): localized
text with ``{{ field }}`` placeholders, rendered in Jinja2's sandbox so a template can read
the record and never reach Python objects."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, meta
from jinja2.sandbox import SandboxedEnvironment

from loom.metamodel.i18n import localize


def _blank_as_nothing(value: Any) -> Any:
    return "" if value is None else value  # a blank field reads as nothing, not "None"


_ENV = SandboxedEnvironment(autoescape=False, undefined=Undefined, keep_trailing_newline=True,
                            finalize=_blank_as_nothing)
MAX_OUTPUT = 100_000


class LinkedRecord(dict):
    """A record reached through a lookup: its fields, shown as its title."""

    def __init__(self, values: Mapping[str, Any], title: str | None) -> None:
        super().__init__(values)
        self.title = title

    def __str__(self) -> str:
        return str(self.title if self.title is not None else self.get("id", ""))


class _Shown:
    """Mixed into a value's own type: it compares and computes as the value and prints as
    the words a person reads (``{{ source }}`` is 官网, ``{% if source == "website" %}``
    still holds)."""

    text: str

    def __str__(self) -> str:
        return self.text


class _ShownText(_Shown, str):
    pass


class _ShownInt(_Shown, int):
    pass


class _ShownDecimal(_Shown, Decimal):
    pass


class _ShownDate(_Shown, date):
    pass


class _ShownDateTime(_Shown, datetime):
    pass


class _ShownList(_Shown, list):
    pass


def shown(value: Any, text: str) -> Any:
    """``value`` for a template: itself, printed as ``text``."""
    made: Any
    if value is None:
        return None
    if isinstance(value, str):
        made = _ShownText(value)
    elif isinstance(value, int):  # booleans too: True == 1 still holds
        made = _ShownInt(value)
    elif isinstance(value, Decimal | float):
        made = _ShownDecimal(str(value))
    elif isinstance(value, datetime):
        made = _ShownDateTime(*value.timetuple()[:6], value.microsecond, value.tzinfo)
    elif isinstance(value, date):
        made = _ShownDate(value.year, value.month, value.day)
    elif isinstance(value, list):
        made = _ShownList(value)
    else:
        return value
    made.text = text
    return made


@lru_cache(maxsize=512)
def _template(text: str) -> Any:
    return _ENV.from_string(text)


def template_names(*texts: Any) -> set[str]:
    """The top-level names the templates read (``customer`` of ``{{ customer.name }}``)."""
    names: set[str] = set()
    for text in texts:
        values = text.values() if isinstance(text, Mapping) else [text]
        for value in values:
            if value is None:
                continue
            try:
                names |= meta.find_undeclared_variables(_ENV.parse(str(value)))
            except TemplateSyntaxError:
                continue
    return names


def check_template(text: Any) -> str | None:
    """Why a localized template does not parse, or None."""
    values = text.values() if isinstance(text, Mapping) else [text]
    for value in values:
        try:
            _template(str(value))
        except TemplateSyntaxError as exc:
            return f"line {exc.lineno}: {exc.message}"
    return None


def render(text: Any, context: Mapping[str, Any], locale: str) -> str:
    """The template in ``locale`` (falling back as labels do), filled in from ``context``.
    A fault inside the template renders as the template's text, never as an error."""
    source = localize(text, locale) if text is not None else ""
    try:
        out = _template(source).render(**context)
    except Exception:  # a sandbox refusal or a bad filter: show the text as written
        return source
    return out[:MAX_OUTPUT]
