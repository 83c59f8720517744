"""meta.k8s.io/v1 Table output: the same columns skiffctl prints (the kind's printer columns)."""

from __future__ import annotations

import time

from google.protobuf.message import Message

from control.client.convert import to_dict
from control.client.kinds import Kind


def wants_table(accept: str) -> bool:
    """kubectl asks `application/json;as=Table;v=v1;g=meta.k8s.io,application/json` for human output."""
    for part in accept.split(","):
        params = {p.strip().split("=", 1)[0]: p.strip().split("=", 1)[-1] for p in part.split(";")[1:]}
        if params.get("as") == "Table" and params.get("g", "meta.k8s.io") == "meta.k8s.io":
            return True
    return False


def column_definitions(kind: Kind) -> list[dict]:
    cols = kind.columns
    defs = cols.arranged(
        [{"name": _title(h), "type": "string", "format": "", "description": "", "priority": 0} for h in cols.headers],
        [{"name": _title(h), "type": "string", "format": "", "description": "", "priority": 1}
         for h in cols.wide_headers])
    if defs and cols.headers[0] == "NAME":
        defs[0]["format"] = "name"
    return defs


def _title(header: str) -> str:
    """kubectl upper-cases column names itself; the server sends them as Kubernetes does (`Name`, `Cluster-IP`)."""
    return "-".join(w[:1].upper() + w[1:].lower() for w in header.split("-")).replace("Ip", "IP")


def row(kind: Kind, obj: Message, include: str, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    cells = kind.columns.arranged(kind.columns.row(obj, now), kind.columns.wide_row(obj, now))
    doc: dict = {"cells": cells}
    if include == "Object":
        doc["object"] = to_dict(obj)
    elif include != "None":
        doc["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                         "metadata": to_dict(obj).get("metadata", {})}
    return doc


def table(kind: Kind, objects: list[Message], resource_version: str, include: str, continue_token: str = "",
          with_columns: bool = True) -> dict:
    meta = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    doc: dict = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    if with_columns:
        doc["columnDefinitions"] = column_definitions(kind)
    doc["rows"] = [row(kind, o, include) for o in objects]
    return doc
