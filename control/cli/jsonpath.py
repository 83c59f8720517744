"""kubectl's JSONPath templates for `-o jsonpath=...` and `-o custom-columns=...`.

Supported: `{.a.b}`, `{.a['dotted.key']}`, `{.items[0]}`, `[*]`, `[1:3]`, `..name`, `.*`,
filters `[?(@.type=="Ready")]` (==, !=, <, >, <=, >=, or existence), `{range EXPR}...{end}`,
literals `{"\\n"}`, and `$` for the root.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


class JSONPathError(ValueError):
    pass


_MISSING = object()


@dataclass
class _Node:
    kind: str  # "text", "expr", "range"
    value: str = ""
    children: list[_Node] = field(default_factory=list)


def parse_template(template: str) -> list[_Node]:
    nodes, rest = _parse_nodes(_tokens(template), 0, inside_range=False)
    if rest != len(_tokens(template)):
        raise JSONPathError(f"unexpected {{end}} in {template!r}")
    return nodes


def _tokens(template: str) -> list[tuple[str, str]]:
    tokens, i = [], 0
    while i < len(template):
        start = template.find("{", i)
        if start < 0:
            tokens.append(("text", template[i:]))
            break
        if start > i:
            tokens.append(("text", template[i:start]))
        end = _closing_brace(template, start)
        tokens.append(("brace", template[start + 1:end].strip()))
        i = end + 1
    return tokens


def _closing_brace(text: str, start: int) -> int:
    quote = ""
    for i in range(start + 1, len(text)):
        ch = text[i]
        if quote:
            if ch == "\\":
                continue
            if ch == quote and text[i - 1] != "\\":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "}":
            return i
    raise JSONPathError(f"unclosed action in {text!r}")


def _parse_nodes(tokens, i: int, inside_range: bool) -> tuple[list[_Node], int]:
    nodes: list[_Node] = []
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "text":
            nodes.append(_Node("text", value))
        elif value == "end":
            if not inside_range:
                raise JSONPathError("{end} without {range}")
            return nodes, i + 1
        elif value.startswith("range "):
            children, i = _parse_nodes(tokens, i + 1, inside_range=True)
            nodes.append(_Node("range", value[6:].strip(), children))
            continue
        elif value[:1] in "\"'":
            nodes.append(_Node("text", _literal(value)))
        else:
            nodes.append(_Node("expr", value))
        i += 1
    if inside_range:
        raise JSONPathError("{range} without {end}")
    return nodes, i


def _literal(text: str) -> str:
    body = text[1:-1] if len(text) >= 2 and text[-1] == text[0] else text[1:]
    return body.encode().decode("unicode_escape")


def render(template: str, data: Any) -> str:
    return "".join(_render(parse_template(template), data, data))


def _render(nodes: list[_Node], root: Any, current: Any) -> list[str]:
    out: list[str] = []
    for node in nodes:
        if node.kind == "text":
            out.append(node.value)
        elif node.kind == "expr":
            out.append(" ".join(_text(v) for v in evaluate(node.value, root, current)))
        else:
            for item in evaluate(node.value, root, current):
                out.extend(_render(node.children, root, item))
    return out


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):  # as Go's json.Marshal writes them: compact, keys sorted
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return str(value)


_STEP = re.compile(r"""\.\.(?P<deep>(?:\\.|[^.\[])+)|\.(?P<name>(?:\\.|[^.\[])*)"""
                   r"""|\[(?P<bracket>(?:'[^']*'|"[^"]*"|[^\]])*)\]""")


def evaluate(expr: str, root: Any, current: Any = None) -> list[Any]:
    """The values an expression selects (missing fields select nothing)."""
    expr = expr.strip()
    values = [root] if expr.startswith("$") else [root if current is None else current]
    expr = expr[1:] if expr[:1] in "$@" else expr
    if expr and expr[0] not in ".[":
        expr = "." + expr
    pos = 0
    while pos < len(expr):
        m = _STEP.match(expr, pos)
        if m is None:
            raise JSONPathError(f"unrecognized identifier at {expr[pos:]!r}")
        values = _apply_step(m, values, root)
        pos = m.end()
    return [v for v in values if v is not _MISSING]


def _apply_step(m: re.Match, values: list[Any], root: Any) -> list[Any]:
    if m.group("deep") is not None:
        return [found for v in values for found in _descend(v, m.group("deep").replace("\\.", "."))]
    if m.group("name") is not None:
        name = m.group("name").replace("\\.", ".")  # kubectl's escaped dots: labels.app\.kubernetes\.io/name
        if name in ("", "*"):
            return values if name == "" else [x for v in values for x in _children(v)]
        return [v[name] for v in values if isinstance(v, dict) and name in v]
    return [x for v in values for x in _bracket(m.group("bracket").strip(), v, root)]


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


def _descend(value: Any, name: str) -> list[Any]:
    found = []
    if isinstance(value, dict) and name in value:
        found.append(value[name])
    for child in _children(value):
        found.extend(_descend(child, name))
    return found


def _bracket(text: str, value: Any, root: Any) -> list[Any]:
    if text[:1] in "\"'":
        key = text[1:-1]
        return [value[key]] if isinstance(value, dict) and key in value else []
    if text == "*":
        return _children(value)
    if text.startswith("?(") and text.endswith(")"):
        return [item for item in _children(value) if _matches(text[2:-1], item, root)]
    if not isinstance(value, list):
        return []
    if ":" in text:
        parts = [int(p) if p.strip() else None for p in text.split(":")]
        return value[slice(*parts[:3])]
    try:
        index = int(text)
    except ValueError:
        raise JSONPathError(f"invalid array index {text!r}") from None
    return [value[index]] if -len(value) <= index < len(value) else []


_FILTER = re.compile(r"^(?P<left>@[^=!<>]*?)\s*(?:(?P<op>==|!=|<=|>=|<|>)\s*(?P<right>.+))?$")


def _matches(condition: str, item: Any, root: Any) -> bool:
    m = _FILTER.match(condition.strip())
    if m is None:
        raise JSONPathError(f"unsupported filter {condition!r}")
    left = evaluate(m.group("left"), root, item)
    if m.group("op") is None:
        return bool(left)
    right = _filter_value(m.group("right").strip(), root, item)
    return any(_compare(v, m.group("op"), right) for v in left)


def _filter_value(text: str, root: Any, item: Any) -> Any:
    if text[:1] in "\"'":
        return text[1:-1]
    if text[:1] in "@$":
        values = evaluate(text, root, item)
        return values[0] if values else _MISSING
    try:
        return json.loads(text)
    except ValueError:
        return text


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    try:
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    except TypeError:
        return False
