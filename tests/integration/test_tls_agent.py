"""The NodeAgent port over TLS: only the apiserver's kubelet-client certificate (system:masters) gets in,
and AgentProxy reaches agents verifying the node's name in their certificate."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest

from control.apiserver.pods import AgentProxy, KubeletClientTLS
from control.client.component import client_config
from control.client.kinds import KINDS
from node.main import parse_args, serving_tls
from node.server import NodeAgentServicer, serve
from node.serverauth import server_credentials
from skiff.v1 import node_agent_pb2 as na_pb
from skiff.v1 import node_agent_pb2_grpc as na_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from lablib import pki  # noqa: E402

NODE = "tls-node"


class FakeStats:
    async def summary(self) -> na_pb.StatsSummary:
        summary = na_pb.StatsSummary()
        summary.node_name = NODE
        return summary


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("agent-pki")
    pki.make_cluster(str(d), "127.0.0.1:6443", nodes=[NODE])
    pki.make_client(str(d), "alice", "alice", ["dev"])
    pki.make_ca(str(d / "other"))
    pki.make_client(str(d / "other"), "impostor", "kube-apiserver-kubelet-client", ["system:masters"])
    return d


@pytest.fixture
async def agent_port(certs: Path):
    creds = server_credentials(str(certs / f"node-{NODE}.crt"), str(certs / f"node-{NODE}.key"), str(certs / "ca.crt"))
    server, port = await serve("127.0.0.1:0", NodeAgentServicer(None, FakeStats()), creds)
    yield port
    await server.stop(None)


def client_creds(d: Path, stem: str, ca: Path) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(ca.read_bytes(), (d / f"{stem}.key").read_bytes(),
                                        (d / f"{stem}.crt").read_bytes())


async def stats(port: int, creds: grpc.ChannelCredentials | None) -> na_pb.StatsSummary:
    target = f"127.0.0.1:{port}"
    channel = (grpc.aio.secure_channel(target, creds, options=[("grpc.ssl_target_name_override", NODE)])
               if creds else grpc.aio.insecure_channel(target))
    async with channel:
        return await na_grpc.NodeAgentStub(channel).Stats(na_pb.StatsRequest(), timeout=10)


async def test_kubelet_client_cert_is_served(certs, agent_port):
    summary = await stats(agent_port, client_creds(certs, "kube-apiserver-kubelet-client", certs / "ca.crt"))
    assert summary.node_name == NODE


@pytest.mark.parametrize("stem, code", [("alice", grpc.StatusCode.PERMISSION_DENIED),
                                        (f"node-{NODE}", grpc.StatusCode.PERMISSION_DENIED)])
async def test_certs_outside_system_masters_are_forbidden(certs, agent_port, stem, code):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stats(agent_port, client_creds(certs, stem, certs / "ca.crt"))
    assert e.value.code() == code
    assert "Forbidden" in e.value.details() and "system:masters" in e.value.details()


async def test_plaintext_no_cert_and_foreign_ca_are_refused(certs, agent_port):
    for creds in (None, grpc.ssl_channel_credentials((certs / "ca.crt").read_bytes()),
                  client_creds(certs / "other", "impostor", certs / "ca.crt")):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await stats(agent_port, creds)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE


def node_object(name: str, port: int):
    node = KINDS["Node"].message()
    node.metadata.name = name
    node.status.addresses.add(type="InternalIP", address="127.0.0.1")
    node.status.daemon_endpoints.kubelet_endpoint.port = port
    return node


async def test_agent_proxy_verifies_the_node_name(certs, agent_port):
    tls = KubeletClientTLS(ca=str(certs / "ca.crt"), cert=str(certs / "kube-apiserver-kubelet-client.crt"),
                           key=str(certs / "kube-apiserver-kubelet-client.key"))
    proxy = AgentProxy(SimpleNamespace(), tls)
    try:
        summary = await proxy._stub(node_object(NODE, agent_port)).Stats(na_pb.StatsRequest(), timeout=10)
        assert summary.node_name == NODE
        # The same agent registered under another node's name: its certificate does not name that node.
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await proxy._stub(node_object("other-node", agent_port)).Stats(na_pb.StatsRequest(), timeout=10)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await proxy.close()


def test_agent_serves_with_its_kubeconfig_certificate(certs, tmp_path):
    conf = str(certs / f"node-{NODE}.conf")
    args = parse_args(["--kubeconfig", conf])
    assert serving_tls(args, client_config(args)) == (str(certs / f"node-{NODE}.crt"),
                                                     str(certs / f"node-{NODE}.key"), str(certs / "ca.crt"))
    args = parse_args(["--kubeconfig", conf, "--tls-cert-file", "/x.crt", "--tls-private-key-file", "/x.key"])
    assert serving_tls(args, client_config(args))[:2] == ("/x.crt", "/x.key")
    insecure = tmp_path / "insecure.conf"
    insecure.write_text("server: 127.0.0.1:1\ninsecure: true\n")
    args = parse_args(["--kubeconfig", str(insecure)])
    assert serving_tls(args, client_config(args)) is None
    with pytest.raises(SystemExit, match="--client-ca-file"):
        args = parse_args(["--kubeconfig", str(insecure), "--tls-cert-file", "/x.crt"])
        serving_tls(args, client_config(args))
    token_only = tmp_path / "token.conf"  # no certificate of its own: plaintext unless the flags name one
    token_only.write_text(f"server: 127.0.0.1:1\ntoken: t\ncertificate-authority: {certs / 'ca.crt'}\n")
    args = parse_args(["--kubeconfig", str(token_only)])
    assert serving_tls(args, client_config(args)) is None
    args = parse_args(["--kubeconfig", str(token_only), "--tls-cert-file", "/x.crt", "--tls-private-key-file", "/k"])
    assert serving_tls(args, client_config(args)) == ("/x.crt", "/k", str(certs / "ca.crt"))
