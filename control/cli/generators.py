"""The objects kubectl's imperative commands make (`create deployment|service|secret|configmap|namespace`,
`run`, `expose`), as Kubernetes-shaped dicts, and how kubectl prints them before the server saw them.

kubectl prints a client-side dry run from Go structs: a struct field that is not a pointer is always
written, so an unsaved object shows `creationTimestamp: null`, `status: {}`, `resources: {}` and the
like; `kubectl_view` adds exactly those for the kinds these commands make.
"""

from __future__ import annotations

import base64
import json
import os
import re

from control.cli.errors import CommandError
from control.client.selectors import dns1123_subdomain_errors

ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
DOCKER_HUB = "https://index.docker.io/v1/"


def container_name(image: str) -> str:
    """kubectl create deployment's container name: the image's last path element without tag or digest."""
    base = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return base or "container"


def deployment(name: str, images: list[str], replicas: int, port: int, namespace: str = "") -> dict:
    labels = {"app": name}
    containers = [{"name": container_name(image), "image": image} for image in images]
    if port:
        containers[0]["ports"] = [{"containerPort": port}]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, namespace, labels),
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}}}


def _meta(name: str, namespace: str, labels: dict | None = None) -> dict:
    meta: dict = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    return meta


def _port_number(text: str) -> int:
    if not text.isdigit():
        raise CommandError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    return int(text)


def service_ports(specs: list[str], node_port: int = 0) -> list[dict]:
    """`--tcp PORT[:TARGET]` as kubectl create service makes them (named `PORT-TARGET` or `PORT`)."""
    ports = []
    for spec in specs:
        port, _, target = spec.partition(":")
        number = _port_number(port)
        item: dict = {"name": f"{port}-{target}" if target else port, "port": number, "protocol": "TCP",
                      "targetPort": (int(target) if target.isdigit() else target) if target else number}
        if node_port:
            item["nodePort"] = node_port
        ports.append(item)
    return ports


def service(name: str, service_type: str, tcp: list[str], cluster_ip: str = "", node_port: int = 0,
            external_name: str = "", namespace: str = "") -> dict:
    if not tcp and cluster_ip != "None" and service_type != "ExternalName":
        raise CommandError("at least one tcp port specifier must be provided")
    labels = {"app": name}
    spec: dict = {"type": service_type, "selector": dict(labels)}
    if service_type == "ExternalName":
        spec["externalName"] = external_name
    if tcp:
        spec["ports"] = service_ports(tcp, node_port)
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, namespace, labels), "spec": spec}


# --- data sources: --from-literal, --from-file, --from-env-file -------------------------------------------

def _add(data: dict[str, bytes], key: str, value: bytes, kind: str, name: str) -> None:
    if key in data:
        if kind == "ConfigMap":
            raise CommandError(f'cannot add key "{key}", another key by that name already exists in Data for '
                               f'ConfigMap "{name}"')
        raise CommandError(f"cannot add key {key}, another key by that name already exists")
    data[key] = value


def _check_key(key: str, kind: str) -> None:
    if not CONFIG_KEY.match(key):
        raise CommandError(f'"{key}" is not a valid key name for a {kind}: a valid config key must '
                           "consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  "
                           "or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise CommandError(f"error reading {path}: {(e.strerror or str(e)).lower()}") from None


def env_file(path: str) -> list[tuple[str, str]]:
    """KEY=VALUE lines; `#` comments and blank lines skipped; a bare KEY takes the environment's value."""
    text = _read(path).decode(errors="replace").lstrip("\ufeff")
    pairs = []
    for line in text.splitlines():
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not ENV_NAME.match(key):
            raise CommandError(f'"{key}" is not a valid key name: a valid environment variable name must consist '
                               "of alphabetic characters, digits, '_', '-', or '.', and must not start with a "
                               "digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
                               "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')")
        pairs.append((key, value if sep else os.environ.get(key, "")))
    return pairs


def data_sources(literals: list[str], files: list[str], env_files: list[str], kind: str, name: str
                 ) -> dict[str, bytes]:
    if env_files and (literals or files):
        raise CommandError("from-env-file cannot be combined with from-file or from-literal")
    data: dict[str, bytes] = {}
    for path in env_files:
        for key, value in env_file(path):
            _add(data, key, value.encode(), kind, name)
    for source in files:
        key, sep, path = source.partition("=")
        if not sep:
            key, path = os.path.basename(source.rstrip("/")), source
        if os.path.isdir(path) and not sep:
            for entry in sorted(os.listdir(path)):
                if os.path.isfile(os.path.join(path, entry)) and CONFIG_KEY.match(entry):
                    _add(data, entry, _read(os.path.join(path, entry)), kind, name)
            continue
        _check_key(key, kind)
        _add(data, key, _read(path), kind, name)
    for literal in literals:
        key, sep, value = literal.partition("=")
        if not sep or not key:
            raise CommandError(f"invalid literal source {literal}, expected key=value")
        _check_key(key, kind)
        _add(data, key, value.encode(), kind, name)
    return data


def configmap(name: str, data: dict[str, bytes], namespace: str = "") -> dict:
    text, binary = {}, {}
    for key, value in data.items():
        try:
            text[key] = value.decode()
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(value).decode()
    obj: dict = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(name, namespace)}
    if text:
        obj["data"] = text
    if binary:
        obj["binaryData"] = binary
    return obj


