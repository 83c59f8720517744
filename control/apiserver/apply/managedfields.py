"""Field managers: metadata.managedFields decoded to sets of paths, the two operations that change
them (an Apply of a configuration, an Update of the whole object) and apply conflicts, following
Kubernetes' fieldmanager and structured-merge-diff.

An Update gives its manager the fields it changed and takes them from every other manager; an Apply
gives its manager exactly the fields of its configuration, refuses to change a field another manager
owns unless forced (then takes it), and removes the fields it applied before but no longer does, when
no other manager owns them. Fields the server sets (name, uid, resourceVersion, ...) are nobody's; a
kind's status is only owned through its status subresource.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import lru_cache

from google.protobuf import json_format, struct_pb2, timestamp_pb2

from control.apiserver.apply import fieldpath, typed
from control.apiserver.apply.fieldpath import Path
from control.apiserver.apply.typed import Node
from skiff.v1 import meta_pb2

APPLY, UPDATE = "Apply", "Update"
# At most this many Update entries; the oldest beyond it merge into one (fieldmanager's capManagers).
MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"
FIELDS_V1 = "FieldsV1"
# The manager an Update is computed under before its fields join its real manager's (fieldmanager's).
_CURRENT = ("current-operation", UPDATE, "", "")
# Fields the server owns (fieldmanager's stripMeta).
_SERVER_FIELDS = frozenset({
    ("f:apiVersion",), ("f:kind",),
    *(("f:metadata", f"f:{name}") for name in ("name", "namespace", "creationTimestamp", "selfLink", "uid",
                                               "generation", "managedFields", "resourceVersion")),
})
_STATUS = "f:status"

Key = tuple[str, str, str, str]  # manager, operation, apiVersion (of an Update), subresource


@dataclass(frozen=True)
class Entry:
    manager: str
    operation: str
    api_version: str
    subresource: str
    fields: frozenset[Path]
    time: int | None = None  # seconds

    @property
    def key(self) -> Key:
        return self.manager, self.operation, self.api_version if self.operation == UPDATE else "", self.subresource


Managers = dict[Key, Entry]


@dataclass(frozen=True)
class Scope:
    """Where a write lands: the kind's schema, its apiVersion, and which of its fields the write may
    own (the main resource of a kind with status owns all but status; /status owns status only)."""
    node: Node
    api_version: str
    subresource: str = ""
    has_status: bool = False

    def owned(self, paths: set[Path]) -> set[Path]:
        return {p for p in paths if self._owns(p)}

    def _owns(self, path: Path) -> bool:
        if path[:2] in _SERVER_FIELDS or path[:1] in _SERVER_FIELDS:
            return False
        if self.subresource == "status":
            return path[:1] == (_STATUS,)
        return not (self.has_status and path[:1] == (_STATUS,))


class ConflictError(Exception):
    """An apply that would change fields other managers own."""

    def __init__(self, conflicts: dict[Key, set[Path]]) -> None:
        self.conflicts = sorted(((k, p) for k, paths in conflicts.items() for p in paths),
                                key=lambda c: (c[0], fieldpath.describe(c[1])))
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if len(self.conflicts) == 1:
            key, path = self.conflicts[0]
            return f"Apply failed with 1 conflict: conflict with {describe_manager(key)}: {fieldpath.describe(path)}"
        lines: list[str] = []
        for key in sorted({k for k, _ in self.conflicts}, key=lambda k: describe_manager(k)):
            lines.append(f"conflicts with {describe_manager(key)}:")
            lines += [f"- {fieldpath.describe(p)}" for k, p in self.conflicts if k == key]
        return f"Apply failed with {len(self.conflicts)} conflicts: " + "\n".join(lines)

    def causes(self) -> list[dict]:
        return [{"reason": "FieldManagerConflict", "message": f"conflict with {describe_manager(k)}",
                 "field": fieldpath.describe(p)} for k, p in self.conflicts]


def describe_manager(key: Key) -> str:
    manager, operation, api_version, subresource = key
    text = f'"{manager}"'
    if subresource:
        text += f' with subresource "{subresource}"'
    if operation == UPDATE:
        text += f" using {api_version}"
    return text


# --- the operations -------------------------------------------------------------------------------

def apply(live: dict, config: dict, managers: Managers, manager: str, force: bool, scope: Scope,
          now: int | None = None) -> tuple[dict, Managers]:
    """The object after applying `config` as `manager`, and the managers after it. Raises
    ConflictError unless forced, typed.FieldError for a configuration the schema cannot place."""
    key: Key = (manager, APPLY, "", scope.subresource)
    merged = typed.merge(live, config, scope.node)
    applied = frozenset(scope.owned(typed.field_set(config, scope.node)))
    last = managers.get(key)
    managers = dict(managers)
    managers[key] = Entry(manager, APPLY, scope.api_version, scope.subresource, applied,
                          last.time if last else None)
    if last is not None:
        merged = typed.remove(merged, _unowned(last.fields - applied, managers), scope.node)
    managers, _ = _take(live, merged, managers, key, force, scope)
    entry = managers[key]
    if merged != live or entry.time is None:
        managers[key] = replace(entry, time=_now(now))
    return merged, managers


def update(live: dict, new: dict, managers: Managers, manager: str, scope: Scope,
           now: int | None = None) -> Managers:
    """The managers after an Update of `live` to `new` by `manager`."""
    managers, changed = _take(live, new, managers, _CURRENT, True, scope)
    if not changed:
        return managers
    key: Key = (manager, UPDATE, scope.api_version, scope.subresource)
    previous = managers.get(key)
    fields = (previous.fields if previous else frozenset()) | changed
    managers[key] = Entry(manager, UPDATE, scope.api_version, scope.subresource, frozenset(fields), _now(now))
    return _capped(managers)


def _capped(managers: Managers) -> Managers:
    updates = sorted((e for e in managers.values() if e.operation == UPDATE), key=lambda e: (e.time or 0, e.manager))
    if len(updates) <= MAX_UPDATE_MANAGERS:
        return managers
    oldest = updates[:len(updates) - MAX_UPDATE_MANAGERS + 1]
    bucket = Entry(ANCIENT_CHANGES, UPDATE, oldest[-1].api_version, "", frozenset(), oldest[-1].time)
    oldest += [managers[bucket.key]] if bucket.key in managers and managers[bucket.key] not in oldest else []
    out = {k: e for k, e in managers.items() if e not in oldest}
    out[bucket.key] = replace(bucket, fields=frozenset().union(*(e.fields for e in oldest)))
    return out


def _take(live: dict, new: dict, managers: Managers, taker: Key, force: bool,
          scope: Scope) -> tuple[Managers, frozenset[Path]]:
    """Every manager but `taker` loses the fields the write removes and (forced) those it changes;
    unforced, a change to another manager's field is a conflict."""
    diff = typed.compare(live, new, scope.node)
    changed = frozenset(scope.owned(diff.added | diff.modified))
    removed = frozenset(scope.owned(diff.removed))
    conflicts = {k: set(e.fields & changed) for k, e in managers.items() if k != taker and e.fields & changed}
    if conflicts and not force:
        raise ConflictError(conflicts)
    out: Managers = {}
    for k, entry in managers.items():
        fields = entry.fields if k == taker else entry.fields - changed - removed
        if fields:
            out[k] = replace(entry, fields=fields)
    return out, changed


