"""The resource-quota controller's reconcile(key) on the fake client."""

from __future__ import annotations

import asyncio

from control.client.convert import from_dict
from control.client.testing import on_fake
from control.controllers.resourcequota import ResourceQuotaController


def quota(name: str, hard: dict, namespace: str = "team", **spec) -> object:
    return from_dict({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name, "namespace": namespace},
                      "spec": {"hard": hard, **spec}})


def pod(name: str, namespace: str = "team", requests: dict | None = None, limits: dict | None = None,
        phase: str = "Running", **spec) -> object:
    resources = {"requests": requests or {}, "limits": limits or {}}
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
                      "spec": {"containers": [{"name": "c", "image": "i", "resources": resources}], **spec},
                      "status": {"phase": phase}})


async def status(run, name: str, namespace: str = "team") -> tuple[dict, dict]:
    q = await run.client.get("ResourceQuota", name, namespace)
    return dict(q.status.hard), dict(q.status.used)


async def test_used_counts_the_namespaces_live_pods_and_their_compute() -> None:
    hard = {"pods": "5", "requests.cpu": "2", "limits.memory": "1Gi", "memory": "2Gi"}
    async with on_fake(ResourceQuotaController, quota("q", hard),
                       pod("a", requests={"cpu": "250m", "memory": "64Mi"}, limits={"memory": "128Mi"}),
                       pod("b", requests={"cpu": "1"}),
                       pod("done", requests={"cpu": "1"}, phase="Succeeded"),
                       pod("elsewhere", namespace="other", requests={"cpu": "1"})) as run:
        await run.reconcile("team/q")
        assert await status(run, "q") == (hard, {"pods": "2", "requests.cpu": "1250m", "limits.memory": "128Mi",
                                                 "memory": "64Mi"})


async def test_scopes_and_selectors_choose_the_pods() -> None:
    async with on_fake(ResourceQuotaController,
                       quota("be", {"pods": "9"}, scopes=["BestEffort"]),
                       quota("high", {"pods": "9"}, scopeSelector={"matchExpressions": [
                           {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}),
                       quota("term", {"pods": "9"}, scopes=["Terminating"]),
                       pod("plain"), pod("sized", requests={"cpu": "1"}, priorityClassName="high"),
                       pod("deadline", activeDeadlineSeconds=30)) as run:
        for name in ("be", "high", "term"):
            await run.reconcile(f"team/{name}")
        assert (await status(run, "be"))[1] == {"pods": "2"}
        assert (await status(run, "high"))[1] == {"pods": "1"}
        assert (await status(run, "term"))[1] == {"pods": "1"}


async def test_object_counts_services_and_count_names() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "team"},
           "spec": {"ports": [{"port": 80}, {"port": 81}]}}
    hard = {"services": "9", "services.nodeports": "9", "services.loadbalancers": "9",
            "count/configmaps": "9", "configmaps": "9", "count/replicasets.apps": "9"}
    async with on_fake(ResourceQuotaController, quota("objects", hard),
                       from_dict({**svc, "metadata": {"name": "np", "namespace": "team"},
                                  "spec": {**svc["spec"], "type": "NodePort"}}),
                       from_dict({**svc, "metadata": {"name": "lb", "namespace": "team"},
                                  "spec": {**svc["spec"], "type": "LoadBalancer"}}),
                       from_dict({**svc, "metadata": {"name": "ip", "namespace": "team"}}),
                       from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": {"name": "cm", "namespace": "team"}})) as run:
        await run.reconcile("team/objects")
        assert (await status(run, "objects"))[1] == {
            "services": "3", "services.nodeports": "4", "services.loadbalancers": "1",
            "count/configmaps": "1", "configmaps": "1", "count/replicasets.apps": "0"}


async def test_a_deleted_pod_frees_its_usage() -> None:
    async with on_fake(ResourceQuotaController, quota("q", {"pods": "2"}), pod("a"), pod("b")) as run:
        await run.reconcile("team/q")
        assert (await status(run, "q"))[1] == {"pods": "2"}
        run.forget_queued()
        await run.client.delete("Pod", "a", "team")
        await run.synced()
        assert run.queued() == {"team/q"}  # the deletion requeues the namespace's quotas
        await run.reconcile("team/q")
        assert (await status(run, "q"))[1] == {"pods": "1"}


async def test_a_stale_quota_is_not_overwritten() -> None:
    """A charge made after the controller read the quota wins: the status write fails and the
    key is queued again."""
    async with on_fake(ResourceQuotaController, quota("q", {"pods": "5"}), pod("a")) as run:
        await run.reconcile("team/q")
        q = await run.client.get("ResourceQuota", "q", "team")
        q.status.used["pods"] = "2"  # what admission charged for a pod the controller has not seen
        stale = run.controller.quotas.store.get("team/q")
        await run.client.update_status(q)
        run.controller.quotas.store._put("team/q", stale)
        await run.controller.reconcile("team/q")
        assert (await status(run, "q"))[1] == {"pods": "2"}


async def test_a_kind_counted_by_name_is_watched_once_a_quota_counts_it() -> None:
    rs = from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", "namespace": "team"},
                    "spec": {"selector": {"matchLabels": {"a": "b"}},
                             "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}}})
    async with on_fake(ResourceQuotaController, quota("q", {"count/replicasets.apps": "3"}), rs) as run:
        await run.reconcile("team/q")
        assert (await status(run, "q"))[1] == {"count/replicasets.apps": "1"}
        assert "ReplicaSet" in run.controller.watched
        run.forget_queued()
        await run.client.delete("ReplicaSet", "web", "team")
        await run.synced()
        assert run.queued() == {"team/q"}
        await run.reconcile("team/q")
        assert (await status(run, "q"))[1] == {"count/replicasets.apps": "0"}


async def test_every_quota_is_recounted_each_sync_period() -> None:
    async with on_fake(ResourceQuotaController, quota("a", {"pods": "1"}), quota("b", {"pods": "1"}, "other"),
                       resource_quota_sync_period=0.05) as run:
        run.forget_queued()
        ticker = asyncio.create_task(run.controller._resync())
        try:
            async with asyncio.timeout(5):
                assert {await run.controller.queue.get() for _ in range(2)} == {"team/a", "other/b"}
        finally:
            ticker.cancel()
