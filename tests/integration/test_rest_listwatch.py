"""List and watch as client-go's reflector and the official Python client use them over REST: pages with
remainingItemCount, an expired continue token (410 with a token to go on), resourceVersion with
resourceVersionMatch (Exact, NotOlderThan, a too large one), the checks of list options, and the watch-list
(sendInitialEvents: the state, then a bookmark annotated k8s.io/initial-events-end)."""

from __future__ import annotations

import http.client
import json
import subprocess
import threading

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.rest import ApiException

from tests.fixtures.pki import Pki
from tests.fixtures.rest import Http, RestServer, write_kubeconfig

NS = "default"


REST_ARGS = ["--bookmark-interval", "0.5"]  # the shared `rest` fixture's extra flags


@pytest.fixture(scope="module")
def core(rest: RestServer, pki: Pki, tmp_path_factory) -> k8s.CoreV1Api:
    path = write_kubeconfig(tmp_path_factory.mktemp("listwatch") / "config", pki, rest.url)
    c = k8s_config.new_client_from_config(config_file=str(path))
    yield k8s.CoreV1Api(c)
    c.close()


def _create(core: k8s.CoreV1Api, name: str, **labels: str) -> k8s.V1ConfigMap:
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name, labels=labels or None), data={"k": "v"})
    return core.create_namespaced_config_map(NS, body)


def _names(listed) -> list[str]:
    return [i.metadata.name for i in listed.items]


def _status(e: pytest.ExceptionInfo) -> dict:
    return json.loads(e.value.body)


def _compact(rest: RestServer, revision: int | str) -> None:
    subprocess.run(["etcdctl", "--endpoints", rest.apiserver.etcd.url, "compact", str(revision)], check=True,
                   capture_output=True)


def test_pages_count_what_remains_and_an_expired_token_goes_on(core: k8s.CoreV1Api, rest: RestServer) -> None:
    for n in range(5):
        _create(core, f"page-{n}", set="pages", odd=str(n % 2))
    first = core.list_namespaced_config_map(NS, label_selector="set=pages", limit=2)
    assert first.metadata.remaining_item_count is None  # counted only when nothing is filtered out
    whole = core.list_namespaced_config_map(NS, limit=2)
    assert _names(whole) == ["page-0", "page-1"] and whole.metadata.remaining_item_count == 3
    _create(core, "page-5", set="pages")
    _compact(rest, core.list_namespaced_config_map(NS).metadata.resource_version)
    with pytest.raises(ApiException) as expired:
        core.list_namespaced_config_map(NS, limit=2, _continue=whole.metadata._continue)
    status = _status(expired)
    assert (expired.value.status, status["reason"]) == (410, "Expired")
    assert status["message"].startswith("The provided continue parameter is too old to display a consistent list "
                                        "result. You can start a new list without the continue parameter, or use "
                                        "the continue token in this response")
    assert "details" not in status
    rest_of = core.list_namespaced_config_map(NS, limit=10, _continue=status["metadata"]["continue"])
    assert _names(rest_of) == ["page-2", "page-3", "page-4", "page-5"]  # from the most recent state


def test_resource_version_match(core: k8s.CoreV1Api, rest: RestServer) -> None:
    before = _create(core, "rvm-a").metadata.resource_version
    _create(core, "rvm-b")
    exact = core.list_namespaced_config_map(NS, resource_version=before, resource_version_match="Exact",
                                            field_selector="metadata.name!=x")
    assert exact.metadata.resource_version == before
    assert "rvm-a" in _names(exact) and "rvm-b" not in _names(exact)
    pinned = core.list_namespaced_config_map(NS, resource_version=before, limit=500)  # legacy: exact with a limit
    assert pinned.metadata.resource_version == before and "rvm-b" not in _names(pinned)
    anything = core.list_namespaced_config_map(NS, resource_version="0", limit=1)  # from the cache: no pages
    assert {"rvm-a", "rvm-b"} <= set(_names(anything)) and anything.metadata._continue is None
    newer = core.list_namespaced_config_map(NS, resource_version=before, resource_version_match="NotOlderThan")
    assert int(newer.metadata.resource_version) > int(before) and "rvm-b" in _names(newer)
    with pytest.raises(ApiException) as too_large:
        core.list_namespaced_config_map(NS, resource_version="99999999", resource_version_match="NotOlderThan")
    status = _status(too_large)
    assert (too_large.value.status, status["reason"]) == (504, "Timeout")
    assert status["message"].startswith("Timeout: Too large resource version: 99999999, current: ")
    assert status["details"]["causes"] == [{"reason": "ResourceVersionTooLarge",
                                            "message": "Too large resource version"}]
    _compact(rest, newer.metadata.resource_version)
    with pytest.raises(ApiException) as old:
        core.list_namespaced_config_map(NS, resource_version=before, resource_version_match="Exact")
    assert (old.value.status, _status(old)["message"]) == (410, "The resourceVersion for the provided list is too old.")


