"""kubectl workflows compared with what kubectl prints against Kubernetes: discovery's order as
`get all` shows it, `autoscale` (an autoscaling/v1 body in Kubernetes' protobuf), and the outputs
and messages the sweep found different."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.fixtures.controllers import running_controllers
from tests.fixtures.procs import eventually
from tests.fixtures.rest import RestServer, kubectl

WORKLOADS = """apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: all-rs}
spec:
  replicas: 0
  selector: {matchLabels: {app: all}}
  template:
    metadata: {labels: {app: all}}
    spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: all-job}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: all-cj}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: all-deploy}
spec:
  replicas: 0
  selector: {matchLabels: {app: all-deploy}}
  template:
    metadata: {labels: {app: all-deploy}}
    spec: {containers: [{name: c, image: busybox}]}
"""


def run(kube: Path, *args: str, input: str | None = None) -> str:
    result = kubectl(kube, *args, input=input)
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


async def history(kube: Path, what: str) -> list[str]:
    out = (await asyncio.to_thread(kubectl, kube, "rollout", "history", what)).stdout
    return [line.split()[0] for line in out.splitlines()[2:] if line.strip()]


def fails(kube: Path, *args: str, input: str | None = None) -> str:
    result = kubectl(kube, *args, input=input)
    assert result.returncode != 0, f"kubectl {' '.join(args)} succeeded: {result.stdout}"
    return result.stderr


def test_get_all_lists_kinds_in_discovery_order(kube: Path) -> None:
    """kube-apiserver lists a group's resources sorted by name, so `get all` shows deployments before
    replicasets and cronjobs before jobs."""
    run(kube, "create", "namespace", "all")
    run(kube, "apply", "-n", "all", "-f", "-", input=WORKLOADS)
    assert run(kube, "get", "all", "-n", "all", "-o", "name").split() == [
        "deployment.apps/all-deploy", "replicaset.apps/all-rs", "cronjob.batch/all-cj", "job.batch/all-job"]
    apps = json.loads(run(kube, "get", "--raw", "/apis/apps/v1"))
    names = [r["name"] for r in apps["resources"]]
    assert names == sorted(names)


def test_autoscale_creates_an_autoscaling_v1_object(kube: Path) -> None:
    run(kube, "create", "deployment", "scaled", "--image=busybox")
    out = run(kube, "autoscale", "deployment", "scaled", "--min=2", "--max=5", "--cpu-percent=70")
    assert out == "horizontalpodautoscaler.autoscaling/scaled autoscaled\n"
    v1 = json.loads(run(kube, "get", "horizontalpodautoscalers.v1.autoscaling", "scaled", "-o", "json"))
    assert (v1["apiVersion"], v1["spec"]["targetCPUUtilizationPercentage"]) == ("autoscaling/v1", 70)
    metrics = json.loads(run(kube, "get", "hpa", "scaled", "-o", "jsonpath={.spec.metrics}"))
    assert metrics == [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 70}}}]


async def test_rollout_undo_reuses_the_revisions_replicaset(rest: RestServer, kube: Path) -> None:
    """kubectl's rollback sends the ReplicaSet's template as Go writes it (`resources: {}`), which is the
    template `create deployment` sent: the old ReplicaSet takes the next revision, none is created."""
    async with running_controllers(rest.apiserver.target, ["deployment"]):
        await asyncio.to_thread(run, kube, "create", "deployment", "undo", "--image=busybox:1", "--replicas=0")
        await asyncio.to_thread(run, kube, "set", "image", "deployment/undo", "busybox=busybox:2")

        async def revisions(expected: list[str]) -> None:
            async def check() -> bool:
                return await history(kube, "deployment/undo") == expected
            await eventually(check, timeout=20, what=f"revisions {expected}")
        await revisions(["1", "2"])
        out = await asyncio.to_thread(run, kube, "rollout", "undo", "deployment/undo", "--to-revision=1")
        assert out == "deployment.apps/undo rolled back\n"
        await revisions(["2", "3"])
        names = await asyncio.to_thread(run, kube, "get", "rs", "-l", "app=undo", "-o", "name")
        assert len(names.split()) == 2


def test_field_and_label_selector_errors_read_as_kube_apiservers(kube: Path) -> None:
    err = fails(kube, "get", "pods", "--field-selector=spec.foo=bar")
    assert err == ('Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", '
                   'field selector "spec.foo=bar": field label not supported: spec.foo\n')
    err = fails(kube, "get", "--raw", "/api/v1/namespaces/default/pods?labelSelector=app%3D-x-")
    assert err.count("unable to parse requirement") == 1, err


def test_namespaces_carry_their_name_label(kube: Path) -> None:
    run(kube, "create", "namespace", "labelled")
    assert run(kube, "get", "ns", "labelled", "--show-labels", "--no-headers").split()[-1] == \
        "kubernetes.io/metadata.name=labelled"
    run(kube, "label", "ns", "labelled", "kubernetes.io/metadata.name=other", "--overwrite")
    labels = json.loads(run(kube, "get", "ns", "labelled", "-o", "jsonpath={.metadata.labels}"))
    assert labels == {"kubernetes.io/metadata.name": "labelled"}
    assert "kubernetes.io/metadata.name=default" in run(kube, "get", "ns", "default", "--show-labels")


def test_a_value_of_the_wrong_type_is_refused_as_gos_decoder_words_it(kube: Path) -> None:
    """protobuf's JSON parser would take `replicas: "3"`; kube-apiserver's Go decoder refuses it."""
    deployment = WORKLOADS.split("---\n")[3].replace("replicas: 0", 'replicas: "3"').replace("all-deploy", "typed")
    err = fails(kube, "apply", "-f", "-", input=deployment)
    assert err == ('Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be '
                   'handled as a Deployment: json: cannot unmarshal string into Go struct field '
                   'DeploymentSpec.spec.replicas of type int32\n')
    config_map = "kind: ConfigMap\napiVersion: v1\nmetadata: {name: typed}\ndata: {a: 1}\n"
    err = fails(kube, "create", "-f", "-", input=config_map)
    assert err.endswith("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number "
                        "into Go struct field ConfigMap.data of type string\n")


def test_kubectl_scale_owns_replicas_through_the_scale_subresource(kube: Path) -> None:
    deployment = WORKLOADS.split("---\n")[3].replace("all-deploy", "scaled-ssa")
    run(kube, "apply", "--server-side", "-f", "-", input=deployment)
    run(kube, "scale", "deployment", "scaled-ssa", "--replicas=2")
    entries = json.loads(run(kube, "get", "deploy", "scaled-ssa", "--show-managed-fields",
                             "-o", "jsonpath={.metadata.managedFields}"))
    scale = [e for e in entries if e.get("subresource") == "scale"]
    assert [(e["manager"], e["operation"], e["apiVersion"], e["fieldsV1"]) for e in scale] == \
        [("kubectl", "Update", "apps/v1", {"f:spec": {"f:replicas": {}}})]
    err = fails(kube, "apply", "--server-side", "-f", "-", input=deployment)
    assert err.startswith('error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" '
                          'using apps/v1: .spec.replicas\n'), err


EVENT = """apiVersion: v1
kind: Event
metadata: {name: web.1}
involvedObject: {kind: Pod, name: web, namespace: default, fieldPath: "spec.containers{app}"}
reason: Pulled
message: "pulled the image "
type: Normal
source: {component: kubelet, host: node-1}
count: 3
"""


def test_get_events_wide_puts_kubernetes_columns_in_their_place(kube: Path) -> None:
    run(kube, "create", "-f", "-", input=EVENT)
    lines = run(kube, "get", "events", "-o", "wide", "--field-selector", "reason=Pulled").splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE",
                                "FIRST", "SEEN", "COUNT", "NAME"]
    cells = [c for c in lines[1].split("   ") if c.strip()]
    assert [c.strip() for c in cells[1:7]] == ["Normal", "Pulled", "pod/web", "spec.containers{app}",
                                               "kubelet, node-1", "pulled the image"]
    assert lines[1].split()[-2:] == ["3", "web.1"]


def test_times_read_as_kubernetes_prints_them(rest: RestServer, kube: Path) -> None:
    """A Time to the second, a MicroTime to the microsecond, whatever precision the writer had."""
    out = run(kube, "create", "-f", "-", "-o", "json", input=EVENT.replace("web.1", "web.2") +
              'firstTimestamp: "2026-01-02T03:04:05.123456789Z"\neventTime: "2026-01-02T03:04:05.123456789Z"\n'
              "reportingComponent: kubelet\nreportingInstance: node-1\naction: Pulling\n")
    event = json.loads(out)
    assert (event["firstTimestamp"], event["eventTime"]) == ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123456Z")


@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public"])
def test_the_clusters_own_namespaces_may_not_be_deleted(kube: Path, namespace: str) -> None:
    assert fails(kube, "delete", "namespace", namespace) == \
        f'Error from server (Forbidden): namespaces "{namespace}" is forbidden: this namespace may not be deleted\n'
    assert run(kube, "get", "ns", namespace, "-o", "jsonpath={.status.phase}") == "Active"


@pytest.mark.parametrize("api_version, kind", [("v1", "Widget"), ("v9", "Pod")])
def test_applying_an_unserved_kind_says_so(kube: Path, api_version: str, kind: str) -> None:
    """kubectl's validation falls back to OpenAPI v2 for a kind v3 lacks, then reports the kind."""
    err = fails(kube, "apply", "-f", "-", input=f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: w}}\n")
    assert err == (f'error: resource mapping not found for name: "w" namespace: "" from "STDIN": no matches for kind '
                   f'"{kind}" in version "{api_version}"\nensure CRDs are installed first\n')


