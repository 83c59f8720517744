"""LimitRange and ResourceQuota rule by rule: validation, LimitRanger's defaults and bounds, the
quota admission's arithmetic and messages, printing and describing."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace

import pytest

from control.apiserver import errors, limitranger
from control.apiserver.quotaadmission import evaluate
from control.apiserver.registry import apply_defaults, load_all, validate
from control.cli.describe_quota import limit_range, resource_quota
from control.cli.describe_text import render_section
from control.client import quota
from control.client.convert import from_dict
from control.client.kinds import KINDS
from control.client.printers import LIMITRANGE, RESOURCEQUOTA
from tests.fixtures.quota import lr, rq


def pod(*containers: dict, init: tuple = (), name: str = "web", **spec) -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ns"},
                      "spec": {"containers": [{"image": "i", **c} for c in containers],
                               "initContainers": [{"image": "i", **c} for c in init], **spec}})


def messages(obj) -> list[str]:
    return [f"{v.field}: {v.description}" for v in validate(obj)]


# --- validation -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("item", "expected"), [
    ({"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}},
     'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1'),
    ({"type": "Container", "default": {"cpu": "1"}, "defaultRequest": {"cpu": "2"}},
     'spec.limits[0].defaultRequest[cpu]: Invalid value: "2": default request value 2 is greater than default '
     'limit value 1'),
    ({"type": "Container", "maxLimitRequestRatio": {"cpu": "500m"}},
     'spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1'),
    ({"type": "Pod", "default": {"cpu": "1"}},
     "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"),
    ({"type": "PersistentVolumeClaim", "max": {"cpu": "1"}},
     "spec.limits[0].limits: Required value: either minimum or maximum storage value is required, but neither "
     "was provided"),
    ({"type": "Node"}, 'spec.limits[0].type: Invalid value: "Node": must be a standard limit type or fully qualified'),
    ({"type": "Container", "max": {"pods": "1"}},
     'spec.limits[0].max[pods]: Invalid value: "pods": must be a standard resource for containers'),
])
def test_limit_range_validation(item, expected) -> None:
    obj = lr(item)
    apply_defaults(obj)
    assert expected in messages(obj)


def test_limit_range_defaults_and_duplicate_types() -> None:
    obj = lr({"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "1Mi"}}, {"type": "Container"})
    apply_defaults(obj)
    item = obj.spec.limits[0]
    assert dict(item.default) == {"cpu": "2"}
    assert dict(item.default_request) == {"cpu": "2", "memory": "1Mi"}
    assert messages(obj) == ['spec.limits[1].type: Duplicate value: "Container"']


@pytest.mark.parametrize(("spec", "expected"), [
    ({"hard": {"pods": "1.5"}}, 'spec.hard[pods]: Invalid value: "1500m": must be an integer'),
    ({"hard": {"cpu": "-1"}}, 'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0'),
    ({"hard": {"nodes": "1"}}, 'spec.hard[nodes]: Invalid value: "nodes": must be a standard resource type or '
                               'fully qualified'),
    ({"hard": {"storage": "1"}}, 'spec.hard[storage]: Invalid value: "storage": must be a standard resource for '
                                 'quota'),
    ({"hard": {"cpu": "1"}, "scopes": ["BestEffort"]},
     'spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource'),
    ({"hard": {"pods": "1"}, "scopes": ["Terminating", "NotTerminating"]},
     'spec.scopes: Invalid value: ["Terminating","NotTerminating"]: conflicting scopes'),
    ({"hard": {"pods": "1"}, "scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass",
                                                                      "operator": "In"}]}},
     "spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is "
     "'In' or 'NotIn' for scope selector"),
    ({"hard": {"pods": "1"}, "scopeSelector": {"matchExpressions": [{"scopeName": "BestEffort",
                                                                      "operator": "In", "values": ["x"]}]}},
     'spec.scopeSelector.matchExpressions.operator: Invalid value: "In": must be \'Exist\' only operator when '
     'scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, '
     'ResourceQuotaScopeBestEffort and ResourceQuotaScopeNotBestEffort'),
])
def test_resource_quota_validation(spec, expected) -> None:
    obj = rq(**spec)
    assert expected in messages(obj)


def test_count_names_and_qualified_names_are_valid() -> None:
    assert messages(rq({"count/deployments.apps": "2", "count/pods": "1", "requests.example.com/gpu": "1",
                        "gold.storageclass.storage.k8s.io/requests.storage": "1Gi"})) == []


# --- LimitRanger ------------------------------------------------------------------------------------

def test_defaults_fill_only_what_a_container_lacks_and_are_annotated() -> None:
    p = pod({"name": "app", "resources": {"requests": {"cpu": "1"}}}, init=({"name": "setup"},))
    ranges = [lr({"type": "Container", "default": {"cpu": "2", "memory": "1Gi"},
                  "defaultRequest": {"cpu": "500m", "memory": "512Mi"}})]
    limitranger.default_pod(p, ranges)
    assert dict(p.spec.containers[0].resources.requests) == {"cpu": "1", "memory": "512Mi"}
    assert dict(p.spec.init_containers[0].resources.limits) == {"cpu": "2", "memory": "1Gi"}
    assert p.metadata.annotations[limitranger.ANNOTATION] == (
        "LimitRanger plugin set: memory request for container app; cpu, memory limit for container app; "
        "cpu, memory request for init container setup; cpu, memory limit for init container setup")


def test_container_and_pod_bounds_in_kubernetes_words() -> None:
    ranges = [lr({"type": "Container", "max": {"memory": "1Gi"}, "min": {"cpu": "100m"}}),
              lr({"type": "Pod", "max": {"cpu": "1"}}, name="pods")]
    p = pod({"name": "a", "resources": {"requests": {"cpu": "600m"}, "limits": {"memory": "2Gi"}}},
            {"name": "b", "resources": {"requests": {"cpu": "600m"}, "limits": {"memory": "1Gi"}}})
    assert limitranger.pod_violations(p, ranges) == [
        "maximum memory usage per Container is 1Gi, but limit is 2Gi",
        "maximum cpu usage per Pod is 1.  No limit is specified",
    ]
    bare = pod({"name": "a"})
    assert limitranger.pod_violations(bare, ranges[:1]) == [
        "minimum cpu usage per Container is 100m.  No request is specified",
        "maximum memory usage per Container is 1Gi.  No limit is specified",
    ]
    err = limitranger.forbidden("pods", bare, ["one"])
    assert err.code == errors.grpc.StatusCode.PERMISSION_DENIED and err.message == 'pods "web" is forbidden: one'


def test_pod_totals_count_init_containers_and_sidecars() -> None:
    p = pod({"name": "a", "resources": {"requests": {"cpu": "1"}}},
            init=({"name": "big", "resources": {"requests": {"cpu": "3"}}},
                  {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
                  {"name": "after", "resources": {"requests": {"cpu": "2"}}}),
            overhead={"cpu": "100m"})
    assert quota.render(quota.pod_requests(p, overhead=False)) == {"cpu": "3"}
    assert quota.render(quota.pod_requests(p)) == {"cpu": "3100m"}


def test_pod_level_resources_replace_the_containers_sum() -> None:
    p = pod({"name": "a", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1"}}},
            {"name": "b", "resources": {"requests": {"cpu": "1"}}},
            resources={"requests": {"cpu": "1500m", "hugepages-2Mi": "2Mi"}, "limits": {"memory": "2Gi"}},
            overhead={"cpu": "100m", "memory": "10Mi"})
    assert quota.render(quota.pod_requests(p, overhead=False)) == {"cpu": "1500m", "memory": "1Gi",
                                                                   "hugepages-2Mi": "2Mi"}
    assert quota.render(quota.pod_requests(p)) == {"cpu": "1600m", "memory": "1034Mi", "hugepages-2Mi": "2Mi"}
    # overhead goes only on the limits that are set
    assert quota.render(quota.pod_limits(p)) == {"cpu": "1100m", "memory": "2058Mi"}
    # LimitRanger counts cpu and memory at pod level, not hugepages
    ranges = [lr({"type": "Pod", "max": {"cpu": "1200m", "memory": "2Gi"}})]
    assert limitranger.pod_violations(p, ranges) == ["maximum cpu usage per Pod is 1200m, but request is 1500m"]


def test_quota_counts_pod_level_resources_and_needs_no_container_values() -> None:
    p = pod({"name": "a"}, {"name": "b"}, name="x",
            resources={"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}})
    q = rq({"requests.cpu": "4", "limits.memory": "4Gi"}, {"requests.cpu": "1", "limits.memory": "0"})
    [charged] = evaluate(KINDS["Pod"], p, None, [q])
    assert dict(charged.status.used) == {"requests.cpu": "3", "limits.memory": "1Gi"}
    small = rq({"requests.cpu": "2"}, {"requests.cpu": "1"})
    assert _refusal(lambda: evaluate(KINDS["Pod"], p, None, [small])) == (
        'pods "x" is forbidden: exceeded quota: q, requested: requests.cpu=2, used: requests.cpu=1, '
        'limited: requests.cpu=2')
    best_effort = rq({"pods": "5"}, {"pods": "0"}, scopes=["BestEffort"])
    assert evaluate(KINDS["Pod"], p, None, [best_effort]) == []
    assert quota.is_best_effort(pod({"name": "a"})) and not quota.is_best_effort(p)


# --- ResourceQuota admission ------------------------------------------------------------------------

def _refusal(fn) -> str:
    with pytest.raises(errors.ApiError) as e:
        fn()
    assert e.value.code == errors.grpc.StatusCode.PERMISSION_DENIED
    return e.value.message


def test_charge_raises_used_in_the_quantities_format() -> None:
    q = rq({"pods": "3", "requests.memory": "1Gi"}, {"pods": "1", "requests.memory": "0"})
    p = pod({"name": "a", "resources": {"requests": {"memory": "256Mi"}}})
    [charged] = evaluate(KINDS["Pod"], p, None, [q])
    assert dict(charged.status.used) == {"pods": "2", "requests.memory": "256Mi"}
    assert dict(q.status.used) == {"pods": "1", "requests.memory": "0"}  # the cached quota is untouched


def test_exceeded_failed_and_unknown_quota_messages() -> None:
    p = pod({"name": "a", "resources": {"requests": {"cpu": "500m"}}}, name="x")
    full = rq({"pods": "2", "requests.cpu": "1"}, {"pods": "2", "requests.cpu": "700m"})
    assert _refusal(lambda: evaluate(KINDS["Pod"], p, None, [full])) == (
        'pods "x" is forbidden: exceeded quota: q, requested: pods=1,requests.cpu=500m, '
        'used: pods=2,requests.cpu=700m, limited: pods=2,requests.cpu=1')
    limits = rq({"limits.cpu": "2", "limits.memory": "1Gi"}, {"limits.cpu": "0", "limits.memory": "0"})
    two = pod({"name": "a"}, {"name": "b"}, name="x")
    assert _refusal(lambda: evaluate(KINDS["Pod"], two, None, [limits])) == (
        'pods "x" is forbidden: failed quota: q: must specify limits.cpu for: a,b; must specify limits.memory '
        'for: a,b')
    unknown = rq({"pods": "2"}, {})
    assert _refusal(lambda: evaluate(KINDS["Pod"], p, None, [unknown])) == (
        'pods "x" is forbidden: status unknown for quota: q, resources: pods')


def test_quota_without_status_scoped_or_unrelated_does_not_apply() -> None:
    p = pod({"name": "a"})
    assert evaluate(KINDS["Pod"], p, None, [rq({"pods": "0"})]) == []
    not_best_effort = rq({"pods": "0"}, {"pods": "0"}, scopes=["NotBestEffort"])
    assert evaluate(KINDS["Pod"], p, None, [not_best_effort]) == []
    cm = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}})
    assert evaluate(KINDS["ConfigMap"], cm, None, [rq({"pods": "0"}, {"pods": "0"})]) == []
    assert _refusal(lambda: evaluate(KINDS["ConfigMap"], cm, None, [rq({"configmaps": "0"}, {"configmaps": "0"})]))


def test_a_service_update_is_charged_by_what_it_adds() -> None:
    old = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "ns"},
                     "spec": {"ports": [{"port": 80}]}})
    new = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "ns"},
                     "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}})
    q = rq({"services": "1", "services.loadbalancers": "1"}, {"services": "1", "services.loadbalancers": "0"})
    [charged] = evaluate(KINDS["Service"], new, old, [q])
    assert dict(charged.status.used) == {"services": "1", "services.loadbalancers": "1"}


# --- printing ---------------------------------------------------------------------------------------

def test_columns_and_describe_as_kubectl() -> None:
    q = rq({"pods": "10", "requests.cpu": "1", "limits.memory": "1Gi"}, {"pods": "1", "requests.cpu": "100m"},
           scopes=["NotTerminating"])
    assert RESOURCEQUOTA.headers == ("NAME", "AGE", "REQUEST", "LIMIT")
    assert RESOURCEQUOTA.row(q, 0)[2:] == ["pods: 1/10, requests.cpu: 100m/1", "limits.memory: 0/1Gi"]
    assert LIMITRANGE.headers == ("NAME", "CREATED AT")
    assert render_section(asyncio.run(resource_quota(None, q))) == (
        "Name:       q\nNamespace:  ns\nScopes:     NotTerminating\n"
        " * Matches all pods that do not have an active deadline. These pods usually include long running pods "
        "whose container command is not expected to terminate.\n"
        "Resource       Used  Hard\n--------       ----  ----\n"
        "limits.memory  0     1Gi\npods           1     10\nrequests.cpu   100m  1\n")
    limits = lr({"type": "Container", "default": {"memory": "512Mi"}, "defaultRequest": {"memory": "256Mi"}})
    assert render_section(asyncio.run(limit_range(None, limits))) == (
        "Name:       limits\nNamespace:  ns\n"
        "Type        Resource  Min  Max  Default Request  Default Limit  Max Limit/Request Ratio\n"
        "----        --------  ---  ---  ---------------  -------------  -----------------------\n"
        "Container   memory    -    -    256Mi            512Mi          -\n")


def test_claims_are_bounded_by_their_storage_request() -> None:
    def claim(storage: str | None) -> SimpleNamespace:
        requests = {"storage": storage} if storage else {}
        return SimpleNamespace(spec=SimpleNamespace(resources=SimpleNamespace(requests=requests)))
    ranges = [lr({"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "2Gi"}})]
    assert limitranger.claim_violations(claim("1536Mi"), ranges) == []
    assert limitranger.claim_violations(claim("3Gi"), ranges) == [
        "maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 3Gi"]
    assert limitranger.claim_violations(claim(None), ranges) == [
        "minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified",
        "maximum storage usage per PersistentVolumeClaim is 2Gi.  No request is specified"]


def test_several_limit_ranges_fill_defaults_in_turn() -> None:
    p = pod({"name": "app"})
    limitranger.default_pod(p, [lr({"type": "Container", "default": {"cpu": "1"}}, name="a"),
                                lr({"type": "Container", "default": {"cpu": "2", "memory": "1Gi"}}, name="b")])
    assert dict(p.spec.containers[0].resources.limits) == {"cpu": "1", "memory": "1Gi"}
    assert p.metadata.annotations[limitranger.ANNOTATION] == "LimitRanger plugin set: memory limit for container app"


def test_every_kinds_admission_is_async() -> None:
    """The apiserver awaits each kind's mutating admission (LimitRanger reads the watch cache)."""
    sync = [name for name, s in load_all().items() if not inspect.iscoroutinefunction(s.admit)]
    assert sync == [], f"registry strategies with a plain `def admit`: {sync}"


