"""The scheduler's VolumeBinding plugin: PreFilter's refusals, node affinity of bound volumes,
WaitForFirstConsumer claims (a fitting volume on the node, or a provisioner) and PreBind's writes."""

from __future__ import annotations

import pytest

from control.client.informer import Store, key_of
from control.scheduler.algorithm import Algorithm, FitError
from control.scheduler.cache import Cache
from control.scheduler.filters import default_filters
from control.scheduler.framework import Profile
from control.scheduler.podinfo import PodInfo
from control.scheduler.scores import default_scores
from control.scheduler.testing import make_node, make_pod
from control.scheduler.volumebinding import VolumeBinding
from skiff.v1 import pod_pb2
from tests.fixtures.storage import pv, pvc, sc


def store(*objects) -> Store:
    s = Store({})
    for obj in objects:
        s._put(key_of(obj), obj)
    return s


def on_node(volume, node: str):
    volume.spec.node_affinity.required.node_selector_terms.add().match_expressions.add(
        key="kubernetes.io/hostname", operator="In", values=[node])
    return volume


def pod_with(*claims: str) -> PodInfo:
    pod = make_pod("p")
    for name in claims:
        pod.spec.volumes.add(name=name, persistent_volume_claim=pod_pb2.PersistentVolumeClaimVolumeSource(
            claim_name=name))
    return PodInfo(pod)


def schedule(vb: VolumeBinding, pod: PodInfo, *nodes: str) -> str:
    cache = Cache()
    for n in nodes:
        cache.add_node(make_node(n))
    algorithm = Algorithm(cache, Profile("default-scheduler", default_filters() + [vb.plugin()], default_scores()))
    return algorithm.schedule(pod).node_name


def fit_error(vb: VolumeBinding, pod: PodInfo, *nodes: str) -> str:
    try:
        schedule(vb, pod, *nodes)
    except FitError as e:
        return str(e)
    raise AssertionError("the pod fitted")


def bound(name: str, volume: str):
    claim = pvc(name, volume=volume)
    claim.metadata.annotations["pv.kubernetes.io/bind-completed"] = "yes"
    claim.status.phase = "Bound"
    return claim


def test_refusals_before_any_node() -> None:
    immediate = VolumeBinding(store(pvc("data", cls="fast")), store(), store(sc("fast")))
    assert fit_error(immediate, pod_with("data"), "a", "b") == \
        "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    missing = VolumeBinding(store(), store(), store())
    assert 'persistentvolumeclaim "data" not found' in fit_error(missing, pod_with("data"), "a")


def test_a_bound_volume_pins_the_pod_to_its_node() -> None:
    vb = VolumeBinding(store(bound("data", "v1")), store(on_node(pv("v1", phase="Bound"), "b")), store())
    assert schedule(vb, pod_with("data"), "a", "b", "c") == "b"
    assert fit_error(vb, pod_with("data"), "a", "c") == \
        "0/2 nodes are available: 2 node(s) had volume node affinity conflict."
    assert schedule(vb, PodInfo(make_pod("plain")), "a") == "a"


def test_wait_for_first_consumer_static_volumes_and_provisioning() -> None:
    local = sc("manual", "WaitForFirstConsumer", provisioner="kubernetes.io/no-provisioner")
    vb = VolumeBinding(store(pvc("data", cls="manual")), store(on_node(pv("v1", cls="manual"), "c")), store(local))
    pod = pod_with("data")
    assert schedule(vb, pod, "a", "b", "c") == "c"
    assert fit_error(vb, pod, "a", "b") == \
        "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind."
    cache = Cache()
    node = cache.add_node(make_node("c"))
    [write] = vb.bindings(pod, node)
    assert write.kind == "PersistentVolume" and write.spec.claim_ref.name == "data"
    assert write.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == "yes"
    assert not vb.all_bound(pod)

    dynamic = VolumeBinding(store(pvc("data", cls="local-path")), store(),
                            store(sc("local-path", "WaitForFirstConsumer", provisioner="rancher.io/local-path")))
    assert schedule(dynamic, pod, "a") == "a"
    [write] = dynamic.bindings(pod, cache.add_node(make_node("a")))
    assert write.kind == "PersistentVolumeClaim"
    assert write.metadata.annotations["volume.kubernetes.io/selected-node"] == "a"


def test_provisioning_only_where_the_class_allows_the_topology() -> None:
    zoned = sc("zoned", "WaitForFirstConsumer", provisioner="rancher.io/local-path")
    term = zoned.allowed_topologies.add()
    term.match_label_expressions.add(key="topology.kubernetes.io/zone", values=["east", "north"])
    vb = VolumeBinding(store(pvc("data", cls="zoned")), store(), store(zoned))
    cache = Cache()
    for name, zone in (("a", "west"), ("b", "east")):
        cache.add_node(make_node(name, labels={"topology.kubernetes.io/zone": zone}))
    algorithm = Algorithm(cache, Profile("default-scheduler", default_filters() + [vb.plugin()], default_scores()))
    assert algorithm.schedule(pod_with("data")).node_name == "b"
    west_only = Cache()
    west_only.add_node(make_node("a", labels={"topology.kubernetes.io/zone": "west"}))
    with pytest.raises(FitError, match="didn't find available persistent volumes to bind"):
        Algorithm(west_only, Profile("default-scheduler", default_filters() + [vb.plugin()],
                                     default_scores())).schedule(pod_with("data"))


def test_all_bound() -> None:
    vb = VolumeBinding(store(bound("data", "v1")), store(pv("v1", phase="Bound")), store())
    assert vb.all_bound(pod_with("data"))
    eph = make_pod("p")
    eph.spec.volumes.add(name="scratch", ephemeral=pod_pb2.EphemeralVolumeSource())
    assert not vb.all_bound(PodInfo(eph))  # its claim p-scratch does not exist yet


def test_a_read_write_once_pod_claim_is_used_by_one_pod_at_a_time() -> None:
    from control.scheduler.volumerestrictions import VolumeRestrictions

    only = pvc("solo", modes=("ReadWriteOncePod",))
    restrictions = VolumeRestrictions(store(only))
    cache = Cache()
    for n in ("a", "b"):
        cache.add_node(make_node(n))
    profile = Profile("default-scheduler", default_filters() + [restrictions.plugin()], default_scores())
    assert Algorithm(cache, profile).schedule(pod_with("solo")).node_name in ("a", "b")
    holder = pod_with("solo").pod
    holder.metadata.name, holder.spec.node_name = "holder", "a"
    cache.add_pod(holder)
    with pytest.raises(FitError) as e:
        Algorithm(cache, profile).schedule(pod_with("solo"))
    assert str(e.value) == ("0/2 nodes are available: 2 node has pod using PersistentVolumeClaim with the same name "
                            "and ReadWriteOncePod access mode.")
    shared = VolumeRestrictions(store(pvc("solo")))  # ReadWriteOnce: no such restriction
    profile = Profile("default-scheduler", default_filters() + [shared.plugin()], default_scores())
    assert Algorithm(cache, profile).schedule(pod_with("solo")).node_name in ("a", "b")
