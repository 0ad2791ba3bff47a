"""Formula text, as business users write it in spreadsheets and CRMs, parsed into the
same JSON Logic tree conditions use:

    IF(amount > 100000, "A", "B")      DATEDIF(start_date, TODAY(), "m")
    ROUND(price * quantity, 2)         name & " (" & customer.region & ")"

A hand-written recursive-descent parser; every error names its column. Precedence, low
to high: ``||``, ``&&``, comparisons (``= == <> != < <= > >=``), ``&``, ``+ -``,
``* /``, unary ``- + !``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loom.engines.expressions.compiled import Compiled, build, compile_tree
from loom.engines.expressions.errors import ExpressionError
from loom.engines.expressions.scope import Scope, ValueType
from loom.engines.expressions.tree import MAX_DEPTH, OPERATORS, describe
from loom.engines.expressions.values import NUMBER_TEXT
from loom.metamodel.errors import Problem
from loom.metamodel.i18n import Message, message

MAX_FORMULA = 10_000

TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_0-9][A-Za-z0-9_]*)*)
  | (?P<op>==|<>|!=|<=|>=|&&|\|\||[-+*/&=<>!(),])
""", re.VERBOSE)

COMPARISONS = {"=": "==", "==": "==", "<>": "!=", "!=": "!=", "<": "<", "<=": "<=",
               ">": ">", ">=": ">="}
KEYWORDS = {"TRUE": True, "FALSE": False, "NULL": None, "BLANK": None}
LEVELS: tuple[tuple[str, ...], ...] = (
    ("||",), ("&&",), tuple(COMPARISONS), ("&",), ("+", "-"), ("*", "/"))
NAMES = {"||": "or", "&&": "and", "&": "cat", "+": "+", "-": "-", "*": "*", "/": "/"}


@dataclass(frozen=True)
class Token:
    kind: str      # number, text, name, op, end
    text: str
    column: int
    value: Any = None


def syntax_error(column: int, detail: Message) -> ExpressionError:
    return ExpressionError(message("expr_syntax", column=column, detail=detail), column)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in "\"'":
            token, index = _text_token(text, index)
            tokens.append(token)
            continue
        match = TOKEN.match(text, index)
        if match is None:
            raise syntax_error(index + 1, message("expr_unexpected", token=char))
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_token(kind, match.group(), index + 1))
        index = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _token(kind: str, text: str, column: int) -> Token:
    if kind == "number":
        if len(text) > 100 or not NUMBER_TEXT.fullmatch(text):
            raise syntax_error(column, message("expr_bad_number", token=text[:20]))
        number = Decimal(text)
        plain = "." not in text and "e" not in text.lower()
        return Token(kind, text, column, int(number) if plain else number)
    return Token(kind, text, column)


def _text_token(text: str, start: int) -> tuple[Token, int]:
    quote = text[start]
    index = start + 1
    parts: list[str] = []
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            escaped = text[index + 1]
            parts.append({"n": "\n", "t": "\t"}.get(escaped, escaped))
            index += 2
            continue
        if char == quote:
            if index + 1 < len(text) and text[index + 1] == quote:
                parts.append(quote)
                index += 2
                continue
            return Token("text", text[start:index + 1], start + 1, "".join(parts)), index + 1
        parts.append(char)
        index += 1
    raise syntax_error(start + 1, message("expr_unclosed_text"))


def _call(name: str) -> Callable[[list[Any]], Any]:
    return lambda args: {name: args}


def _not_not(name: str) -> Callable[[list[Any]], Any]:
    return lambda args: {"!!": [{name: args}]}


def _contains(args: list[Any]) -> Any:
    if len(args) != 2:
        return {"contains": args}
    return {"in": [args[1], args[0]]}


# Formula functions that are not just their operator's name in capitals.
FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "IF": _call("if"),
    "AND": _not_not("and"),
    "OR": _not_not("or"),
    "NOT": _call("!"),
    "ISBLANK": _call("is_blank"),
    "ISNULL": _call("is_blank"),
    "BLANKVALUE": _call("blank_value"),
    "NULLVALUE": _call("blank_value"),
    "CONTAINS": _contains,
    "BEGINS": _call("starts_with"),
    "ADDMONTHS": _call("add_months"),
    "DATEADD": _call("date_add"),
    "ISCHANGED": _call("changed"),
    "PRIORVALUE": _call("prior"),
}
_PLAIN = {name.upper() for name in OPERATORS if name.isidentifier() and name not in (
    "var", "pluck", "fields", "log", "missing", "missing_some", "map", "filter", "reduce",
    "all", "some", "none", "merge", "related", "is_blank", "blank_value", "starts_with",
    "changed", "prior", "if", "and", "or", "cat", "add_months")}


def function_names() -> list[str]:
    return sorted(set(FUNCTIONS) | _PLAIN)


