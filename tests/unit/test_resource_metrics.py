"""The resource metrics store (rates over the window between two scrapes), its spelling of quantities
and durations, and who may read metrics.k8s.io by default."""

from __future__ import annotations

from control.apiserver.auth import bootstrap
from control.apiserver.metricsapi import cpu_text, duration_text, memory_text
from control.apiserver.resourcemetrics import MetricsStore, Sample, rate
from skiff.v1 import node_agent_pb2 as na

S = 10**9


def summary(at_s: float, node_cpu_s: float, containers: list[tuple[str, str, float, int]]) -> na.StatsSummary:
    """containers: (pod, container id, cumulative cpu seconds, memory bytes)."""
    at = int(at_s * S)
    pods: dict[str, na.PodStats] = {}
    for pod, cid, cpu, memory in containers:
        p = pods.setdefault(pod, na.PodStats(namespace="default", name=pod))
        p.containers.add(name=f"c-{pod}", id=cid, cpu_usage_core_nano_seconds=int(cpu * S), cpu_timestamp_ns=at,
                         memory_working_set_bytes=memory)
    return na.StatsSummary(node_name="n1", cpu_usage_core_nano_seconds=int(node_cpu_s * S), cpu_timestamp_ns=at,
                           memory_working_set_bytes=2**30, pods=list(pods.values()))


def test_rate_needs_two_ordered_samples():
    assert rate(None, Sample(5, 10)) is None
    assert rate(Sample(5, 10), Sample(4, 20)) is None  # counter went back: a new container
    assert rate(Sample(0, 0), Sample(S // 2, S)) == (500_000_000, 1.0)


def test_second_scrape_gives_rates_over_the_window():
    store = MetricsStore()
    store.add(summary(100, 50, [("web", "a", 10, 1000)]))
    assert not store.nodes and not store.pods
    store.add(summary(115, 53, [("web", "a", 13.75, 2000)]))
    node = store.nodes["n1"]
    assert (node.cpu_nano_cores, node.window_s, node.memory_bytes) == (200_000_000, 15.0, 2**30)
    pod = store.pods[("default", "web")]
    assert (pod.containers["c-web"].cpu_nano_cores, pod.containers["c-web"].memory_bytes) == (250_000_000, 2000)
    assert pod.window_s == 15.0 and pod.timestamp_ns == 115 * S


def test_restarted_container_and_gone_pods():
    store = MetricsStore()
    store.add(summary(100, 50, [("web", "a", 10, 1), ("db", "b", 1, 1)]))
    store.add(summary(115, 53, [("web", "a2", 0.5, 1), ("db", "b", 2, 1)]))
    assert ("default", "web") not in store.pods  # a new container id: no window yet
    assert ("default", "db") in store.pods
    store.add(summary(130, 56, [("web", "a2", 2, 1)]))
    assert ("default", "web") in store.pods and ("default", "db") not in store.pods
    store.forget("n1")
    assert not store.nodes and not store.pods and not store.known_nodes()


def test_quantities_and_windows_are_spelled_as_kubernetes_does():
    assert [cpu_text(n) for n in (250_000_000, 10**9, 123_456, 0)] == ["250m", "1", "123456n", "0"]
    assert [memory_text(b) for b in (64 * 2**20, 65536000, 1000)] == ["64Mi", "64000Ki", "1k"]
    assert [duration_text(s) for s in (15.0, 15.25, 60.5, 0.3)] == ["15s", "15.25s", "1m0.5s", "300ms"]


def test_view_edit_admin_and_the_reader_role_read_resource_metrics():
    roles = {r.metadata.name: r for r in bootstrap.cluster_roles()}
    for name in ("view", "edit", "admin", bootstrap.METRICS_READER):
        rules = [r for r in roles[name].rules if "metrics.k8s.io" in r.api_groups]
        assert rules and set(rules[0].resources) == {"pods", "nodes"} and {"get", "list"} <= set(rules[0].verbs)
