"""Writes control/apiserver/rest/k8swire.json: Kubernetes' protobuf field numbers, per message and
JSON field, for every type a served kind (and each request body the REST API takes) reaches.

Kubernetes' protobuf encoding numbers its fields differently from Skiff's messages, so the REST API
transcodes such bodies with this table (control/apiserver/rest/k8sproto.py). The facts are read from
git checkouts of k8s.io/api and k8s.io/apimachinery: each `generated.proto` gives a message's field
numbers and wire types, each Go struct's tags (`json:"..." protobuf:"..."`) its JSON names, whether the
field is a pointer (so a zero on the wire is meaningful) and whether it is inlined into its parent's
JSON. Only facts are kept: no comments, no upstream text.

One entry per message: {"io.k8s.api.core.v1.ConfigMap": {"data": [2, "map:string:string", ""], ...}}
with [field number, type, flags]; flags: "r" repeated, "p" pointer (kept even when zero), "i" inline.

Usage: k8s_wire.py API_GIT_DIR APIMACHINERY_GIT_DIR [REV]   (REV defaults to HEAD)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from control.client.kinds import KINDS  # noqa: E402

OUT = ROOT / "control" / "apiserver" / "rest" / "k8swire.json"
# Bodies the REST API takes beyond the kinds of the table: (group, version, kind).
EXTRA_ROOTS = (("", "v1", "Binding"), ("policy", "v1", "Eviction"), ("autoscaling", "v1", "Scale"),
               ("authorization.k8s.io", "v1", "SelfSubjectAccessReview"),
               ("authorization.k8s.io", "v1", "SubjectAccessReview"),
               ("authorization.k8s.io", "v1", "LocalSubjectAccessReview"),
               ("authorization.k8s.io", "v1", "SelfSubjectRulesReview"),
               ("authentication.k8s.io", "v1", "SelfSubjectReview"),
               ("authentication.k8s.io", "v1", "TokenReview"),
               ("authentication.k8s.io", "v1", "TokenRequest"))
META_ROOTS = ("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
              "io.k8s.apimachinery.pkg.runtime.Unknown")
_MESSAGE = re.compile(r"^message (\w+) \{$")
_FIELD = re.compile(r"^\s+(optional|repeated)?\s*(map<[^>]+>|[\w.]+) (\w+) = (\d+);")
_PACKAGE = re.compile(r"^package ([\w.]+);")
_STRUCT = re.compile(r"^type (\w+) struct \{")
_TAGGED = re.compile(r'^\s+(\w+)\s+(\S+)\s+`[^`]*?json:"([^"]*)"[^`]*?protobuf:"([^"]*)"')
_TAGGED_EMBED = re.compile(r'^\s+(\S+)\s+`[^`]*?json:"([^"]*)"[^`]*?protobuf:"([^"]*)"')


def git_files(repo: str, rev: str) -> list[str]:
    out = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", rev], check=True,
                         capture_output=True, text=True).stdout
    return out.splitlines()


def git_show(repo: str, rev: str, path: str) -> str:
    return subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"], check=True, capture_output=True,
                          text=True).stdout


def openapi_name(proto_name: str) -> str:
    """`.k8s.io.api.core.v1.Pod` -> `io.k8s.api.core.v1.Pod` (OpenAPI's spelling)."""
    return "io.k8s." + proto_name.lstrip(".").removeprefix("k8s.io.")


def parse_proto(text: str) -> dict[str, dict[str, tuple[int, str, str]]]:
    """message -> proto field name -> (number, type, label)."""
    package, messages, current = "", {}, None
    for line in text.splitlines():
        if m := _PACKAGE.match(line):
            package = m.group(1)
        elif m := _MESSAGE.match(line):
            current = messages.setdefault(openapi_name(f"{package}.{m.group(1)}"), {})
        elif line.startswith("}"):
            current = None
        elif current is not None and (m := _FIELD.match(line)):
            label, type_, name, number = m.groups()
            current[name] = (int(number), _type(type_, package), label or "")
    return messages


def _type(text: str, package: str) -> str:
    if text.startswith("map<"):
        key, value = (t.strip() for t in text[4:-1].split(","))
        return f"map:{_type(key, package)}:{_type(value, package)}"
    if text in ("string", "bytes", "bool", "int32", "int64", "double", "float", "uint32", "uint64"):
        return text
    return openapi_name(text if text.startswith(".") else f"{package}.{text}")


def parse_go(text: str, package: str) -> dict[str, dict[str, tuple[str, bool, bool]]]:
    """struct -> field number -> (JSON name, pointer, inline) from the fields' tags."""
    structs, current = {}, None
    for line in text.splitlines():
        if m := _STRUCT.match(line):
            current = structs.setdefault(f"{package}.{m.group(1)}", {})
            continue
        if line.startswith("}"):
            current = None
            continue
        if current is None:
            continue
        m = _TAGGED.match(line)
        if m:
            go_type, json_tag, proto_tag = m.group(2), m.group(3), m.group(4)
        elif (e := _TAGGED_EMBED.match(line)):
            go_type, json_tag, proto_tag = e.group(1), e.group(2), e.group(3)
        else:
            continue
        number = int(proto_tag.split(",")[1])
        json_name = json_tag.split(",")[0]
        inline = json_name == "" or "inline" in json_tag.split(",")[1:]
        current[number] = (json_name, go_type.startswith("*"), inline)
    return structs


def load(repo: str, rev: str, prefix: str) -> tuple[dict, dict]:
    protos, structs = {}, {}
    files = git_files(repo, rev)
    for path in files:
        if path.endswith("/generated.proto") and "testapigroup" not in path:
            protos.update(parse_proto(git_show(repo, rev, path)))
    packages = {openapi_name(f"k8s.io.{prefix}/{p.rsplit('/', 1)[0]}".replace("/", "."))
                for p in files if p.endswith("/generated.proto")}
    for path in files:
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        package = openapi_name(("k8s.io." + prefix + "/" + folder).replace("/", "."))
        if path.endswith(".go") and not path.endswith("_test.go") and package in packages:
            structs.update(parse_go(git_show(repo, rev, path), package))
    return protos, structs


def roots() -> list[str]:
    """Every kind of the table at each version it serves and its list (answers may be protobuf too),
    and the extra bodies."""
    found = {(k.group, v, name) for k in KINDS.values() for v in (k.version, *k.old_versions)
             for name in (k.kind, f"{k.kind}List")}
    found |= set(EXTRA_ROOTS)
    return sorted(f"io.k8s.api.{group_dir(g)}.{v}.{kind}" for g, v, kind in found) + list(META_ROOTS)


def group_dir(group: str) -> str:
    """k8s.io/api's folder of an API group: "" -> core, "rbac.authorization.k8s.io" -> rbac."""
    return group.split(".")[0] if group else "core"


def table(protos: dict, structs: dict) -> dict:
    out: dict[str, dict] = {}
    stack = roots()
    while stack:
        name = stack.pop()
        if name in out:
            continue
        if name not in protos:
            raise SystemExit(f"k8s_wire: no message {name} upstream")
        entry = out[name] = {}
        tags = structs.get(name, {})
        for proto_name, (number, type_, label) in sorted(protos[name].items(), key=lambda i: i[1][0]):
            json_name, pointer, inline = tags.get(number, (proto_name, False, False))
            flags = ("r" if label == "repeated" else "") + ("p" if pointer else "") + ("i" if inline else "")
            entry[json_name or proto_name] = [number, type_, flags]
            for part in type_.split(":"):
                if part.startswith("io.k8s."):
                    stack.append(part)
    return dict(sorted(out.items()))


def main() -> None:
    api, machinery = sys.argv[1], sys.argv[2]
    rev = sys.argv[3] if len(sys.argv) > 3 else "HEAD"
    protos, structs = load(api, rev, "api")
    more_protos, more_structs = load(machinery, rev, "apimachinery")
    protos.update(more_protos)
    structs.update(more_structs)
    doc = table(protos, structs)
    OUT.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"k8s_wire: {len(doc)} messages -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
