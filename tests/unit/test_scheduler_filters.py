"""Each filter plugin on its own: pass and fail cases, with kube-scheduler's reasons."""

from __future__ import annotations

import pytest

from control.scheduler import filters
from control.scheduler.framework import SKIP, Code, NodeInfo, Snapshot
from control.scheduler.podinfo import PodInfo
from control.scheduler.testing import make_node, make_pod
from skiff.v1 import core_pb2, pod_pb2


def node_info(*pods, **kw) -> NodeInfo:
    info = NodeInfo(make_node(kw.pop("name", "n1"), **kw))
    for p in pods:
        info.add_pod(PodInfo(p))
    return info


def pod(**kw) -> PodInfo:
    return PodInfo(make_pod(kw.pop("name", "p"), **kw))


def tol(key="", operator="", value="", effect="") -> pod_pb2.Toleration:
    return pod_pb2.Toleration(key=key, operator=operator, value=value, effect=effect)


def required(*terms: core_pb2.NodeSelectorTerm) -> pod_pb2.Affinity:
    return pod_pb2.Affinity(node_affinity=pod_pb2.NodeAffinity(
        required_during_scheduling_ignored_during_execution=core_pb2.NodeSelector(node_selector_terms=terms)))


def expr(key, op, *values) -> core_pb2.NodeSelectorTerm:
    return core_pb2.NodeSelectorTerm(match_expressions=[
        core_pb2.NodeSelectorRequirement(key=key, operator=op, values=values)])


def test_node_ready():
    assert filters.node_ready(pod(), node_info()).ok
    status = filters.node_ready(pod(), node_info(ready="False"))
    assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert status.reasons == ("node(s) were not ready",)
    assert not filters.node_ready(pod(), node_info(ready="Unknown")).ok
    tolerant = pod(tolerations=[tol("node.kubernetes.io/not-ready", "Exists", effect="NoSchedule")])
    assert filters.node_ready(tolerant, node_info(ready="False")).ok
    assert not filters.node_ready(tolerant, node_info(ready="Unknown")).ok  # that is "unreachable"


def test_node_unschedulable():
    assert filters.node_unschedulable(pod(), node_info()).ok
    status = filters.node_unschedulable(pod(), node_info(unschedulable=True))
    assert status.reasons == ("node(s) were unschedulable",)
    tolerant = pod(tolerations=[tol("node.kubernetes.io/unschedulable", "Exists", effect="NoSchedule")])
    assert filters.node_unschedulable(tolerant, node_info(unschedulable=True)).ok


@pytest.mark.parametrize("toleration, ok", [
    (None, False),
    (tol("dedicated", "Equal", "gpu", "NoSchedule"), True),
    (tol("dedicated", "", "gpu", ""), True),  # empty effect tolerates every effect
    (tol("dedicated", "Equal", "cpu", "NoSchedule"), False),
    (tol("dedicated", "Exists"), True),
    (tol("", "Exists"), True),  # empty key with Exists tolerates everything
    (tol("dedicated", "Equal", "gpu", "NoExecute"), False),
])
def test_taint_toleration(toleration, ok):
    p = pod(tolerations=[toleration] if toleration else [])
    status = filters.taint_toleration(p, node_info(taints=[("dedicated", "gpu", "NoSchedule")]))
    assert status.ok is ok
    if not ok:
        assert status.reasons == ("node(s) had untolerated taint {dedicated: gpu}",)


def test_prefer_no_schedule_taints_do_not_filter():
    assert filters.taint_toleration(pod(), node_info(taints=[("a", "b", "PreferNoSchedule")])).ok
    assert not filters.taint_toleration(pod(), node_info(taints=[("a", "", "NoExecute")])).ok


def test_node_selector():
    node = node_info(labels={"disk": "ssd"})
    assert filters.node_affinity(pod(node_selector={"disk": "ssd"}), node).ok
    status = filters.node_affinity(pod(node_selector={"disk": "hdd"}), node)
    assert status.reasons == ("node(s) didn't match Pod's node affinity/selector",)
    assert filters.node_affinity_pre_filter(pod(), Snapshot()) is SKIP


