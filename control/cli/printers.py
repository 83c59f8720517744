"""Output formats for objects: tables (plain and wide), json, yaml, name."""

from __future__ import annotations

import json
import time
from typing import Any

import yaml
from google.protobuf.message import Message

from control.cli.tables import columns_for, render
from control.client.convert import to_dict
from control.client.kinds import kind_of

OUTPUT_FORMATS = ("wide", "json", "yaml", "name")


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str):
    style = "|" if "\n" in data else None
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


def format_objects(objects: list[Message], output: str, as_list: bool) -> str:
    """json/yaml/name output; a single object prints bare unless as_list."""
    if output == "name":
        return "".join(object_name(o) + "\n" for o in objects)
    data = list_dict(objects) if as_list else object_dict(objects[0])
    return to_json(data) if output == "json" else to_yaml(data)


def table_rows(objects: list[Message], wide: bool, with_namespace: bool, with_kind: bool = False,
               now: float | None = None) -> list[list[str]]:
    """Rows (no header) for objects of one kind."""
    now = time.time() if now is None else now
    rows = []
    for obj in objects:
        cols = columns_for(kind_of(obj).kind)
        row = cols.row(obj, now) + (cols.wide_row(obj, now) if wide else [])
        if with_kind:
            row[0] = f"{kind_of(obj).qualified}/{row[0]}" if cols.headers[0] == "NAME" else row[0]
        if with_namespace:
            row.insert(0, obj.metadata.namespace)
        rows.append(row)
    return rows


def table_header(kind: str, wide: bool, with_namespace: bool) -> list[str]:
    cols = columns_for(kind)
    header = cols.headers + (cols.wide_headers if wide else [])
    return (["NAMESPACE"] if with_namespace else []) + header


def format_table(kind: str, objects: list[Message], wide: bool, with_namespace: bool,
                 with_kind: bool = False, headers: bool = True) -> str:
    rows = table_rows(objects, wide, with_namespace, with_kind)
    if headers:
        rows.insert(0, table_header(kind, wide, with_namespace))
    return render(rows)
