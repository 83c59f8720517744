"""Kubernetes' kubeconfig document (`kind: Config`: clusters, users, contexts, current-context), the
other shape of the client config file beside Skiff's flat one (control/client/kubeconfig.py).

`resolve` turns the chosen context into the flat keys; `from_flat` turns a flat file into a document
(one cluster, user and context named `default`) so `skiffctl config` can edit either. Field names are
kubeconfig's: cluster `server`, `certificate-authority[-data]`, `tls-server-name`; user
`client-certificate[-data]`, `client-key[-data]`, `token`, `tokenFile`; context `cluster`, `user`,
`namespace`. A server written `http://...` is plaintext (Skiff's `insecure: true`).
"""

from __future__ import annotations

import base64
import os
from typing import Any

DEFAULT_NAME = "default"
SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
# Field order of kubectl's JSON (its Go structs').
CLUSTER_FIELDS = ("server", "tls-server-name", "insecure-skip-tls-verify", "certificate-authority",
                  "certificate-authority-data", "proxy-url")
USER_FIELDS = ("client-certificate", "client-certificate-data", "client-key", "client-key-data", "token",
               "tokenFile", "username", "password")
CONTEXT_FIELDS = ("cluster", "user", "namespace")
_DATA_FIELDS = ("certificate-authority-data", "client-certificate-data", "client-key-data")
_SECRET_FIELDS = ("token", "password")


class DocumentError(ValueError):
    pass


def is_document(data: dict) -> bool:
    return data.get("kind") == "Config" or any(key in data for key, _ in SECTIONS) or "current-context" in data


def empty() -> dict[str, Any]:
    return {"apiVersion": "v1", "clusters": [], "contexts": [], "current-context": "", "kind": "Config",
            "preferences": {}, "users": []}


def normalized(data: dict | None) -> dict[str, Any]:
    """A document with every section present (lists, never null)."""
    doc = empty()
    for key, value in (data or {}).items():
        doc[key] = value if value is not None else doc.get(key)
    for key, _ in SECTIONS:
        doc[key] = list(doc.get(key) or [])
    doc["current-context"] = doc.get("current-context") or ""
    return doc


def find(doc: dict, section: str, name: str) -> dict | None:
    """The body of a named entry (`{"server": ...}` for a cluster), or None."""
    item = dict(SECTIONS)[section]
    for entry in doc.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            if not isinstance(entry.get(item), dict):
                entry[item] = {}
            return entry[item]
    return None


def ensure(doc: dict, section: str, name: str) -> tuple[dict, bool]:
    """The body of a named entry, made when missing; and whether it was made."""
    found = find(doc, section, name)
    if found is not None:
        return found, False
    body: dict = {}
    doc[section].append({"name": name, dict(SECTIONS)[section]: body})
    return body, True


def remove(doc: dict, section: str, name: str) -> bool:
    before = len(doc[section])
    doc[section] = [e for e in doc[section] if not (isinstance(e, dict) and e.get("name") == name)]
    return len(doc[section]) != before


def _path(base_dir: str, value: str) -> str:
    return os.path.join(base_dir, os.path.expanduser(value))


def resolve(doc: dict, base_dir: str, context: str = "") -> dict[str, Any]:
    """The flat client-config keys of a context (default: current-context); an unset current context
    gives no keys (the defaults), a named one that does not exist is an error."""
    name = context or doc.get("current-context") or ""
    if not name:
        return {}
    ctx = find(doc, "contexts", name)
    if ctx is None:
        raise DocumentError(f'context was not found for specified context: {name}')
    flat: dict[str, Any] = {}
    if ctx.get("namespace"):
        flat["namespace"] = ctx["namespace"]
    cluster = find(doc, "clusters", ctx.get("cluster", "")) if ctx.get("cluster") else None
    if ctx.get("cluster") and cluster is None:
        raise DocumentError(f'cluster "{ctx["cluster"]}" of context "{name}" was not found')
    user = find(doc, "users", ctx.get("user", "")) if ctx.get("user") else None
    if ctx.get("user") and user is None:
        raise DocumentError(f'user "{ctx["user"]}" of context "{name}" was not found')
    flat.update(_cluster_keys(cluster or {}, base_dir))
    flat.update(_user_keys(user or {}, base_dir))
    return flat


def _cluster_keys(cluster: dict, base_dir: str) -> dict[str, Any]:
    if cluster.get("insecure-skip-tls-verify"):
        raise DocumentError("insecure-skip-tls-verify is not supported: give the cluster's certificate-authority")
    flat: dict[str, Any] = {}
    server = cluster.get("server") or ""
    if server:
        flat["server"] = server
        if server.startswith("http://"):
            flat["insecure"] = True
    if cluster.get("certificate-authority"):
        flat["certificate-authority"] = _path(base_dir, cluster["certificate-authority"])
    data_key = "certificate-authority-data"
    if cluster.get(data_key):
        flat[data_key] = _decode(cluster[data_key], data_key)
    if cluster.get("tls-server-name"):
        flat["tls-server-name"] = cluster["tls-server-name"]
    return flat


