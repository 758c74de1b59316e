"""Rule conditions: a safe JSON tree, and a small text syntax that risk managers type, parsed into it.

The JSON tree is what is stored and evaluated. It has three node shapes::

    {"op": "and", "args": [node, node, ...]}          # also "or"
    {"op": "not", "arg": node}
    {"field": "hs_code", "op": "prefix", "value": ["0901"]}   # a comparison

Comparison operators, the values they take, and the text that writes them:

==============  ====================  ==========================================================
op              value                 text
==============  ====================  ==========================================================
eq, ne          one literal           ``origin_country = "CO"``, ``bags_count != 0``
lt, le, gt, ge  number or date        ``value_per_kg > 20``, ``arrival_at >= 2025-03-01``
in, not_in      list of literals      ``origin_country in ("CO", "PE")``, ``... not in (...)``
between         [low, high]           ``booking_to_departure_hours between 0 and 48`` (inclusive)
prefix          list of strings       ``hs_code prefix "0901"``, ``hs_code prefix ("0901", "2203")``
contains        one string            ``goods_description contains "coffee"``
missing         none                  ``consignee_name is missing``
present         none                  ``consignee_name is present``
==============  ====================  ==========================================================

``and`` binds tighter than ``or``; ``not`` applies to what follows; parentheses group. Literals are
double- or single-quoted strings, numbers, dates written ``YYYY-MM-DD`` and ``true``/``false``. Field
names are checked against :mod:`apps.risk.fields` for the rule's subject kind, and each value against
the field's type. Nothing is ever evaluated as code: the parser only builds this tree.

Errors are :class:`ConditionError` with the 1-based column and the offending token, so the editor can
point at the part.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from apps.risk.fields import Field, fields_for, lookup

__all__ = ["ConditionError", "fields_used", "parse", "to_text", "validate"]

COMPARISONS = (
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "between",
    "prefix",
    "contains",
    "missing",
    "present",
)
#: Which operators each field type accepts.
ALLOWED: dict[str, frozenset[str]] = {
    "code": frozenset({"eq", "ne", "in", "not_in", "prefix", "contains", "missing", "present"}),
    "text": frozenset({"eq", "ne", "in", "not_in", "prefix", "contains", "missing", "present"}),
    "number": frozenset(
        {"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "between", "missing", "present"}
    ),
    "date": frozenset({"eq", "ne", "lt", "le", "gt", "ge", "between", "missing", "present"}),
    "bool": frozenset({"eq", "ne", "missing", "present"}),
    "list": frozenset({"in", "not_in", "contains", "missing", "present"}),
}
MAX_DEPTH = 20
MAX_LIST = 500


class ConditionError(ValueError):
    """A condition that cannot be accepted; ``column`` (1-based) and ``token`` point at the part."""

    def __init__(self, message: str, *, column: int | None = None, token: str | None = None) -> None:
        self.message, self.column, self.token = message, column, token
        where = f" at column {column}" if column else ""
        near = f" (near {token!r})" if token else ""
        super().__init__(f"{message}{where}{near}")

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "column": self.column, "token": self.token}


# --- validation of the JSON tree ------------------------------------------------------------------


def _check_literal(field: Field, value: Any, op: str) -> Any:
    """Return the value normalised for the field's type, or raise ConditionError."""
    kind = field.type
    if kind in {"code", "text", "list"}:
        if not isinstance(value, str) or not value.strip():
            raise ConditionError(f"{field.name} takes a quoted text value, not {value!r}", token=str(value))
        return value.strip().upper() if kind in {"code", "list"} else value.strip().lower()
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConditionError(f"{field.name} is a number; {value!r} is not", token=str(value))
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConditionError(f"{field.name} is true or false; {value!r} is neither", token=str(value))
        return value
    if kind == "date":
        if not isinstance(value, str):
            raise ConditionError(f"{field.name} is a date, written YYYY-MM-DD", token=str(value))
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ConditionError(f"{value!r} is not a date (YYYY-MM-DD)", token=value) from None
        return value
    raise ConditionError(f"unknown field type {kind}")  # pragma: no cover