def secret(name: str, data: dict[str, bytes], secret_type: str = "", namespace: str = "") -> dict:
    obj: dict = {"apiVersion": "v1", "kind": "Secret", "metadata": _meta(name, namespace)}
    if data:
        obj["data"] = {k: base64.b64encode(v).decode() for k, v in data.items()}
    if secret_type:
        obj["type"] = secret_type
    return obj


def tls_secret(name: str, cert: str, key: str, namespace: str = "") -> dict:
    if not cert or not key:
        raise CommandError("key and cert must be specified")
    return secret(name, {"tls.crt": _read(cert), "tls.key": _read(key)}, "kubernetes.io/tls", namespace)


def docker_registry_secret(name: str, server: str, username: str, password: str, email: str,
                           files: list[str], namespace: str = "") -> dict:
    if files:
        data = data_sources([], files, [], "Secret", name)
        return secret(name, data, "kubernetes.io/dockerconfigjson", namespace)
    if not username or not password:
        raise CommandError("missing required flag(s): --docker-username, --docker-password")
    entry = {"username": username, "password": password}
    if email:
        entry["email"] = email
    entry["auth"] = base64.b64encode(f"{username}:{password}".encode()).decode()
    config = json.dumps({"auths": {server or DOCKER_HUB: entry}}, separators=(",", ":"))
    return secret(name, {".dockerconfigjson": config.encode()}, "kubernetes.io/dockerconfigjson", namespace)


def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def check_name(name: str) -> None:
    if errs := dns1123_subdomain_errors(name):
        raise CommandError(f'invalid name "{name}": {"; ".join(errs)}')


# --- how kubectl prints an object it made -------------------------------------------------------------

# Go struct fields (not pointers) kubectl writes even when empty, per kind: dotted paths to `{}`.
_EMPTY_STRUCTS = {
    "Deployment": ("spec.strategy", "status"),
    "Pod": ("status",),
    "Namespace": ("spec", "status"),
    "ResourceQuota": ("status",),
    "Service": ("status.loadBalancer",),
    "Ingress": ("status.loadBalancer",),
}


def kubectl_view(obj: dict) -> dict:
    """The object as kubectl prints it from its Go struct before the server saw it."""
    out = json.loads(json.dumps(obj))
    _null_timestamp(out.get("metadata"))
    for path in _EMPTY_STRUCTS.get(out.get("kind", ""), ()):
        node = out
        for part in path.split("."):
            node = node.setdefault(part, {})
    template = out.get("spec", {}).get("template")
    if isinstance(template, dict):
        _null_timestamp(template.setdefault("metadata", {}))
    pod_spec = template.get("spec") if isinstance(template, dict) else out.get("spec")
    if out.get("kind") in ("Pod", "Deployment", "ReplicaSet") and isinstance(pod_spec, dict):
        for container in pod_spec.get("containers", []):
            container.setdefault("resources", {})
    return out


def _null_timestamp(meta) -> None:
    if isinstance(meta, dict):
        meta.setdefault("creationTimestamp", None)


# --- run and expose -----------------------------------------------------------------------------------

RESTART_POLICIES = ("Always", "OnFailure", "Never")


def key_values(text: str, what: str) -> dict[str, str]:
    """`a=b,c=d` (kubectl's --labels and --annotations)."""
    out: dict[str, str] = {}
    for item in (i for i in text.split(",") if i):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"invalid {what} spec: {item}")
        out[key] = value
    return out