@pytest.mark.parametrize("options, message", [
    ({"resource_version_match": "Exact"},
     "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"),
    ({"resource_version_match": "Exact", "resource_version": "0"},
     'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
    ({"resource_version_match": "Newest", "resource_version": "1"},
     'resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""'),
    ({"watch": True, "resource_version_match": "NotOlderThan"},
     "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
     "provided"),
    ({"watch": True, "send_initial_events": True},
     "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"),
])
def test_list_options_are_checked(core: k8s.CoreV1Api, options: dict, message: str) -> None:
    with pytest.raises(ApiException) as invalid:
        core.list_namespaced_config_map(NS, _preload_content=False, **options)
    status = _status(invalid)
    assert (invalid.value.status, status["reason"]) == (422, "Invalid")
    assert status["message"] == f'ListOptions.meta.k8s.io "" is invalid: {message}'
    assert (status["details"]["group"], status["details"]["kind"]) == ("meta.k8s.io", "ListOptions")


def _watch_in_background(core: k8s.CoreV1Api, until, **options) -> tuple[list, threading.Event]:
    """Watches on a thread; each event's (type, name, annotations) is appended as it arrives, until `until`
    holds for one (or the timeout ends the watch), then the returned event is set."""
    seen: list[tuple[str, str, dict]] = []
    done = threading.Event()

    def consume() -> None:
        w = k8s_watch.Watch()
        for event in w.stream(core.list_namespaced_config_map, NS, timeout_seconds=10, **options):
            obj = event["object"]
            meta = obj["metadata"] if isinstance(obj, dict) else obj.metadata.to_dict()
            seen.append((event["type"], meta.get("name") or "", meta.get("annotations") or {}))
            if until(seen[-1]):
                w.stop()
        done.set()
    threading.Thread(target=consume, daemon=True).start()
    return seen, done


def _wait_for(condition, timeout: float = 10) -> None:
    pause = threading.Event()
    for _ in range(int(timeout * 10)):
        if condition():
            return
        pause.wait(0.1)
    raise TimeoutError("condition not met")


def _initial_end(event: tuple[str, str, dict]) -> bool:
    return event[2].get("k8s.io/initial-events-end") == "true"


def test_watch_list_sends_the_state_then_an_annotated_bookmark(core: k8s.CoreV1Api) -> None:
    _create(core, "wl-a", wl="yes")
    _create(core, "wl-b", wl="yes")
    events, done = _watch_in_background(core, lambda e: e[1] == "wl-c", label_selector="wl",
                                        send_initial_events=True, resource_version_match="NotOlderThan",
                                        allow_watch_bookmarks=True)
    _wait_for(lambda: any(_initial_end(e) for e in events[:]) or done.is_set())
    _create(core, "wl-c", wl="yes")
    assert done.wait(15), events
    assert events[:3] == [("ADDED", "wl-a", {}), ("ADDED", "wl-b", {}),
                          ("BOOKMARK", "", {"k8s.io/initial-events-end": "true"})]
    assert events[-1][:2] == ("ADDED", "wl-c")


def test_watch_without_initial_events_starts_now(core: k8s.CoreV1Api) -> None:
    _create(core, "now-a", now="yes")
    events, done = _watch_in_background(core, lambda e: e[1] == "now-b", label_selector="now",
                                        send_initial_events=False, resource_version_match="NotOlderThan",
                                        allow_watch_bookmarks=True)
    _wait_for(lambda: events[:] or done.is_set())  # a periodic bookmark: the watch is established
    _create(core, "now-b", now="yes")
    assert done.wait(15), events
    assert [e[:2] for e in events if e[0] != "BOOKMARK"] == [("ADDED", "now-b")]
    assert not any(_initial_end(e) for e in events)


def test_field_selectors_as_kube_apiserver_names_them(core: k8s.CoreV1Api) -> None:
    batch, apps = k8s.BatchV1Api(core.api_client), k8s.AppsV1Api(core.api_client)
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}
    batch.create_namespaced_job(NS, {"metadata": {"name": "fresh"}, "spec": {"template": template}})
    assert [j.metadata.name for j in batch.list_namespaced_job(NS, field_selector="status.successful=0").items] == \
        ["fresh"]
    assert batch.list_namespaced_job(NS, field_selector="status.successful=1").items == []
    with pytest.raises(ApiException) as unsupported:
        apps.list_namespaced_deployment(NS, field_selector="spec.replicas=1")
    status = _status(unsupported)
    assert (unsupported.value.status, status["message"]) == (400, "field label not supported: spec.replicas")


def test_watch_from_a_revision_not_reached_is_a_504(core: k8s.CoreV1Api) -> None:
    with pytest.raises(ApiException) as too_large:
        core.list_namespaced_config_map(NS, watch=True, resource_version="99999999", timeout_seconds=5,
                                        _preload_content=False)
    status = _status(too_large)
    assert (too_large.value.status, status["reason"]) == (504, "Timeout")
    assert status["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"


def test_deprecated_watch_paths_are_served(core: k8s.CoreV1Api, rest: RestServer, pki: Pki) -> None:
    """`/api/v1/watch/...`, which kube-apiserver still serves: a collection, and one object by its name."""
    _create(core, "old-path-a")
    _create(core, "old-path-b")
    admin = Http(rest, pki)
    for path, names in (("/api/v1/watch/namespaces/default/configmaps", {"old-path-a", "old-path-b"}),
                        ("/api/v1/watch/namespaces/default/configmaps/old-path-b", {"old-path-b"})):
        conn = http.client.HTTPSConnection("127.0.0.1", rest.port, context=admin.ctx, timeout=20)
        conn.request("GET", f"{path}?timeoutSeconds=1", headers={"Accept": "application/json"})
        resp = conn.getresponse()
        events = [json.loads(line) for line in resp.read().splitlines()]
        conn.close()
        assert resp.status == 200
        seen = {e["object"]["metadata"]["name"] for e in events if e["type"] == "ADDED"}
        assert seen & {"old-path-a", "old-path-b"} == names
