"""pods/resize: what a resize may change, LimitRanger on the changed values, quota by what it adds."""

from __future__ import annotations

import pytest

from control.apiserver import errors, limitranger
from control.apiserver.pods import qos_class
from control.apiserver.quotaadmission import evaluate
from control.apiserver.resize import with_resources
from control.apiserver.validation.resize import validate_pod_resize
from control.client.convert import from_dict
from control.client.kinds import KINDS
from tests.fixtures.quota import lr, rq

BURSTABLE = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}


def pod(resources: dict = BURSTABLE, sidecar: dict | None = None, init: dict | None = None, **container) -> object:
    inits = []
    if sidecar is not None:
        inits.append({"name": "side", "image": "i", "restartPolicy": "Always", "resources": sidecar})
    if init is not None:
        inits.append({"name": "setup", "image": "i", "resources": init})
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "ns"},
                      "spec": {"containers": [{"name": "app", "image": "i", "resources": resources, **container}],
                               "initContainers": inits}})


def messages(new, old) -> list[str]:
    resized = with_resources(old, new.spec)
    return [f"{v.field}: {v.description}" for v in validate_pod_resize(resized, old, qos_class(resized),
                                                                       qos_class(old))]


def test_cpu_and_memory_of_containers_and_sidecars_resize() -> None:
    old = pod(sidecar=BURSTABLE)
    bigger = {"requests": {"cpu": "300m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}}
    assert messages(pod(bigger, sidecar=bigger), old) == []
    # the rest of the request is ignored: only resources are taken from it
    assert with_resources(old, pod(bigger, image="other").spec).spec.containers[0].image == "i"


@pytest.mark.parametrize("new, expected", [
    (pod({"requests": {"cpu": "100m"}, "limits": {"cpu": "200m", "memory": "128Mi"}}),
     "spec.containers[0].resources.requests: Forbidden: resource requests cannot be removed"),
    (pod({**BURSTABLE, "limits": {"cpu": "200m"}}),
     "spec.containers[0].resources.limits: Forbidden: resource limits cannot be removed"),
    (pod({**BURSTABLE, "limits": {**BURSTABLE["limits"], "ephemeral-storage": "1Gi"}}),
     "spec: Forbidden: only cpu and memory resources are mutable"),
    (pod({"requests": {"cpu": "200m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}),
     'spec: Invalid value: "Guaranteed": Pod QOS Class may not change as a result of resizing'),
])
def test_refusals_in_kubernetes_words(new, expected) -> None:
    assert expected in messages(new, pod())


def test_renamed_containers_and_plain_init_containers() -> None:
    renamed = pod()
    renamed.spec.containers[0].name = "other"
    assert messages(renamed, pod()) == ["spec: Forbidden: containers may not be renamed or reordered on resize"]
    old = pod(init=BURSTABLE)
    assert "spec: Forbidden: resources for non-sidecar init containers are immutable" in messages(
        pod(init={**BURSTABLE, "limits": {"cpu": "1", "memory": "128Mi"}}), old)


def test_limit_ranger_checks_only_what_the_resize_changes() -> None:
    ranges = [lr({"type": "Container", "max": {"cpu": "500m", "memory": "100Mi"}})]
    old = pod()  # its memory limit (128Mi) is over today's max, as stored
    assert limitranger.pod_violations(old, ranges, old) == []
    cpu_up = with_resources(old, pod({**BURSTABLE, "limits": {"cpu": "1", "memory": "128Mi"}}).spec)
    assert limitranger.pod_violations(cpu_up, ranges, old) == [
        "maximum cpu usage per Container is 500m, but limit is 1"]
    pods_max = [lr({"type": "Pod", "max": {"cpu": "300m"}})]
    assert limitranger.pod_violations(cpu_up, pods_max, old) == ["maximum cpu usage per Pod is 300m, but limit is 1"]


def test_quota_is_charged_what_the_resize_adds() -> None:
    old = pod()
    bigger = with_resources(old, pod({"requests": {"cpu": "600m", "memory": "64Mi"},
                                      "limits": {"cpu": "1", "memory": "128Mi"}}).spec)
    q = rq({"requests.cpu": "1", "pods": "5"}, {"requests.cpu": "300m", "pods": "2"})
    [charged] = evaluate(KINDS["Pod"], bigger, old, [q])
    assert dict(charged.status.used) == {"requests.cpu": "800m", "pods": "2"}
    full = rq({"requests.cpu": "500m"}, {"requests.cpu": "300m"})
    with pytest.raises(errors.ApiError) as e:
        evaluate(KINDS["Pod"], bigger, old, [full])
    assert e.value.message == ('pods "web" is forbidden: exceeded quota: q, requested: requests.cpu=500m, '
                               'used: requests.cpu=300m, limited: requests.cpu=500m')
    smaller = with_resources(old, pod({**BURSTABLE, "requests": {"cpu": "50m", "memory": "64Mi"}}).spec)
    assert evaluate(KINDS["Pod"], smaller, old, [full]) == []  # a shrink is never refused; the controller recounts


def test_quota_counts_the_larger_of_the_spec_and_what_runs_until_the_node_applies_it() -> None:
    from control.client import quota
    shrunk = pod({"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}})
    shrunk.status.container_statuses.add(name="app", resources=BURSTABLE)  # still running with 100m
    assert quota.render(quota.usage(KINDS["Pod"], shrunk))["requests.cpu"] == "100m"
    shrunk.status.container_statuses[0].resources.requests["cpu"] = "50m"  # the node applied it
    assert quota.render(quota.usage(KINDS["Pod"], shrunk))["requests.cpu"] == "50m"
