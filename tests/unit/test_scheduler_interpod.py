"""Inter-pod affinity and anti-affinity: required terms filter, preferred terms score."""

from __future__ import annotations

from control.scheduler import interpod
from control.scheduler.cache import Cache
from control.scheduler.framework import SKIP
from control.scheduler.podinfo import PodInfo
from control.scheduler.testing import make_node, make_pod
from skiff.v1 import core_pb2, meta_pb2, pod_pb2

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def term(labels: dict[str, str], key: str = HOST, namespaces=(), ns_selector=None) -> pod_pb2.PodAffinityTerm:
    t = pod_pb2.PodAffinityTerm(label_selector=meta_pb2.LabelSelector(match_labels=labels),
                                topology_key=key, namespaces=namespaces)
    if ns_selector is not None:
        t.namespace_selector.CopyFrom(meta_pb2.LabelSelector(match_labels=ns_selector))
    return t


def affinity(*terms, anti=False, preferred=False, weight=10) -> pod_pb2.Affinity:
    kind = pod_pb2.PodAntiAffinity if anti else pod_pb2.PodAffinity
    if preferred:
        pa = kind(preferred_during_scheduling_ignored_during_execution=[
            pod_pb2.WeightedPodAffinityTerm(weight=weight, pod_affinity_term=t) for t in terms])
    else:
        pa = kind(required_during_scheduling_ignored_during_execution=terms)
    return pod_pb2.Affinity(pod_anti_affinity=pa) if anti else pod_pb2.Affinity(pod_affinity=pa)


def cluster(*pods_on_nodes, zones=None) -> Cache:
    """Nodes n1..n3 (zones a, a, b unless given), pods as (pod, node) pairs."""
    cache = Cache()
    zones = zones or {"n1": "a", "n2": "a", "n3": "b"}
    for name, zone in zones.items():
        cache.add_node(make_node(name, labels={ZONE: zone}))
    for p, node in pods_on_nodes:
        p.spec.node_name = node
        cache.add_pod(p)
    return cache


def feasible(pod: pod_pb2.Pod, cache: Cache) -> dict[str, tuple[str, ...]]:
    info = PodInfo(pod)
    state = interpod.pre_filter(info, cache.snapshot)
    if state is SKIP:
        return {n: () for n in cache.snapshot.nodes}
    return {n: interpod.filter_affinity(info, node, state).reasons for n, node in cache.snapshot.nodes.items()}


def test_skipped_without_any_affinity():
    cache = cluster((make_pod("web", labels={"app": "web"}), "n1"))
    assert interpod.pre_filter(PodInfo(make_pod("p")), cache.snapshot) is SKIP


def test_required_affinity_on_hostname():
    cache = cluster((make_pod("db", labels={"app": "db"}), "n2"))
    result = feasible(make_pod("p", affinity=affinity(term({"app": "db"}))), cache)
    assert result["n2"] == ()
    assert result["n1"] == result["n3"] == ("node(s) didn't match pod affinity rules",)


def test_hostname_topology_falls_back_to_node_name_without_the_label():
    cache = Cache()
    for name in ("n1", "n2"):
        node = make_node(name)
        del node.metadata.labels[HOST]
        cache.add_node(node)
    db = make_pod("db", labels={"app": "db"}, node_name="n1")
    cache.add_pod(db)
    result = feasible(make_pod("p", affinity=affinity(term({"app": "db"}))), cache)
    assert result["n1"] == () and result["n2"] != ()


def test_required_affinity_on_zone():
    cache = cluster((make_pod("db", labels={"app": "db"}), "n1"))
    result = feasible(make_pod("p", affinity=affinity(term({"app": "db"}, ZONE))), cache)
    assert result["n1"] == result["n2"] == ()
    assert result["n3"] == ("node(s) didn't match pod affinity rules",)