def test_pod_level_requests_default_and_decide_the_qos_class() -> None:
    from control.apiserver.defaults import default_pod
    from control.client.podutil import qos_class
    only_limits = pod({"name": "a"}, resources={"limits": {"cpu": "1", "memory": "1Gi", "hugepages-2Mi": "2Mi"}})
    default_pod(only_limits)
    assert dict(only_limits.spec.resources.requests) == {"cpu": "1", "memory": "1Gi", "hugepages-2Mi": "2Mi"}
    assert qos_class(only_limits) == "Guaranteed"
    with_requests = pod({"name": "a", "resources": {"requests": {"cpu": "200m"}}},
                        resources={"limits": {"cpu": "1", "memory": "1Gi"}})
    default_pod(with_requests)
    assert dict(with_requests.spec.resources.requests) == {"cpu": "200m", "memory": "1Gi"}
    assert qos_class(with_requests) == "Burstable"
    # a container's missing request is its limit; quantities compare by value
    assert qos_class(pod({"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1000Mi"},
                                                     "requests": {"cpu": "1000m"}}})) == "Guaranteed"
    assert qos_class(pod({"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                                                     "requests": {"cpu": "500m"}}})) == "Burstable"
    assert qos_class(pod({"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                                                     "requests": {"cpu": "1000m", "memory": "1Gi"}}})) == "Guaranteed"
    assert qos_class(pod({"name": "a"})) == "BestEffort"