def validate(node: Any, kind: str, *, _depth: int = 0) -> dict[str, Any]:
    """Check a condition tree for subjects of ``kind`` and return it normalised (a new dict).

    Used on everything stored, whether it came from the text parser or straight from the API.
    """
    if _depth > MAX_DEPTH:
        raise ConditionError("the condition is nested too deeply")
    if not isinstance(node, dict) or "op" not in node:
        raise ConditionError("each part of a condition is an object with an 'op'")
    op = node["op"]
    if op in {"and", "or"}:
        args = node.get("args")
        if not isinstance(args, list) or len(args) < 2:
            raise ConditionError(f"'{op}' needs a list of at least two conditions in 'args'")
        return {"op": op, "args": [validate(a, kind, _depth=_depth + 1) for a in args]}
    if op == "not":
        return {"op": "not", "arg": validate(node.get("arg"), kind, _depth=_depth + 1)}
    if op not in COMPARISONS:
        raise ConditionError(f"unknown operator {op!r}", token=str(op))
    name = node.get("field")
    field = lookup(kind, name) if isinstance(name, str) else None
    if field is None:
        raise ConditionError(f"unknown field {name!r} for a {kind}; see the field catalogue", token=str(name))
    if op not in ALLOWED[field.type]:
        raise ConditionError(f"{name} ({field.type}) cannot be compared with {op!r}", token=str(op))
    out: dict[str, Any] = {"field": name, "op": op}
    value = node.get("value")
    if op in {"missing", "present"}:
        return out
    if op in {"in", "not_in", "prefix"}:
        values = value if isinstance(value, list) else [value] if op == "prefix" else None
        if not values or len(values) > MAX_LIST:
            raise ConditionError(f"'{op}' takes a list of 1 to {MAX_LIST} values")
        if op == "prefix" and (
            field.type not in {"code", "text"} or not all(isinstance(v, str) and v for v in values)
        ):
            raise ConditionError("'prefix' takes quoted text values")
        out["value"] = [_check_literal(field, v, op) for v in values]
        return out
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise ConditionError("'between' takes two values, low and high")
        low, high = (_check_literal(field, v, op) for v in value)
        if low > high:
            raise ConditionError(f"'between' low {low!r} is above high {high!r}", token=str(low))
        out["value"] = [low, high]
        return out
    if op == "contains" and field.type not in {"code", "text", "list"}:  # pragma: no cover - ALLOWED
        raise ConditionError("'contains' is for text")
    out["value"] = _check_literal(field, value, op)
    return out


def fields_used(node: dict[str, Any]) -> list[str]:
    """Field names a condition reads, in order of first use (for the matched values of a hit)."""
    seen: dict[str, None] = {}

    def walk(n: dict[str, Any]) -> None:
        if n["op"] in {"and", "or"}:
            for a in n["args"]:
                walk(a)
        elif n["op"] == "not":
            walk(n["arg"])
        else:
            seen.setdefault(n["field"], None)

    walk(node)
    return list(seen)


# --- the text syntax --------------------------------------------------------------------------------

KEYWORDS = {
    "and",
    "or",
    "not",
    "in",
    "prefix",
    "contains",
    "between",
    "is",
    "missing",
    "present",
    "true",
    "false",
}
SYMBOLS = {"=": "eq", "==": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w.]))
  | (?P<number>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<symbol><=|>=|!=|<>|==|[=<>(),])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name, keyword, string, number, date, symbol, end
    text: str
    column: int  # 1-based
    value: Any = None


