"""The autoscaling pipeline end to end on real containers: an agent on containerd runs a Deployment
whose pod spins a busy loop; the apiserver's collector scrapes the agent's stats into the resource
metrics API; the HorizontalPodAutoscaler controller reads them and scales the Deployment up, and
back down once the load is gone.
skiffctl creates the autoscaler (`autoscale`) and reads it back (`get hpa`, `describe`, `top`)."""

from __future__ import annotations

import re
import time

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.agent import agent_node
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.controllers import running_controllers
from tests.fixtures.images import BUSYBOX
from tests.fixtures.procs import eventually
from tests.fixtures.skiffctl import run_skiffctl, skiffctl_env

CONTROLLERS = ["deployment", "replicaset", "horizontalpodautoscaling"]
OPTIONS = {"horizontal_pod_autoscaler_sync_period": 1.0}


@pytest.fixture(scope="module")
def apiserver(etcd):
    server = start_apiserver(etcd, ["--metric-resolution", "2s"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def node(apiserver):
    with agent_node(apiserver, "skhpa", "10.125.0.0/24") as node:
        yield node.agent


def busy_deployment(node: str) -> object:
    # A 200m limit keeps each replica's loop to a fifth of a core: 200 % of its 100m request.
    container = {"name": "spin", "image": BUSYBOX, "command": ["/bin/sh", "-c", "while :; do :; done"],
                 "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}}}
    return from_dict({"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": "spin", "namespace": "default"},
                      "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "spin"}},
                               "template": {"metadata": {"labels": {"app": "spin"}},
                                            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1,
                                                     "containers": [container]}}}})


async def test_busy_loop_scales_its_deployment_up(apiserver, client: Client, node, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)
    async with running_controllers(apiserver.target, CONTROLLERS, OPTIONS):
        await client.create(busy_deployment(node.node_name))
        created = await run_skiffctl(env, "autoscale", "deployment", "spin", "--cpu-percent=50", "--min=1", "--max=3")
        assert (created.code, created.out) == (0, "horizontalpodautoscaler.autoscaling/spin autoscaled\n"), created.err
        started = time.monotonic()

        async def scaled() -> bool:
            return (await client.get("Deployment", "spin", "default")).spec.replicas == 3
        await eventually(scaled, timeout=120, interval=0.5, what="the Deployment scaled to 3 by its autoscaler")
        print(f"scaled up {time.monotonic() - started:.1f} s after the autoscaler was created")

        hpa = await client.get("HorizontalPodAutoscaler", "spin", "default")
        current = hpa.status.current_metrics[0].resource.current
        assert current.average_utilization > 50 and hpa.status.HasField("last_scale_time")
        got = await run_skiffctl(env, "get", "hpa")
        header, row = got.out.splitlines()
        assert header.split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
        assert re.match(r"spin +Deployment/spin +cpu: \d+%/50% +1 +3 +\d ", row), row
        described = await run_skiffctl(env, "describe", "hpa", "spin")
        assert "SuccessfulRescale" in described.out and "New size: 3; reason: cpu resource utilization " \
            "(percentage of request) above target" in described.out, described.out
        top = await run_skiffctl(env, "top", "pods", "-l", "app=spin")
        assert top.code == 0 and top.out.startswith("NAME"), top.err

        # The load goes (the pods are replaced by idle ones): after the scale-down window, back to 1.
        def short_window(hpa) -> None:
            hpa.spec.behavior.scale_down.stabilization_window_seconds = 5
        await changed(client, "HorizontalPodAutoscaler", short_window)

        def idle(d) -> None:
            d.spec.template.spec.containers[0].command[:] = ["/bin/sh", "-c", "sleep 3600"]
        await changed(client, "Deployment", idle)

        async def scaled_down() -> bool:
            return (await client.get("Deployment", "spin", "default")).spec.replicas == 1
        await eventually(scaled_down, timeout=180, interval=0.5, what="the Deployment scaled back to 1")
        await client.delete("HorizontalPodAutoscaler", "spin", "default")
        await client.delete("Deployment", "spin", "default")


async def changed(client: Client, kind: str, change) -> None:
    """Applies change to the object named spin, again on a conflict (the autoscaler writes too)."""
    for attempt in range(10):
        obj = await client.get(kind, "spin", "default")
        change(obj)
        try:
            await client.update(obj)
            return
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ABORTED or attempt == 9:
                raise
