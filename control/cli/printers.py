"""Output formats for objects: tables (plain and wide), json, yaml, name."""

from __future__ import annotations

import argparse
import json
import re
import time
from typing import Any

import yaml
from google.protobuf.message import Message

from control.cli.errors import CommandError
from control.cli.jsonpath import JSONPathError, evaluate, parse_template
from control.cli.jsonpath import render as render_jsonpath
from control.cli.tables import render
from control.client.convert import to_dict
from control.client.kinds import Kind, kind_of, lookup

OUTPUT_FORMATS = ("wide", "json", "yaml", "name")
_TEMPLATE_FORMATS = ("jsonpath=", "custom-columns=")


def output_format(text: str) -> str:
    """argparse type for -o: one of OUTPUT_FORMATS, jsonpath=TEMPLATE or custom-columns=SPEC."""
    if text in OUTPUT_FORMATS or text == "":
        return text
    if text.startswith(_TEMPLATE_FORMATS):
        template = text.split("=", 1)[1]
        try:
            if text.startswith("jsonpath="):
                parse_template(template)
            else:
                _columns(template)
        except JSONPathError as e:
            raise argparse.ArgumentTypeError(f"error parsing {text!r}: {e}") from None
        return text
    raise argparse.ArgumentTypeError(
        f'unable to match a printer suitable for the output format "{text}", allowed formats are: '
        "custom-columns,json,jsonpath,name,wide,yaml")


def is_structured(output: str) -> bool:
    """Output that is not a table: json, yaml, name, templates."""
    return output in ("json", "yaml", "name") or output.startswith(_TEMPLATE_FORMATS)


def _columns(spec: str) -> list[tuple[str, str]]:
    columns = []
    for part in spec.split(","):
        header, sep, expr = part.partition(":")
        if not sep or not header:
            raise JSONPathError(f"expected NAME:EXPRESSION, got {part!r}")
        expr = expr if expr.startswith(("{", ".", "$")) else "." + expr
        expr = expr[1:-1] if expr.startswith("{") and expr.endswith("}") else expr
        evaluate(expr, {})  # parses it
        columns.append((header, expr))
    return columns


def custom_columns(spec: str, objects: list[Message], headers: bool = True) -> str:
    columns = _columns(spec)
    rows = [[h for h, _ in columns]] if headers else []
    for obj in objects:
        data = object_dict(obj)
        rows.append([",".join(_cell(v) for v in evaluate(expr, data)) or "<none>" for _, expr in columns])
    return render(rows)


def _cell(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


class _Dumper(yaml.SafeDumper):
    pass


_YAML11_BOOLS = {"y", "Y", "n", "N"}  # booleans to YAML 1.1 readers, which Go's YAML quotes too
_GO_NUMBER = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")  # 1e3 is a number to Go


def _str_presenter(dumper: yaml.SafeDumper, data: str):
    """Strings as Go's YAML writes them: literal blocks for multi-line text, double quotes where a plain
    scalar would read back as another type, single quotes where plain style is not allowed."""
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    if not data or data in _YAML11_BOOLS or _GO_NUMBER.fullmatch(data) or \
            dumper.resolve(yaml.ScalarNode, data, (True, False)) != "tag:yaml.org,2002:str":
        style = '"'
    else:
        style = None if dumper.analyze_scalar(data).allow_block_plain else "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def object_dict(obj: Message) -> dict[str, Any]:
    """Kubernetes-shaped JSON for one object, with apiVersion and kind always present."""
    k = kind_of(obj)
    data = to_dict(obj)
    head = {"apiVersion": data.pop("apiVersion", None) or k.api_version, "kind": data.pop("kind", None) or k.kind}
    return {**head, **data}


def list_dict(objects: list[Message]) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": [object_dict(o) for o in objects], "kind": "List",
            "metadata": {"resourceVersion": ""}}


