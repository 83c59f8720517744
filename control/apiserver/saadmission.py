"""The ServiceAccount admission plugin, on pod create: the pod's ServiceAccount (`default` unless named)
must exist; its image pull secrets are the pod's when the pod names none; and unless
automountServiceAccountToken is false (the pod's over the ServiceAccount's) every container and init
container mounts, read-only at /var/run/secrets/kubernetes.io/serviceaccount, a projected volume
`kube-api-access-<5 random>` of a bound token, the cluster's CA bundle and the pod's namespace."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import admission, errors
from control.apiserver.context import ApiContext
from control.apiserver.storage import NotFoundError
from control.apiserver.strategy import generated_name
from control.client.kinds import KINDS
from skiff.v1 import pod_pb2

TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
VOLUME_PREFIX = "kube-api-access-"
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
ROOT_CA_KEY = "ca.crt"
TOKEN_EXPIRATION = 3607  # an hour and a bit: kube-apiserver recognises this default projection by it
DEFAULT_MODE = 0o644
SERVICE_ACCOUNT = KINDS["ServiceAccount"]


async def service_account(api: ApiContext, namespace: str, name: str) -> Message | None:
    """From the watch cache, else a quorum read (an account created a moment ago)."""
    found = api.cache[SERVICE_ACCOUNT].get(namespace, name)
    if found is not None:
        return found
    try:
        return await api.storage.get(SERVICE_ACCOUNT, namespace, name)
    except NotFoundError:
        return None


async def admit_pod(pod: pod_pb2.Pod, api: ApiContext) -> None:
    admission.set_service_account(pod)
    namespace, name = pod.metadata.namespace or "default", pod.spec.service_account_name
    sa = await service_account(api, namespace, name)
    if sa is None:
        pod_name = pod.metadata.name or pod.metadata.generate_name
        raise errors.forbidden(f'pods "{pod_name}" is forbidden: error looking up service account '
                               f'{namespace}/{name}: serviceaccount "{name}" not found')
    if not pod.spec.image_pull_secrets:
        pod.spec.image_pull_secrets.extend(pod_pb2.LocalObjectReference(name=s.name) for s in sa.image_pull_secrets)
    if should_automount(sa, pod):
        mount_token(pod)


def should_automount(sa: Message, pod: pod_pb2.Pod) -> bool:
    if pod.spec.HasField("automount_service_account_token"):
        return pod.spec.automount_service_account_token
    if sa.HasField("automount_service_account_token"):
        return sa.automount_service_account_token
    return True


def token_volume(name: str) -> pod_pb2.Volume:
    volume = pod_pb2.Volume(name=name)
    projected = volume.projected
    projected.default_mode = DEFAULT_MODE
    token = projected.sources.add().service_account_token
    token.path, token.expiration_seconds = "token", TOKEN_EXPIRATION
    cm = projected.sources.add().config_map
    cm.name = ROOT_CA_CONFIG_MAP
    cm.items.add(key=ROOT_CA_KEY, path=ROOT_CA_KEY)
    item = projected.sources.add().downward_api.items.add(path="namespace")
    item.field_ref.api_version, item.field_ref.field_path = "v1", "metadata.namespace"
    return volume


def mount_token(pod: pod_pb2.Pod) -> None:
    """Every (init) container without a mount at the token path gets one; the volume is added once."""
    existing = next((v.name for v in pod.spec.volumes if v.name.startswith(VOLUME_PREFIX)), "")
    name = existing or generated_name(VOLUME_PREFIX)
    needed = False
    for container in [*pod.spec.init_containers, *pod.spec.containers]:
        if any(m.mount_path == TOKEN_MOUNT_PATH for m in container.volume_mounts):
            continue
        container.volume_mounts.add(name=name, read_only=True, mount_path=TOKEN_MOUNT_PATH)
        needed = True
    if needed and not existing:
        pod.spec.volumes.append(token_volume(name))
