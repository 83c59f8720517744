"""skiffctl with RBAC manifests in Kubernetes' YAML: apply, get (tables, wide, yaml), describe, delete."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.fixtures.skiffctl import run_skiffctl, skiffctl_env

# Shaped like the Kubernetes RBAC documentation's examples: a namespaced reader and a cluster-wide one.
MANIFESTS = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  namespace: default
  name: pod-reader
rules:
- apiGroups: [""]
  resources: ["pods", "pods/log"]
  verbs: ["get", "watch", "list"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  resourceNames: ["web"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-pods
  namespace: default
subjects:
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
- kind: ServiceAccount
  name: builder
  namespace: ci
roleRef:
  kind: Role
  name: pod-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-reader
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "watch", "list"]
- nonResourceURLs: ["/healthz"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: read-secrets-global
subjects:
- kind: Group
  name: manager
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: ClusterRole
  name: secret-reader
  apiGroup: rbac.authorization.k8s.io
"""


@pytest.fixture
def ctl(apiserver, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path, namespace="default")

    async def run(*args: str, stdin: str | None = None):
        return await run_skiffctl(env, *args, stdin=stdin)
    return run


def table(out: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]


async def test_apply_get_describe_delete(ctl):
    r = await ctl("apply", "-f", "-", stdin=MANIFESTS)
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "role.rbac.authorization.k8s.io/pod-reader created",
        "rolebinding.rbac.authorization.k8s.io/read-pods created",
        "clusterrole.rbac.authorization.k8s.io/secret-reader created",
        "clusterrolebinding.rbac.authorization.k8s.io/read-secrets-global created",
    ]
    r = await ctl("apply", "-f", "-", stdin=MANIFESTS)
    assert r.code == 0 and "role.rbac.authorization.k8s.io/pod-reader unchanged" in r.out, r.out + r.err

    rows = table((await ctl("get", "roles")).out)
    assert rows[0] == ["NAME", "CREATED AT"]
    assert rows[1][0] == "pod-reader" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[1][1])

    rows = table((await ctl("get", "rolebindings", "-o", "wide")).out)
    assert rows[0] == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert rows[1][:2] == ["read-pods", "Role/pod-reader"] and rows[1][3:] == ["jane", "ci/builder"]

    rows = table((await ctl("get", "clusterrolebinding", "read-secrets-global", "-o", "wide")).out)
    assert rows[1][:2] == ["read-secrets-global", "ClusterRole/secret-reader"] and rows[1][3:] == ["manager"]

    got = yaml.safe_load((await ctl("get", "clusterrole.rbac.authorization.k8s.io", "secret-reader",
                                    "-o", "yaml")).out)
    assert got["apiVersion"] == "rbac.authorization.k8s.io/v1" and got["kind"] == "ClusterRole"
    assert got["rules"][1] == {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}

    r = await ctl("describe", "role", "pod-reader")
    assert r.code == 0, r.err
    lines = [line.rstrip() for line in r.out.splitlines()]
    assert "PolicyRule:" in lines
    end = next((i for i, line in enumerate(lines) if line.startswith("Events:")), len(lines))
    rules = table("\n".join(lines[lines.index("PolicyRule:") + 1:end]))
    assert rules[0] == ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
    assert rules[2:] == [["deployments.apps", "[]", "[web]", "[get]"],
                         ["pods", "[]", "[]", "[get watch list]"],
                         ["pods/log", "[]", "[]", "[get watch list]"]]

    r = await ctl("describe", "rolebinding", "read-pods")
    assert r.code == 0, r.err
    assert re.search(r"Role:\n\s+Kind:\s+Role\n\s+Name:\s+pod-reader", r.out), r.out
    assert re.search(r"User\s+jane\n\s+ServiceAccount\s+builder\s+ci", r.out), r.out

    r = await ctl("delete", "-f", "-", stdin=MANIFESTS)
    assert r.code == 0, r.err
    assert 'role.rbac.authorization.k8s.io "pod-reader" deleted' in r.out
    r = await ctl("get", "roles")
    assert "pod-reader" not in r.out


async def test_invalid_binding_is_refused_with_the_field(ctl):
    bad = MANIFESTS.split("---\n")[1].replace("kind: Role\n  name: pod-reader", "kind: Secret\n  name: pod-reader")
    r = await ctl("apply", "-f", "-", stdin=bad)
    assert r.code != 0
    assert 'roleRef.kind: Unsupported value: "Secret"' in r.err
