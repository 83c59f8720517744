"""Pod requests as Kubernetes computes them, host ports, compiled constraints."""

from __future__ import annotations

from control.scheduler.podinfo import DEFAULT_MEMORY_REQUEST, PodInfo, Resources, host_ports, pod_requests
from control.scheduler.testing import make_pod
from skiff.v1 import pod_pb2


def _container(name: str, cpu: str = "", memory: str = "", restart_policy: str = "") -> pod_pb2.Container:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    return pod_pb2.Container(name=name, image="x", restart_policy=restart_policy,
                             resources=pod_pb2.ResourceRequirements(requests=requests))


def test_app_containers_are_summed():
    spec = pod_pb2.PodSpec(containers=[_container("a", "100m", "64Mi"), _container("b", "1", "1Gi")])
    r = pod_requests(spec)
    assert (r.milli_cpu, r.memory, r.pods) == (1100, 64 * 2**20 + 2**30, 1)


def test_init_containers_count_by_their_maximum():
    spec = pod_pb2.PodSpec(containers=[_container("a", "100m", "64Mi")],
                           init_containers=[_container("i1", "2", "10Mi"), _container("i2", "500m", "1Gi")])
    r = pod_requests(spec)
    assert r.milli_cpu == 2000  # the largest init step beats the app sum
    assert r.memory == 2**30


def test_sidecars_add_to_the_app_sum_and_to_later_init_steps():
    spec = pod_pb2.PodSpec(containers=[_container("app", "100m")],
                           init_containers=[_container("side", "200m", restart_policy="Always"),
                                            _container("init", "1")])
    # init step: 1 + sidecar 0.2 = 1.2; running: app 0.1 + sidecar 0.2 = 0.3
    assert pod_requests(spec).milli_cpu == 1200
    spec.init_containers[1].resources.requests["cpu"] = "50m"
    assert pod_requests(spec).milli_cpu == 300


def test_non_zero_requests_default_missing_values_for_scoring():
    spec = pod_pb2.PodSpec(containers=[_container("a", cpu="250m"), _container("b")])
    r = pod_requests(spec, non_zero=True)
    assert r.milli_cpu == 250 + 100
    assert r.memory == 2 * DEFAULT_MEMORY_REQUEST
    assert pod_requests(spec).memory == 0


def test_extended_and_ephemeral_resources():
    c = pod_pb2.Container(name="a", resources=pod_pb2.ResourceRequirements(
        requests={"example.com/gpu": "2", "ephemeral-storage": "1Gi"}))
    r = pod_requests(pod_pb2.PodSpec(containers=[c]))
    assert r.scalar == {"example.com/gpu": 2}
    assert r.ephemeral_storage == 2**30


def test_host_ports_default_ip_and_protocol_and_host_network():
    pod = make_pod("p", host_ports=[8080])
    assert host_ports(pod.spec) == {("0.0.0.0", "TCP", 8080)}
    spec = pod_pb2.PodSpec(host_network=True, containers=[pod_pb2.Container(
        name="a", ports=[pod_pb2.ContainerPort(container_port=53, protocol="UDP", host_ip="10.0.0.1")])])
    assert host_ports(spec) == {("10.0.0.1", "UDP", 53)}
    assert host_ports(make_pod("q").spec) == frozenset()


def test_resources_add_subtract_round_trip():
    r = Resources(100, 200, scalar={"x": 1})
    r.add(Resources(5, 6, pods=1, scalar={"x": 2, "y": 3}))
    r.subtract(Resources(5, 6, pods=1, scalar={"x": 2, "y": 3}))
    assert r == Resources(100, 200, scalar={"x": 1, "y": 0})


def test_pod_info_bound_copy():
    info = PodInfo(make_pod("p", owner_uid="rs1", cpu="1"))
    assert not info.terminating
    bound = info.bound_to("n1")
    assert bound.pod.spec.node_name == "n1" and info.pod.spec.node_name == ""
    assert bound.requests is info.requests and bound.key == "default/p"
