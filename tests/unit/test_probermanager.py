"""The prober manager's results cache: what the sync loop reads for ready, started and unhealthy."""

from __future__ import annotations

from cri.runtime.v1 import api_pb2 as cri_pb
from node import probes
from node.cri import CRI
from node.probermanager import ProberManager
from skiff.v1 import pod_pb2


def container(*probe_fields: str) -> pod_pb2.Container:
    c = pod_pb2.Container(name="app")
    for name in probe_fields:
        getattr(c, name).exec.command.append("true")
        getattr(c, name).initial_delay_seconds = 3600  # the workers never probe: results are fed by hand
    return c


def update(kind: str, result: str, container_id: str = "c1") -> probes.ProbeUpdate:
    return probes.ProbeUpdate("uid", "app", container_id, kind, result, "")


def manager_with_workers(spec: pod_pb2.Container, *container_ids: str) -> tuple[ProberManager, list]:
    """A manager with the workers of running containers container_ids (results are fed to it by hand,
    through the callback its workers report to)."""
    seen: list[probes.ProbeUpdate] = []
    manager = ProberManager(CRI("unix:///nonexistent.sock"), seen.append)
    for cid in container_ids:
        manager.add_container(pod_pb2.Pod(), spec, cri_pb.ContainerStatus(id=cid), "10.0.0.1")
        assert manager.has_container(cid)
    return manager, seen


async def test_without_probes_a_container_is_ready_and_started() -> None:
    manager, _ = manager_with_workers(container())
    assert manager.probe_state(container(), "c1") == (True, True)
    assert not manager.unhealthy("c1")
    await manager.close()


async def test_readiness_and_startup_follow_the_reported_results() -> None:
    spec = container("startup_probe", "readiness_probe")
    manager, seen = manager_with_workers(spec, "c1")
    assert manager.probe_state(spec, "c1") == (False, False)
    manager._on_result(update(probes.STARTUP, probes.SUCCESS))
    assert manager.probe_state(spec, "c1") == (False, True)
    manager._on_result(update(probes.READINESS, probes.SUCCESS))
    assert manager.probe_state(spec, "c1") == (True, True)
    manager._on_result(update(probes.READINESS, probes.FAILURE))
    assert manager.probe_state(spec, "c1") == (False, True)
    assert [u.kind for u in seen] == [probes.STARTUP, probes.READINESS, probes.READINESS]
    await manager.close()


async def test_a_failed_liveness_or_startup_probe_marks_the_container_unhealthy_until_removed() -> None:
    spec = container("liveness_probe", "startup_probe")
    manager, _ = manager_with_workers(spec, "c1", "c2")
    manager._on_result(update(probes.LIVENESS, probes.FAILURE, "c1"))
    manager._on_result(update(probes.STARTUP, probes.FAILURE, "c2"))
    assert manager.unhealthy("c1") and manager.unhealthy("c2")
    manager.remove_container("c1")
    assert not manager.unhealthy("c1") and not manager.has_container("c1")
    assert manager.unhealthy("c2")
    await manager.close()


async def test_a_result_arriving_after_removal_is_not_cached() -> None:
    spec = container("readiness_probe")
    manager, seen = manager_with_workers(spec, "c1")
    manager.remove_container("c1")
    manager._on_result(update(probes.READINESS, probes.SUCCESS))
    assert manager.probe_state(spec, "c1") == (False, True)
    assert len(seen) == 1  # still passed on: the pod's worker is woken either way
    await manager.close()
