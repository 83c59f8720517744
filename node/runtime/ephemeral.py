"""Ephemeral containers on the node (the kubelet's): started once in the running pod, never restarted,
never probed; with targetContainerName they join that container's process namespace."""

from __future__ import annotations

from google.protobuf import json_format

from cri.runtime.v1 import api_pb2 as cri_pb
from skiff.v1 import pod_pb2


def as_container(e: pod_pb2.EphemeralContainer) -> pod_pb2.Container:
    """The container the runtime runs for an ephemeral container (their common fields)."""
    fields = json_format.MessageToDict(e)
    fields.pop("targetContainerName", None)
    return json_format.ParseDict(fields, pod_pb2.Container(), ignore_unknown_fields=True)


def target_pid_namespace(config: cri_pb.ContainerConfig, target_id: str) -> None:
    """Runs the container in the process namespace of the container target_id."""
    options = config.linux.security_context.namespace_options
    options.pid = cri_pb.TARGET
    options.target_id = target_id
