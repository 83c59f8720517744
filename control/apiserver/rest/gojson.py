"""Objects as Go's encoding/json writes Kubernetes' types: a struct field that is not a pointer is always
written, `{}` when empty (a Deployment's `"status": {}`, a container's `"resources": {}`), and so is a
zero metav1.Time (`"creationTimestamp": null` in a pod template). Clients rely on it: the Python client's
models give `status` as an object, not None, and a JSON patch may add below such a field."""

from __future__ import annotations

from functools import cache

from control.apiserver.rest.k8sproto import META, SPECIAL, table

_TIME = f"{META}Time"


@cache
def _structs(message: str) -> tuple[tuple[str, str, str], ...]:
    """(JSON name, type, flags) of the fields of `message` that hold a struct of the table or a Time."""
    found = []
    for name, (_, type_, flags) in table().get(message, {}).items():
        if type_ == _TIME and flags == "" or type_ in table() and type_ not in SPECIAL:
            found.append((name, type_, flags))
    return tuple(found)


def fill(doc: dict, message: str) -> dict:
    """Adds the empty non-pointer structs (and null Times) of `message` below `doc`, in place."""
    for name, type_, flags in _structs(message):
        if "i" in flags:  # an inlined member: its fields are the object's own
            fill(doc, type_)
            continue
        value = doc.get(name)
        if "r" in flags:
            for item in value if isinstance(value, list) else ():
                if isinstance(item, dict):
                    fill(item, type_)
        elif type_ == _TIME:
            doc.setdefault(name, None)
        elif value is None and "p" not in flags and name not in doc:
            doc[name] = fill({}, type_)
        elif isinstance(value, dict):
            fill(value, type_)
    return doc


def drop(doc: dict, message: str) -> dict:
    """The reverse of fill, in place: an empty non-pointer struct (or a null Time) in a request body is
    no struct at all, as Go cannot tell them apart; Skiff's messages track presence, and a client that
    sends back what it read (`resources: {}`) must not change the object (nor a pod template's hash)."""
    for name, type_, flags in _structs(message):
        if "i" in flags:
            drop(doc, type_)
            continue
        value = doc.get(name)
        if type_ == _TIME:
            if name in doc and value is None:
                del doc[name]
        elif "r" in flags:
            for item in value if isinstance(value, list) else ():
                if isinstance(item, dict):
                    drop(item, type_)
        elif isinstance(value, dict):
            drop(value, type_)
            if not value and "p" not in flags:
                del doc[name]
    return doc
