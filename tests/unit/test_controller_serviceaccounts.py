"""The ServiceAccounts controller's reconcile(key) on the fake client."""

from __future__ import annotations

import grpc
import pytest

from control.client.convert import from_dict
from control.client.testing import on_fake
from control.controllers.serviceaccounts import ServiceAccountsController


def namespace(name: str, terminating: bool = False):
    obj = from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    if terminating:
        obj.metadata.deletion_timestamp.GetCurrentTime()
    return obj


async def test_every_active_namespace_gets_a_default_service_account() -> None:
    async with on_fake(ServiceAccountsController, namespace("team"), namespace("leaving", terminating=True)) as run:
        await run.reconcile("team")
        await run.reconcile("leaving")
        sa = await run.client.get("ServiceAccount", "default", "team")
        assert sa.metadata.namespace == "team"
        with pytest.raises(grpc.aio.AioRpcError):
            await run.client.get("ServiceAccount", "default", "leaving")


async def test_an_existing_default_is_left_alone() -> None:
    existing = from_dict({"apiVersion": "v1", "kind": "ServiceAccount",
                          "metadata": {"name": "default", "namespace": "team"}, "automountServiceAccountToken": False})
    async with on_fake(ServiceAccountsController, namespace("team"), existing) as run:
        await run.reconcile("team")
        sa = await run.client.get("ServiceAccount", "default", "team")
        assert sa.automount_service_account_token is False
