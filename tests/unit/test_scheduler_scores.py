"""Each score plugin on its own, and kube-scheduler's normalizations."""

from __future__ import annotations

from control.scheduler import scores
from control.scheduler.framework import SKIP, NodeInfo, Snapshot, default_normalize, reverse_normalize
from control.scheduler.podinfo import PodInfo
from control.scheduler.testing import make_node, make_pod
from skiff.v1 import core_pb2, pod_pb2


def node_info(*pods, **kw) -> NodeInfo:
    info = NodeInfo(make_node(kw.pop("name", "n1"), **kw))
    for p in pods:
        info.add_pod(PodInfo(p))
    return info


def test_least_allocated():
    empty = node_info(cpu="4", memory="4Gi")
    half = node_info(make_pod("a", cpu="2", memory="2Gi"), cpu="4", memory="4Gi")
    pod = PodInfo(make_pod("p", cpu="1", memory="1Gi"))
    # free after placing: cpu 3/4, memory 3/4 -> 75; half-full: 1/4, 1/4 -> 25
    assert scores.least_allocated(pod, empty) == 75
    assert scores.least_allocated(pod, half) == 25


def test_least_allocated_counts_requestless_pods_as_100m_200mi():
    node = node_info(cpu="1", memory="1000Mi")
    pod = PodInfo(make_pod("p"))
    assert scores.least_allocated(pod, node) == (90 + 80) // 2


def test_least_allocated_overcommitted_scores_zero():
    node = node_info(make_pod("a", cpu="4", memory="4Gi"), cpu="4", memory="4Gi")
    assert scores.least_allocated(PodInfo(make_pod("p", cpu="1", memory="1Gi")), node) == 0


def test_balanced_allocation():
    node = node_info(cpu="4", memory="4Gi")
    assert scores.balanced_allocation(PodInfo(make_pod("p", cpu="2", memory="2Gi")), node) == 100
    # cpu 100 %, memory 0 %: std dev 0.5
    assert scores.balanced_allocation(PodInfo(make_pod("p", cpu="4")), node) == 50
    # fractions 0.5 and 0.25: std dev 0.125
    assert scores.balanced_allocation(PodInfo(make_pod("p", cpu="2", memory="1Gi")), node) == 87


def test_preferred_node_affinity():
    def pref(weight, key, value):
        return pod_pb2.PreferredSchedulingTerm(weight=weight, preference=core_pb2.NodeSelectorTerm(
            match_expressions=[core_pb2.NodeSelectorRequirement(key=key, operator="In", values=[value])]))
    aff = pod_pb2.Affinity(node_affinity=pod_pb2.NodeAffinity(
        preferred_during_scheduling_ignored_during_execution=[pref(10, "zone", "a"), pref(30, "disk", "ssd")]))
    pod = PodInfo(make_pod("p", affinity=aff))
    assert scores.node_affinity_pre_score(PodInfo(make_pod("q")), Snapshot()) is SKIP
    nodes = [node_info(labels={"zone": "a"}), node_info(labels={"zone": "a", "disk": "ssd"}), node_info()]
    raw = [scores.node_affinity(pod, n) for n in nodes]
    assert raw == [10, 40, 0]
    default_normalize(raw)
    assert raw == [25, 100, 0]


def test_taint_toleration_score_counts_untolerated_prefer_no_schedule():
    tolerant = PodInfo(make_pod("p", tolerations=[pod_pb2.Toleration(key="a", operator="Exists",
                                                                       effect="PreferNoSchedule")]))
    plain = PodInfo(make_pod("q"))
    node = node_info(taints=[("a", "", "PreferNoSchedule"), ("b", "", "PreferNoSchedule"), ("c", "", "NoSchedule")])
    assert scores.taint_toleration_pre_score(tolerant, Snapshot()) is SKIP  # no node has such taints
    snapshot = Snapshot()
    snapshot.prefer_no_schedule_nodes.add("n1")
    state = scores.taint_toleration_pre_score(tolerant, snapshot)
    assert scores.taint_toleration(tolerant, node, state) == 1
    assert scores.taint_toleration(plain, node, scores.taint_toleration_pre_score(plain, snapshot)) == 2
    raw = [2, 1, 0]
    reverse_normalize(raw)
    assert raw == [0, 50, 100]
    raw = [0, 0]
    reverse_normalize(raw)
    assert raw == [100, 100]
