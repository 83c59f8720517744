"""PodTopologySpread's filter and score, node by node, as kube-scheduler computes them."""

from __future__ import annotations

import math

from control.client.wellknown import LABEL_ZONE
from control.scheduler import topologyspread as ts
from control.scheduler.framework import SKIP, NodeInfo, Snapshot
from control.scheduler.podinfo import PodInfo
from control.scheduler.testing import (
    ListedWorkloads,
    make_controller,
    make_node,
    make_pod,
    make_service,
    owned_by,
)
from skiff.v1 import meta_pb2, pod_pb2


def spread(key: str, max_skew: int = 1, when: str = "DoNotSchedule", min_domains: int | None = None,
           match_label_keys: tuple[str, ...] = (), **policies: str) -> pod_pb2.TopologySpreadConstraint:
    c = pod_pb2.TopologySpreadConstraint(max_skew=max_skew, topology_key=key, when_unsatisfiable=when,
                                         label_selector=meta_pb2.LabelSelector(match_labels={"app": "web"}),
                                         match_label_keys=list(match_label_keys), **policies)
    if min_domains is not None:
        c.min_domains = min_domains
    return c


def web(name: str, *constraints: pod_pb2.TopologySpreadConstraint, **labels: str) -> PodInfo:
    pod = make_pod(name, labels={"app": "web", **labels})
    pod.spec.topology_spread_constraints.extend(constraints)
    return PodInfo(pod)


def snapshot(layout: dict[str, tuple[str, int]], **node_kw) -> Snapshot:
    """node name -> (zone, number of app=web pods on it)."""
    snap = Snapshot()
    for name, (zone, count) in layout.items():
        info = NodeInfo(make_node(name, labels={LABEL_ZONE: zone} if zone else {}, **node_kw))
        for i in range(count):
            info.add_pod(PodInfo(make_pod(f"{name}-{i}", labels={"app": "web"}, node_name=name)))
        snap.nodes[name] = info
    return snap


def feasible(pod: PodInfo, snap: Snapshot) -> set[str]:
    state = ts.pre_filter(pod, snap)
    return {name for name, node in snap.nodes.items() if ts.filter_spread(pod, node, state).ok}


def test_zone_skew_allows_only_the_emptier_zone():
    snap = snapshot({"a1": ("a", 2), "a2": ("a", 0), "b1": ("b", 1)})
    assert feasible(web("p", spread(LABEL_ZONE)), snap) == {"b1"}


def test_max_skew_two_allows_both_zones():
    snap = snapshot({"a1": ("a", 2), "b1": ("b", 1)})
    assert feasible(web("p", spread(LABEL_ZONE, max_skew=2)), snap) == {"a1", "b1"}


def test_node_without_the_key_is_refused_with_kubernetes_reason():
    snap = snapshot({"a1": ("a", 0), "x": ("", 0)})
    pod = web("p", spread(LABEL_ZONE))
    state = ts.pre_filter(pod, snap)
    status = ts.filter_spread(pod, snap.nodes["x"], state)
    assert status.reasons == (ts.ERR_MISSING_LABEL,)
    assert ts.filter_spread(pod, snap.nodes["a1"], state).ok


def test_min_domains_counts_missing_domains_as_zero():
    # Two zones exist but minDomains is 3: the global minimum is 0, so a zone with 1 pod is full.
    snap = snapshot({"a1": ("a", 1), "b1": ("b", 1)})
    assert feasible(web("p", spread(LABEL_ZONE, min_domains=3)), snap) == set()
    assert feasible(web("p", spread(LABEL_ZONE, min_domains=2)), snap) == {"a1", "b1"}


def test_pods_not_selected_do_not_count():
    snap = snapshot({"a1": ("a", 2), "b1": ("b", 0)})
    other = pod_pb2.TopologySpreadConstraint(max_skew=1, topology_key=LABEL_ZONE, when_unsatisfiable="DoNotSchedule",
                                             label_selector=meta_pb2.LabelSelector(match_labels={"app": "db"}))
    assert feasible(web("q", other), snap) == {"a1", "b1"}


def test_match_label_keys_narrow_the_selector_to_the_pods_revision():
    snap = snapshot({"a1": ("a", 2), "b1": ("b", 0)})  # existing pods have no `rev` label
    pod = web("p", spread(LABEL_ZONE, match_label_keys=("rev",)), rev="2")
    assert feasible(pod, snap) == {"a1", "b1"}


def test_node_affinity_policy_honor_ignores_nodes_the_pod_cannot_use():
    snap = snapshot({"a1": ("a", 3), "b1": ("b", 0)})
    pod = web("p", spread(LABEL_ZONE))
    pod.pod.spec.node_selector[LABEL_ZONE] = "a"
    pod = PodInfo(pod.pod)
    # Zone b is not eligible, so zone a is the only domain: its own minimum, skew 1.
    assert "a1" in feasible(pod, snap)
    pod.pod.spec.topology_spread_constraints[0].node_affinity_policy = "Ignore"
    assert "a1" not in feasible(PodInfo(pod.pod), snap)


def test_schedule_anyway_only_scores():
    snap = snapshot({"a1": ("a", 3), "b1": ("b", 0), "x": ("", 0)})
    pod = web("p", spread(LABEL_ZONE, when="ScheduleAnyway"))
    assert ts.pre_filter(pod, snap) is SKIP
    state = ts.pre_score(pod, snap)
    raw = [ts.score(pod, snap.nodes[n], state) for n in ("a1", "b1", "x")]
    ts.normalize(raw)
    assert raw[1] == 100 and raw[0] < raw[1] and raw[2] == 0


