"""The lab's ingress: skiff-ingress-controller with nginx in every node's namespace, answering on the
node's address on ports 80 and 443 (as kind's ingress-nginx with host ports), under a user and a
ClusterRole of its own, with a default IngressClass."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

from lablib import procs
from lablib.config import (
    INGRESS_CLASS,
    INGRESS_USER,
    ROOT,
    VENV_BIN,
    Node,
    pki_dir,
)
from lablib.controlplanes import apiserver_target, apiservers

CONTROLLER_CLASS = "k8s.io/ingress-nginx"
STEM = "ingress-controller"

MANIFEST = f"""apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {INGRESS_USER}
rules:
- apiGroups: [""]
  resources: [services, endpoints, secrets]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses, ingressclasses]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses/status]
  verbs: [update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {INGRESS_USER}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {INGRESS_USER}}}
subjects:
- {{apiGroup: rbac.authorization.k8s.io, kind: User, name: {INGRESS_USER}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {INGRESS_USER}
  namespace: kube-system
rules:
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  resourceNames: [ingress-controller-leader]
  verbs: [get, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {INGRESS_USER}
  namespace: kube-system
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {INGRESS_USER}}}
subjects:
- {{apiGroup: rbac.authorization.k8s.io, kind: User, name: {INGRESS_USER}}}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: {INGRESS_CLASS}
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: {CONTROLLER_CLASS}
"""


def _certs(*args: str) -> None:
    result = subprocess.run([os.path.join(VENV_BIN, "python"), os.path.join(ROOT, "scripts", "certs"),
                             pki_dir(), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/certs {' '.join(args)} failed:\n{result.stderr.strip()}")


def make_credentials() -> None:
    """The controller's client certificate (user skiff-ingress-controller, no group) and kubeconfig."""
    if not os.path.exists(os.path.join(pki_dir(), f"{STEM}.crt")):
        _certs("client", STEM, "--cn", INGRESS_USER)
    servers = [a for server in apiservers() for a in ("--server", server)]
    _certs("kubeconfig", STEM, *servers, "--user-cert", STEM, "--tls-server-name", "kubernetes")


def process_name(node: Node) -> str:
    return f"{node.name}-ingress"


def start(node: Node, nodes: list[Node]) -> None:
    argv = [os.path.join(VENV_BIN, "skiff-ingress-controller"),
            "--kubeconfig", os.path.join(pki_dir(), f"{STEM}.conf"), "--apiserver", apiserver_target(),
            "--controller-class", CONTROLLER_CLASS, "--address", node.ip, "--http-port", "80",
            "--https-port", "443", "--state-dir", _state_dir(node),
            *(a for n in nodes for a in ("--publish-address", n.ip))]
    procs.start(process_name(node), argv, netns=node.netns)


def _state_dir(node: Node) -> str:
    return os.path.join(node.state_dir, "ingress")


def stop(node: Node) -> None:
    """Stops the controller, which stops its nginx; an nginx left by a controller that was killed
    (its pid file in the state directory) goes too."""
    procs.stop(process_name(node))
    try:
        with open(os.path.join(_state_dir(node), "nginx.pid")) as f:
            pid = int(f.read().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
        ours = b"nginx: master" in cmdline and _state_dir(node).encode() in cmdline
    except (OSError, ValueError):
        return
    if ours:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
