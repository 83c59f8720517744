"""Ephemeral containers on the node (the kubelet's): started once in the running pod, never restarted,
never probed; with targetContainerName they join that container's process namespace."""

from __future__ import annotations

from cri.runtime.v1 import api_pb2 as cri_pb
from skiff.v1 import pod_pb2

_SHARED = [f.name for f in pod_pb2.EphemeralContainer.DESCRIPTOR.fields
           if f.name in pod_pb2.Container.DESCRIPTOR.fields_by_name]


def as_container(e: pod_pb2.EphemeralContainer) -> pod_pb2.Container:
    """The container the runtime runs for an ephemeral container (their common fields)."""
    c = pod_pb2.Container()
    for name in _SHARED:
        field = pod_pb2.Container.DESCRIPTOR.fields_by_name[name]
        if field.label == field.LABEL_REPEATED:
            getattr(c, name).extend(getattr(e, name))
        elif field.message_type is not None:
            if e.HasField(name):
                getattr(c, name).CopyFrom(getattr(e, name))
        elif e.HasField(name):
            setattr(c, name, getattr(e, name))
    return c


def target_pid_namespace(config: cri_pb.ContainerConfig, target_id: str) -> None:
    """Runs the container in the process namespace of the container target_id."""
    options = config.linux.security_context.namespace_options
    options.pid = cri_pb.TARGET
    options.target_id = target_id
