"""JSON values of the wrong type, refused as kube-apiserver's Go decoder refuses them: `replicas: "3"`
is not an int32 there (protobuf's JSON parser would take it), and the message names the Go struct, the
field's JSON path and its Go type: `json: cannot unmarshal string into Go struct field
DeploymentSpec.spec.replicas of type int32`. The field table (k8sproto) gives the types. Types with
their own JSON form (IntOrString, Quantity, Time, RawExtension, ...) are left to the parser."""

from __future__ import annotations

from control.apiserver.rest.k8sencode import message_of
from control.apiserver.rest.k8sproto import SPECIAL, table

_INTS = {"int32": (-2**31, 2**31), "int64": (-2**63, 2**63), "uint32": (0, 2**32), "uint64": (0, 2**64)}
_GO_SCALARS = {"double": "float64", "float": "float32", "bytes": "[]uint8"}


def type_error(doc: dict) -> str | None:
    """The first value of `doc` (an object of a served kind) Go would not decode into its field."""
    message = message_of(doc)
    return _object(doc, message, _short(message), "") if message else None


def _short(message: str) -> str:
    return message.rsplit(".", 1)[-1]


def _go_type(type_: str, repeated: bool = False) -> str:
    if repeated:
        return "[]" + _go_type(type_)
    if type_.startswith("map:"):
        _, key, value = type_.split(":", 2)
        return f"map[{_go_type(key)}]{_go_type(value)}"
    if type_.startswith("io.k8s."):
        package, name = type_.rsplit(".", 2)[-2:]
        return f"{package}.{name}"
    return _GO_SCALARS.get(type_, type_)


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(value), "value")


def _object(doc: dict, message: str, struct: str, path: str) -> str | None:
    fields = table()[message]
    for name, value in doc.items():
        entry = fields.get(name) or _inlined(fields, name)
        if entry is None or value is None:
            continue
        _number, type_, flags = entry
        at = f"{path}.{name}" if path else name
        found = _field(value, type_, "r" in flags, struct, at)
        if found:
            return found
    return None


def _inlined(fields: dict, name: str) -> list | None:
    for _number, type_, flags in fields.values():
        if "i" in flags and type_ in table():
            entry = table()[type_].get(name) or _inlined(table()[type_], name)
            if entry:
                return entry
    return None


def _field(value, type_: str, repeated: bool, struct: str, path: str) -> str | None:
    go = _go_type(type_, repeated)
    if repeated:
        if not isinstance(value, list):
            return _refused(value, struct, path, go)
        return next((e for item in value if item is not None
                     if (e := _field(item, type_, False, struct, path))), None)
    if type_.startswith("map:"):
        if not isinstance(value, dict):
            return _refused(value, struct, path, go)
        value_type = type_.split(":", 2)[2]
        return next((e for item in value.values() if item is not None
                     if (e := _field(item, value_type, False, struct, path))), None)
    if type_ in SPECIAL or (type_.startswith("io.k8s.") and type_ not in table()):
        return None
    if type_.startswith("io.k8s."):
        if not isinstance(value, dict):
            return _refused(value, struct, path, go)
        return _object(value, type_, _short(type_), path)
    return _scalar(value, type_, struct, path)


def _scalar(value, type_: str, struct: str, path: str) -> str | None:
    if type_ == "string":
        ok = isinstance(value, str)
    elif type_ == "bool":
        ok = isinstance(value, bool)
    elif type_ in ("double", "float"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif type_ in _INTS:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            low, high = _INTS[type_]
            if float(value).is_integer() and low <= value < high:
                return None
            return _refused(value, struct, path, type_, literal=True)
        ok = False
    else:  # bytes: base64 text
        ok = isinstance(value, str)
    return None if ok else _refused(value, struct, path, _go_type(type_))


def _refused(value, struct: str, path: str, go: str, literal: bool = False) -> str:
    what = _json_type(value) + (f" {value}" if literal else "")
    return f"json: cannot unmarshal {what} into Go struct field {struct}.{path} of type {go}"
