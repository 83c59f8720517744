"""The root-ca-cert-publisher controller's reconcile(key) on the fake client."""

from __future__ import annotations

import grpc
import pytest

from control.client.convert import from_dict
from control.client.testing import on_fake
from control.controllers.rootcacertpublisher import DESCRIPTION, RootCACertPublisher

BUNDLE = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def namespace(name: str, terminating: bool = False):
    obj = from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    if terminating:
        obj.metadata.deletion_timestamp.GetCurrentTime()
    return obj


@pytest.fixture
def ca_file(tmp_path):
    path = tmp_path / "ca.crt"
    path.write_text(BUNDLE)
    return str(path)


async def test_every_active_namespace_gets_the_bundle(ca_file) -> None:
    async with on_fake(RootCACertPublisher, namespace("team"), namespace("leaving", terminating=True),
                       root_ca_file=ca_file) as run:
        await run.reconcile("team")
        await run.reconcile("leaving")
        cm = await run.client.get("ConfigMap", "kube-root-ca.crt", "team")
        assert dict(cm.data) == {"ca.crt": BUNDLE}
        assert cm.metadata.annotations["kubernetes.io/description"] == DESCRIPTION
        with pytest.raises(grpc.aio.AioRpcError):
            await run.client.get("ConfigMap", "kube-root-ca.crt", "leaving")


async def test_a_changed_bundle_is_put_back(ca_file) -> None:
    changed = from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "kube-root-ca.crt", "namespace": "team", "labels": {"keep": "me"}},
                         "data": {"ca.crt": "forged"}})
    async with on_fake(RootCACertPublisher, namespace("team"), changed, root_ca_file=ca_file) as run:
        await run.reconcile("team")
        cm = await run.client.get("ConfigMap", "kube-root-ca.crt", "team")
        assert cm.data["ca.crt"] == BUNDLE
        assert cm.metadata.labels["keep"] == "me"


async def test_without_a_root_ca_file_nothing_is_published() -> None:
    async with on_fake(RootCACertPublisher, namespace("team")) as run:
        await run.reconcile("team")
        with pytest.raises(grpc.aio.AioRpcError):
            await run.client.get("ConfigMap", "kube-root-ca.crt", "team")
