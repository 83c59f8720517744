"""Label and field selectors with Kubernetes' syntax and matching rules.

Label selectors: `a=b`, `a==b`, `a!=b`, `env in (a,b)`, `env notin (a)`,
`key`, `!key`, `n>1`, `n<1`; a comma means AND. Field selectors: `f=v`,
`f==v`, `f!=v` over the few fields each kind supports.

This module also holds the syntax checks for label keys and values, which
the apiserver's validation shares (the client library must not import it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from google.protobuf.message import Message

from control.client.kinds import Kind
from control.client.wellknown import DNS1123_SUBDOMAIN_FMT, QUALIFIED_NAME_FMT
from skiff.v1 import meta_pb2


class SelectorError(ValueError):
    """A selector that does not parse or names an unsupported field; the message is kubectl's."""


# --- label key and value syntax ---------------------------------------------------------------

LABEL_VALUE_FMT = rf"({QUALIFIED_NAME_FMT})?"
_SUBDOMAIN_RE = re.compile(DNS1123_SUBDOMAIN_FMT)
_QUALIFIED_RE = re.compile(QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE = re.compile(LABEL_VALUE_FMT)

DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    f"validation is '{DNS1123_SUBDOMAIN_FMT}')")
QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    f"validation is '{QUALIFIED_NAME_FMT}')")
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    f"'12345', regex used for validation is '{LABEL_VALUE_FMT}')")


def max_len_msg(n: int) -> str:
    return f"must be no more than {n} characters"


def dns1123_subdomain_errors(value: str) -> list[str]:
    errors = [max_len_msg(253)] if len(value) > 253 else []
    if not _SUBDOMAIN_RE.fullmatch(value):
        errors.append(DNS1123_SUBDOMAIN_MSG)
    return errors


def qualified_name_errors(value: str) -> list[str]:
    """Label keys, annotation keys, finalizers: `[prefix/]name`."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
        errors = []
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors = ["prefix part must be non-empty"]
        else:
            errors = [f"prefix part {msg}" for msg in dns1123_subdomain_errors(prefix)]
    else:
        return [_QUALIFIED_WITH_PREFIX]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part " + max_len_msg(63))
    if not _QUALIFIED_RE.fullmatch(name):
        errors.append("name part " + QUALIFIED_NAME_MSG)
    return errors


_QUALIFIED_WITH_PREFIX = (
    "a qualified name " + QUALIFIED_NAME_MSG[:-1]
    + ") with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")


def label_value_errors(value: str) -> list[str]:
    errors = [max_len_msg(63)] if len(value) > 63 else []
    if not _LABEL_VALUE_RE.fullmatch(value):
        errors.append(LABEL_VALUE_MSG)
    return errors


# --- label selectors --------------------------------------------------------------------------

EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "=", "==", "!="
IN, NOT_IN, EXISTS, DOES_NOT_EXIST, GREATER_THAN, LESS_THAN = "in", "notin", "exists", "!", "gt", "lt"
_OPERATOR_TEXT = {GREATER_THAN: ">", LESS_THAN: "<"}
# LabelSelectorRequirement operators (matchExpressions) -> ours.
_EXPRESSION_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def _invalid(path: str, value: str, msg: str) -> SelectorError:
    return SelectorError(f'unable to parse requirement: {path}: Invalid value: "{value}": {msg}')


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    @classmethod
    def new(cls, key: str, operator: str, values: Iterable[str] = ()) -> Requirement:
        """Builds a checked requirement (Kubernetes' NewRequirement)."""
        values = tuple(values)
        for msg in qualified_name_errors(key):
            raise _invalid("key", key, msg)
        if operator in (IN, NOT_IN) and not values:
            raise _invalid("values", "", "for 'in', 'notin' operators, values set can't be empty")
        if operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS) and len(values) != 1:
            raise _invalid("values", ",".join(values), "exact-match compatibility requires one single value")
        if operator in (EXISTS, DOES_NOT_EXIST) and values:
            raise _invalid("values", ",".join(values),
                           "values set must be empty for exists and does not exist")
        if operator in (GREATER_THAN, LESS_THAN):
            if len(values) != 1 or not re.fullmatch(r"[+-]?[0-9]+", values[0]):
                raise _invalid("values", ",".join(values), "for 'Gt', 'Lt' operators, exactly one value "
                               "is required and it must be an integer")
        for i, v in enumerate(values):
            for msg in label_value_errors(v):
                raise _invalid(f"values[{i}][{key}]", v, msg)
        return cls(key, operator, tuple(sorted(set(values))) if operator in (IN, NOT_IN) else values)

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator in (EQUALS, DOUBLE_EQUALS, IN):
            return present and value in self.values
        if self.operator in (NOT_EQUALS, NOT_IN):
            return not present or value not in self.values
        if self.operator == EXISTS:
            return present
        if self.operator == DOES_NOT_EXIST:
            return not present
        if not present or not re.fullmatch(r"[+-]?[0-9]+", value or ""):
            return False
        if self.operator == GREATER_THAN:
            return int(value) > int(self.values[0])
        return int(value) < int(self.values[0])

    def __str__(self) -> str:
        if self.operator == EXISTS:
            return self.key
        if self.operator == DOES_NOT_EXIST:
            return "!" + self.key
        if self.operator in (IN, NOT_IN):
            return f"{self.key} {self.operator} ({','.join(self.values)})"
        return f"{self.key}{_OPERATOR_TEXT.get(self.operator, self.operator)}{self.values[0]}"


