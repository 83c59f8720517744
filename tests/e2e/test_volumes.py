"""node/volumes.py: each volume type materialized on the host and seen from inside a real container."""

from __future__ import annotations

import os
import socket
import stat

import pytest
from google.protobuf import json_format

from node import volumes as vol
from node.cri import CRI
from skiff.v1 import core_pb2, pod_pb2
from tests.fixtures.containerd import (
    Containerd,
    container_config,
    containerd_node,
    mounts_under,
    sandbox_config,
    unmount_under,
)
from tests.fixtures.images import BUSYBOX


@pytest.fixture(scope="module")
def node() -> Containerd:
    with containerd_node(subnet=None) as c:  # host-network pods: volumes need no pod network
        yield c


@pytest.fixture
async def cri(node: Containerd) -> CRI:
    async with CRI(node.address) as client:
        yield client


@pytest.fixture
def tmp_path(tmp_path):
    """pytest's tmp_path, with any tmpfs a failing test left under it unmounted."""
    yield tmp_path
    unmount_under(str(tmp_path))
    assert mounts_under(str(tmp_path)) == []


def make_pod(name: str, volumes: list[dict], mounts: list[dict]) -> pod_pb2.Pod:
    return json_format.ParseDict({
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
        "spec": {"volumes": volumes, "containers": [{"name": "main", "image": BUSYBOX, "volumeMounts": mounts}]},
    }, pod_pb2.Pod())


def config_map(name: str, data: dict[str, str], binary: dict[str, bytes] | None = None) -> core_pb2.ConfigMap:
    cm = core_pb2.ConfigMap(data=data, binary_data=binary or {})
    cm.metadata.name = name
    return cm


def secret(name: str, data: dict[str, bytes]) -> core_pb2.Secret:
    s = core_pb2.Secret(data=data)
    s.metadata.name = name
    return s


class Pod:
    """A running one-container pod with the volumes' mounts, to look at them from inside."""

    def __init__(self, cri: CRI, node: Containerd, pod: pod_pb2.Pod) -> None:
        self.cri, self.node, self.pod = cri, node, pod
        self.sandbox_id = self.container_id = ""

    async def start(self, paths: dict[str, str]) -> Pod:
        config = sandbox_config(self.pod.metadata.name, os.path.join(self.node.base, "logs"), host_network=True)
        self.sandbox_id = await self.cri.run_pod_sandbox(config)
        mounts = vol.container_mounts(self.pod, self.pod.spec.containers[0], paths)
        cc = container_config(config, "main", BUSYBOX, ["sleep", "600"], mounts=mounts)
        self.container_id = await self.cri.create_container(self.sandbox_id, cc, config)
        await self.cri.start_container(self.container_id)
        return self

    async def sh(self, script: str) -> tuple[int, str]:
        r = await self.cri.exec_sync(self.container_id, ["sh", "-c", script], timeout=10)
        return r.exit_code, (r.stdout + r.stderr).decode()

    async def out(self, script: str) -> str:
        code, output = await self.sh(script)
        assert code == 0, output
        return output

    async def remove(self) -> None:
        await self.cri.stop_pod_sandbox(self.sandbox_id)
        await self.cri.remove_pod_sandbox(self.sandbox_id)