def test_a_node_port_taken_makes_the_service_invalid(kube: Path) -> None:
    run(kube, "create", "service", "nodeport", "np-a", "--tcp=80", "--node-port=30999")
    err = fails(kube, "create", "service", "nodeport", "np-b", "--tcp=80", "--node-port=30999")
    assert err == ('error: failed to create NodePort service: Service "np-b" is invalid: spec.ports[0].nodePort: '
                   'Invalid value: 30999: provided port is already allocated\n')
    err = fails(kube, "create", "service", "nodeport", "np-c", "--tcp=80", "--node-port=20000")
    assert err.endswith('Service "np-c" is invalid: spec.ports[0].nodePort: Invalid value: 20000: provided port is '
                        "not in the valid range. The range of valid ports is 30000-32767\n")


def test_an_unknown_service_type_is_reported_with_the_other_errors(kube: Path) -> None:
    err = fails(kube, "apply", "-f", "-", input="apiVersion: v1\nkind: Service\nmetadata: {name: bad-type}\n"
                                                "spec: {type: Foo, ports: [{port: 0, targetPort: 80}]}\n")
    assert err == ('The Service "bad-type" is invalid: \n'
                   '* spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive\n'
                   '* spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", '
                   '"LoadBalancer", "NodePort"\n')


def test_a_generated_namespace_name_is_labelled_too(kube: Path) -> None:
    created = json.loads(run(kube, "create", "-o", "json", "-f", "-",
                             input="apiVersion: v1\nkind: Namespace\nmetadata: {generateName: gen-}\n"))
    name = created["metadata"]["name"]
    assert name.startswith("gen-") and created["metadata"]["labels"] == {"kubernetes.io/metadata.name": name}


CLAIM = """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: late}
provisioner: example.com/late
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: late-claim}
spec:
  storageClassName: late
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""


async def test_events_name_kube_controller_managers_sources(rest: RestServer, kube: Path) -> None:
    """Not every controller's Events come from `<name>-controller`: the volume binder's are
    persistentvolume-controller's, as `kubectl describe pvc` shows them."""
    async with running_controllers(rest.apiserver.target, ["persistentvolume-binder"]):
        await asyncio.to_thread(run, kube, "apply", "-f", "-", input=CLAIM)

        async def described() -> bool:
            out = await asyncio.to_thread(run, kube, "describe", "pvc", "late-claim")
            return "persistentvolume-controller  waiting for first consumer" in out
        await eventually(described, timeout=20, what="the binder's event in kubectl describe pvc")
