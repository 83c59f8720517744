"""skiffctl apply and delete against a real apiserver and etcd, run as the real command."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest

from control.client.convert import from_dict
from tests.fixtures.procs import eventually
from tests.fixtures.skiffctl import Result, run_skiffctl, skiffctl_env


@pytest.fixture
def ctl(apiserver, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)

    async def run(*args: str, stdin: str | None = None, timeout: float = 30) -> Result:
        return await run_skiffctl(env, *args, stdin=stdin, timeout=timeout)
    return run


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 80
"""

SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: NodePort
  selector: {{app: {name}}}
  ports:
  - port: 80
    targetPort: {target}
"""


async def test_apply_created_configured_unchanged(ctl, client, tmp_path):
    path = tmp_path / "web.yaml"
    path.write_text(DEPLOYMENT.format(name="web", image="nginx:1"))
    first = await ctl("apply", "-f", str(path))
    assert (first.code, first.out, first.err) == (0, "deployment.apps/web created\n", "")
    again = await ctl("apply", "-f", str(path))
    assert (again.code, again.out) == (0, "deployment.apps/web unchanged\n")
    path.write_text(DEPLOYMENT.format(name="web", image="nginx:2"))
    changed = await ctl("apply", "-f", str(path))
    assert (changed.code, changed.out) == (0, "deployment.apps/web configured\n")
    live = await client.get("deploy", "web", "default")
    assert live.spec.template.spec.containers[0].image == "nginx:2"
    applied = json.loads(live.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"])
    assert applied["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"


async def test_apply_keeps_server_set_fields(ctl, client, tmp_path):
    svc = tmp_path / "svc.yaml"
    svc.write_text(SERVICE.format(name="keep", target=8080))
    assert (await ctl("apply", "-f", str(svc))).out == "service/keep created\n"
    before = await client.get("svc", "keep", "default")
    assert before.spec.cluster_ip and before.spec.ports[0].node_port
    svc.write_text(SERVICE.format(name="keep", target=9090))
    assert (await ctl("apply", "-f", str(svc))).out == "service/keep configured\n"
    after = await client.get("svc", "keep", "default")
    assert after.spec.cluster_ip == before.spec.cluster_ip
    assert after.spec.ports[0].node_port == before.spec.ports[0].node_port
    assert after.spec.ports[0].target_port.number_value == 9090
    # A Deployment's replicas, changed by scale, survive an apply of a manifest without replicas.
    dep = tmp_path / "d.yaml"
    dep.write_text(DEPLOYMENT.format(name="scaled", image="nginx:1"))
    await ctl("apply", "-f", str(dep))
    assert (await ctl("scale", "deploy/scaled", "--replicas", "4")).out == "deployment.apps/scaled scaled\n"
    assert (await ctl("apply", "-f", str(dep))).out == "deployment.apps/scaled unchanged\n"
    assert (await client.get("deploy", "scaled", "default")).spec.replicas == 4


async def test_apply_removes_fields_the_manifest_dropped(ctl, client, tmp_path):
    path = tmp_path / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: drop\n  labels: {a: '1', b: '2'}\n"
                    "data: {x: '1', y: '2'}\n")
    await ctl("apply", "-f", str(path))
    live = await client.get("cm", "drop", "default")
    live.metadata.labels["someone-else"] = "yes"
    await client.update(live)
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: drop\n  labels: {a: '1'}\n"
                    "data: {x: '1'}\n")
    assert (await ctl("apply", "-f", str(path))).out == "configmap/drop configured\n"
    live = await client.get("cm", "drop", "default")
    assert dict(live.data) == {"x": "1"}
    assert dict(live.metadata.labels) == {"a": "1", "someone-else": "yes"}


async def test_apply_stdin_json_list_and_dry_run(ctl, client):
    doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry-a"}, "data": {"k": "v"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dry-ns"}}]})
    dry = await ctl("apply", "--dry-run=server", "-f", "-", stdin=doc)
    assert dry.code == 0, dry.err
    assert dry.out == "configmap/dry-a created (server dry run)\nnamespace/dry-ns created (server dry run)\n"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.get("cm", "dry-a", "default")
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    real = await ctl("apply", "-f", "-", stdin=doc)
    assert real.out == "configmap/dry-a created\nnamespace/dry-ns created\n"
    doc2 = doc.replace('"k": "v"', '"k": "w"')
    dry2 = await ctl("apply", "--dry-run=server", "-f", "-", stdin=doc2)
    assert dry2.out == "configmap/dry-a configured (server dry run)\nnamespace/dry-ns unchanged (server dry run)\n"
    assert (await client.get("cm", "dry-a", "default")).data["k"] == "v"


async def test_apply_secret_string_data(ctl, client, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {user: admin}\n"
                    "data: {pass: aHVudGVyMg==}\n")
    assert (await ctl("apply", "-f", str(path))).out == "secret/creds created\n"
    live = await client.get("secret", "creds", "default")
    assert dict(live.data) == {"user": b"admin", "pass": b"hunter2"}
    assert (await ctl("apply", "-f", str(path))).out == "secret/creds unchanged\n"


async def test_invalid_manifest_names_the_field_and_other_documents_still_apply(ctl, client, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(DEPLOYMENT.format(name="broken", image='""') + "---\n"
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after-broken}\n")
    result = await ctl("apply", "-f", str(path))
    assert result.code == 1
    assert 'The Deployment "broken" is invalid: spec.template.spec.containers[0].image: Required value' \
        in result.err
    assert result.out == "configmap/after-broken created\n"
    with pytest.raises(grpc.aio.AioRpcError):
        await client.get("deploy", "broken", "default")


async def test_unparseable_and_unknown_kind(ctl, tmp_path):
    path = tmp_path / "weird.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, ports: 80}]}\n"
                    "---\napiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n")
    result = await ctl("apply", "-f", str(path))
    assert result.code == 1
    assert "spec.containers[0].ports" in result.err
    assert 'no matches for kind "Gizmo" in version "v1"' in result.err
    missing = await ctl("apply", "-f", str(tmp_path / "nope.yaml"))
    assert missing.code == 1 and "does not exist" in missing.err


async def test_namespace_flag_and_manifest_namespace(ctl, client, tmp_path):
    await ctl("apply", "-f", "-", stdin="apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n")
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: where}\n"
    assert (await ctl("apply", "-n", "team-a", "-f", "-", stdin=cm)).code == 0
    assert (await client.get("cm", "where", "team-a")).metadata.namespace == "team-a"
    mismatch = await ctl("apply", "-n", "default", "-f", "-",
                         stdin=cm.replace("{name: where}", "{name: where, namespace: team-a}"))
    assert mismatch.code == 1 and "does not match the namespace" in mismatch.err


async def test_delete_by_name_short_names_and_file(ctl, client, tmp_path):
    for name in ("del-a", "del-b", "del-c"):
        await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": name, "namespace": "default"}}))
    result = await ctl("delete", "cm", "del-a", "del-b")
    assert (result.code, result.out) == (0, 'configmap "del-a" deleted\nconfigmap "del-b" deleted\n')
    path = tmp_path / "c.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: del-c}\n")
    assert (await ctl("delete", "-f", str(path))).out == 'configmap "del-c" deleted\n'
    gone = await ctl("delete", "configmaps/del-c")
    assert gone.code == 1
    assert gone.err == 'Error from server (NotFound): configmaps "del-c" not found\n'
    assert (await ctl("delete", "cm/del-c", "--ignore-not-found")).code == 0


async def test_delete_waits_for_graceful_pod_termination(ctl, client):
    pod = from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "graceful", "namespace": "default"},
                     "spec": {"nodeName": "some-node", "containers": [{"name": "c", "image": "busybox"}]}})
    await client.create(pod)
    deleting = asyncio.ensure_future(ctl("delete", "pod", "graceful", "--timeout", "20s"))

    async def marked() -> bool:
        return (await client.get("po", "graceful", "default")).metadata.HasField("deletion_timestamp")
    await eventually(marked, timeout=10, what="pod marked for deletion")
    assert not deleting.done()  # kubectl waits for the kubelet to finish the pod
    await client.delete("po", "graceful", "default", grace_period_seconds=0)  # what the kubelet does
    result = await deleting
    assert (result.code, result.out) == (0, 'pod "graceful" deleted\n')


async def test_delete_by_selector_and_cascade_orphan(ctl, client, tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text(DEPLOYMENT.format(name="orph", image="nginx"))
    await ctl("apply", "-f", str(path))
    result = await ctl("delete", "deploy", "-l", "app=orph", "--cascade=orphan", "--wait=false")
    assert (result.code, result.out) == (0, 'deployment.apps "orph" deleted\n')


async def test_apply_over_an_object_made_without_apply(ctl, client):
    await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "imperative", "namespace": "default"},
                                   "data": {"kept": "yes"}}))
    result = await ctl("apply", "-f", "-", stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: imperative}\n"
                                                 "data: {added: 'yes'}\n")
    assert (result.code, result.out) == (0, "configmap/imperative configured\n")
    assert "Warning: resource configmaps/imperative is missing the " \
           "kubectl.kubernetes.io/last-applied-configuration annotation" in result.err
    assert dict((await client.get("cm", "imperative", "default")).data) == {"kept": "yes", "added": "yes"}


async def test_diff(ctl, client, tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(DEPLOYMENT.format(name="diffed", image="nginx:1"))
    new = await ctl("diff", "-f", str(path))
    assert new.code == 1 and "+++ merged/deployment.apps/diffed" in new.out and "+  name: diffed" in new.out
    with pytest.raises(grpc.aio.AioRpcError):  # diff changes nothing
        await client.get("deploy", "diffed", "default")
    await ctl("apply", "-f", str(path))
    same = await ctl("diff", "-f", str(path))
    assert (same.code, same.out) == (0, "")
    path.write_text(DEPLOYMENT.format(name="diffed", image="nginx:2"))
    changed = await ctl("diff", "-f", str(path))
    assert changed.code == 1
    assert "-      - image: nginx:1\n+      - image: nginx:2\n" in changed.out
    assert (await client.get("deploy", "diffed", "default")).spec.template.spec.containers[0].image == "nginx:1"
