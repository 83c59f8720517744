"""Validation, defaults and selectors as the real apiserver (with a real etcd) applies them.

Checks the wiring end to end: violations come back as INVALID_ARGUMENT with
BadRequest field violations and nothing is written; defaults are stored;
label and field selectors filter lists.
"""

from __future__ import annotations

import copy

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from control.client.convert import from_dict
from tests.fixtures.examples import documents, served_files

DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"namespace": "default"},
          "spec": {"selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}}}


def deployment(name: str, **changes) -> dict:
    obj = copy.deepcopy(DEPLOY)
    obj["metadata"]["name"] = name
    obj["spec"].update(changes)
    return obj


def violations(err: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    out = []
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                req = error_details_pb2.BadRequest()
                if detail.Unpack(req):
                    out.extend((v.field, v.description) for v in req.field_violations)
    return out


async def expect_invalid(call, field: str, fragment: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    got = violations(e.value)
    assert any(f == field and fragment in d for f, d in got), got


async def test_invalid_create_is_rejected_and_not_written(client) -> None:
    bad = deployment("mismatch", selector={"matchLabels": {"app": "db"}})
    await expect_invalid(client.create(from_dict(bad)), "spec.template.metadata.labels",
                         "`selector` does not match template `labels`")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.get("deployments", "mismatch", "default")
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


async def test_defaults_are_stored(client) -> None:
    created = await client.create(from_dict(deployment("defaulted")))
    assert created.spec.replicas == 1
    assert created.spec.strategy.rolling_update.max_surge.string_value == "25%"
    assert created.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"
    stored = await client.get("deployments", "defaulted", "default")
    assert stored.spec.revision_history_limit == 10 and stored.spec.progress_deadline_seconds == 600


async def test_selector_update_is_rejected_and_object_unchanged(client) -> None:
    created = await client.create(from_dict(deployment("frozen")))
    changed = copy.deepcopy(created)
    changed.spec.selector.match_labels["tier"] = "fe"
    changed.spec.template.metadata.labels["tier"] = "fe"
    await expect_invalid(client.update(changed), "spec.selector", "field is immutable")
    stored = await client.get("deployments", "frozen", "default")
    assert dict(stored.spec.selector.match_labels) == {"app": "web"}
    assert stored.metadata.resource_version == created.metadata.resource_version


async def test_service_cluster_ip_is_immutable(client) -> None:
    svc = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "fixed", "namespace": "default"},
                     "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    created = await client.create(svc)
    assert created.spec.cluster_ip  # allocated by the apiserver
    assert created.spec.ports[0].target_port.number_value == 80  # defaulted
    moved = copy.deepcopy(created)
    moved.spec.cluster_ip = "10.96.200.200"
    del moved.spec.cluster_ips[:]
    await expect_invalid(client.update(moved), "spec.clusterIP", "field is immutable")


async def test_examples_in_default_namespace_are_accepted(client) -> None:
    created = 0
    for path in served_files():
        for doc in documents(path):
            if doc["metadata"].get("namespace", "default") != "default" or doc["kind"] == "Namespace":
                continue
            doc["metadata"]["name"] = f"ex{created}-{doc['kind'].lower()}"
            # Admission policies are checked but not kept: a stored LimitRange or ResourceQuota would
            # (rightly) refuse other examples created after it in the same namespace.
            policy = doc["kind"] in ("LimitRange", "ResourceQuota")
            await client.create(from_dict(doc), dry_run=policy)
            created += 1
    assert created > 20


async def test_label_and_field_selectors_filter_lists(client) -> None:
    for name, labels in (("sel-a", {"env": "prod", "tier": "fe"}), ("sel-b", {"env": "dev", "tier": "fe"}),
                         ("sel-c", {"env": "prod", "tier": "be", "canary": "yes"})):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Pod",
                                       "metadata": {"name": name, "namespace": "default", "labels": labels},
                                       "spec": {"containers": [{"name": "c", "image": "busybox"}]}}))

    async def names(label_selector: str = "", field_selector: str = "") -> set[str]:
        items, _ = await client.list_all("pods", "default", label_selector, field_selector)
        return {p.metadata.name for p in items if p.metadata.name.startswith("sel-")}

    assert await names("env=prod") == {"sel-a", "sel-c"}
    assert await names("env in (prod,dev),!canary") == {"sel-a", "sel-b"}
    assert await names("tier notin (be)") == {"sel-a", "sel-b"}
    assert await names("canary") == {"sel-c"}
    assert await names(field_selector="metadata.name=sel-b") == {"sel-b"}
    assert await names("env=prod", "metadata.name!=sel-a") == {"sel-c"}
    assert await names(field_selector="spec.nodeName=") == {"sel-a", "sel-b", "sel-c"}
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await names("env in prod")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await names(field_selector="spec.image=x")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "field label not supported: spec.image" in e.value.details()