def scores(pod: PodInfo, snap: Snapshot, names: list[str]) -> list[int]:
    state = ts.pre_score(pod, snap)
    raw = [ts.score(pod, snap.nodes[n], state) for n in names]
    ts.normalize(raw)
    return raw


def service_snapshot(layout: dict[str, tuple[str, int]]) -> Snapshot:
    """Nodes as in snapshot(), with a Service selecting app=web."""
    snap = snapshot(layout)
    snap.workloads = ListedWorkloads([make_service("web", {"app": "web"})])
    return snap


def test_default_constraints_count_the_pods_of_the_services_selecting_the_pod():
    snap = service_snapshot({"a1": ("a", 2), "a2": ("a", 0), "b1": ("b", 0)})
    pod = PodInfo(make_pod("p", labels={"app": "web"}))
    assert ts.pre_filter(pod, snap) is SKIP  # the defaults only score
    constraints, defaulted = ts.constraints_of(pod, snap)
    assert defaulted and [(c.topology_key, c.max_skew, c.when_unsatisfiable) for c in constraints] == [
        ("kubernetes.io/hostname", 3, "ScheduleAnyway"), ("topology.kubernetes.io/zone", 5, "ScheduleAnyway")]
    a1, a2, b1 = scores(pod, snap, ["a1", "a2", "b1"])
    assert b1 == 100 and a1 < a2 < b1  # a2 is empty but in the crowded zone


def test_default_constraints_score_nodes_without_a_zone_by_hostname():
    snap = service_snapshot({"a1": ("a", 3), "x": ("", 0), "y": ("", 3)})
    pod = PodInfo(make_pod("p", labels={"app": "web"}))
    a1, x, y = scores(pod, snap, ["a1", "x", "y"])
    assert x == 100 and y < x and a1 < x  # unlike declared constraints, which score such nodes 0


def test_no_service_or_controller_means_no_default_spreading():
    snap = snapshot({"a1": ("a", 2), "b1": ("b", 0)})
    assert ts.pre_score(PodInfo(make_pod("p", labels={"app": "web"})), snap) is SKIP
    assert ts.pre_score(PodInfo(make_pod("p", labels={"app": "other"})), service_snapshot({"a1": ("a", 1)})) is SKIP


def test_a_replica_set_owner_narrows_the_default_selector_to_its_pods():
    snap = service_snapshot({"n1": ("", 0), "n2": ("", 0)})
    rs = make_controller("ReplicaSet", "web-2", {"app": "web", "pod-template-hash": "2"})
    snap.workloads = ListedWorkloads([make_service("web", {"app": "web"})], [rs])
    for i in range(2):  # two pods of the same template on n2, the older app=web pods on n1
        snap.nodes["n2"].add_pod(PodInfo(make_pod(f"new-{i}", labels={"app": "web", "pod-template-hash": "2"},
                                                  node_name="n2")))
        snap.nodes["n1"].add_pod(PodInfo(make_pod(f"old-{i}", labels={"app": "web"}, node_name="n1")))
    pod = PodInfo(owned_by(make_pod("p", labels={"app": "web", "pod-template-hash": "2"}), rs))
    n1, n2 = scores(pod, snap, ["n1", "n2"])
    assert n1 == 100 and n2 < 100


def test_terminating_pods_do_not_count():
    snap = service_snapshot({"n1": ("", 0), "n2": ("", 0)})
    for i in range(3):
        going = make_pod(f"going-{i}", labels={"app": "web"}, node_name="n1")
        going.metadata.deletion_timestamp.seconds = 1
        snap.nodes["n1"].add_pod(PodInfo(going))
    snap.nodes["n2"].add_pod(PodInfo(make_pod("staying", labels={"app": "web"}, node_name="n2")))
    n1, n2 = scores(PodInfo(make_pod("p", labels={"app": "web"})), snap, ["n1", "n2"])
    assert n1 == 100 and n2 < 100


def test_weights_come_from_the_feasible_nodes():
    snap = snapshot({"a1": ("a", 1), "b1": ("b", 0), "c1": ("c", 0), "d1": ("d", 0)})
    pod = web("p", spread(LABEL_ZONE, when="ScheduleAnyway"))
    feasible = [snap.nodes["a1"], snap.nodes["b1"]]
    state = ts.pre_score(pod, snap, feasible)
    assert state.counts == [{"a": 1, "b": 0}]  # zones c and d hold no feasible node
    assert state.weights == [math.log(2 + 2)]
    assert ts.score(pod, snap.nodes["a1"], state) == round(math.log(4))  # 1 pod * weight + maxSkew - 1


def test_a_constraint_without_label_selector_selects_no_pod():
    snap = snapshot({"a1": ("a", 3), "b1": ("b", 0)})
    bare = pod_pb2.TopologySpreadConstraint(max_skew=1, topology_key=LABEL_ZONE, when_unsatisfiable="DoNotSchedule")
    assert feasible(web("p", bare), snap) == {"a1", "b1"}
    bare.match_label_keys.append("app")  # the pod's own app=web then selects
    assert feasible(web("q", bare), snap) == {"b1"}