def tokenize(text: str) -> Iterator[Token]:
    """Split the text into tokens; an unexpected character is an error pointing at it."""
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            bad = text[position]
            if bad in "\"'":
                raise ConditionError("this text is not closed with a quote", column=position + 1, token=bad)
            raise ConditionError("unexpected character", column=position + 1, token=bad)
        kind, raw = match.lastgroup, match.group()
        assert kind is not None  # every alternative of _TOKEN is a named group
        column = position + 1
        position = match.end()
        if kind == "ws":
            continue
        if kind == "string":
            body = raw[1:-1]
            yield Token("string", raw, column, re.sub(r"\\(.)", r"\1", body))
        elif kind == "number":
            number = float(raw)
            yield Token(
                "number",
                raw,
                column,
                int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number,
            )
        elif kind == "date":
            yield Token("date", raw, column, raw)
        elif kind == "name" and raw.lower() in KEYWORDS:
            yield Token("keyword", raw, column, raw.lower())
        else:
            yield Token(kind, raw, column, raw)
    yield Token("end", "", len(text) + 1)


class _Parser:
    """Recursive descent over the grammar::

    expr       := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | "(" expr ")" | comparison
    comparison := NAME ( CMP literal | ["not"] "in" list | "prefix" (STRING | list)
                       | "contains" STRING | "between" literal "and" literal
                       | "is" ("missing" | "present" | "not" "missing") )
    list       := "(" literal ("," literal)* ")"
    literal    := STRING | NUMBER | DATE | "true" | "false"
    """

    def __init__(self, text: str, kind: str) -> None:
        self.tokens = list(tokenize(text))
        self.i = 0
        self.kind = kind
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, message: str, token: Token | None = None) -> ConditionError:
        token = token or self.tok
        return ConditionError(message, column=token.column, token=token.text or "end of text")

    def keyword(self, word: str) -> bool:
        if self.tok.kind == "keyword" and self.tok.value == word:
            self.i += 1
            return True
        return False

    def expect_symbol(self, symbol: str, what: str) -> None:
        if self.tok.kind == "symbol" and self.tok.text == symbol:
            self.i += 1
            return
        raise self.error(f"expected {what}")

    def parse(self) -> dict[str, Any]:
        if self.tok.kind == "end":
            raise self.error("the condition is empty")
        node = self.expr()
        if self.tok.kind != "end":
            raise self.error("expected 'and', 'or' or the end of the condition")
        return node

    def expr(self) -> dict[str, Any]:
        args = [self.and_expr()]
        while self.keyword("or"):
            args.append(self.and_expr())
        return args[0] if len(args) == 1 else {"op": "or", "args": args}

    def and_expr(self) -> dict[str, Any]:
        args = [self.unary()]
        while self.keyword("and"):
            args.append(self.unary())
        return args[0] if len(args) == 1 else {"op": "and", "args": args}

    def unary(self) -> dict[str, Any]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("the condition is nested too deeply")
        try:
            if self.keyword("not"):
                return {"op": "not", "arg": self.unary()}
            if self.tok.kind == "symbol" and self.tok.text == "(":
                self.advance()
                node = self.expr()
                self.expect_symbol(")", "')' to close the parenthesis")
                return node
            return self.comparison()
        finally:
            self.depth -= 1

    def literal(self, field: Field) -> Any:
        token = self.tok
        if token.kind in {"string", "number", "date"}:
            value = token.value
        elif token.kind == "keyword" and token.value in {"true", "false"}:
            value = token.value == "true"
        else:
            raise self.error(f"expected a value for {field.name} ({field.type})")
        if field.type == "date" and token.kind == "string":
            value = token.value  # a quoted date is accepted too
        self.advance()
        try:
            return _check_literal(field, value, "")
        except ConditionError as exc:
            raise ConditionError(exc.message, column=token.column, token=token.text) from None

    def literal_list(self, field: Field) -> list[Any]:
        self.expect_symbol("(", "'(' to start a list of values")
        values = [self.literal(field)]
        while self.tok.kind == "symbol" and self.tok.text == ",":
            self.advance()
            values.append(self.literal(field))
        self.expect_symbol(")", "',' or ')' to end the list")
        return values

    def comparison(self) -> dict[str, Any]:
        name = self.tok
        if name.kind != "name":
            raise self.error("expected a field name")
        field = lookup(self.kind, name.text)
        if field is None:
            raise self.error(f"unknown field for a {self.kind}; see the field catalogue", name)
        self.advance()
        op_token = self.tok
        node: dict[str, Any] = {"field": field.name}
        if op_token.kind == "symbol" and op_token.text in SYMBOLS:
            self.advance()
            node["op"] = SYMBOLS[op_token.text]
            node["value"] = self.literal(field)
        elif self.keyword("in"):
            node.update(op="in", value=self.literal_list(field))
        elif op_token.kind == "keyword" and op_token.value == "not":
            self.advance()
            if not self.keyword("in"):
                raise self.error("expected 'in' after 'not' (write 'not' before the field to negate)")
            node.update(op="not_in", value=self.literal_list(field))
        elif self.keyword("prefix"):
            if self.tok.kind == "symbol" and self.tok.text == "(":
                node.update(op="prefix", value=self.literal_list(field))
            else:
                node.update(op="prefix", value=[self.literal(field)])
        elif self.keyword("contains"):
            node.update(op="contains", value=self.literal(field))
        elif self.keyword("between"):
            low_token = self.tok
            low = self.literal(field)
            if not self.keyword("and"):
                raise self.error("expected 'and' between the low and the high value")
            high = self.literal(field)
            if low > high:
                raise self.error(f"'between' low {low!r} is above high {high!r}", low_token)
            node.update(op="between", value=[low, high])
        elif self.keyword("is"):
            if self.keyword("missing"):
                node["op"] = "missing"
            elif self.keyword("present"):
                node["op"] = "present"
            elif self.keyword("not"):
                if not self.keyword("missing"):
                    raise self.error("expected 'missing' after 'is not'")
                node["op"] = "present"
            else:
                raise self.error("expected 'missing' or 'present' after 'is'")
        else:
            raise self.error(
                f"expected an operator after {field.name} (=, !=, <, >, in, prefix, contains, "
                "between, is missing)"
            )
        if node["op"] not in ALLOWED[field.type]:
            raise self.error(f"{field.name} ({field.type}) cannot be compared this way", op_token)
        return node


