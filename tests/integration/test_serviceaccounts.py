"""ServiceAccounts: the controller keeps `default` in every namespace (pods running as one, and their
tokens: test_serviceaccount_tokens.py)."""

from __future__ import annotations

from control.client.convert import from_dict
from tests.fixtures.controllers import running_controllers
from tests.fixtures.procs import eventually


async def test_default_service_account_is_kept_in_every_namespace(apiserver, client):
    async with running_controllers(apiserver.target, ["serviceaccount"]):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sa-team"}}))

        async def present() -> bool:
            return (await client.get("ServiceAccount", "default", "sa-team")).metadata.name == "default"
        await eventually(present, timeout=10, what="default ServiceAccount in sa-team")
        first = await client.get("ServiceAccount", "default", "sa-team")
        await client.delete("ServiceAccount", "default", "sa-team")

        async def recreated() -> bool:
            return (await client.get("ServiceAccount", "default", "sa-team")).metadata.uid != first.metadata.uid
        await eventually(recreated, timeout=10, what="default ServiceAccount recreated")
        await client.delete("Namespace", "sa-team", "")

