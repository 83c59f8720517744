"""The kubelet's metrics: pod start latency, PLEG relist latency, running pods and containers."""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Gauge, Histogram

from control.client.metrics import DEF_BUCKETS
from control.client.wellknown import POD_RUNNING
from cri.runtime.v1 import api_pb2 as cri_pb
from node.podworkers import PodWorker

_POD_START_BUCKETS = (0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200,
                      1800, 2700, 3600)
CONTAINER_STATES = {cri_pb.CONTAINER_CREATED: "created", cri_pb.CONTAINER_RUNNING: "running",
                    cri_pb.CONTAINER_EXITED: "exited", cri_pb.CONTAINER_UNKNOWN: "unknown"}

POD_START_DURATION = Histogram(
    "kubelet_pod_start_duration_seconds",
    "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
    buckets=_POD_START_BUCKETS)
PLEG_RELIST_DURATION = Histogram(
    "kubelet_pleg_relist_duration_seconds", "Duration in seconds for relisting pods in PLEG.", buckets=DEF_BUCKETS)
RUNNING_PODS = Gauge("kubelet_running_pods", "Number of pods that have a running pod sandbox")
RUNNING_CONTAINERS = Gauge("kubelet_running_containers", "Number of containers currently running",
                           ["container_state"])


def pod_status_reported(w: PodWorker, previous: str, phase: str) -> None:
    """The first Running status of a pod this agent started (`previous`: the phase it had before);
    a pod adopted already Running does not count."""
    if w.start_observed or phase != POD_RUNNING:
        return
    w.start_observed = True
    if previous != POD_RUNNING:
        POD_START_DURATION.observe(time.monotonic() - w.first_seen)


def relisted(started: float, sandboxes: Iterable[cri_pb.PodSandbox], containers: Iterable[cri_pb.Container]) -> None:
    """One PLEG relist: its duration, and the runtime's pods and containers as it listed them."""
    PLEG_RELIST_DURATION.observe(time.monotonic() - started)
    RUNNING_PODS.set(sum(1 for s in sandboxes if s.state == cri_pb.SANDBOX_READY))
    states = Tally(CONTAINER_STATES.get(c.state, "unknown") for c in containers)
    for state in CONTAINER_STATES.values():
        RUNNING_CONTAINERS.labels(state).set(states[state])