async def test_empty_dir_on_disk_and_in_memory(cri: CRI, node: Containerd, tmp_path) -> None:
    pod = make_pod("empty", [{"name": "scratch", "emptyDir": {}},
                             {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}}],
                   [{"name": "scratch", "mountPath": "/scratch"}, {"name": "mem", "mountPath": "/mem"},
                    {"name": "scratch", "mountPath": "/ro", "readOnly": True}])
    root = str(tmp_path)
    paths = await vol.setup_volumes(root, pod, {}, {})
    assert paths["scratch"] == os.path.join(root, "pods", "uid-empty", "volumes", "scratch")
    assert stat.S_IMODE(os.stat(paths["scratch"]).st_mode) == 0o777
    assert vol.is_mount_point(paths["mem"]) and not vol.is_mount_point(paths["scratch"])
    p = await Pod(cri, node, pod).start(paths)
    await p.out("echo hello > /scratch/f && echo fast > /mem/g")
    with open(os.path.join(paths["scratch"], "f")) as f:
        assert f.read() == "hello\n"
    assert "tmpfs" in await p.out("grep ' /mem ' /proc/mounts")
    assert "8192" in await p.out("df -k /mem")  # sizeLimit became the tmpfs size
    code, _ = await p.sh("touch /ro/x")
    assert code != 0
    assert await vol.setup_volumes(root, pod, {}, {}) == paths  # idempotent: no second tmpfs
    assert len([m for m in vol.mount_points_under(root) if m == paths["mem"]]) == 1
    await p.remove()
    await vol.cleanup_volumes(root, "uid-empty")
    assert vol.mount_points_under(root) == []
    assert not os.path.exists(os.path.dirname(paths["scratch"]))


async def test_host_path_types(cri: CRI, node: Containerd, tmp_path) -> None:
    host = tmp_path / "host"
    (host / "existing").mkdir(parents=True)
    (host / "existing" / "data").write_text("from the host")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(host / "app.sock"))
    try:
        pod = make_pod("hostpath", [
            {"name": "dir", "hostPath": {"path": str(host / "existing"), "type": "Directory"}},
            {"name": "made", "hostPath": {"path": str(host / "made"), "type": "DirectoryOrCreate"}},
            {"name": "file", "hostPath": {"path": str(host / "new.txt"), "type": "FileOrCreate"}},
            {"name": "sock", "hostPath": {"path": str(host / "app.sock"), "type": "Socket"}},
            {"name": "any", "hostPath": {"path": str(host / "existing" / "data")}},
        ], [{"name": "dir", "mountPath": "/dir"}, {"name": "made", "mountPath": "/made"},
            {"name": "file", "mountPath": "/file"}, {"name": "sock", "mountPath": "/app.sock"}])
        paths = await vol.setup_volumes(str(tmp_path / "root"), pod, {}, {})
        assert paths["dir"] == str(host / "existing")
        assert (host / "made").is_dir() and (host / "new.txt").is_file()
        assert stat.S_IMODE((host / "new.txt").stat().st_mode) == 0o644
        p = await Pod(cri, node, pod).start(paths)
        assert await p.out("cat /dir/data") == "from the host"
        await p.out("echo back > /made/x && test -S /app.sock && test -f /file")
        assert (host / "made" / "x").read_text() == "back\n"
        await p.remove()
        await vol.cleanup_volumes(str(tmp_path / "root"), "uid-hostpath")
        assert (host / "existing" / "data").read_text() == "from the host"  # cleanup never touches host data
    finally:
        sock.close()


@pytest.mark.parametrize(("path", "kind", "message"), [
    ("missing", "Directory", "is not a directory"),
    ("file", "Directory", "is not a directory"),
    ("dir", "File", "is not a file"),
    ("missing", "File", "is not a file"),
    ("file", "Socket", "is not a socket file"),
    ("file", "CharDevice", "is not a character device"),
    ("dir", "Bogus", 'Unsupported value: "Bogus"'),
])
async def test_host_path_type_check_failures(tmp_path, path: str, kind: str, message: str) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    pod = make_pod("bad", [{"name": "hp", "hostPath": {"path": str(tmp_path / path), "type": kind}}], [])
    with pytest.raises(vol.VolumeError) as e:
        await vol.setup_volumes(str(tmp_path / "root"), pod, {}, {})
    assert 'volume "hp"' in str(e.value) and message in str(e.value)
    assert not (tmp_path / "missing").exists()


