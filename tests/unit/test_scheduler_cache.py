"""The cache: incremental node state, assume / confirm / forget / expire, deleted nodes."""

from __future__ import annotations

import pytest

from control.client.selectors import parse_selector
from control.scheduler.cache import Cache
from control.scheduler.podinfo import PodInfo
from control.scheduler.testing import make_node, make_pod

WEB = parse_selector("app=web")


def test_bound_pods_add_up_on_their_node():
    cache = Cache()
    cache.add_node(make_node("n1"))
    cache.add_pod(make_pod("a", cpu="1", memory="1Gi", node_name="n1", labels={"app": "web"}))
    cache.add_pod(make_pod("b", cpu="500m", node_name="n1", labels={"app": "web"}))
    node = cache.snapshot.nodes["n1"]
    assert node.requested.milli_cpu == 1500 and node.requested.memory == 2**30 and node.requested.pods == 2
    assert node.count_matching("web", "default", WEB) == 2
    cache.remove_pod("default/a")
    assert node.requested.milli_cpu == 500 and node.requested.pods == 1
    assert node.count_matching("web", "default", WEB) == 1


def test_a_terminating_pod_no_longer_counts_as_matching():
    cache = Cache()
    cache.add_node(make_node("n1"))
    cache.add_pod(make_pod("a", node_name="n1", labels={"app": "web"}))
    node = cache.snapshot.nodes["n1"]
    assert node.count_matching("web", "default", WEB) == 1
    assert node.count_matching("web-other", "other", WEB) == 0
    deleting = make_pod("a", node_name="n1", labels={"app": "web"})
    deleting.metadata.deletion_timestamp.seconds = 1
    cache.update_pod(deleting)
    assert node.count_matching("web", "default", WEB) == 0
    assert node.requested.pods == 1  # it still holds its resources until it is gone


def test_update_replaces_the_old_version():
    cache = Cache()
    cache.add_node(make_node("n1"))
    cache.add_pod(make_pod("a", cpu="1", node_name="n1"))
    cache.update_pod(make_pod("a", cpu="2", node_name="n1"))
    assert cache.snapshot.nodes["n1"].requested.milli_cpu == 2000
    assert cache.pod_count() == 1


def test_assume_then_confirm_on_another_node():
    cache = Cache()
    cache.add_node(make_node("n1"))
    cache.add_node(make_node("n2"))
    info = PodInfo(make_pod("a", cpu="1"))
    cache.assume_pod(info, "n1")
    assert cache.is_assumed("default/a")
    assert cache.snapshot.nodes["n1"].requested.milli_cpu == 1000
    with pytest.raises(KeyError):
        cache.assume_pod(info, "n2")
    cache.add_pod(make_pod("a", cpu="1", node_name="n2"))  # someone else bound it
    assert not cache.is_assumed("default/a")
    assert cache.snapshot.nodes["n1"].requested.milli_cpu == 0
    assert cache.snapshot.nodes["n2"].requested.milli_cpu == 1000
    cache.forget_pod("default/a")  # a confirmed pod is not forgotten
    assert cache.pod_node("default/a") == "n2"


def test_forget_undoes_assume():
    cache = Cache()
    cache.add_node(make_node("n1"))
    cache.assume_pod(PodInfo(make_pod("a", cpu="1", host_ports=[80])), "n1")
    cache.forget_pod("default/a")
    node = cache.snapshot.nodes["n1"]
    assert node.requested.milli_cpu == 0 and not node.used_ports and cache.pod_count() == 0


def test_assumed_pods_expire_only_after_their_binding_finished():
    cache = Cache(assumed_ttl=30)
    cache.add_node(make_node("n1"))
    cache.assume_pod(PodInfo(make_pod("a")), "n1")
    assert cache.cleanup_expired(now=1e12) == []  # binding still in flight
    cache.finish_binding("default/a", now=100)
    assert cache.cleanup_expired(now=120) == []
    assert cache.cleanup_expired(now=131) == ["default/a"]
    assert cache.snapshot.nodes["n1"].requested.pods == 0


def test_deleted_node_keeps_its_pods_until_they_go():
    cache = Cache()
    cache.add_node(make_node("n1"))
    cache.add_pod(make_pod("a", cpu="1", node_name="n1"))
    cache.remove_node("n1")
    assert cache.node_names() == [] and cache.node_count() == 0
    cache.add_node(make_node("n1"))  # it comes back: its pod still counts
    assert cache.snapshot.nodes["n1"].requested.milli_cpu == 1000
    cache.remove_node("n1")
    cache.remove_pod("default/a")
    assert cache.pod_count() == 0


def test_pods_may_arrive_before_their_node():
    cache = Cache()
    cache.add_pod(make_pod("a", cpu="1", node_name="late"))
    assert cache.node_names() == []
    cache.add_node(make_node("late"))
    assert cache.node_names() == ["late"]
    assert cache.snapshot.nodes["late"].requested.milli_cpu == 1000


def test_node_update_changes_allocatable_but_keeps_pods():
    cache = Cache()
    cache.add_node(make_node("n1", cpu="2"))
    cache.add_pod(make_pod("a", cpu="1", node_name="n1"))
    cache.update_node(make_node("n1", cpu="8", unschedulable=True))
    node = cache.snapshot.nodes["n1"]
    assert node.allocatable.milli_cpu == 8000 and node.unschedulable and node.requested.milli_cpu == 1000