@dataclass(frozen=True)
class Selector:
    """A conjunction of requirements; no requirements match everything."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _selector(requirements: Iterable[Requirement]) -> Selector:
    return Selector(tuple(sorted(requirements, key=lambda r: r.key)))


EVERYTHING = Selector()


def from_label_selector(sel: meta_pb2.LabelSelector) -> Selector:
    """matchLabels AND matchExpressions; an empty LabelSelector matches everything."""
    requirements = [Requirement.new(k, EQUALS, [v]) for k, v in sel.match_labels.items()]
    for expr in sel.match_expressions:
        op = _EXPRESSION_OPERATORS.get(expr.operator)
        if op is None:
            raise SelectorError(f'"{expr.operator}" is not a valid label selector operator')
        requirements.append(Requirement.new(expr.key, op, expr.values))
    return _selector(requirements)


def parse_selector(text: str) -> Selector:
    """Parses kubectl's `-l` syntax; SelectorError with kubectl's message when it doesn't."""
    return _selector(_Parser(text).parse())


# --- the label selector parser ----------------------------------------------------------------

_SPECIAL = "!=(),<>"
_END, _IDENT = "end of string", "identifier"


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; kind is _IDENT, an operator/punctuation text, or _END."""
    tokens, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _SPECIAL:
            two = text[i:i + 2]
            op = two if two in ("==", "!=") else ch
            tokens.append((op, op))
            i += len(op)
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            word = text[i:j]
            tokens.append((word if word in (IN, NOT_IN) else _IDENT, word))
            i = j
    tokens.append((_END, ""))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos]

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    @staticmethod
    def unexpected(token: tuple[str, str], expected: str) -> SelectorError:
        return SelectorError(f"found '{token[1] or token[0]}', expected: {expected}")

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        if self.peek()[0] == _END:
            return requirements
        while True:
            requirements.append(self.requirement())
            kind, _ = token = self.take()
            if kind == _END:
                return requirements
            if kind != ",":
                raise self.unexpected(token, "',' or 'end of string'")
            if self.peek()[0] not in (_IDENT, "!"):
                raise self.unexpected(self.peek(), "identifier after ','")

    def requirement(self) -> Requirement:
        negated = self.peek()[0] == "!"
        if negated:
            self.take()
        kind, key = token = self.take()
        if kind != _IDENT:
            raise self.unexpected(token, "identifier")
        if self.peek()[0] in (_END, ","):
            return Requirement.new(key, DOES_NOT_EXIST if negated else EXISTS)
        if negated:
            raise self.unexpected(self.peek(), "',' or 'end of string'")
        op = self.operator()
        values = self.value_set() if op in (IN, NOT_IN) else [self.exact_value()]
        return Requirement.new(key, op, values)

    def operator(self) -> str:
        kind, _ = token = self.take()
        ops = {"=": EQUALS, "==": DOUBLE_EQUALS, "!=": NOT_EQUALS, IN: IN, NOT_IN: NOT_IN,
               ">": GREATER_THAN, "<": LESS_THAN}
        if kind not in ops:
            raise self.unexpected(token, "'=', '!=', '==', 'in', 'notin', '>', '<'")
        return ops[kind]

    def exact_value(self) -> str:
        kind, text = self.peek()
        if kind in (_END, ","):
            return ""
        if kind in (_IDENT, IN, NOT_IN):
            self.take()
            return text
        raise self.unexpected(self.peek(), "identifier for value")

    def value_set(self) -> list[str]:
        if self.take()[0] != "(":
            raise self.unexpected(self.tokens[self.pos - 1], "'('")
        values: list[str] = []
        expect_value = True
        while True:
            kind, text = token = self.take()
            if kind in (_IDENT, IN, NOT_IN) and expect_value:
                values.append(text)
                expect_value = False
            elif kind == ",":
                if expect_value:
                    values.append("")  # `in (,a)` holds the empty value, as in Kubernetes
                expect_value = True
            elif kind == ")":
                if expect_value and values:
                    values.append("")
                return values
            else:
                raise self.unexpected(token, "',', ')' or identifier")


# --- field selectors --------------------------------------------------------------------------

# Field selector names that are not the object's own path (Kubernetes' field label conversions).
_ALIASES = {("Event", "source"): "source.component", ("Job", "status.successful"): "status.succeeded"}


def field_path(kind_name: str, field: str) -> str:
    """Where a field selector's value lives in an object of the kind (JSON names)."""
    return _ALIASES.get((kind_name, field), field)


