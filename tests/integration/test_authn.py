"""Authentication and the apiserver's security flags, against the real apiserver: client
certificates (CN user, O groups) and static tokens, refusals, --insecure-dev, open health."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from control.client.client import Client
from control.client.convert import from_dict
from control.client.kubeconfig import ClientConfig, make_channel
from skiff.v1 import requests_pb2
from tests.fixtures.apiserver import apiserver_args, start_apiserver
from tests.fixtures.pki import Pki
from tests.fixtures.procs import free_port

C = grpc.StatusCode
RBAC = "rbac.authorization.k8s.io"
ROOT = Path(__file__).resolve().parents[2]


async def _details(coro) -> tuple[C, str]:
    try:
        await coro
    except grpc.aio.AioRpcError as e:
        return e.code(), e.details()
    return C.OK, ""


async def _bind_view(admin: Client, kind: str, subject: str) -> None:
    await admin.create(from_dict({
        "apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": f"view-{uuid.uuid4().hex[:6]}"},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": kind, "apiGroup": RBAC, "name": subject}]}))


async def test_certificate_cn_is_the_user_and_o_the_groups(apiserver, client, pki: Pki) -> None:
    group = f"devs-{uuid.uuid4().hex[:6]}"
    stem = pki.client_cert(f"dave-{group}", "dave", (group,))
    async with Client(apiserver.target, config=pki.config(cert=stem)) as dave:
        code, details = await _details(dave.list("pods", "default"))
        assert code == C.PERMISSION_DENIED
        assert 'pods is forbidden: User "dave" cannot list resource "pods" in API group "" ' \
               'in the namespace "default"' in details
        await _bind_view(client, "Group", group)
        assert (await _details(dave.list("pods", "default")))[0] == C.OK


async def test_token_groups_and_system_authenticated(apiserver, client, pki: Pki) -> None:
    async with Client(apiserver.target, config=pki.user_config("carol")) as carol:
        assert (await _details(carol.list("services", "kube-system")))[0] == C.PERMISSION_DENIED
        await _bind_view(client, "Group", "qa")  # carol's group in the token file
        assert (await _details(carol.list("services", "kube-system")))[0] == C.OK
    # Every authenticated user is in system:authenticated (bootstrap gives it nothing here to list pods).
    async with Client(apiserver.target, config=pki.user_config("bob")) as bob:
        code, details = await _details(bob.get("namespace", "default"))
        assert code == C.PERMISSION_DENIED and 'User "bob"' in details


async def test_a_client_certificate_wins_over_a_token(apiserver, pki: Pki) -> None:
    config = pki.config(cert="admin", token=pki.tokens["mallory"])
    async with Client(apiserver.target, config=config) as both:
        assert (await _details(both.list("secrets", "kube-system")))[0] == C.OK


async def test_malformed_authorization_headers_are_unauthorized(apiserver, pki: Pki) -> None:
    channel = make_channel(apiserver.target, pki.config(cert=None))
    async with Client(apiserver.target, channel) as anonymous:
        stub = anonymous.stub("Pod")
        for header in ("Basic YWxpY2U6eA==", "Bearer", f"Bearer {pki.tokens['alice']}x", "bearer "):
            code, details = await _details(stub.List(requests_pb2.ListRequest(namespace="default"),
                                                     metadata=(("authorization", header),)))
            assert (code, details) == (C.UNAUTHENTICATED, "Unauthorized"), header
        # Kubernetes accepts the scheme in any case.
        code, _ = await _details(stub.List(requests_pb2.ListRequest(namespace="default"),
                                           metadata=(("authorization", f"bearer {pki.tokens['alice']}"),)))
        assert code == C.PERMISSION_DENIED


async def test_watch_without_credentials_is_unauthenticated(apiserver, pki: Pki) -> None:
    async with Client(apiserver.target, config=pki.config(cert=None)) as anonymous:
        events = anonymous.watch("pods", "default")
        try:
            assert (await _details(anext(events)))[0] == C.UNAUTHENTICATED
        finally:
            await events.aclose()
        logs = anonymous.logs("default", "nope")
        assert (await _details(logs.read()))[0] == C.UNAUTHENTICATED


async def test_health_is_open_to_anyone_over_tls(apiserver, pki: Pki) -> None:
    channel = make_channel(apiserver.target, pki.config(cert=None))
    try:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await channel.close()


# -- flags ------------------------------------------------------------------------------------------

def _run_apiserver(etcd, args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "control.apiserver.main", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=30)


def _base_args(etcd, tmp_path: Path) -> list[str]:
    return apiserver_args(etcd, f"127.0.0.1:{free_port()}", str(tmp_path))


def _without(args: list[str], *flags: str) -> list[str]:
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in flags:
            skip = True
        else:
            out.append(a)
    return out


def test_refuses_to_start_without_tls(etcd, tmp_path: Path) -> None:
    args = _without(_base_args(etcd, tmp_path), "--tls-cert-file", "--tls-private-key-file")
    result = _run_apiserver(etcd, args, tmp_path)
    assert result.returncode != 0
    assert "--tls-cert-file is required (or --insecure-dev" in result.stderr


def test_half_a_key_pair_is_refused(etcd, tmp_path: Path) -> None:
    args = _without(_base_args(etcd, tmp_path), "--tls-private-key-file")
    result = _run_apiserver(etcd, args, tmp_path)
    assert result.returncode != 0
    assert "--tls-cert-file and --tls-private-key-file must be given together" in result.stderr


def test_unknown_authorization_mode_is_refused(etcd, tmp_path: Path) -> None:
    args = [*_base_args(etcd, tmp_path), "--authorization-mode", "Node,ABAC"]
    result = _run_apiserver(etcd, args, tmp_path)
    assert result.returncode != 0
    assert 'unknown authorization mode "ABAC"' in result.stderr


def test_a_bad_token_file_line_is_named(etcd, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('t1,alice,uid1,"a,b"\nt2,bob\n')
    args = [*_without(_base_args(etcd, tmp_path), "--token-auth-file"), "--token-auth-file", str(tokens)]
    result = _run_apiserver(etcd, args, tmp_path)
    assert result.returncode != 0
    assert "line 2: must have at least 3 columns" in result.stderr, result.stderr


async def test_insecure_dev_serves_plaintext_without_authorization(etcd) -> None:
    server = start_apiserver(etcd, ["--insecure-dev"])
    try:
        async with Client(server.target, config=ClientConfig(insecure=True)) as plain:
            ns = from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"dev-{os.getpid()}"}})
            assert (await plain.create(ns)).metadata.name == ns.metadata.name
        assert "WARNING" in server.log() and "NO authentication" in server.log()
        assert not os.path.exists(server.audit_log)
    finally:
        server.stop()


# As in Kubernetes' bootstrap roles: the controller manager lists everything (its informers and the
# garbage collector); the scheduler has no business with secrets.
@pytest.mark.parametrize(("stem", "secrets_code"), [("kube-scheduler", C.PERMISSION_DENIED),
                                                    ("kube-controller-manager", C.OK)])
async def test_component_identities(apiserver, pki: Pki, stem: str, secrets_code: C) -> None:
    async with Client(apiserver.target, config=pki.config(cert=stem)) as component:
        assert (await _details(component.list("pods")))[0] == C.OK
        code, details = await _details(component.list("secrets", "default"))
        assert code == secrets_code, details
        if code != C.OK:
            assert f'User "system:{stem}" cannot list resource "secrets"' in details


# -- every method is authorized, streams and the pod proxy too ------------------------------------------

async def test_streams_proxy_and_subresources_need_their_own_rules(apiserver, client, pki: Pki) -> None:
    from skiff.v1 import node_agent_pb2
    ns = f"only-get-{uuid.uuid4().hex[:6]}"
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
    await client.create(from_dict({"apiVersion": f"{RBAC}/v1", "kind": "Role",
                                   "metadata": {"name": "r", "namespace": ns},
                                   "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}))
    await client.create(from_dict({
        "apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "rb", "namespace": ns},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "r"},
        "subjects": [{"kind": "User", "apiGroup": RBAC, "name": "alice"}]}))
    async with Client(apiserver.target, config=pki.user_config("alice")) as alice:
        assert (await _details(alice.list("pods", ns)))[0] == C.OK
        events = alice.watch("pods", ns)
        try:
            code, details = await _details(anext(events))
        finally:
            await events.aclose()
        assert code == C.PERMISSION_DENIED and 'cannot watch resource "pods"' in details
        code, details = await _details(alice.logs(ns, "p").read())
        assert code == C.PERMISSION_DENIED
        assert details.startswith('pods "p" is forbidden: User "alice" cannot get resource "pods/log"')
        code, details = await _details(alice.exec(ns, "p", ["true"]))
        assert code == C.PERMISSION_DENIED and 'cannot create resource "pods/exec"' in details
        stream = alice.stub("Pod").ExecStream(iter([node_agent_pb2.ExecInput(
            start=node_agent_pb2.ExecRequest(namespace=ns, name="p", command=["sh"]))]))
        code, details = await _details(stream.read())
        assert code == C.PERMISSION_DENIED and 'cannot create resource "pods/exec"' in details
        code, details = await _details(alice.bind(ns, "p", "n1"))
        assert code == C.PERMISSION_DENIED and 'cannot create resource "pods/binding"' in details
        code, details = await _details(alice.node_stats("n1"))
        assert code == C.PERMISSION_DENIED
        assert 'nodes "n1" is forbidden: User "alice" cannot get resource "nodes/stats" in API group "" ' \
               'at the cluster scope' in details

