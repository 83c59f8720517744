"""The scheduling decision over a cache: failure messages, node sampling, assume."""

from __future__ import annotations

import random

import pytest

from control.scheduler.algorithm import (
    Algorithm,
    FitError,
    NoNodesAvailableError,
    fit_error_message,
    num_feasible_nodes_to_find,
)
from control.scheduler.cache import Cache
from control.scheduler.filters import default_filters
from control.scheduler.framework import Profile, Status, unschedulable
from control.scheduler.podinfo import PodInfo
from control.scheduler.scores import default_scores
from control.scheduler.testing import make_node, make_pod


def algorithm(cache: Cache, percentage: int = 0) -> Algorithm:
    return Algorithm(cache, Profile("default-scheduler", default_filters(), default_scores()), percentage,
                     random.Random(1))


def test_fit_error_message_counts_and_sorts_like_kube_scheduler():
    statuses = {
        "n1": unschedulable("NodeResourcesFit", "Insufficient cpu"),
        "n2": unschedulable("NodeResourcesFit", "Insufficient cpu", "Insufficient memory"),
        "n3": unschedulable("NodeAffinity", "node(s) didn't match Pod's node affinity/selector"),
    }
    assert fit_error_message(3, statuses) == (
        "0/3 nodes are available: 1 Insufficient memory, "
        "1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.")


def test_fit_error_message_with_taints():
    statuses = {"a": unschedulable("TaintToleration", "node(s) had untolerated taint {node-role: master}"),
                "b": unschedulable("NodeUnschedulable", "node(s) were unschedulable")}
    assert fit_error_message(2, statuses) == (
        "0/2 nodes are available: 1 node(s) had untolerated taint {node-role: master}, "
        "1 node(s) were unschedulable.")
    assert fit_error_message(0, {}) == "0/0 nodes are available:"
    assert isinstance(Status(), Status)


@pytest.mark.parametrize("nodes, percentage, expected", [
    (50, 0, 50), (99, 0, 99), (100, 0, 100), (500, 0, 230), (1000, 0, 420),
    (5000, 0, 500), (6000, 0, 300), (10000, 0, 500), (150, 10, 100), (5000, 30, 1500), (5000, 100, 5000),
])
def test_num_feasible_nodes_to_find(nodes, percentage, expected):
    assert num_feasible_nodes_to_find(nodes, percentage) == expected


def test_no_nodes():
    with pytest.raises(NoNodesAvailableError, match="no nodes available to schedule pods"):
        algorithm(Cache()).schedule(PodInfo(make_pod("p")))


def test_unschedulable_pod_reports_every_node():
    cache = Cache()
    cache.add_node(make_node("small", cpu="1"))
    cache.add_node(make_node("tainted", taints=[("dedicated", "db", "NoSchedule")]))
    cache.add_node(make_node("cordoned", unschedulable=True))
    with pytest.raises(FitError) as e:
        algorithm(cache).schedule(PodInfo(make_pod("p", cpu="2")))
    assert str(e.value) == ("0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
                            "{dedicated: db}, 1 node(s) were unschedulable.")
    assert e.value.plugins == {"NodeResourcesFit", "TaintToleration", "NodeUnschedulable"}


def test_picks_the_least_allocated_node_and_assumed_pods_count():
    cache = Cache()
    cache.add_node(make_node("n1", cpu="4", memory="8Gi"))
    cache.add_node(make_node("n2", cpu="4", memory="8Gi"))
    busy = make_pod("busy", cpu="3", memory="6Gi", node_name="n1")
    cache.add_pod(busy)
    algo = algorithm(cache)
    first = PodInfo(make_pod("a", cpu="2", memory="4Gi"))
    assert algo.schedule(first).node_name == "n2"
    cache.assume_pod(first, "n2")
    # n2 now has 2 cpu left, n1 one: a 2-cpu pod only fits n2 again... and then nowhere.
    second = PodInfo(make_pod("b", cpu="2", memory="1Gi"))
    assert algo.schedule(second).node_name == "n2"
    cache.assume_pod(second, "n2")
    with pytest.raises(FitError, match="2 Insufficient cpu"):
        algo.schedule(PodInfo(make_pod("c", cpu="2")))
    cache.forget_pod("default/b")
    assert algo.schedule(PodInfo(make_pod("c", cpu="2"))).node_name == "n2"


def test_replicas_spread_over_nodes():
    cache = Cache()
    for i in range(3):
        cache.add_node(make_node(f"n{i}"))
    algo = algorithm(cache)
    placed = []
    for i in range(6):
        info = PodInfo(make_pod(f"web-{i}", owner_uid="rs1"))
        node = algo.schedule(info).node_name
        cache.assume_pod(info, node)
        placed.append(node)
    assert sorted(placed) == ["n0", "n0", "n1", "n1", "n2", "n2"]


def test_only_a_sample_of_large_clusters_is_evaluated_round_robin():
    cache = Cache()
    for i in range(1000):
        cache.add_node(make_node(f"n{i:04}"))
    algo = algorithm(cache)
    result = algo.schedule(PodInfo(make_pod("p")))
    assert result.feasible_nodes == 420 and result.evaluated_nodes == 420
    assert algo.next_start_node_index == 420
    algo.schedule(PodInfo(make_pod("q")))
    assert algo.next_start_node_index == 840


def test_infeasible_nodes_do_not_count_towards_the_sample():
    cache = Cache()
    for i in range(200):
        cache.add_node(make_node(f"n{i:03}", cpu="1" if i % 2 else "8"))
    result = algorithm(cache, percentage=10).schedule(PodInfo(make_pod("p", cpu="4")))
    assert result.feasible_nodes == 100 and result.evaluated_nodes == 199


def test_memoized_scores_follow_node_changes():
    cache = Cache()
    cache.add_node(make_node("n1", cpu="4", memory="4Gi"))
    cache.add_node(make_node("n2", cpu="4", memory="4Gi"))
    algo = algorithm(cache)
    placed = []
    for i in range(4):  # identical pods: memoized scores must see each assumed pod
        info = PodInfo(make_pod(f"p{i}", cpu="1", memory="1Gi"))
        node = algo.schedule(info).node_name
        cache.assume_pod(info, node)
        placed.append(node)
    assert sorted(placed) == ["n1", "n1", "n2", "n2"]
    assert all(len(n.score_memo) <= 1 for n in cache.node_infos())