def to_json(data: Any) -> str:
    return json.dumps(data, indent=4, ensure_ascii=False) + "\n"


def to_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True)


def object_name(obj: Message) -> str:
    return f"{kind_of(obj).qualified}/{obj.metadata.name}"


def format_objects(objects: list[Message], output: str, as_list: bool, managed_fields: bool = False) -> str:
    """json/yaml/name output; a single object prints bare unless as_list. metadata.managedFields is left
    out unless asked for (kubectl's --show-managed-fields)."""
    if output == "name":
        return "".join(object_name(o) + "\n" for o in objects)
    if output.startswith("custom-columns="):
        return custom_columns(output.split("=", 1)[1], objects)
    data = list_dict(objects) if as_list else object_dict(objects[0])
    if not managed_fields:
        for item in data["items"] if as_list else [data]:
            item.get("metadata", {}).pop("managedFields", None)
    if output.startswith("jsonpath="):
        return render_jsonpath(output.split("=", 1)[1], data)
    return to_json(data) if output == "json" else to_yaml(data)


def format_dicts(items: list[dict[str, Any]], output: str) -> str:
    """json/yaml/name/jsonpath output of objects that exist only on the client (a client dry run)."""
    if output == "name":
        return "".join(f"{lookup(d['kind']).qualified}/{d['metadata']['name']}\n" for d in items)
    data = items[0] if len(items) == 1 else {"apiVersion": "v1", "items": items, "kind": "List",
                                              "metadata": {"resourceVersion": ""}}
    if output.startswith("jsonpath="):
        return render_jsonpath(output.split("=", 1)[1], data)
    if output in ("", "wide") or output.startswith("custom-columns="):
        raise CommandError(f"--dry-run=client prints json, yaml, name or jsonpath, not {output!r}")
    if output == "json":  # Go's field order: TypeMeta (kind, apiVersion) first
        return to_json({"kind": data["kind"], "apiVersion": data["apiVersion"], **data})
    return to_yaml(data)


def table_rows(objects: list[Message], wide: bool, with_namespace: bool, with_kind: bool = False,
               now: float | None = None, label_columns: tuple[str, ...] = (),
               show_labels: bool = False) -> list[list[str]]:
    """Rows (no header) for objects of one kind."""
    now = time.time() if now is None else now
    rows = []
    for obj in objects:
        cols = kind_of(obj).columns
        row = cols.arranged(cols.row(obj, now), cols.wide_row(obj, now)) if wide else cols.row(obj, now)
        if with_kind:
            row[0] = f"{kind_of(obj).qualified}/{row[0]}" if cols.headers[0] == "NAME" else row[0]
        if with_namespace:
            row.insert(0, obj.metadata.namespace)
        labels = obj.metadata.labels
        row += [labels.get(key, "") for key in label_columns]
        if show_labels:
            row.append(",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>")
        rows.append(row)
    return rows


def table_header(kind: Kind | str, wide: bool, with_namespace: bool, label_columns: tuple[str, ...] = (),
                 show_labels: bool = False) -> list[str]:
    cols = (lookup(kind) if isinstance(kind, str) else kind).columns
    header = cols.arranged(list(cols.headers), list(cols.wide_headers)) if wide else list(cols.headers)
    header += [key.rsplit("/", 1)[-1].upper() for key in label_columns]
    header += ["LABELS"] if show_labels else []
    return (["NAMESPACE"] if with_namespace else []) + header


def format_table(kind: Kind | str, objects: list[Message], wide: bool, with_namespace: bool,
                 with_kind: bool = False, headers: bool = True, label_columns: tuple[str, ...] = (),
                 show_labels: bool = False) -> str:
    rows = table_rows(objects, wide, with_namespace, with_kind, label_columns=label_columns,
                      show_labels=show_labels)
    if headers:
        rows.insert(0, table_header(kind, wide, with_namespace, label_columns, show_labels))
    return render(rows)
