"""CRI container states -> PodStatus: container states, phase, conditions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from control.client.convert import from_dict
from cri.runtime.v1 import api_pb2 as cri_pb
from node import podstatus as ps
from node.runtime.config import RESTART_COUNT_ANNOTATION

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SEC = 1_000_000_000


def make_pod(restart_policy: str = "Always", init: list[dict] | None = None, names=("app",)):
    meta = {"name": "p", "namespace": "d", "uid": "u"}
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                      "spec": {"restartPolicy": restart_policy, "nodeName": "n1",
                               "initContainers": init or [],
                               "containers": [{"name": n, "image": "busybox"} for n in names]}})


def cri(state: int, attempt: int = 0, exit_code: int = 0, cid: str | None = None, reason: str = ""):
    return cri_pb.ContainerStatus(id=cid or f"c{attempt}", state=state, exit_code=exit_code, reason=reason,
                                  metadata=cri_pb.ContainerMetadata(name="x", attempt=attempt),
                                  annotations={RESTART_COUNT_ANNOTATION: str(attempt)},
                                  started_at=10 * SEC, image_ref="sha256:img",
                                  finished_at=20 * SEC if state == cri_pb.CONTAINER_EXITED else 0)


RUNNING, EXITED, CREATED = cri_pb.CONTAINER_RUNNING, cri_pb.CONTAINER_EXITED, cri_pb.CONTAINER_CREATED


def views(pod, *per_container, ready=True):
    return [ps.ContainerView(spec=spec, attempts=list(a), ready=ready, started=True)
            for spec, a in zip(pod.spec.containers, per_container, strict=True)]


def status(pod, regular, init=(), now=NOW):
    return ps.pod_status(pod, list(init), regular, pod_ip="10.244.0.9", host_ip="10.0.0.1", now=now)


def conditions(st) -> dict[str, str]:
    return {c.type: c.status for c in st.conditions}


def test_running_pod_is_ready():
    pod = make_pod()
    st = status(pod, views(pod, [cri(RUNNING)]))
    assert st.phase == "Running"
    assert conditions(st) == {"PodScheduled": "True", "Initialized": "True", "ContainersReady": "True",
                              "Ready": "True"}
    cs = st.container_statuses[0]
    assert cs.ready and cs.started and cs.container_id == "containerd://c0" and cs.image_id == "sha256:img"
    assert cs.state.running.started_at.seconds == 10
    assert st.pod_ip == "10.244.0.9" and st.host_ip == "10.0.0.1" and st.pod_ips[0].ip == "10.244.0.9"
    assert st.qos_class == "BestEffort" and st.start_time.seconds == int(NOW.timestamp())


def test_not_ready_names_the_containers():
    pod = make_pod(names=("a", "b"))
    st = status(pod, views(pod, [cri(RUNNING)], [cri(RUNNING)], ready=False))
    ready = [c for c in st.conditions if c.type == "Ready"][0]
    assert ready.status == "False" and ready.reason == "ContainersNotReady"
    assert ready.message == "containers with unready status: [a b]"


def test_no_container_yet_is_pending_container_creating():
    pod = make_pod()
    st = status(pod, views(pod, []))
    assert st.phase == "Pending"
    assert st.container_statuses[0].state.waiting.reason == "ContainerCreating"


def test_crash_loop_keeps_last_state_and_restart_count():
    pod = make_pod()
    v = views(pod, [cri(EXITED, attempt=4, exit_code=2, reason="Error")])
    v[0].waiting_reason, v[0].waiting_message = "CrashLoopBackOff", "back-off 40s restarting failed container"
    st = status(pod, v)
    cs = st.container_statuses[0]
    assert cs.state.waiting.reason == "CrashLoopBackOff" and cs.restart_count == 4
    assert cs.last_state.terminated.exit_code == 2 and cs.last_state.terminated.reason == "Error"
    assert cs.last_state.terminated.finished_at.seconds == 20
    assert st.phase == "Running" and not cs.ready


def test_restarted_container_shows_previous_attempt():
    pod = make_pod()
    st = status(pod, views(pod, [cri(RUNNING, attempt=1, cid="new"), cri(EXITED, 0, 137, cid="old")]))
    cs = st.container_statuses[0]
    assert cs.restart_count == 1 and cs.state.HasField("running")
    assert cs.last_state.terminated.exit_code == 137
    assert cs.last_state.terminated.container_id == "containerd://old"


@pytest.mark.parametrize("policy,exit_code,phase", [
    ("Never", 0, "Succeeded"), ("Never", 1, "Failed"), ("OnFailure", 0, "Succeeded"),
    ("OnFailure", 1, "Running"), ("Always", 0, "Running"),
])
def test_phase_of_finished_containers(policy, exit_code, phase):
    pod = make_pod(restart_policy=policy)
    st = status(pod, views(pod, [cri(EXITED, exit_code=exit_code)]))
    assert st.phase == phase
    assert st.container_statuses[0].state.terminated.exit_code == exit_code


def test_succeeded_pod_conditions_say_completed():
    pod = make_pod(restart_policy="Never")
    st = status(pod, views(pod, [cri(EXITED)]))
    ready = [c for c in st.conditions if c.type == "Ready"][0]
    assert ready.status == "False" and ready.reason == "PodCompleted"


def init_views(pod, *per_container):
    return [ps.ContainerView(spec=spec, attempts=list(a), ready=True, started=True)
            for spec, a in zip(pod.spec.init_containers, per_container, strict=True)]


def test_init_containers_gate_initialized_and_phase():
    pod = make_pod(init=[{"name": "i1", "image": "b"}, {"name": "i2", "image": "b"}])
    st = status(pod, views(pod, []), init_views(pod, [cri(EXITED)], [cri(RUNNING)]))
    assert st.phase == "Pending"
    init = [c for c in st.conditions if c.type == "Initialized"][0]
    assert init.status == "False" and init.message == "containers with incomplete status: [i2]"
    assert st.container_statuses[0].state.waiting.reason == "PodInitializing"
    st = status(pod, views(pod, [cri(RUNNING)]), init_views(pod, [cri(EXITED)], [cri(EXITED)]))
    assert st.phase == "Running" and conditions(st)["Initialized"] == "True"
    assert all(s.ready for s in st.init_container_statuses)


def test_failed_init_with_never_fails_the_pod():
    pod = make_pod(restart_policy="Never", init=[{"name": "i1", "image": "b"}])
    st = status(pod, views(pod, []), init_views(pod, [cri(EXITED, exit_code=3)]))
    assert st.phase == "Failed"


def test_sidecar_counts_once_started_and_for_readiness():
    pod = make_pod(init=[{"name": "side", "image": "b", "restartPolicy": "Always"}])
    side = init_views(pod, [cri(RUNNING)])
    st = status(pod, views(pod, [cri(RUNNING)]), side)
    assert st.phase == "Running" and conditions(st)["Initialized"] == "True"
    side[0].ready = False
    st = status(pod, views(pod, [cri(RUNNING)]), side)
    assert conditions(st)["Ready"] == "False"


def test_transition_times_are_kept_while_status_holds():
    pod = make_pod()
    first = status(pod, views(pod, [cri(RUNNING)]))
    pod.status.CopyFrom(first)
    later = status(pod, views(pod, [cri(RUNNING)]), now=datetime(2026, 1, 2, 4, 0, 0, tzinfo=UTC))
    times = [c.last_transition_time for c in first.conditions]
    assert [c.last_transition_time for c in later.conditions] == times
    assert later.start_time == first.start_time
    assert not ps.status_changed(first, later)
    unready = status(pod, views(pod, [cri(RUNNING)], ready=False), now=datetime(2026, 1, 2, 4, tzinfo=UTC))
    assert ps.status_changed(first, unready)
    ready = [c for c in unready.conditions if c.type == "Ready"][0]
    assert ready.last_transition_time.seconds == int(datetime(2026, 1, 2, 4, 0, tzinfo=UTC).timestamp())


# ---- the restart back-off behind CrashLoopBackOff ----

def test_backoff_first_restart_immediate_then_doubles_to_the_cap():
    from node.backoff import Backoff
    now = [1000.0]
    b = Backoff(10, 40, clock=lambda: now[0])
    assert not b.in_backoff_since("p/c", now[0])  # first crash: restart at once
    b.next("p/c", now[0])
    assert b.in_backoff_since("p/c", now[0]) and b.remaining("p/c", now[0]) == 10
    delays = []
    for _ in range(4):
        b.next("p/c", now[0])
        delays.append(b.get("p/c"))
    assert delays == [20, 40, 40, 40]
    now[0] += 81  # quiet for more than 2 * max: forgotten
    assert not b.in_backoff_since("p/c", now[0] - 1)
    b.next("p/c", now[0])
    assert b.get("p/c") == 10
