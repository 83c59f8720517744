"""What the StatefulSet controller decides without the API (Kubernetes'
pkg/controller/statefulset/stateful_set_utils.go).

Pods are `<set>-<ordinal>` for ordinals from spec.ordinals.start, with hostname = pod name and
subdomain = serviceName, labelled with their name, index and revision; each volume claim template
becomes a claim `<template>-<set>-<ordinal>` mounted by the pod.
"""

from __future__ import annotations

import re

from google.protobuf.message import Message

from control.client.controllerref import new_controller_ref
from control.client.podutil import is_pod_available, is_pod_ready
from control.client.wellknown import (
    LABEL_CONTROLLER_REVISION_HASH,
    LABEL_POD_INDEX,
    LABEL_STATEFULSET_POD_NAME,
    POD_FAILED,
    POD_PENDING,
    POD_RUNNING,
    POD_SUCCEEDED,
    is_being_deleted,
)
from skiff.v1 import apps_pb2, meta_pb2, pod_pb2

_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


def start_ordinal(sts: Message) -> int:
    return sts.spec.ordinals.start if sts.spec.HasField("ordinals") else 0


def replicas_of(sts: Message) -> int:
    return sts.spec.replicas if sts.spec.HasField("replicas") else 1


def ordinal_of(pod: Message, sts: Message) -> int:
    """The pod's ordinal, or -1 when its name is not `<set>-<n>`."""
    m = _ORDINAL.match(pod.metadata.name)
    if m is None or m.group(1) != sts.metadata.name:
        return -1
    return int(m.group(2))


def in_range(sts: Message, ordinal: int) -> bool:
    start = start_ordinal(sts)
    return start <= ordinal < start + replicas_of(sts)


def pod_name(sts: Message, ordinal: int) -> str:
    return f"{sts.metadata.name}-{ordinal}"


def claim_name(sts: Message, template: Message, ordinal: int) -> str:
    return f"{template.metadata.name}-{sts.metadata.name}-{ordinal}"


def revision_of(pod: Message) -> str:
    return pod.metadata.labels.get(LABEL_CONTROLLER_REVISION_HASH, "")


def _set_identity(sts: Message, pod: Message, ordinal: int) -> None:
    pod.metadata.name = pod_name(sts, ordinal)
    pod.metadata.namespace = sts.metadata.namespace
    pod.metadata.labels[LABEL_STATEFULSET_POD_NAME] = pod.metadata.name
    pod.metadata.labels[LABEL_POD_INDEX] = str(ordinal)
    pod.spec.hostname = pod.metadata.name
    if sts.spec.service_name:
        pod.spec.subdomain = sts.spec.service_name


def _set_storage(sts: Message, pod: Message, ordinal: int) -> None:
    claims = {t.metadata.name: claim_name(sts, t, ordinal) for t in sts.spec.volume_claim_templates}
    kept = [v for v in pod.spec.volumes if v.name not in claims]
    del pod.spec.volumes[:]
    for name, claim in claims.items():
        volume = pod.spec.volumes.add(name=name)
        volume.persistent_volume_claim.claim_name = claim
    pod.spec.volumes.extend(kept)


def new_pod(sts: Message, template: pod_pb2.PodTemplateSpec, ordinal: int, revision: str) -> pod_pb2.Pod:
    """The pod of this ordinal from a revision's template."""
    meta = meta_pb2.ObjectMeta(labels=dict(template.metadata.labels), annotations=dict(template.metadata.annotations),
                               finalizers=list(template.metadata.finalizers))
    meta.owner_references.append(new_controller_ref(sts))
    pod = pod_pb2.Pod(api_version="v1", kind="Pod", metadata=meta)
    pod.spec.CopyFrom(template.spec)
    _set_identity(sts, pod, ordinal)
    _set_storage(sts, pod, ordinal)
    pod.metadata.labels[LABEL_CONTROLLER_REVISION_HASH] = revision
    return pod


def identity_matches(sts: Message, pod: Message) -> bool:
    ordinal = ordinal_of(pod, sts)
    return (ordinal >= 0 and pod.metadata.name == pod_name(sts, ordinal)
            and pod.metadata.namespace == sts.metadata.namespace
            and pod.metadata.labels.get(LABEL_STATEFULSET_POD_NAME) == pod.metadata.name)


def fix_identity(sts: Message, pod: Message) -> None:
    """Brings a pod's labels back in line with its name (a pod someone relabelled)."""
    _set_identity(sts, pod, ordinal_of(pod, sts))


def new_claim(sts: Message, template: Message, ordinal: int) -> Message:
    """The claim of a volume claim template for one ordinal, labelled with the set's selector."""
    claim = type(template)()
    claim.CopyFrom(template)
    claim.ClearField("status")
    claim.api_version, claim.kind = "v1", "PersistentVolumeClaim"
    meta = claim.metadata
    meta.name = claim_name(sts, template, ordinal)
    meta.namespace = sts.metadata.namespace
    meta.labels.update(sts.spec.selector.match_labels)
    if sts.spec.persistent_volume_claim_retention_policy.when_deleted == "Delete":
        ref = new_controller_ref(sts)
        ref.controller = False
        meta.owner_references.append(ref)
    return claim


def is_created(pod: Message | None) -> bool:
    return pod is not None and bool(pod.metadata.uid)


def is_failed(pod: Message) -> bool:
    return pod.status.phase == POD_FAILED


def is_terminated(pod: Message) -> bool:
    return pod.status.phase in (POD_FAILED, POD_SUCCEEDED)


def is_pending(pod: Message) -> bool:
    return pod.status.phase == POD_PENDING


def running_and_ready(pod: Message) -> bool:
    return pod.status.phase == POD_RUNNING and is_pod_ready(pod)


def running_and_available(pod: Message, min_ready: int, now: float) -> bool:
    return pod.status.phase == POD_RUNNING and is_pod_available(pod, min_ready, now)


def is_healthy(pod: Message) -> bool:
    return running_and_ready(pod) and not is_being_deleted(pod)


def max_unavailable(sts: Message) -> int:
    """RollingUpdate's maxUnavailable as a count of replicas (percentages round down, at least 1)."""
    value = sts.spec.update_strategy.rolling_update.max_unavailable
    which = value.WhichOneof("kind")
    if which == "number_value":
        return max(int(value.number_value), 1)
    if which == "string_value" and value.string_value.endswith("%"):
        return max(int(value.string_value[:-1]) * replicas_of(sts) // 100, 1)
    return 1


def count_status(sts: Message, pods: list[Message], current: str, update: str,
                 now: float) -> apps_pb2.StatefulSetStatus:
    """The replica counters over the pods the set controls."""
    status = apps_pb2.StatefulSetStatus(observed_generation=sts.metadata.generation, replicas=0, ready_replicas=0,
                                        current_replicas=0, updated_replicas=0, available_replicas=0,
                                        current_revision=current, update_revision=update)
    for pod in pods:
        status.replicas += 1
        status.ready_replicas += running_and_ready(pod)
        status.available_replicas += running_and_available(pod, sts.spec.min_ready_seconds, now)
        if not is_being_deleted(pod):
            status.current_replicas += revision_of(pod) == current
            status.updated_replicas += revision_of(pod) == update
    return status


def complete_rolling_update(sts: Message, status: apps_pb2.StatefulSetStatus) -> None:
    """Once every replica runs the update revision and is ready, it becomes the current one."""
    if sts.spec.update_strategy.type != "RollingUpdate":
        return
    if status.updated_replicas == status.replicas == status.ready_replicas:
        status.current_replicas = status.updated_replicas
        status.current_revision = status.update_revision