def run_pod(name: str, image: str, env: list[str], port: int, labels: str, annotations: list[str],
            restart: str, command: bool, words: list[str], pull_policy: str = "", namespace: str = "") -> dict:
    """The Pod `kubectl run` makes: one container named after the pod, labelled `run=NAME` by default."""
    if restart not in RESTART_POLICIES:
        raise CommandError(f"invalid restart policy: {restart}")
    container: dict = {"name": name, "image": image}
    if words:
        container["command" if command else "args"] = list(words)
    if env:
        container["env"] = [_env_var(e) for e in env]
    if port > 0:
        container["ports"] = [{"containerPort": port}]
    if pull_policy:
        container["imagePullPolicy"] = pull_policy
    meta = _meta(name, namespace, key_values(labels, "label") if labels else {"run": name})
    notes = {k: v for a in annotations for k, v in key_values(a, "annotation").items()}
    if notes:
        meta["annotations"] = notes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [container], "dnsPolicy": "ClusterFirst", "restartPolicy": restart}}


def _env_var(text: str) -> dict:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise CommandError(f"invalid env: {text}")
    return {"name": key, "value": value}


EXPOSABLE = ("Pod", "Service", "ReplicationController", "Deployment", "ReplicaSet")


def _pod_spec(obj: dict) -> dict:
    spec = obj.get("spec", {})
    return spec if obj["kind"] == "Pod" else spec.get("template", {}).get("spec", {})


def selector_of(obj: dict) -> dict[str, str]:
    """The pods an object stands for, as a map (what a Service selects)."""
    kind, spec = obj["kind"], obj.get("spec", {})
    if kind == "Pod":
        selector = obj.get("metadata", {}).get("labels", {})
    elif kind == "Service":
        selector = spec.get("selector", {})
    else:
        sel = spec.get("selector", {})
        if sel.get("matchExpressions"):
            raise CommandError("couldn't retrieve selectors via --selector flag or introspection: couldn't "
                               f"convert expressions - \"{sel['matchExpressions']}\" to map-based selector format")
        selector = sel.get("matchLabels", {})
    if not selector:
        raise CommandError(f"couldn't retrieve selectors via --selector flag or introspection: the {kind} has no "
                           "selector")
    return dict(selector)


def ports_of(obj: dict) -> list[tuple[int, str]]:
    """(port, protocol) an object offers: its containers' ports, or a Service's own ports."""
    if obj["kind"] == "Service":
        return [(p["port"], p.get("protocol", "TCP")) for p in obj.get("spec", {}).get("ports", [])]
    return [(p["containerPort"], p.get("protocol", "TCP"))
            for c in _pod_spec(obj).get("containers", []) for p in c.get("ports", [])]


def expose_service(obj: dict, name: str, port: str, target_port: str, protocol: str, service_type: str,
                   cluster_ip: str = "", external_ip: str = "", port_name: str = "", namespace: str = "") -> dict:
    """The Service `kubectl expose` makes for an object: its selector, its labels, its ports unless --port."""
    if obj["kind"] not in EXPOSABLE:
        raise CommandError(f"cannot expose a {obj['kind']}")
    introspected = ports_of(obj)
    numbers = [p for p in port.split(",") if p] if port else [str(p) for p, _ in introspected]
    if not numbers and cluster_ip != "None":
        raise CommandError("couldn't find port via --port flag or introspection")
    protocols = {str(p): proto for p, proto in introspected}
    ports = []
    for i, number in enumerate(numbers):
        item: dict = {"port": _port_number(number),
                      "protocol": protocol or protocols.get(number, "TCP")}
        if len(numbers) > 1:
            item["name"] = f"port-{i + 1}"
        elif port_name:
            item["name"] = port_name
        item["targetPort"] = (int(target_port) if target_port.isdigit() else target_port) if target_port \
            else item["port"]
        ports.append(item)
    meta = _meta(name or obj["metadata"]["name"][:63], namespace, obj.get("metadata", {}).get("labels"))
    spec: dict = {"selector": selector_of(obj)}
    if ports:
        spec["ports"] = ports
    if service_type:
        spec["type"] = service_type
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    if external_ip:
        spec["externalIPs"] = [external_ip]
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}
