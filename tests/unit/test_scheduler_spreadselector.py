"""The default topology spread selector: Services selecting the pod, plus its ReplicaSet or StatefulSet."""

from __future__ import annotations

from control.scheduler.spreadselector import NoWorkloads, default_selector
from control.scheduler.testing import ListedWorkloads, make_controller, make_pod, make_service, owned_by


def test_selectors_of_the_services_selecting_the_pod_are_merged():
    pod = make_pod("p", labels={"app": "web", "tier": "front", "rev": "2"})
    workloads = ListedWorkloads([make_service("web", {"app": "web"}), make_service("front", {"tier": "front"}),
                                 make_service("db", {"app": "db"}), make_service("headless-no-selector", {}),
                                 make_service("elsewhere", {"app": "web"}, namespace="other")])
    assert str(default_selector(pod, workloads)) == "app=web,tier=front"


def test_a_replica_set_or_stateful_set_owner_adds_its_selector():
    for kind in ("ReplicaSet", "StatefulSet"):
        owner = make_controller(kind, "web-1", {"app": "web", "pod-template-hash": "abc"})
        pod = owned_by(make_pod("p", labels={"app": "web", "pod-template-hash": "abc"}), owner)
        selector = default_selector(pod, ListedWorkloads([make_service("web", {"app": "web"})], [owner]))
        assert str(selector) == "app=web,app=web,pod-template-hash=abc"
        assert selector.matches({"app": "web", "pod-template-hash": "abc"})
        assert not selector.matches({"app": "web", "pod-template-hash": "def"})


def test_other_owners_and_missing_objects_add_nothing():
    job = make_controller("Job", "batch", {"job-name": "batch"})
    pod = owned_by(make_pod("p", labels={"job-name": "batch"}), job)
    assert default_selector(pod, ListedWorkloads(controllers=[job])).empty
    gone = make_controller("ReplicaSet", "gone", {"app": "web"})
    orphan = owned_by(make_pod("q", labels={"app": "web"}), gone)
    assert default_selector(orphan, ListedWorkloads()).empty
    assert default_selector(make_pod("bare", labels={"app": "web"}), NoWorkloads()).empty