def parse(text: str, kind: str) -> dict[str, Any]:
    """Parse the text syntax into a validated condition tree for subjects of ``kind``."""
    fields_for(kind)  # unknown kind → KeyError early
    if len(text) > 20_000:
        raise ConditionError("the condition is too long (20,000 characters at most)")
    return validate(_Parser(text, kind).parse(), kind)


# --- back to text -----------------------------------------------------------------------------------

_SYMBOL_OF = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _literal_text(field: Field | None, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if field is not None and field.type == "date":
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_text(node: dict[str, Any], kind: str, *, _parent: str = "") -> str:
    """Write a tree in the text syntax; ``parse(to_text(t)) == t`` for every valid tree."""
    op = node["op"]
    if op in {"and", "or"}:
        text = f" {op} ".join(to_text(a, kind, _parent=op) for a in node["args"])
        return f"({text})" if (_parent in {"and", "not"} and op == "or") or _parent == op else text
    if op == "not":
        inner = node["arg"]
        text = to_text(inner, kind, _parent="not")
        return f"not ({text})" if inner["op"] == "and" else f"not {text}"
    field = lookup(kind, node["field"])
    name = node["field"]
    value: Any = node.get("value")  # a list for in, not_in, prefix and between; absent for missing
    if op in _SYMBOL_OF:
        return f"{name} {_SYMBOL_OF[op]} {_literal_text(field, value)}"
    if op in {"in", "not_in"}:
        items = ", ".join(_literal_text(field, v) for v in value)
        return f"{name} {'in' if op == 'in' else 'not in'} ({items})"
    if op == "prefix":
        if len(value) == 1:
            return f"{name} prefix {_literal_text(field, value[0])}"
        return f"{name} prefix ({', '.join(_literal_text(field, v) for v in value)})"
    if op == "contains":
        return f"{name} contains {_literal_text(field, value)}"
    if op == "between":
        return f"{name} between {_literal_text(field, value[0])} and {_literal_text(field, value[1])}"
    return f"{name} is {'missing' if op == 'missing' else 'present'}"
