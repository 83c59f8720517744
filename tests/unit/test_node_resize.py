"""The node's side of an in-place resize: applied in place through CRI, or a restart when the
container's resizePolicy asks it; the definition hash ignores resources; the status reports them."""

from __future__ import annotations

import asyncio
import json

from control.client.convert import from_dict
from cri.runtime.v1 import api_pb2 as cri_pb
from node import podstatus
from node.runtime.config import container_config, container_hash
from node.runtime.resize import NO_CHANGE, RESOURCES_ANNOTATION, RESTART, UPDATED, Resizer
from node.runtime.resources import linux_resources

SMALL = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}}
BIG = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}


def pod(resources: dict, **container) -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "ns", "uid": "u"},
                      "spec": {"containers": [{"name": "app", "image": "busybox", "resources": resources,
                                               **container}]}})


class FakeCRI:
    def __init__(self) -> None:
        self.updates: list[tuple[str, cri_pb.LinuxContainerResources]] = []

    async def update_container_resources(self, container_id: str, resources) -> None:
        self.updates.append((container_id, resources))


def started(p) -> cri_pb.ContainerStatus:
    config = container_config(p, p.spec.containers[0], attempt=0, image="busybox", env=[], mounts=[])
    return cri_pb.ContainerStatus(id="c1", state=cri_pb.CONTAINER_RUNNING, annotations=config.annotations)


def test_the_hash_leaves_resources_out_and_the_annotation_records_them() -> None:
    small, big = pod(SMALL), pod(BIG)
    assert container_hash(small.spec.containers[0]) == container_hash(big.spec.containers[0])
    assert container_hash(small.spec.containers[0]) != container_hash(pod(SMALL, image="other").spec.containers[0])
    assert json.loads(started(small).annotations[RESOURCES_ANNOTATION]) == SMALL


def test_a_resize_is_applied_in_place_once() -> None:
    cri, status = FakeCRI(), started(pod(SMALL))
    resizer = Resizer(cri)
    assert asyncio.run(resizer.sync(pod(SMALL), pod(SMALL).spec.containers[0], status)) == NO_CHANGE
    big = pod(BIG)
    assert asyncio.run(resizer.sync(big, big.spec.containers[0], status)) == UPDATED
    [(cid, resources)] = cri.updates
    assert cid == "c1" and resources.cpu_quota == 50_000 and resources.memory_limit_in_bytes == 128 * 2**20
    assert asyncio.run(resizer.sync(big, big.spec.containers[0], status)) == NO_CHANGE
    assert resizer.applied(status) == BIG
    view = podstatus.ContainerView(spec=big.spec.containers[0], attempts=[status], resources=resizer.applied(status))
    out = podstatus.container_status(view)
    assert dict(out.resources.limits) == BIG["limits"] and dict(out.allocated_resources) == BIG["requests"]


def test_a_resource_whose_policy_asks_a_restart() -> None:
    cri = FakeCRI()
    policy = [{"resourceName": "memory", "restartPolicy": "RestartContainer"},
              {"resourceName": "cpu", "restartPolicy": "NotRequired"}]
    status = started(pod(SMALL, resizePolicy=policy))
    cpu_only = pod({**SMALL, "limits": {"cpu": "1", "memory": "64Mi"}}, resizePolicy=policy)
    assert asyncio.run(Resizer(cri).sync(cpu_only, cpu_only.spec.containers[0], status)) == UPDATED
    memory = pod(BIG, resizePolicy=policy)
    assert asyncio.run(Resizer(cri).sync(memory, memory.spec.containers[0], status)) == RESTART


def test_pod_level_limits_reach_containers_without_their_own() -> None:
    p = from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "ns", "uid": "u"},
                   "spec": {"resources": {"limits": {"cpu": "1", "memory": "256Mi"}},
                            "containers": [{"name": "a", "image": "i"},
                                           {"name": "b", "image": "i", "resources": {"limits": {"memory": "64Mi"}}}]}})
    a, b = (linux_resources(p, c) for c in p.spec.containers)
    assert (a.cpu_quota, a.memory_limit_in_bytes) == (100_000, 256 * 2**20)
    assert (b.cpu_quota, b.memory_limit_in_bytes) == (100_000, 64 * 2**20)


def test_a_resize_beyond_the_node_is_infeasible_in_the_kubelets_words() -> None:
    from node.runtime.resize import infeasible
    allocatable = {"cpu": "2", "memory": "4Gi"}
    assert infeasible(pod(BIG), allocatable) is None
    huge = pod({"requests": {"cpu": "3", "memory": "8Gi"}, "limits": {"cpu": "3", "memory": "8Gi"}})
    assert infeasible(huge, allocatable) == (
        "Node didn't have enough capacity: memory, requested: 8589934592, capacity: 4294967296")
    cpu = pod({"requests": {"cpu": "2500m", "memory": "64Mi"}, "limits": {"cpu": "3", "memory": "64Mi"}})
    assert infeasible(cpu, allocatable) == "Node didn't have enough capacity: cpu, requested: 2500, capacity: 2000"
    view = podstatus.ContainerView(spec=huge.spec.containers[0])
    status = podstatus.pod_status(huge, [], [view], resize_pending=("Infeasible", "no room"))
    [pending] = [c for c in status.conditions if c.type == "PodResizePending"]
    assert (pending.status, pending.reason, pending.message) == ("True", "Infeasible", "no room")


def test_a_resize_the_other_pods_leave_no_room_for_is_deferred() -> None:
    from node.runtime.resize import deferred
    allocatable = {"cpu": "2", "memory": "4Gi"}
    grown = pod({"requests": {"cpu": "1", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "64Mi"}})
    neighbour = pod({"requests": {"cpu": "900m", "memory": "64Mi"}, "limits": {"cpu": "900m", "memory": "64Mi"}})
    neighbour.metadata.uid = "other"
    assert deferred(grown, [grown, neighbour], allocatable) is None
    neighbour.status.container_statuses.add(name="app", resources={"requests": {"cpu": "1500m"}})  # runs larger
    assert deferred(grown, [grown, neighbour], allocatable) == (
        "Node didn't have enough resource: cpu, requested: 1000, used: 1500, capacity: 2000")
