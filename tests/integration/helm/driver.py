"""Runs one Helm action through helm-sdkpy (Helm's Go library) and prints its result as JSON; run by
tests/integration/test_rest_helm.py in the Helm venv (.venv-helm, made by scripts/install-deps).

Usage: driver.py KUBECONFIG NAMESPACE ACTION [RELEASE] [CHART] [VALUES_JSON] [SSA] [atomic]
ACTION: install, upgrade, list, status, uninstall, test (`helm test RELEASE`). `atomic`: wait, and roll
back a failed upgrade (Helm 4's rollback-on-failure, Helm 3's --atomic)."""

from __future__ import annotations

import asyncio
import json
import sys

import helm_sdkpy as helm


async def main(kubeconfig: str, namespace: str, action: str, *rest: str) -> object:
    config = helm.Configuration(namespace=namespace, kubeconfig=kubeconfig)
    if action == "list":
        return await helm.List(config).run(all=True)
    release = rest[0]
    if action == "status":
        return await helm.Status(config).run(release)
    if action == "uninstall":
        return await helm.Uninstall(config).run(release, wait=False, timeout=60)
    if action == "test":
        return await helm.Test(config).run(release)
    chart, values, ssa = rest[1], json.loads(rest[2]), rest[3] == "true"
    atomic = rest[4:] == ("atomic",)
    if action == "install":
        return await helm.Install(config).run(release, chart, values=values, wait=False, timeout=60,
                                              server_side_apply=ssa)
    return await helm.Upgrade(config).run(release, chart, values=values, wait=atomic, timeout=60,
                                          server_side_apply=ssa, rollback_on_failure=atomic)


if __name__ == "__main__":
    try:
        print(json.dumps(asyncio.run(main(*sys.argv[1:])), default=str))
    except helm.HelmError as e:
        print(json.dumps({"error": str(e)}))
        sys.exit(1)
