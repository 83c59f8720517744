"""A pod's volumes on the host, under <root>/pods/<uid>/volumes/<name>, and the CRI mounts into containers.

emptyDir (medium Memory on tmpfs), hostPath (with the kubelet's type checks), configMap, secret
(on tmpfs), downwardAPI and projected (on tmpfs; their files from node/downwardapi.py); any other
source is a FailedMount. The files of the last four are written the way the kubelet's
AtomicWriter does it, so a container never sees a half-updated set of files:

    <vol>/..2026_11_23_18_40_00.123456789/<files>   one timestamped directory per version
    <vol>/..data -> ..2026_...                       swapped with one rename(2)
    <vol>/<key>  -> ..data/<key>                     what the container reads

The caller fetches the ConfigMaps and Secrets (they are API objects) and passes them in;
setup_volumes is idempotent (its disk work runs in a worker thread), and re-running it
with newer objects updates the files.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import shutil
import stat
import subprocess
from collections.abc import Callable, Mapping

from control.client.quantity import parse_quantity
from cri.runtime.v1 import api_pb2 as cri_pb
from node import capacity, claims, nfs
from node.atomicwriter import write_atomic
from node.downwardapi import DownwardAPIError, downward_payload
from node.runtime.env import expand
from node.tokens import token_key
from skiff.v1 import core_pb2, pod_pb2

DEFAULT_MODE = 0o644
EMPTY_DIR_MODE = 0o777
PROPAGATION = {"": cri_pb.PROPAGATION_PRIVATE, "None": cri_pb.PROPAGATION_PRIVATE,
               "HostToContainer": cri_pb.PROPAGATION_HOST_TO_CONTAINER,
               "Bidirectional": cri_pb.PROPAGATION_BIDIRECTIONAL}


class VolumeError(Exception):
    """A volume cannot be set up (the kubelet's FailedMount); the message names the volume."""


def pod_dir(root: str, uid: str) -> str:
    return os.path.join(root, "pods", uid)


def volume_path(root: str, uid: str, name: str) -> str:
    return os.path.join(pod_dir(root, uid), "volumes", name)


API_DATA_SOURCES = ("config_map", "secret", "downward_api", "projected")  # files from API objects: read-only


def referenced_config_maps(pod: pod_pb2.Pod) -> list[str]:
    names = [v.config_map.name for v in pod.spec.volumes if v.HasField("config_map")]
    return names + [s.config_map.name for v in pod.spec.volumes for s in v.projected.sources
                    if s.HasField("config_map")]


def referenced_secrets(pod: pod_pb2.Pod) -> list[str]:
    names = [v.secret.secret_name for v in pod.spec.volumes if v.HasField("secret")]
    return names + [s.secret.name for v in pod.spec.volumes for s in v.projected.sources if s.HasField("secret")]


def is_api_data(volume: pod_pb2.Volume) -> bool:
    return any(volume.HasField(f) for f in API_DATA_SOURCES)


def source_name(volume: pod_pb2.Volume) -> str:
    """The volume's source as Kubernetes' JSON names it (emptyDir, nfs, ...)."""
    for field, _value in volume.ListFields():
        if field.name != "name":
            return field.json_name
    return ""


# ---- setup ----

async def setup_volumes(root: str, pod: pod_pb2.Pod, config_maps: Mapping[str, core_pb2.ConfigMap],
                        secrets: Mapping[str, core_pb2.Secret], allocatable: Mapping[str, str] | None = None,
                        claimed: Mapping[str, core_pb2.PersistentVolume] | None = None,
                        tokens: Mapping[tuple[str, int], str] | None = None) -> dict[str, str]:
    """Materializes every volume of the pod; returns volume name -> host path. `claimed` maps each
    persistentVolumeClaim or ephemeral volume to the PersistentVolume its claim is bound to; `tokens`
    each serviceAccountToken projection's (audience, expirationSeconds) to its current token."""
    return await asyncio.to_thread(setup_volumes_sync, root, pod, config_maps, secrets, allocatable, claimed, tokens)


def setup_volumes_sync(root: str, pod: pod_pb2.Pod, config_maps: Mapping[str, core_pb2.ConfigMap],
                       secrets: Mapping[str, core_pb2.Secret], allocatable: Mapping[str, str] | None = None,
                       claimed: Mapping[str, core_pb2.PersistentVolume] | None = None,
                       tokens: Mapping[tuple[str, int], str] | None = None) -> dict[str, str]:
    paths = {}
    claimed = claimed or {}
    psc = pod.spec.security_context
    fs_group = psc.fs_group if psc.HasField("fs_group") else None
    sized = [pv.spec.host_path.path for pv in claimed.values() if capacity.is_sized(pv)]
    if sized:
        capacity.hold(pod_dir(root, pod.metadata.uid), sized)  # before mounting: a crash leaves no stray mount
    for volume in pod.spec.volumes:
        try:
            if claims.claim_name(pod, volume) is not None:
                paths[volume.name] = _setup_claimed(root, pod, volume, claimed.get(volume.name))
            else:
                paths[volume.name] = _setup_volume(root, pod, volume, config_maps, secrets, fs_group,
                                                   allocatable or {}, tokens or {})
            if fs_group is not None and not claims.unmanaged(volume, claimed) and not (
                    psc.fs_group_change_policy == "OnRootMismatch"
                    and root_matches(paths[volume.name], fs_group, is_api_data(volume))):
                apply_fs_group(paths[volume.name], fs_group, read_only=is_api_data(volume))
        except (VolumeError, DownwardAPIError, OSError) as e:
            raise VolumeError(f'MountVolume.SetUp failed for volume "{volume.name}": {e}') from None
    return paths


def _setup_volume(root: str, pod: pod_pb2.Pod, volume: pod_pb2.Volume,
                  config_maps: Mapping[str, core_pb2.ConfigMap], secrets: Mapping[str, core_pb2.Secret],
                  fs_group: int | None, allocatable: Mapping[str, str],
                  tokens: Mapping[tuple[str, int], str]) -> str:
    path = volume_path(root, pod.metadata.uid, volume.name)
    if volume.HasField("host_path"):
        return check_host_path(volume.host_path.path, volume.host_path.type)
    if volume.HasField("empty_dir"):
        _setup_empty_dir(path, volume.empty_dir)
        return path
    if volume.HasField("nfs"):
        return nfs.mount(nfs.inline(volume.nfs), path, is_mount_point)
    if volume.HasField("config_map"):
        source = volume.config_map
        _setup_dir(path, tmpfs=False)
        write_atomic(path, _group_readable(config_map_payload(source, config_maps.get(source.name)), fs_group))
        return path
    if volume.HasField("secret"):
        _setup_dir(path, tmpfs=True)
        payload = secret_payload(volume.secret, secrets.get(volume.secret.secret_name))
        write_atomic(path, _group_readable(payload, fs_group))
        return path
    if volume.HasField("downward_api"):
        source = volume.downward_api
        _setup_dir(path, tmpfs=False)
        payload = downward_payload(pod, source.items, _mode(source), allocatable, _clean_relative)
        write_atomic(path, _group_readable(payload, fs_group))
        return path
    if volume.HasField("projected"):
        _setup_dir(path, tmpfs=True)
        payload = projected_payload(pod, volume.projected, config_maps, secrets, allocatable, tokens)
        write_atomic(path, _group_readable(payload, fs_group))
        return path
    raise VolumeError(f"no volume plugin matched: {source_name(volume) or 'no volume source'} volumes "
                      "are not served by this node (supported: emptyDir, hostPath, nfs, configMap, secret, "
                      "downwardAPI, projected, persistentVolumeClaim, ephemeral)")


def projected_payload(pod: pod_pb2.Pod, source: pod_pb2.ProjectedVolumeSource,
                      config_maps: Mapping[str, core_pb2.ConfigMap], secrets: Mapping[str, core_pb2.Secret],
                      allocatable: Mapping[str, str],
                      tokens: Mapping[tuple[str, int], str] | None = None) -> dict[str, tuple[bytes, int]]:
    """Every source's files in one directory; a later source's file wins a path clash."""
    mode = _mode(source)
    payload: dict[str, tuple[bytes, int]] = {}
    for i, s in enumerate(source.sources):
        if s.HasField("config_map"):
            cm = s.config_map
            optional = cm.HasField("optional") and cm.optional
            payload.update(_object_payload(config_maps.get(cm.name), f'configmap "{cm.name}"', optional,
                                           _config_map_data, cm.items, mode))
        elif s.HasField("secret"):
            sec = s.secret
            optional = sec.HasField("optional") and sec.optional
            payload.update(_object_payload(secrets.get(sec.name), f'secret "{sec.name}"', optional,
                                           lambda o: dict(o.data), sec.items, mode))
        elif s.HasField("downward_api"):
            payload.update(downward_payload(pod, s.downward_api.items, mode, allocatable, _clean_relative))
        elif s.HasField("service_account_token"):
            token = (tokens or {}).get(token_key(s.service_account_token))
            if token is None:
                raise VolumeError(f"sources[{i}]: no token for service account "
                                  f'"{pod.spec.service_account_name}"')
            payload[_clean_relative(s.service_account_token.path, f"sources[{i}].serviceAccountToken.path")] = \
                (token.encode(), mode)
        else:
            kind = next((f.json_name for f, _ in s.ListFields()), "an empty source")
            raise VolumeError(f"sources[{i}]: {kind} projections are not supported on this node")
    return payload


def _config_map_data(cm: core_pb2.ConfigMap) -> dict[str, bytes]:
    data = {k: v.encode() for k, v in cm.data.items()}
    data.update(cm.binary_data)
    return data


def _object_payload(obj: core_pb2.ConfigMap | core_pb2.Secret | None, what: str, optional: bool,
                    data: Callable[..., dict[str, bytes]], items: list[pod_pb2.KeyToPath],
                    mode: int) -> dict[str, tuple[bytes, int]]:
    if obj is None:
        if optional:
            return {}
        raise VolumeError(f"{what} not found")
    return _payload(data(obj), items, mode, optional, what)


def _setup_claimed(root: str, pod: pod_pb2.Pod, volume: pod_pb2.Volume,
                   pv: core_pb2.PersistentVolume | None) -> str:
    """A claim's volume on this node: its PersistentVolume's hostPath or local directory, or its NFS export
    mounted in the pod's volume directory."""
    if pv is None:
        raise VolumeError("its PersistentVolumeClaim is not bound")
    if pv.spec.HasField("nfs"):
        read_only = volume.HasField("persistent_volume_claim") and volume.persistent_volume_claim.read_only
        return nfs.mount(nfs.persistent(pv, read_only), volume_path(root, pod.metadata.uid, volume.name),
                         is_mount_point)
    try:
        path, kind = claims.volume_dir(pv)
    except ValueError as e:
        raise VolumeError(str(e)) from None
    if capacity.is_sized(pv):
        capacity.ensure_mounted(pv)
        capacity.grow(pv)  # an expanded claim's volume: its filesystem follows the raised capacity
    return check_host_path(path, kind)


def _setup_empty_dir(path: str, source: pod_pb2.EmptyDirVolumeSource) -> None:
    if source.medium not in ("", "Memory"):
        raise VolumeError(f'emptyDir.medium: Unsupported value: "{source.medium}": supported values: "", "Memory"')
    size = ""
    if source.medium == "Memory" and source.size_limit:
        try:
            size = str(int(parse_quantity(source.size_limit)))
        except ValueError as e:
            raise VolumeError(f"emptyDir.sizeLimit: {e}") from None
    _setup_dir(path, tmpfs=source.medium == "Memory", size=size)


def _setup_dir(path: str, tmpfs: bool, size: str = "") -> None:
    os.makedirs(path, exist_ok=True)
    if tmpfs and not is_mount_point(path):
        options = "mode=0777" + (f",size={size}" if size else "")
        _run("mount", "-t", "tmpfs", "-o", options, "tmpfs", path)
    if stat.S_IMODE(os.stat(path).st_mode) != EMPTY_DIR_MODE:
        os.chmod(path, EMPTY_DIR_MODE)


def apply_fs_group(path: str, gid: int, read_only: bool) -> None:
    """The kubelet's volume ownership for fsGroup: group gid, group read (and write unless read_only)
    on everything, group search and setgid on directories; symlinks are left alone."""
    mask = 0o440 if read_only else 0o660
    for dirpath, dirs, files in os.walk(path):
        for name in [".", *dirs, *files]:
            entry = os.path.normpath(os.path.join(dirpath, name))
            st = os.lstat(entry)
            if stat.S_ISLNK(st.st_mode) or (name == "." and dirpath != path):
                continue
            if st.st_gid != gid:
                os.lchown(entry, -1, gid)
            mode = stat.S_IMODE(st.st_mode) | mask
            if stat.S_ISDIR(st.st_mode):
                mode |= 0o110 | stat.S_ISGID
            if mode != stat.S_IMODE(st.st_mode):
                os.chmod(entry, mode)


def root_matches(path: str, gid: int, read_only: bool) -> bool:
    """fsGroupChangePolicy OnRootMismatch: the volume's root already has the group and its permissions."""
    st = os.stat(path)
    need = (0o050 if read_only else 0o070) | stat.S_ISGID
    return st.st_gid == gid and stat.S_IMODE(st.st_mode) & need == need


# ---- hostPath ----

def check_host_path(path: str, kind: str) -> str:
    """The kubelet's hostPath type checks; *OrCreate types create what is missing."""
    if not path.startswith("/"):
        raise VolumeError(f"hostPath.path: must be an absolute path: {path!r}")
    if kind == "DirectoryOrCreate" and not os.path.exists(path):
        os.makedirs(path, mode=0o755, exist_ok=True)
    elif kind == "FileOrCreate" and not os.path.exists(path):
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    checks = {
        "Directory": (stat.S_ISDIR, "a directory"), "DirectoryOrCreate": (stat.S_ISDIR, "a directory"),
        "File": (stat.S_ISREG, "a file"), "FileOrCreate": (stat.S_ISREG, "a file"),
        "Socket": (stat.S_ISSOCK, "a socket file"), "CharDevice": (stat.S_ISCHR, "a character device"),
        "BlockDevice": (stat.S_ISBLK, "a block device"),
    }
    if kind == "":
        return path
    if kind not in checks:
        raise VolumeError(f'hostPath.type: Unsupported value: "{kind}": supported values: "", '
                          + ", ".join(f'"{k}"' for k in sorted(checks)))
    test, what = checks[kind]
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise VolumeError(f"hostPath type check failed: {path} is not {what}") from None
    if not test(mode):
        raise VolumeError(f"hostPath type check failed: {path} is not {what}")
    return path


# ---- configMap and secret payloads ----

def config_map_payload(source: pod_pb2.ConfigMapVolumeSource,
                       cm: core_pb2.ConfigMap | None) -> dict[str, tuple[bytes, int]]:
    return _object_payload(cm, f'configmap "{source.name}"', source.optional, _config_map_data, source.items,
                           _mode(source))


def secret_payload(source: pod_pb2.SecretVolumeSource,
                   secret: core_pb2.Secret | None) -> dict[str, tuple[bytes, int]]:
    if secret is None:
        if source.optional:
            return {}
        raise VolumeError(f'secret "{source.secret_name}" not found')
    return _payload(dict(secret.data), source.items, _mode(source), source.optional,
                    f'secret "{source.secret_name}"')


def _group_readable(payload: dict[str, tuple[bytes, int]], fs_group: int | None) -> dict[str, tuple[bytes, int]]:
    """With an fsGroup, files get group read as apply_fs_group would give them (so versions compare equal)."""
    if fs_group is None:
        return payload
    return {rel: (content, mode | 0o440) for rel, (content, mode) in payload.items()}


def _mode(source) -> int:
    mode = source.default_mode if source.HasField("default_mode") else DEFAULT_MODE
    if not 0 <= mode <= 0o777:
        raise VolumeError(f"defaultMode: Invalid value: {mode}: must be a number between 0 and 0777 (octal)")
    return mode


def _payload(data: Mapping[str, bytes], items: list[pod_pb2.KeyToPath], default_mode: int, optional: bool,
             what: str) -> dict[str, tuple[bytes, int]]:
    """Relative path -> (content, mode); all keys when no items are listed."""
    if not items:
        return {key: (value, default_mode) for key, value in data.items()}
    payload = {}
    for i, item in enumerate(items):
        if item.key not in data:
            if optional:
                continue
            raise VolumeError(f"{what} references non-existent key: {item.key}")
        mode = item.mode if item.HasField("mode") else default_mode
        if not 0 <= mode <= 0o777:
            raise VolumeError(f"items[{i}].mode: Invalid value: {mode}: must be a number between 0 and 0777")
        payload[_clean_relative(item.path, f"items[{i}].path")] = (data[item.key], mode)
    return payload


def _clean_relative(path: str, field: str) -> str:
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise VolumeError(f"{field}: Invalid value: {path!r}: must be a relative path without '..'")
    return posixpath.normpath(path)


# ---- mounts into containers ----

def container_mounts(pod: pod_pb2.Pod, container: pod_pb2.Container, volume_paths: Mapping[str, str],
                     env: Mapping[str, str] | None = None) -> list[cri_pb.Mount]:
    """The CRI mounts for the container's volumeMounts (subPath, or subPathExpr expanded with the
    container's env, resolved inside the volume)."""
    kinds = {v.name: v for v in pod.spec.volumes}
    mounts = []
    for i, vm in enumerate(container.volume_mounts):
        field = f"spec.containers[{container.name}].volumeMounts[{i}]"
        if vm.name not in volume_paths:
            raise VolumeError(f'{field}.name: Not found: "{vm.name}"')
        if vm.mount_propagation not in PROPAGATION:
            raise VolumeError(f'{field}.mountPropagation: Unsupported value: "{vm.mount_propagation}"')
        host_path = volume_paths[vm.name]
        sub = expand_sub_path_expr(vm.sub_path_expr, env or {}) if vm.sub_path_expr else vm.sub_path
        if sub:
            host_path = _sub_path(host_path, _clean_relative(sub, f"{field}.subPath"))
        volume = kinds[vm.name]
        claim_read_only = volume.HasField("persistent_volume_claim") and volume.persistent_volume_claim.read_only
        mounts.append(cri_pb.Mount(container_path=vm.mount_path, host_path=host_path,
                                   readonly=vm.read_only or is_api_data(volume) or claim_read_only,
                                   propagation=PROPAGATION[vm.mount_propagation]))
    return mounts


def expand_sub_path_expr(expr: str, env: Mapping[str, str]) -> str:
    """$(VAR) from the container's env; a variable that is missing or empty is an error, as in the kubelet."""
    missing: set[str] = set()

    def lookup(name: str) -> str:
        if not env.get(name):
            missing.add(name)
        return env.get(name, "")
    expanded = expand(expr, lookup)
    if missing:
        raise VolumeError(f"missing value for {', '.join(sorted(missing))}")
    return expanded


def _sub_path(volume: str, sub: str) -> str:
    """volume/sub with symlinks resolved; it must stay inside the volume, and a missing one is created."""
    base = os.path.realpath(volume)
    path = os.path.realpath(os.path.join(volume, sub))
    if path != base and not path.startswith(base + "/"):
        raise VolumeError(f"subPath {sub!r} resolves outside the volume")
    if not os.path.lexists(path):
        # The volume's own mode, whatever the agent's umask: a subPath of an emptyDir stays writable.
        mode = stat.S_IMODE(os.stat(base).st_mode)
        os.makedirs(path, mode=mode, exist_ok=True)
        os.chmod(path, mode)
    return path


# ---- cleanup ----

async def cleanup_volumes(root: str, uid: str) -> None:
    """Unmounts the pod's tmpfs volumes and removes its volume directories (never a hostPath's data)."""
    await asyncio.to_thread(cleanup_volumes_sync, root, uid)


def cleanup_volumes_sync(root: str, uid: str) -> None:
    capacity.release(os.path.join(root, "pods"), pod_dir(root, uid))
    base = os.path.join(pod_dir(root, uid), "volumes")
    if not os.path.isdir(base):
        return
    for point in mount_points_under(base):
        _run("umount", point)
    if mount_points_under(base):
        raise VolumeError(f"volumes of pod {uid} are still mounted; not removing {base}")
    shutil.rmtree(base)


def mount_points_under(path: str) -> list[str]:
    prefix = os.path.realpath(path).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        points = [_unescape(line.split()[4]) for line in f]
    return sorted((p for p in points if (p + "/").startswith(prefix)), key=len, reverse=True)


def is_mount_point(path: str) -> bool:
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return any(_unescape(line.split()[4]) == real for line in f)


def _unescape(field: str) -> str:
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _run(*argv: str) -> None:
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise VolumeError(f"{' '.join(argv)}: {proc.stderr.strip()}")