def _json_field(msg: Message, name: str):
    for fd in msg.DESCRIPTOR.fields:
        if fd.json_name == name or fd.name == name:
            return fd
    raise KeyError(name)


def field_value(obj: Message, path: str) -> str:
    """The string a field selector compares for `path` (JSON names): bools as true/false."""
    path = field_path(obj.DESCRIPTOR.name, path)
    value: object = obj
    for part in path.split("."):
        fd = _json_field(value, part)  # type: ignore[arg-type]
        value = getattr(value, fd.name)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    operator: str  # "=", "==" or "!="
    value: str
    path: str  # where the value lives in the object

    def matches(self, obj: Message) -> bool:
        equal = field_value(obj, self.path) == self.value
        return not equal if self.operator == NOT_EQUALS else equal

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{_escape(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, obj: Message) -> bool:
        return all(r.matches(obj) for r in self.requirements)

    def exact_value(self, field: str) -> str | None:
        """The value `field` must equal, if the selector pins it (for indexed lookups)."""
        for r in self.requirements:
            if r.field == field and r.operator in (EQUALS, DOUBLE_EQUALS):
                return r.value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current += text[i:i + 2]
            i += 2
            continue
        if text[i] == sep:
            parts.append(current)
            current = ""
        else:
            current += text[i]
        i += 1
    parts.append(current)
    return parts


def _unescape(text: str) -> str:
    out, i = "", 0
    while i < len(text):
        if text[i] == "\\":
            if i + 1 >= len(text) or text[i + 1] not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: {text[i:i + 2]}")
            out += text[i + 1]
            i += 2
        else:
            out += text[i]
            i += 1
    return out


def _split_term(term: str) -> tuple[str, str, str] | None:
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        for op in (NOT_EQUALS, DOUBLE_EQUALS, EQUALS):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
        i += 1
    return None


def parse_field_selector(text: str, kind: Kind) -> FieldSelector:
    """Parses `--field-selector` for a kind; SelectorError names bad terms and unsupported fields."""
    if not text.strip():
        return FieldSelector()
    requirements = []
    for term in _split_unescaped(text, ","):
        split = _split_term(term)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, value = split
        field = _unescape(field).strip()
        if field not in kind.supported_field_selectors:
            raise SelectorError(f"field label not supported: {field}")
        path = field_path(kind.kind, field)
        requirements.append(FieldRequirement(field, op, _unescape(value), path))
    return FieldSelector(tuple(requirements))