async def test_config_map_and_secret_files_and_modes(cri: CRI, node: Containerd, tmp_path) -> None:
    pod = make_pod("data", [
        {"name": "conf", "configMap": {"name": "app", "defaultMode": 0o640}},
        {"name": "picked", "configMap": {"name": "app", "items": [
            {"key": "a.conf", "path": "sub/dir/a.conf", "mode": 0o600}]}},
        {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o400}},
    ], [{"name": "conf", "mountPath": "/etc/app"}, {"name": "picked", "mountPath": "/picked"},
        {"name": "creds", "mountPath": "/creds"}])
    cms = {"app": config_map("app", {"a.conf": "a=1\n", "b.conf": "b=2\n"}, {"blob": b"\x00\x01\xff"})}
    secrets = {"creds": secret("creds", {"password": b"s3cr3t"})}
    root = str(tmp_path)
    paths = await vol.setup_volumes(root, pod, cms, secrets)
    assert os.path.islink(os.path.join(paths["conf"], "a.conf"))
    assert os.readlink(os.path.join(paths["conf"], "..data")).startswith("..")
    assert vol.is_mount_point(paths["creds"]) and not vol.is_mount_point(paths["conf"])
    p = await Pod(cri, node, pod).start(paths)
    assert await p.out("cat /etc/app/a.conf /etc/app/b.conf") == "a=1\nb=2\n"
    assert (await p.out("od -An -tx1 /etc/app/blob")).split() == ["00", "01", "ff"]
    assert await p.out("stat -L -c %a /etc/app/a.conf /picked/sub/dir/a.conf /creds/password") == "640\n600\n400\n"
    assert await p.out("ls /picked") == "sub\n"
    assert await p.out("cat /creds/password") == "s3cr3t"
    assert "tmpfs" in await p.out("grep ' /creds ' /proc/mounts")
    code, _ = await p.sh("echo x > /etc/app/new")
    assert code != 0  # configMap and secret volumes are always read-only
    await p.remove()
    await vol.cleanup_volumes(root, "uid-data")
    assert vol.mount_points_under(root) == []


async def test_config_map_update_swaps_atomically(cri: CRI, node: Containerd, tmp_path) -> None:
    pod = make_pod("update", [{"name": "conf", "configMap": {"name": "app"}}],
                   [{"name": "conf", "mountPath": "/etc/app"}])
    root = str(tmp_path)
    paths = await vol.setup_volumes(root, pod, {"app": config_map("app", {"old": "1", "keep": "v1"})}, {})
    first = os.readlink(os.path.join(paths["conf"], "..data"))
    p = await Pod(cri, node, pod).start(paths)
    assert await p.out("cat /etc/app/keep") == "v1"
    await vol.setup_volumes(root, pod, {"app": config_map("app", {"new": "2", "keep": "v2"})}, {})
    second = os.readlink(os.path.join(paths["conf"], "..data"))
    assert second != first and not os.path.exists(os.path.join(paths["conf"], first))
    assert await p.out("cat /etc/app/keep /etc/app/new") == "v22"
    assert await p.out("ls /etc/app") == "keep\nnew\n"
    await vol.setup_volumes(root, pod, {"app": config_map("app", {"new": "2", "keep": "v2"})}, {})
    assert os.readlink(os.path.join(paths["conf"], "..data")) == second  # unchanged data: no new version
    await p.remove()
    await vol.cleanup_volumes(root, "uid-update")


async def test_missing_and_optional_sources(tmp_path) -> None:
    root = str(tmp_path)
    missing = make_pod("m1", [{"name": "conf", "configMap": {"name": "absent"}}], [])
    with pytest.raises(vol.VolumeError, match='volume "conf": configmap "absent" not found'):
        await vol.setup_volumes(root, missing, {}, {})
    missing_secret = make_pod("m2", [{"name": "s", "secret": {"secretName": "absent"}}], [])
    with pytest.raises(vol.VolumeError, match='secret "absent" not found'):
        await vol.setup_volumes(root, missing_secret, {}, {})
    optional = make_pod("m3", [{"name": "conf", "configMap": {"name": "absent", "optional": True}},
                               {"name": "s", "secret": {"secretName": "absent", "optional": True}}], [])
    paths = await vol.setup_volumes(root, optional, {}, {})
    assert [n for n in os.listdir(paths["conf"]) if not n.startswith("..")] == []
    bad_key = make_pod("m4", [{"name": "conf", "configMap": {"name": "app", "items": [{"key": "nope", "path": "x"}]}}],
                       [])
    with pytest.raises(vol.VolumeError, match="non-existent key: nope"):
        await vol.setup_volumes(root, bad_key, {"app": config_map("app", {"a": "1"})}, {})
    escape = make_pod("m5", [{"name": "conf", "configMap": {"name": "app", "items": [{"key": "a", "path": "../x"}]}}],
                      [])
    with pytest.raises(vol.VolumeError, match=r"items\[0\]\.path"):
        await vol.setup_volumes(root, escape, {"app": config_map("app", {"a": "1"})}, {})
    for uid in ("uid-m1", "uid-m2", "uid-m3", "uid-m4", "uid-m5"):
        await vol.cleanup_volumes(root, uid)
    assert vol.mount_points_under(root) == []


