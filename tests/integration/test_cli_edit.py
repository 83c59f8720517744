"""skiffctl create, replace, label, annotate, set image and api-resources against a real apiserver."""

from __future__ import annotations

import pytest
import yaml

from tests.fixtures.skiffctl import Result, run_skiffctl, skiffctl_env


@pytest.fixture
def ctl(apiserver, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)

    async def run(*args: str, stdin: str | None = None, timeout: float = 30) -> Result:
        return await run_skiffctl(env, *args, stdin=stdin, timeout=timeout)
    return run


async def test_create_kinds_from_arguments(ctl, client, tmp_path):
    assert (await ctl("create", "namespace", "edit-ns")).out == "namespace/edit-ns created\n"
    made = await ctl("create", "deployment", "web", "--image", "registry.local/team/nginx:1.25", "--replicas", "2",
                     "--port", "80", "-n", "edit-ns")
    assert (made.code, made.out) == (0, "deployment.apps/web created\n"), made.err
    d = await client.get("deploy", "web", "edit-ns")
    assert d.spec.replicas == 2 and dict(d.spec.selector.match_labels) == {"app": "web"}
    assert (d.spec.template.spec.containers[0].name, d.spec.template.spec.containers[0].ports[0].container_port) \
        == ("nginx", 80)
    (tmp_path / "game.properties").write_text("lives=3\n")
    cm = await ctl("create", "configmap", "game", "--from-literal", "mode=hard",
                   "--from-file", str(tmp_path / "game.properties"))
    assert cm.out == "configmap/game created\n"
    assert dict((await client.get("cm", "game", "default")).data) == {"mode": "hard", "game.properties": "lives=3\n"}
    secret = await ctl("create", "secret", "generic", "pw", "--from-literal", "password=hunter2")
    assert secret.out == "secret/pw created\n"
    assert (await client.get("secret", "pw", "default")).data["password"] == b"hunter2"
    again = await ctl("create", "ns", "edit-ns")
    assert again.code == 1 and again.err == 'Error from server (AlreadyExists): namespaces "edit-ns" already exists\n'


async def test_create_and_replace_from_files(ctl, client, tmp_path):
    path = tmp_path / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rep}\ndata: {a: '1'}\n")
    assert (await ctl("create", "-f", str(path))).out == "configmap/rep created\n"
    exported = yaml.safe_load((await ctl("get", "cm", "rep", "-o", "yaml")).out)
    exported["data"]["a"] = "2"
    path.write_text(yaml.safe_dump(exported))
    assert (await ctl("replace", "-f", str(path))).out == "configmap/rep replaced\n"
    assert (await client.get("cm", "rep", "default")).data["a"] == "2"
    stale = await ctl("replace", "-f", str(path))  # still carries the old resourceVersion
    assert stale.code == 1 and "Error from server (Conflict)" in stale.err


async def test_label_annotate_and_set_image(ctl, client):
    await ctl("create", "deployment", "lbl", "--image", "nginx:1")
    assert (await ctl("label", "deploy", "lbl", "tier=front")).out == "deployment.apps/lbl labeled\n"
    refused = await ctl("label", "deploy/lbl", "tier=back")
    assert refused.code == 1 and "'tier' already has a value (front), and --overwrite is false" in refused.err
    assert (await ctl("label", "deploy/lbl", "tier=back", "--overwrite")).out == "deployment.apps/lbl labeled\n"
    assert (await client.get("deploy", "lbl", "default")).metadata.labels["tier"] == "back"
    assert (await ctl("label", "deploy/lbl", "tier-")).out == "deployment.apps/lbl unlabeled\n"
    assert "tier" not in (await client.get("deploy", "lbl", "default")).metadata.labels
    assert (await ctl("annotate", "deploy", "lbl", "note=hi")).out == "deployment.apps/lbl annotated\n"
    assert (await ctl("annotate", "deploy", "lbl", "note=hi")).out == "deployment.apps/lbl not annotated\n"
    assert (await ctl("set", "image", "deploy/lbl", "nginx=nginx:2")).out == "deployment.apps/lbl image updated\n"
    live = await client.get("deploy", "lbl", "default")
    assert live.spec.template.spec.containers[0].image == "nginx:2"
    wrong = await ctl("set", "image", "deploy/lbl", "nope=x")
    assert wrong.code == 1 and 'unable to find container named "nope"' in wrong.err


async def test_api_resources(ctl):
    result = await ctl("api-resources")
    rows = {line.split()[0]: line.split() for line in result.out.splitlines()[1:]}
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["nodes"] == ["nodes", "no", "v1", "false", "Node"]