def _unowned(gone: frozenset[Path], managers: Managers) -> set[Path]:
    """The fields an applier stopped applying that no manager owns now, nor anything below them (a map
    the applier owned as a whole stays while it applies one of its keys)."""
    owned: set[Path] = set()
    for entry in managers.values():
        owned |= entry.fields
    return {p for p in gone if not fieldpath.with_descendants(owned, p)}


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


# --- metadata.managedFields -----------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _decoded(fields_v1: bytes) -> frozenset[Path]:
    try:
        return frozenset(fieldpath.decode(json_format.MessageToDict(struct_pb2.Value.FromString(fields_v1))))
    except json_format.Error:  # managedFields a client sent that no one could have written
        return frozenset()


@lru_cache(maxsize=1024)
def _encoded(fields: frozenset[Path]) -> bytes:
    return json_format.ParseDict(fieldpath.encode(fields), struct_pb2.Value()).SerializeToString(deterministic=True)


def decode(entries) -> Managers:
    """Managers from ManagedFieldsEntry messages (entries without a manager or fields are dropped,
    as Kubernetes resets managedFields given as `[{}]`)."""
    out: Managers = {}
    for e in entries:
        if not e.manager or e.fields_type not in ("", FIELDS_V1):
            continue
        fields = _decoded(e.fields_v1.SerializeToString(deterministic=True))
        entry = Entry(e.manager, e.operation or UPDATE, e.api_version, e.subresource, fields,
                      e.time.seconds if e.HasField("time") else None)
        previous = out.get(entry.key)
        out[entry.key] = replace(entry, fields=entry.fields | previous.fields) if previous else entry
    return out


def encode(managers: Managers) -> list[meta_pb2.ManagedFieldsEntry]:
    """ManagedFieldsEntry messages in Kubernetes' order: Apply before Update, then oldest first."""
    ordered = sorted(managers.values(), key=lambda e: (e.operation, e.time or 0, e.manager, e.api_version,
                                                       e.subresource))
    out = []
    for e in ordered:
        entry = meta_pb2.ManagedFieldsEntry(manager=e.manager, operation=e.operation, api_version=e.api_version,
                                            fields_type=FIELDS_V1)
        if e.subresource:
            entry.subresource = e.subresource
        if e.time is not None:
            entry.time.CopyFrom(timestamp_pb2.Timestamp(seconds=e.time))
        entry.fields_v1.ParseFromString(_encoded(e.fields))
        out.append(entry)
    return out