async def test_sub_path(cri: CRI, node: Containerd, tmp_path) -> None:
    pod = make_pod("subpath", [{"name": "scratch", "emptyDir": {}}, {"name": "conf", "configMap": {"name": "app"}}],
                   [{"name": "scratch", "mountPath": "/data", "subPath": "one/two"},
                    {"name": "conf", "mountPath": "/app.conf", "subPath": "a.conf"}])
    root = str(tmp_path)
    paths = await vol.setup_volumes(root, pod, {"app": config_map("app", {"a.conf": "A"})}, {})
    p = await Pod(cri, node, pod).start(paths)
    await p.out("echo deep > /data/f")
    with open(os.path.join(paths["scratch"], "one", "two", "f")) as f:
        assert f.read() == "deep\n"
    assert await p.out("cat /app.conf") == "A"
    await p.remove()
    escape = make_pod("escape", [{"name": "scratch", "emptyDir": {}}],
                      [{"name": "scratch", "mountPath": "/x", "subPath": "../../etc"}])
    escape_paths = await vol.setup_volumes(root, escape, {}, {})
    with pytest.raises(vol.VolumeError, match="subPath"):
        vol.container_mounts(escape, escape.spec.containers[0], escape_paths)
    os.symlink("/etc", os.path.join(escape_paths["scratch"], "link"))
    escape.spec.containers[0].volume_mounts[0].sub_path = "link"
    with pytest.raises(vol.VolumeError, match="outside the volume"):
        vol.container_mounts(escape, escape.spec.containers[0], escape_paths)
    for uid in ("uid-subpath", "uid-escape"):
        await vol.cleanup_volumes(root, uid)


async def test_fs_group_ownership(cri: CRI, node: Containerd, tmp_path) -> None:
    pod = make_pod("fsgroup", [{"name": "scratch", "emptyDir": {}},
                               {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o400}},
                               {"name": "host", "hostPath": {"path": str(tmp_path / "host"),
                                                             "type": "DirectoryOrCreate"}}],
                   [{"name": "scratch", "mountPath": "/scratch"}, {"name": "creds", "mountPath": "/creds"}])
    pod.spec.security_context.fs_group = 2345
    root = str(tmp_path / "root")
    secrets = {"creds": secret("creds", {"key": b"k"})}
    paths = await vol.setup_volumes(root, pod, {}, secrets)
    scratch = os.stat(paths["scratch"])
    assert scratch.st_gid == 2345 and scratch.st_mode & stat.S_ISGID
    assert os.stat(paths["host"]).st_gid != 2345  # hostPath ownership is never changed
    version = os.readlink(os.path.join(paths["creds"], "..data"))
    p = await Pod(cri, node, pod).start(paths)
    assert await p.out("stat -L -c '%a %g' /creds/key") == "440 2345\n"
    await p.out("mkdir /scratch/new")
    await vol.setup_volumes(root, pod, {}, secrets)
    assert os.readlink(os.path.join(paths["creds"], "..data")) == version  # the group bits did not force a rewrite
    assert os.stat(os.path.join(paths["scratch"], "new")).st_gid == 2345  # setgid directory: inherited
    await p.remove()
    await vol.cleanup_volumes(root, "uid-fsgroup")