class Parser:
    """Recursive descent over the tokens; builds JSON Logic and records each node's column."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.positions: dict[int, int] = {}
        self.keep: list[Any] = []  # nodes stay alive so their ids stay unique

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def node(self, value: dict[str, Any], column: int) -> dict[str, Any]:
        self.positions[id(value)] = column
        self.keep.append(value)
        return value

    def parse(self) -> Any:
        if self.token.kind == "end":
            raise syntax_error(1, message("expr_unexpected_end"))
        tree = self.expression()
        if self.token.kind != "end":
            raise syntax_error(self.token.column, message("expr_unexpected",
                                                          token=self.token.text))
        return tree

    def expression(self) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise syntax_error(self.token.column, message("expr_too_deep", max=MAX_DEPTH))
        try:
            return self.binary(0)
        finally:
            self.depth -= 1

    def binary(self, level: int) -> Any:
        if level == len(LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.token.kind == "op" and self.token.text in LEVELS[level]:
            operator = self.advance()
            right = self.binary(level + 1)
            name = COMPARISONS.get(operator.text) if level == 2 else NAMES[operator.text]
            assert name is not None
            if name in ("and", "or"):
                left = self.node({"!!": [self.node({name: [left, right]}, operator.column)]},
                                 operator.column)
            elif name in ("+", "*", "cat") and isinstance(left, dict) and list(left) == [name] \
                    and id(left) in self.positions:
                left[name].append(right)
            else:
                left = self.node({name: [left, right]}, operator.column)
        return left

    def unary(self) -> Any:
        token = self.token
        if token.kind == "op" and token.text in ("-", "+", "!"):
            self.advance()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise syntax_error(token.column, message("expr_too_deep", max=MAX_DEPTH))
            try:
                operand = self.unary()
            finally:
                self.depth -= 1
            if token.text == "-" and isinstance(operand, int | Decimal) and not isinstance(
                    operand, bool):
                return -operand
            name = {"-": "-", "+": "+", "!": "!"}[token.text]
            return self.node({name: [operand]}, token.column)
        return self.primary()

    def primary(self) -> Any:
        token = self.advance()
        if token.kind in ("number", "text"):
            return token.value
        if token.kind == "name":
            return self.name(token)
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind == "end":
            raise syntax_error(token.column, message("expr_unexpected_end"))
        raise syntax_error(token.column, message("expr_unexpected", token=token.text))

    def expect(self, text: str) -> Token:
        token = self.token
        if token.kind == "op" and token.text == text:
            return self.advance()
        if token.kind == "end":
            raise syntax_error(token.column, message("expr_unexpected_end"))
        raise syntax_error(token.column, message("expr_expected", expected=f"'{text}'",
                                                 token=token.text))

    def name(self, token: Token) -> Any:
        is_call = self.token.kind == "op" and self.token.text == "("
        upper = token.text.upper()
        if not is_call:
            if upper in KEYWORDS:
                return KEYWORDS[upper]
            return self.node({"var": token.text}, token.column)
        self.advance()
        args: list[Any] = []
        if not (self.token.kind == "op" and self.token.text == ")"):
            args.append(self.expression())
            while self.token.kind == "op" and self.token.text == ",":
                self.advance()
                args.append(self.expression())
        self.expect(")")
        return self.node(self.call(upper, token, args), token.column)

    def call(self, upper: str, token: Token, args: list[Any]) -> dict[str, Any]:
        if upper in FUNCTIONS:
            result = FUNCTIONS[upper](args)
            # The wrapped node (AND → !!(and …)) reports at the function's column too.
            for inner in result.values():
                for item in inner if isinstance(inner, list) else [inner]:
                    if isinstance(item, dict) and id(item) not in self.positions:
                        self.node(item, token.column)
            return result
        if upper in _PLAIN:
            return {upper.lower(): args}
        close = difflib.get_close_matches(upper, function_names(), n=1, cutoff=0.6)
        hint = message("expr_did_you_mean", suggestion=close[0]) if close else ""
        raise syntax_error(token.column, message("expr_unknown_function", name=token.text,
                                                 hint=hint))


def parse_formula(text: str) -> tuple[Any, dict[int, int], list[Any]]:
    """The JSON Logic tree of a formula, the column of each operation in it, and the nodes
    (kept alive so the columns stay attached)."""
    if not isinstance(text, str):
        raise syntax_error(1, message("expr_unexpected", token=type(text).__name__))
    if len(text) > MAX_FORMULA:
        raise ExpressionError(message("expr_too_long", max=MAX_FORMULA))
    parser = Parser(text)
    tree = parser.parse()
    return tree, parser.positions, parser.keep


def compile_formula(text: str, scope: Scope | None = None) -> Compiled:
    """Compile formula text into the same Compiled a condition gives."""
    tree, positions, _keep = parse_formula(text)
    return compile_tree(tree, scope, formula=True, source=text, positions=positions)


def check_formula(text: str, scope: Scope | None,
                  returns: ValueType | None = None) -> list[Problem]:
    """Everything wrong with a formula, each problem naming its column; with ``returns``,
    also a result of the wrong kind (a text formula on a currency field)."""
    try:
        tree, positions, _keep = parse_formula(text)
    except ExpressionError as exc:
        return [Problem(None, exc.detail or "", code="expr_syntax")]
    builder = build(tree, scope, formula=True, positions=positions)
    result = builder.root.type if builder.root is not None else ValueType.ANY
    if returns is not None and not builder.fatal and not _fits(result, returns):
        builder.problems.append(Problem(None, message(
            "expr_needs_type", name=text if len(text) <= 40 else text[:37] + "…",
            expected=describe(returns), given=describe(result)), code="expr_needs_type"))
    return builder.problems


def _fits(result: ValueType, returns: ValueType) -> bool:
    if result in (ValueType.ANY, ValueType.NULL) or result == returns:
        return True
    if returns is ValueType.NUMBER and result is ValueType.INTEGER:
        return True
    return returns is ValueType.TEXT  # anything can be shown as text


def formula_apply(text: str, data: Any = None, env: Any = None) -> Any:
    """Evaluate formula text against a record dict. An invalid formula or a runtime
    fault (division by zero…) raises ExpressionError; it never returns a wrong value."""
    return compile_formula(text).evaluate(data, env)