@pytest.mark.parametrize("term, ok", [
    (expr("zone", "In", "a", "b"), True),
    (expr("zone", "In", "c"), False),
    (expr("zone", "NotIn", "c"), True),
    (expr("zone", "NotIn", "a"), False),
    (expr("zone", "Exists"), True),
    (expr("gpu", "Exists"), False),
    (expr("gpu", "DoesNotExist"), True),
    (expr("zone", "DoesNotExist"), False),
    (expr("cores", "Gt", "8"), True),
    (expr("cores", "Gt", "16"), False),
    (expr("cores", "Lt", "17"), True),
    (expr("cores", "Lt", "16"), False),
    (expr("zone", "Gt", "1"), False),  # not an integer: no match
    (core_pb2.NodeSelectorTerm(match_fields=[core_pb2.NodeSelectorRequirement(
        key="metadata.name", operator="In", values=["n1"])]), True),
    (core_pb2.NodeSelectorTerm(match_fields=[core_pb2.NodeSelectorRequirement(
        key="metadata.name", operator="NotIn", values=["n1"])]), False),
    (core_pb2.NodeSelectorTerm(), False),  # an empty term matches nothing
])
def test_required_node_affinity_operators(term, ok):
    node = node_info(labels={"zone": "a", "cores": "16"})
    assert filters.node_affinity(pod(affinity=required(term)), node).ok is ok


def test_node_affinity_terms_are_ored_and_selector_anded():
    node = node_info(labels={"zone": "a"})
    p = pod(affinity=required(expr("zone", "In", "x"), expr("zone", "In", "a")))
    assert filters.node_affinity(p, node).ok
    p = pod(affinity=required(expr("zone", "In", "a")), node_selector={"disk": "ssd"})
    assert not filters.node_affinity(p, node).ok


def test_node_ports():
    node = node_info(make_pod("other", host_ports=[80]))
    assert filters.node_ports_pre_filter(pod(), Snapshot()) is SKIP
    status = filters.node_ports(pod(host_ports=[80]), node)
    assert status.code == Code.UNSCHEDULABLE
    assert status.reasons == ("node(s) didn't have free ports for the requested pod ports",)
    assert filters.node_ports(pod(host_ports=[81]), node).ok


def test_ports_conflict_by_address_and_protocol():
    used = {("10.0.0.1", "TCP", 80)}
    assert filters.ports_conflict(("0.0.0.0", "TCP", 80), used)
    assert filters.ports_conflict(("10.0.0.1", "TCP", 80), used)
    assert not filters.ports_conflict(("10.0.0.2", "TCP", 80), used)
    assert not filters.ports_conflict(("10.0.0.1", "UDP", 80), used)
    assert filters.ports_conflict(("10.0.0.2", "TCP", 80), {("0.0.0.0", "TCP", 80)})


def test_resources_fit():
    node = node_info(make_pod("a", cpu="3", memory="1Gi"), cpu="4", memory="2Gi")
    assert filters.node_resources_fit(pod(cpu="1", memory="1Gi"), node).ok
    status = filters.node_resources_fit(pod(cpu="1500m", memory="2Gi"), node)
    assert status.code == Code.UNSCHEDULABLE
    assert status.reasons == ("Insufficient cpu", "Insufficient memory")
    assert filters.node_resources_fit(pod(), node).ok  # requests nothing


def test_too_many_pods():
    node = node_info(make_pod("a"), pods="1")
    assert filters.node_resources_fit(pod(), node).reasons == ("Too many pods",)


def test_extended_resources():
    node = node_info(extra={"example.com/gpu": "1"})
    p = pod()
    p.requests.scalar["example.com/gpu"] = 2
    assert filters.node_resources_fit(p, node).reasons == ("Insufficient example.com/gpu",)
    p.requests.scalar["example.com/gpu"] = 1
    assert filters.node_resources_fit(p, node).ok


def test_removing_a_pod_frees_its_resources_and_ports():
    node = node_info(make_pod("a", cpu="4", host_ports=[80]), cpu="4")
    assert not filters.node_resources_fit(pod(cpu="1"), node).ok
    node.remove_pod("default/a")
    assert filters.node_resources_fit(pod(cpu="1"), node).ok
    assert filters.node_ports(pod(host_ports=[80]), node).ok
