"""Message templates of rules (notification titles, email subjects and bodies): localized
text with ``{{ field }}`` placeholders, rendered in Jinja2's sandbox so a template can read
the record and never reach Python objects."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, meta
from jinja2.sandbox import SandboxedEnvironment

from loom.metamodel.i18n import localize

_ENV = SandboxedEnvironment(autoescape=False, undefined=Undefined, keep_trailing_newline=True)
MAX_OUTPUT = 100_000


class LinkedRecord(dict):
    """A record reached through a lookup: its fields, shown as its title."""

    def __init__(self, values: Mapping[str, Any], title: str | None) -> None:
        super().__init__(values)
        self.title = title

    def __str__(self) -> str:
        return str(self.title if self.title is not None else self.get("id", ""))


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