def test_first_pod_of_a_self_affine_group_goes_anywhere():
    cache = cluster()
    p = make_pod("p", labels={"app": "db"}, affinity=affinity(term({"app": "db"})))
    assert all(r == () for r in feasible(p, cache).values())
    other = make_pod("q", labels={"app": "web"}, affinity=affinity(term({"app": "db"})))
    assert all(r != () for r in feasible(other, cache).values())


def test_affinity_respects_namespaces():
    cache = cluster((make_pod("db", namespace="other", labels={"app": "db"}), "n1"))
    same_ns = make_pod("p", affinity=affinity(term({"app": "db"})))
    assert feasible(same_ns, cache)["n1"] != ()
    listed = make_pod("p", affinity=affinity(term({"app": "db"}, namespaces=["other"])))
    assert feasible(listed, cache)["n1"] == ()
    cache.set_namespace(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name="other", labels={"team": "x"})))
    selected = make_pod("p", affinity=affinity(term({"app": "db"}, ns_selector={"team": "x"})))
    assert feasible(selected, cache)["n1"] == ()


def test_required_anti_affinity():
    cache = cluster((make_pod("web1", labels={"app": "web"}), "n1"))
    p = make_pod("p", labels={"app": "web"}, affinity=affinity(term({"app": "web"}), anti=True))
    result = feasible(p, cache)
    assert result["n1"] == ("node(s) didn't match pod anti-affinity rules",)
    assert result["n2"] == result["n3"] == ()
    zonal = make_pod("p", affinity=affinity(term({"app": "web"}, ZONE), anti=True))
    assert feasible(zonal, cache) == {"n1": ("node(s) didn't match pod anti-affinity rules",),
                                      "n2": ("node(s) didn't match pod anti-affinity rules",), "n3": ()}


def test_existing_pods_anti_affinity_is_symmetric():
    loner = make_pod("loner", labels={"app": "loner"}, affinity=affinity(term({"app": "web"}), anti=True))
    cache = cluster((loner, "n1"))
    result = feasible(make_pod("p", labels={"app": "web"}), cache)
    assert result["n1"] == ("node(s) didn't satisfy existing pods anti-affinity rules",)
    assert result["n2"] == ()
    assert feasible(make_pod("q", labels={"app": "db"}), cache)["n1"] == ()


def test_removing_the_pod_lifts_anti_affinity():
    loner = make_pod("loner", affinity=affinity(term({"app": "web"}), anti=True))
    cache = cluster((loner, "n1"))
    assert cache.snapshot.anti_affinity_nodes == {"n1"}
    cache.remove_pod("default/loner")
    assert cache.snapshot.anti_affinity_nodes == set()
    assert interpod.pre_filter(PodInfo(make_pod("p", labels={"app": "web"})), cache.snapshot) is SKIP


def scores(pod: pod_pb2.Pod, cache: Cache) -> dict[str, int]:
    info = PodInfo(pod)
    state = interpod.pre_score(info, cache.snapshot)
    if state is SKIP:
        return {}
    names = list(cache.snapshot.nodes)
    raw = [interpod.score(info, cache.snapshot.nodes[n], state) for n in names]
    interpod.normalize(raw)
    return dict(zip(names, raw, strict=True))


def test_preferred_affinity_and_anti_affinity_scores():
    cache = cluster((make_pod("db", labels={"app": "db"}), "n1"), (make_pod("web", labels={"app": "web"}), "n3"))
    assert scores(make_pod("p"), cache) == {}
    likes_db = make_pod("p", affinity=affinity(term({"app": "db"}, ZONE), preferred=True))
    assert scores(likes_db, cache) == {"n1": 100, "n2": 100, "n3": 0}
    avoids_web = make_pod("p", affinity=affinity(term({"app": "web"}), anti=True, preferred=True))
    assert scores(avoids_web, cache) == {"n1": 100, "n2": 100, "n3": 0}


def test_existing_pods_preferences_count_too():
    fan = make_pod("fan", affinity=affinity(term({"app": "star"}), preferred=True, weight=5))
    cache = cluster((fan, "n2"))
    assert scores(make_pod("star", labels={"app": "star"}), cache) == {"n1": 0, "n2": 100, "n3": 0}
