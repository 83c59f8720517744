"""node/cri.py, node/images.py and the containerd fixture against a real containerd + runc + CNI."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import time
import urllib.request

import pytest

from cri.runtime.v1 import api_pb2 as pb
from node import images as im
from node.cri import (
    CONTAINER_NAME_LABEL,
    CRI,
    POD_NAME_LABEL,
    POD_NAMESPACE_LABEL,
    POD_UID_LABEL,
    CRIError,
    CRITimeout,
    NotFound,
)
from node.stats import StatsProvider
from tests.fixtures.containerd import (
    Containerd,
    container_config,
    containerd_node,
    in_netns,
    mounts_under,
    sandbox_config,
    start_containerd,
)
from tests.fixtures.images import BUSYBOX, PAUSE, WHOAMI, image_archives
from tests.fixtures.procs import eventually, port_open, stop, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def node() -> Containerd:
    with containerd_node("10.88.1.0/24") as c:
        yield c


@pytest.fixture
async def cri(node: Containerd) -> CRI:
    async with CRI(node.address) as client:
        yield client


async def run_pod(cri: CRI, node: Containerd, name: str, image: str = BUSYBOX,
                  command: list[str] | None = None) -> tuple[str, str, pb.PodSandboxConfig]:
    config = sandbox_config(name, os.path.join(node.base, "logs"))
    sandbox_id = await cri.run_pod_sandbox(config)
    container_id = await cri.create_container(sandbox_id, container_config(config, "main", image, command), config)
    await cri.start_container(container_id)
    return sandbox_id, container_id, config


async def test_version_and_status(cri: CRI) -> None:
    version = await cri.version()
    assert version.runtime_name == "containerd"
    assert version.runtime_api_version == "v1"
    assert await cri.ready()


async def test_pod_runs_and_answers_on_its_address(cri: CRI, node: Containerd) -> None:
    sandbox_id, container_id, config = await run_pod(cri, node, "whoami-1", WHOAMI)
    status = await cri.pod_sandbox_status(sandbox_id)
    assert status.state == pb.SANDBOX_READY
    ip = status.network.ip
    assert ip.startswith("10.88.1.")
    body = in_netns(node.netns, lambda: urllib.request.urlopen(f"http://{ip}/", timeout=5).read().decode())
    assert "Hostname: whoami-1" in body
    assert f"IP: {ip}" in body
    c = await cri.container_status(container_id)
    assert c.state == pb.CONTAINER_RUNNING
    assert c.labels[CONTAINER_NAME_LABEL] == "main"
    assert c.log_path == os.path.join(config.log_directory, "main/0.log")
    await cri.stop_pod_sandbox(sandbox_id)
    await cri.remove_pod_sandbox(sandbox_id)
    with pytest.raises(NotFound):
        await cri.container_status(container_id)


async def test_list_by_labels(cri: CRI, node: Containerd) -> None:
    sandbox_a, container_a, config_a = await run_pod(cri, node, "list-a", command=["sleep", "60"])
    sandbox_b, _, _ = await run_pod(cri, node, "list-b", command=["sleep", "60"])
    found = await cri.list_pod_sandboxes({POD_NAME_LABEL: "list-a", POD_NAMESPACE_LABEL: "default"})
    assert [s.id for s in found] == [sandbox_a]
    assert found[0].labels[POD_UID_LABEL] == config_a.metadata.uid
    containers = await cri.list_containers({POD_NAME_LABEL: "list-a"})
    assert [c.id for c in containers] == [container_a]
    assert [c.id for c in await cri.list_containers(sandbox_id=sandbox_b)] != [container_a]
    running = await cri.list_containers(state=pb.CONTAINER_RUNNING)
    assert container_a in {c.id for c in running}
    for sandbox_id in (sandbox_a, sandbox_b):
        await cri.stop_pod_sandbox(sandbox_id)
        await cri.remove_pod_sandbox(sandbox_id)
    assert await cri.list_pod_sandboxes({POD_NAME_LABEL: "list-a"}) == []
    await cri.remove_pod_sandbox(sandbox_a)  # removing twice is not an error


async def test_exec_sync_output_exit_code_and_timeout(cri: CRI, node: Containerd) -> None:
    sandbox_id, container_id, _ = await run_pod(cri, node, "exec-1", command=["sleep", "60"])
    r = await cri.exec_sync(container_id, ["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=5)
    assert (r.stdout, r.stderr, r.exit_code) == (b"out\n", b"err\n", 3)
    t0 = time.monotonic()
    with pytest.raises(CRITimeout):
        await cri.exec_sync(container_id, ["sleep", "30"], timeout=1)
    assert time.monotonic() - t0 < 10
    with pytest.raises(CRIError):
        await cri.exec_sync(container_id, ["/no/such/binary"], timeout=5)
    await cri.stop_pod_sandbox(sandbox_id)
    await cri.remove_pod_sandbox(sandbox_id)


async def test_stop_container_reports_exit(cri: CRI, node: Containerd) -> None:
    sandbox_id, container_id, _ = await run_pod(cri, node, "stop-1", command=["sleep", "60"])
    await cri.stop_container(container_id, timeout=1)
    status = await cri.container_status(container_id)
    assert status.state == pb.CONTAINER_EXITED
    assert status.finished_at > status.started_at > 0
    await cri.remove_container(container_id)
    await cri.remove_container(container_id)
    await cri.stop_pod_sandbox(sandbox_id)
    await cri.remove_pod_sandbox(sandbox_id)


async def test_container_and_node_stats(cri: CRI, node: Containerd) -> None:
    sandbox_id, container_id, _ = await run_pod(
        cri, node, "busy-1", command=["sh", "-c", "while :; do :; done"])
    stats = await cri.container_stats(container_id)
    assert stats.memory.working_set_bytes.value > 0
    summary = await StatsProvider(cri, "node-a").summary()
    assert summary.node_name == "node-a"
    assert summary.memory_capacity_bytes > summary.memory_working_set_bytes > 0
    assert summary.cpu_count >= 1
    pod = next(p for p in summary.pods if p.name == "busy-1")
    assert pod.namespace == "default"
    assert [c.name for c in pod.containers] == ["main"]
    assert pod.cpu_usage_nano_cores > 20_000_000  # a busy loop, even on a crowded machine
    assert pod.memory_working_set_bytes > 0 and pod.containers[0].memory_working_set_bytes > 0
    await cri.stop_pod_sandbox(sandbox_id)
    await cri.remove_pod_sandbox(sandbox_id)


async def test_images(cri: CRI) -> None:
    present = await cri.image_status(BUSYBOX)
    assert present is not None and BUSYBOX in present.repo_tags
    assert await cri.image_status("localhost:5000/nothing:1") is None
    tags = {t for i in await cri.list_images() for t in i.repo_tags}
    assert {BUSYBOX, WHOAMI, PAUSE} <= tags
    assert await cri.image_fs_info()


async def test_pull_policies(cri: CRI) -> None:
    manager = im.ImageManager(cri)
    ref = await manager.ensure_image(BUSYBOX, "IfNotPresent")
    assert ref == (await cri.image_status(BUSYBOX)).id
    assert await manager.ensure_image(BUSYBOX, "Never") == ref
    with pytest.raises(im.ImagePullError) as never:
        await manager.ensure_image("localhost:5000/absent:1", "Never")
    assert never.value.reason == im.ERR_IMAGE_NEVER_PULL
    # nothing listens on the node's localhost:5000, so a pull fails quickly, then backs off
    with pytest.raises(im.ImagePullError) as failed:
        await manager.ensure_image("localhost:5000/absent:1", "")
    assert failed.value.reason == im.ERR_IMAGE_PULL
    assert "localhost:5000/absent:1" in failed.value.message
    with pytest.raises(im.ImagePullError) as backoff:
        await manager.ensure_image("localhost:5000/absent:1", "IfNotPresent")
    assert backoff.value.reason == im.IMAGE_PULL_BACKOFF
    with pytest.raises(im.ImagePullError) as invalid:
        await manager.ensure_image("Busybox:1")
    assert invalid.value.reason == im.INVALID_IMAGE_NAME


@pytest.fixture
def registry(node: Containerd, tmp_path) -> str:
    """A real OCI registry on the node's own loopback (port 5000 inside its netns), with busybox pushed."""
    (tmp_path / "config.yml").write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                                         f"    rootdirectory: {tmp_path}/data\nhttp:\n  addr: 127.0.0.1:5000\n")
    enter = ["nsenter", f"--net=/var/run/netns/{node.netns}"]
    proc = subprocess.Popen([*enter, "docker-registry", "serve", str(tmp_path / "config.yml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: in_netns(node.netns, lambda: port_open(5000)), timeout=15, what="the registry")
        subprocess.run([*enter, "skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                        f"oci-archive:{image_archives()[BUSYBOX]}", "docker://localhost:5000/pulled/busybox:1"],
                       check=True, capture_output=True, timeout=60)
        yield "localhost:5000/pulled/busybox:1"
    finally:
        stop(proc)


async def test_pull_from_a_registry(cri: CRI, node: Containerd, registry: str) -> None:
    manager = im.ImageManager(cri)
    assert await cri.image_status(registry) is None
    ref = await manager.ensure_image(registry, "IfNotPresent")
    image = await cri.image_status(registry)
    assert image is not None and image.id == ref and registry in image.repo_tags
    assert await manager.ensure_image(registry, "Always") == ref  # pulled again: same content, same id
    config = sandbox_config("pulled", os.path.join(node.base, "logs"))
    sandbox_id = await cri.run_pod_sandbox(config)
    cid = await cri.create_container(sandbox_id, container_config(config, "main", ref, ["sleep", "60"]), config)
    await cri.start_container(cid)
    assert (await cri.exec_sync(cid, ["echo", "from the registry"], timeout=5)).stdout == b"from the registry\n"
    await cri.stop_pod_sandbox(sandbox_id)
    await cri.remove_pod_sandbox(sandbox_id)
    try:
        await cri.remove_image(registry)
        assert await cri.image_status(registry) is None
    finally:  # CRI removes an image by id, with all its tags: the fixture's busybox:1 went too
        node.ctr("images", "import", image_archives()[BUSYBOX])
    assert await cri.image_status(BUSYBOX) is not None


async def test_concurrent_pulls_share_one_request(cri: CRI) -> None:
    manager = im.ImageManager(cri)
    calls = []
    original = cri.pull_image

    async def counting_pull(image: str, **kw: object) -> str:
        calls.append(image)
        await asyncio.sleep(0.1)
        return await original(image, **kw)

    cri.pull_image = counting_pull  # type: ignore[method-assign]
    results = await asyncio.gather(*(manager.ensure_image("localhost:5000/absent:2", "Always",
                                                          backoff_key=f"pod-{i}") for i in range(3)),
                                   return_exceptions=True)
    assert len(calls) == 1
    assert all(isinstance(r, im.ImagePullError) and r.reason == im.ERR_IMAGE_PULL for r in results)


async def test_raw_cri_baseline(cri: CRI) -> None:
    spec = importlib.util.spec_from_file_location("podstart_cri", os.path.join(ROOT, "scripts/bench.d/podstart_cri.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    times = await module.raw_cri_start_times(cri, 2)
    assert len(times) == 2 and all(0 < t < 30 for t in times)
    assert await cri.list_pod_sandboxes({POD_NAMESPACE_LABEL: "bench"}) == []


async def test_unreachable_runtime_is_unavailable(tmp_path) -> None:
    async with CRI(f"unix://{tmp_path}/none.sock", timeout=2) as client:
        with pytest.raises(CRIError) as e:
            await client.version()
    assert "Version" in str(e.value)


def test_stop_leaves_nothing_behind() -> None:
    c = start_containerd(None)
    try:
        async def run() -> tuple[str, str]:
            async with CRI(c.address) as client:
                config = sandbox_config("left", os.path.join(c.base, "logs"), host_network=True)
                sandbox_id = await client.run_pod_sandbox(config)
                cid = await client.create_container(sandbox_id, container_config(config, "main", BUSYBOX,
                                                                                 ["sleep", "60"]), config)
                await client.start_container(cid)
                await eventually(lambda: _has_mounts(c), what="container mounts")
                return sandbox_id, cid
        asyncio.run(run())
        assert mounts_under(c.base)
    finally:
        c.stop()
    assert mounts_under(c.base) == []
    assert not os.path.exists(c.base)
    assert not any(c.socket.encode() in _cmdline(p) for p in os.listdir("/proc") if p.isdigit())


async def _has_mounts(c: Containerd) -> bool:
    return bool(mounts_under(c.base))


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


@pytest.mark.parametrize(("image", "policy", "name"), [
    ("busybox", "Always", "busybox"),
    ("busybox:latest", "Always", "busybox"),
    ("localhost:5000/busybox:1", "IfNotPresent", "localhost:5000/busybox"),
    ("registry.example:443/team/app@sha256:" + "a" * 64, "IfNotPresent", "registry.example:443/team/app"),
    ("UPPER/case:v1", "IfNotPresent", "UPPER/case"),
])
def test_image_references(image: str, policy: str, name: str) -> None:
    assert im.default_pull_policy(image) == policy
    assert im.parse_reference(image).name == name
    assert im.pull_policy(image, "") == policy and im.pull_policy(image, "Never") == "Never"


@pytest.mark.parametrize("image", ["Busybox", "busybox:", "busy box", "-x/y", "a/b:" + "t" * 200, ""])
def test_invalid_image_references(image: str) -> None:
    with pytest.raises(im.ImagePullError) as e:
        im.parse_reference(image)
    assert e.value.reason == im.INVALID_IMAGE_NAME


def test_bad_pull_policy() -> None:
    with pytest.raises(ValueError, match='Unsupported value: "Sometimes"'):
        im.pull_policy("busybox", "Sometimes")


def test_image_builds_are_deterministic(tmp_path) -> None:
    def build(out: str) -> dict[str, bytes]:
        paths = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/build-images"), out], check=True,
                               capture_output=True, text=True).stdout.split()
        return {os.path.basename(p): open(p, "rb").read() for p in paths}

    first, second = build(str(tmp_path / "a")), build(str(tmp_path / "b"))
    assert set(first) == {"busybox.tar", "whoami.tar", "pause.tar", "all.tar"}
    assert first == second
    stamp = os.stat(tmp_path / "a" / "pause.tar").st_mtime_ns
    build(str(tmp_path / "a"))
    assert os.stat(tmp_path / "a" / "pause.tar").st_mtime_ns == stamp  # unchanged inputs: not rebuilt
    with tarfile.open(tmp_path / "a" / "whoami.tar") as tf:
        index = json.load(tf.extractfile("index.json"))
    assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == WHOAMI
    with tarfile.open(tmp_path / "a" / "all.tar") as tf:
        manifests = json.load(tf.extractfile("index.json"))["manifests"]
    assert {m["annotations"]["io.containerd.image.name"] for m in manifests} == {BUSYBOX, WHOAMI, PAUSE}
