"""A condition in words: what it requires, or — given a record — the parts of it that the
record fails, so a refusal can say why ("负责人必须为空" / "Owner must be blank").

It reads the compiled tree: fields by their labels, option values by their labels, the
current user as "you", roles by their labels. ``and`` names only the parts that fail,
``or`` offers its alternatives, ``!`` turns a requirement around. An operator without words
of its own is described by the fields it reads ("Amount must meet the condition"). Pure:
nothing here reads a database; whether a part holds is asked of its own closure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from loom.engines.expressions.compiled import Compiled
from loom.engines.expressions.env import Env
from loom.engines.expressions.python import Run
from loom.engines.expressions.scope import FieldInfo, Scope
from loom.engines.expressions.tree import Expr
from loom.engines.expressions.values import truthy
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import LOCALES, Message, list_text, localize, message, register_messages

Words = Message | Mapping[str, str] | str  # anything ``localize`` renders

register_messages({
    "cond_blank": {"en": "{subject} must be blank", "zh-CN": "{subject}必须为空"},
    "cond_not_blank": {"en": "{subject} must not be blank", "zh-CN": "{subject}不能为空"},
    "cond_equal": {"en": "{subject} must be {value}", "zh-CN": "{subject}必须为{value}"},
    "cond_not_equal": {"en": "{subject} must not be {value}", "zh-CN": "{subject}不能为{value}"},
    "cond_less": {"en": "{subject} must be less than {value}",
                  "zh-CN": "{subject}必须小于{value}"},
    "cond_at_most": {"en": "{subject} must be at most {value}",
                     "zh-CN": "{subject}不能大于{value}"},
    "cond_greater": {"en": "{subject} must be greater than {value}",
                     "zh-CN": "{subject}必须大于{value}"},
    "cond_at_least": {"en": "{subject} must be at least {value}",
                      "zh-CN": "{subject}不能小于{value}"},
    "cond_between": {"en": "{subject} must be between {low} and {high}",
                     "zh-CN": "{subject}必须介于{low}和{high}之间"},
    "cond_not_between": {"en": "{subject} must not be between {low} and {high}",
                         "zh-CN": "{subject}不能介于{low}和{high}之间"},
    "cond_one_of": {"en": "{subject} must be one of: {values}",
                    "zh-CN": "{subject}必须是以下之一：{values}"},
    "cond_none_of": {"en": "{subject} must be none of: {values}",
                     "zh-CN": "{subject}不能是以下任何一项：{values}"},
    "cond_contains": {"en": "{subject} must contain {value}",
                      "zh-CN": "{subject}必须包含{value}"},
    "cond_not_contains": {"en": "{subject} must not contain {value}",
                          "zh-CN": "{subject}不能包含{value}"},
    "cond_starts": {"en": "{subject} must start with {value}",
                    "zh-CN": "{subject}必须以{value}开头"},
    "cond_not_starts": {"en": "{subject} must not start with {value}",
                        "zh-CN": "{subject}不能以{value}开头"},
    "cond_changed": {"en": "{subject} must change in this save",
                     "zh-CN": "{subject}必须在本次保存中修改"},
    "cond_unchanged": {"en": "{subject} must not change in this save",
                       "zh-CN": "{subject}不能在本次保存中修改"},
    "cond_role": {"en": "you must have the role {roles}", "zh-CN": "您必须具有{roles}角色"},
    "cond_no_role": {"en": "you must not have the role {roles}",
                     "zh-CN": "您不能具有{roles}角色"},
    "cond_holds": {"en": "{subject} must meet the condition", "zh-CN": "{subject}须满足条件"},
    "cond_fails": {"en": "{subject} must not meet the condition",
                   "zh-CN": "{subject}不能满足条件"},
    "cond_anything_holds": {"en": "the condition must hold", "zh-CN": "须满足条件"},
    "cond_anything_fails": {"en": "the condition must not hold", "zh-CN": "不能满足条件"},
    "cond_you": {"en": "you", "zh-CN": "您本人"},
    "cond_today": {"en": "today", "zh-CN": "今天"},
    "cond_now": {"en": "now", "zh-CN": "现在"},
    "cond_days_since": {"en": "the days since {subject}", "zh-CN": "距{subject}的天数"},
    "cond_days_until": {"en": "the days until {subject}", "zh-CN": "距{subject}还有的天数"},
    "cond_prior": {"en": "the previous {subject}", "zh-CN": "修改前的{subject}"},
    "cond_length": {"en": "the length of {subject}", "zh-CN": "{subject}的长度"},
})

# how parts are put together, per language
ALL_OF = {"zh-CN": "，且", "en": ", and "}
ANY_OF = {"zh-CN": "，或", "en": ", or "}
ALTERNATIVES = {"zh-CN": "或", "en": " or "}
TOGETHER = {"zh-CN": "和", "en": " and "}
CLAUSES = {"zh-CN": "；", "en": "; "}
PATH_STEP = " › "
COMPARISONS = {"<": ("cond_less", "cond_at_least"), "<=": ("cond_at_most", "cond_greater"),
               ">": ("cond_greater", "cond_at_most"), ">=": ("cond_at_least", "cond_less")}
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
MAX_FIELDS_NAMED = 3


def describe_condition(compiled: Compiled, scope: Scope | None, data: Any = None,
                       env: Env | None = None) -> dict[str, str]:
    """In every language: what ``compiled`` requires, or — given ``data`` — only the parts
    of it that ``data`` fails."""
    words = _Describer(scope, data, env, data is not None).failing(compiled.tree, True)
    return {locale: CLAUSES[locale].join(localize(w, locale) for w in words)
            for locale in LOCALES}


def _joined(parts: list[Words], glue: Mapping[str, str]) -> Words:
    if len(parts) == 1:
        return parts[0]
    return {locale: glue[locale].join(localize(p, locale) for p in parts) for locale in LOCALES}


class _Describer:
    def __init__(self, scope: Scope | None, data: Any, env: Env | None,
                 judged: bool) -> None:
        self.scope = scope
        self.data = data
        self.env = env
        self.judged = judged  # with a record: leave out the parts that hold

    # --- which parts fail -------------------------------------------------------------

    def holds(self, node: Expr) -> bool | None:
        """Whether the part holds for the record (None: no record, or it cannot say)."""
        if not self.judged or node.fn is None:
            return None
        try:
            return truthy(node.fn(self.data, Run(self.env)))
        except Exception:  # a part that cannot be evaluated is one to name
            return None

    def failing(self, node: Expr, want: bool) -> list[Words]:
        """The requirements behind ``node`` not being ``want``, each as words."""
        if node.op in ("!", "!!") and node.args:
            return self.failing(node.args[0], want if node.op == "!!" else not want)
        if (node.op == "and" and want) or (node.op == "or" and not want):
            # every part must be ``want``: name those that are not
            parts = [w for arg in node.args if self.holds(arg) is not want
                     for w in self.failing(arg, want)]
            return parts or [self.requirement(node, want)]
        return [self.requirement(node, want)]

    # --- what a part requires ---------------------------------------------------------

    def requirement(self, node: Expr, want: bool) -> Words:
        op, args = node.op, node.args
        if op in ("!", "!!") and args:
            return self.requirement(args[0], want if op == "!!" else not want)
        if op in ("and", "or") and args:
            every = (op == "and") == want
            return _joined([self.requirement(a, want) for a in args],
                           ALL_OF if every else ANY_OF)
        words = self._leaf(node, want)
        return words if words is not None else self._generic(node, want)

    def _leaf(self, node: Expr, want: bool) -> Words | None:
        op, args = node.op, node.args
        if op == "var":
            return self._truthy(node, want)
        if op == "is_blank" and len(args) == 1:
            return self._blank(args[0], want)
        if op == "missing":
            names = [a.value for a in args if a.is_literal]
            flat = [n for name in names for n in (name if isinstance(name, list) else [name])]
            subjects = [self._path_label(str(name)) for name in flat]
            if not subjects or len(subjects) != len(flat):
                return None
            return message("cond_blank" if want else "cond_not_blank",
                           subject=_joined(subjects, TOGETHER))
        if op in ("==", "===", "!=", "!==") and len(args) == 2:
            return self._equal(args[0], args[1], want == (op in ("==", "===")))
        if op in COMPARISONS and len(args) == 2:
            return self._compare(op, args[0], args[1], want)
        if op in ("<", "<=") and len(args) == 3:
            subject = self.term(args[1])
            low, high = self.term(args[0], args[1]), self.term(args[2], args[1])
            if subject is None or low is None or high is None:
                return None
            return message("cond_between" if want else "cond_not_between", subject=subject,
                           low=low, high=high)
        if op == "in" and len(args) == 2:
            return self._in(args[0], args[1], want)
        if op == "includes" and len(args) == 2:
            return self._contains(args[0], args[1], want)
        if op == "starts_with" and len(args) == 2:
            subject, value = self.term(args[0]), self.term(args[1], args[0])
            if subject is None or value is None:
                return None
            return message("cond_starts" if want else "cond_not_starts", subject=subject,
                           value=value)
        if op == "changed" and isinstance(node.value, tuple):
            subject = _joined([self._path_label(n) for n in node.value], ALTERNATIVES)
            return message("cond_changed" if want else "cond_unchanged", subject=subject)
        if op == "has_role":
            roles = [self._role(a.value) for a in args if a.is_literal]
            flat = [r for role in roles for r in role]
            if not flat:
                return None
            return message("cond_role" if want else "cond_no_role",
                           roles=_joined(flat, ALTERNATIVES))
        return None

    def _truthy(self, node: Expr, want: bool) -> Words | None:
        subject = self.term(node)
        if subject is None:
            return None
        info = self._info(node)
        if info is not None and info.field_type is FieldType.BOOLEAN:
            return message("cond_equal", subject=subject, value=_value(want, None))
        return message("cond_not_blank" if want else "cond_blank", subject=subject)

    def _blank(self, node: Expr, want: bool) -> Words | None:
        subject = self.term(node)
        if subject is None:
            return None
        return message("cond_blank" if want else "cond_not_blank", subject=subject)

    def _equal(self, left: Expr, right: Expr, want: bool) -> Words | None:
        if left.is_literal and not right.is_literal:
            left, right = right, left
        if right.is_literal and right.value is None:
            return self._blank(left, want)
        subject, value = self.term(left), self.term(right, left)
        if subject is None or value is None:
            return None
        return message("cond_equal" if want else "cond_not_equal", subject=subject, value=value)

    def _compare(self, op: str, left: Expr, right: Expr, want: bool) -> Words | None:
        if left.is_literal and not right.is_literal:
            op, left, right = FLIPPED[op], right, left
        subject, value = self.term(left), self.term(right, left)
        if subject is None or value is None:
            return None
        held, failed = COMPARISONS[op]
        return message(held if want else failed, subject=subject, value=value)

    def _in(self, needle: Expr, haystack: Expr, want: bool) -> Words | None:
        if haystack.is_literal and isinstance(haystack.value, list):
            subject = self.term(needle)
            if subject is None:
                return None
            info = self._info(needle)
            values = [_value(v, info) for v in haystack.value]
            if len(values) == 1:
                return message("cond_equal" if want else "cond_not_equal", subject=subject,
                               value=values[0])
            listed = {locale: list_text((localize(v, locale) for v in values), locale)
                      for locale in LOCALES}
            return message("cond_one_of" if want else "cond_none_of", subject=subject,
                           values=listed)
        return self._contains(haystack, needle, want)

    def _contains(self, whole: Expr, part: Expr, want: bool) -> Words | None:
        subject = self.term(whole)
        if subject is None:
            return None
        info = self._info(whole)
        if part.is_literal and isinstance(part.value, list):  # any of these
            value: Words | None = _joined([_value(v, info) for v in part.value],
                                          ALTERNATIVES) if part.value else None
        else:
            value = self.term(part, whole)
        if value is None:
            return None
        return message("cond_contains" if want else "cond_not_contains", subject=subject,
                       value=value)

    def _generic(self, node: Expr, want: bool) -> Words:
        paths = []
        for inner in node.walk():
            path = getattr(inner.value, "path", None) if inner.op == "var" else None
            if path and not getattr(inner.value, "dynamic", False) and path not in paths:
                paths.append(path)
        if not paths:
            return message("cond_anything_holds" if want else "cond_anything_fails")
        subject = {locale: list_text((localize(self._path_label(p), locale)
                                      for p in paths[:MAX_FIELDS_NAMED]), locale)
                   for locale in LOCALES}
        return message("cond_holds" if want else "cond_fails", subject=subject)

    # --- the terms of a sentence --------------------------------------------------------

    def term(self, node: Expr, about: Expr | None = None) -> Words | None:
        """A part of an expression as words; a literal compared with ``about`` reads as
        that field's value (an option by its label)."""
        op = node.op
        if node.is_literal:
            return _value(node.value, self._info(about) if about is not None else None)
        if op == "var":
            spec = node.value
            if spec is None or spec.dynamic or not spec.path:
                return None
            return self._path_label(spec.path)
        if op == "current_user":
            return message("cond_you")
        if op in ("today", "now"):
            return message(f"cond_{op}")
        if op in ("days_since", "days_until", "len") and len(node.args) == 1:
            subject = self.term(node.args[0])
            key = "cond_length" if op == "len" else f"cond_{op}"
            return message(key, subject=subject) if subject is not None else None
        if op == "prior" and isinstance(node.value, tuple) and len(node.value) == 1:
            return message("cond_prior", subject=self._path_label(node.value[0]))
        return None

    def _info(self, node: Expr | None) -> FieldInfo | None:
        """The field a ``var`` (or ``prior``) reads, for its options' labels."""
        if node is None or self.scope is None:
            return None
        if node.op == "prior" and isinstance(node.value, tuple) and len(node.value) == 1:
            return self.scope.lookup(node.value[0])
        spec = node.value
        path = getattr(spec, "path", None) if node.op == "var" else None
        return self.scope.lookup(path) if path and not spec.dynamic else None

    def _path_label(self, path: str) -> Words:
        """A field by its label; through lookups, each step's (客户 › 区域)."""
        if self.scope is None:
            return path
        parts = path.split(".")
        labels: list[Any] = []
        for depth in range(1, len(parts) + 1):
            info = self.scope.lookup(".".join(parts[:depth]))
            if info is None:
                return path
            labels.append(info.label or parts[depth - 1])
        if len(labels) == 1:
            return labels[0]
        return {locale: PATH_STEP.join(localize(label, locale) for label in labels)
                for locale in LOCALES}

    def _role(self, value: Any) -> list[Words]:
        names = value if isinstance(value, list) else [value]
        app = self.scope.app if self.scope is not None else None
        found: list[Words] = []
        for name in names:
            role = app.roles.get(str(name)) if app is not None else None
            found.append(role.label if role is not None and role.label else str(name))
        return found


def _value(value: Any, info: FieldInfo | None) -> Words:
    """A literal as words: an option by its label, yes/no, blank, quoted text."""
    if value is None:
        return message("value_blank")
    if isinstance(value, bool):
        return message("value_yes" if value else "value_no")
    if isinstance(value, list):
        items = [_value(v, info) for v in value]
        return {locale: list_text((localize(i, locale) for i in items), locale)
                for locale in LOCALES}
    if isinstance(value, str) and info is not None and info.spec is not None \
            and value in info.spec.option_values():
        return info.spec.option_label(value)
    if isinstance(value, str):
        return {"zh-CN": f"“{value}”", "en": f"\"{value}\""}
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