def _user_keys(user: dict, base_dir: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key in ("client-certificate", "client-key"):
        if user.get(key):
            flat[key] = _path(base_dir, user[key])
        if user.get(f"{key}-data"):
            flat[f"{key}-data"] = _decode(user[f"{key}-data"], f"{key}-data")
    if user.get("token"):
        flat["token"] = user["token"]
    elif user.get("tokenFile"):
        try:
            with open(_path(base_dir, user["tokenFile"]), encoding="utf-8") as f:
                flat["token"] = f.read().strip()
        except OSError as e:
            raise DocumentError(f"tokenFile: {e}") from None
    return flat


def _decode(value: Any, key: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError:
        raise DocumentError(f"{key}: not valid base64") from None


def from_flat(flat: dict) -> dict[str, Any]:
    """A flat config as a document: cluster, user and context `default`, the current context."""
    doc = empty()
    cluster: dict[str, Any] = {}
    server = flat.get("server")
    if isinstance(server, list):
        server = ",".join(server)
    if server:
        cluster["server"] = f"http://{server}" if flat.get("insecure") and "://" not in server else server
    for key in ("certificate-authority", "tls-server-name"):
        if flat.get(key):
            cluster[key] = flat[key]
    user = {k: flat[k] for k in ("client-certificate", "client-key", "token") if flat.get(k)}
    context: dict[str, Any] = {"cluster": DEFAULT_NAME, "user": DEFAULT_NAME}
    if flat.get("namespace"):
        context["namespace"] = flat["namespace"]
    doc["clusters"] = [{"cluster": cluster, "name": DEFAULT_NAME}]
    doc["users"] = [{"name": DEFAULT_NAME, "user": user}]
    doc["contexts"] = [{"context": context, "name": DEFAULT_NAME}]
    doc["current-context"] = DEFAULT_NAME
    return doc


def minified(doc: dict, context: str = "") -> dict[str, Any]:
    """Only the current (or given) context, its cluster and its user."""
    name = context or doc.get("current-context")
    ctx = find(doc, "contexts", name) if name else None
    if ctx is None:
        raise DocumentError("current-context must exist in order to minify")
    out = normalized({k: v for k, v in doc.items() if k not in dict(SECTIONS)})
    out["current-context"] = name
    out["contexts"] = [e for e in doc["contexts"] if e.get("name") == name]
    out["clusters"] = [e for e in doc["clusters"] if e.get("name") == ctx.get("cluster")]
    out["users"] = [e for e in doc["users"] if e.get("name") == ctx.get("user")]
    return out


def redacted(doc: dict) -> dict[str, Any]:
    """What `config view` shows without --raw: embedded data and secrets hidden."""
    out = normalized(doc)
    for section, item in SECTIONS:
        out[section] = [_redact_entry(e, item) for e in out[section]]
    return out


def _redact_entry(entry: dict, item: str) -> dict:
    body = dict(entry.get(item) or {})
    for key in _DATA_FIELDS:
        if body.get(key):
            body[key] = "DATA+OMITTED"
    for key in _SECRET_FIELDS:
        if body.get(key):
            body[key] = "REDACTED"
    return {**entry, item: body}


def flattened(doc: dict, base_dir: str) -> dict[str, Any]:
    """Files named by the document embedded as -data fields (`config view --flatten`)."""
    out = normalized(doc)
    for section, item in SECTIONS:
        for entry in out[section]:
            body = entry.get(item) or {}
            for key in ("certificate-authority", "client-certificate", "client-key"):
                if body.get(key):
                    with open(_path(base_dir, body.pop(key)), "rb") as f:
                        body[f"{key}-data"] = base64.b64encode(f.read()).decode()
    return out


def for_printing(doc: dict, json_order: bool) -> dict[str, Any]:
    """The document as kubectl writes and prints it: entries by name, empty sections null; JSON keeps
    its Go field order, YAML sorts keys."""
    out = normalized(doc)
    for section, _ in SECTIONS:  # kubeconfig's sections are maps by name: kubectl writes them sorted
        out[section] = sorted(out[section], key=lambda e: str(e.get("name", "")) if isinstance(e, dict) else "")
    if not json_order:
        return {k: (v or None) if k in dict(SECTIONS) else v for k, v in out.items()}
    orders = {"cluster": CLUSTER_FIELDS, "user": USER_FIELDS, "context": CONTEXT_FIELDS}
    result: dict[str, Any] = {"kind": out["kind"], "apiVersion": out["apiVersion"], "preferences": out["preferences"]}
    for section, item in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
        entries = []
        for e in out[section]:
            body = e.get(item) or {}
            ordered = {k: body[k] for k in orders[item] if k in body}
            ordered.update({k: v for k, v in body.items() if k not in ordered})
            entries.append({"name": e.get("name"), item: ordered})
        result[section] = entries or None
    result["current-context"] = out["current-context"]
    return result
