"""The local-path provisioner's helper pods: a released volume's directory is removed on its node by a
short pod (as rancher's local-path-provisioner does it), since only that node's disk holds it."""

from __future__ import annotations

import posixpath

from google.protobuf.message import Message

from control.client.convert import from_dict
from control.client.wellknown import NAMESPACE_SYSTEM

HELPER_LABEL = "skiff.io/local-path-volume"  # the volume a helper pod works for
SELECTED_NODE = "local.path.provisioner/selected-node"  # on the volume: the node that holds its data
DEFAULT_HELPER_IMAGE = "localhost:5000/busybox:1"


def helper_name(pv: Message) -> str:
    return f"helper-pod-delete-{pv.metadata.name}"


def helper_key(pv: Message) -> str:
    return f"{NAMESPACE_SYSTEM}/{helper_name(pv)}"


def delete_helper(pv: Message, image: str) -> Message:
    """A pod on the volume's node that removes the volume's directory (and its image, node/capacity.py)."""
    parent, base = posixpath.split(pv.spec.host_path.path.rstrip("/"))
    remove = ["rm", "-rf", f"/data/{base}", f"/data/{base}.img"]  # the data and its filesystem image
    return from_dict({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": helper_name(pv), "namespace": NAMESPACE_SYSTEM,
                     "labels": {HELPER_LABEL: pv.metadata.name}},
        "spec": {"nodeName": pv.metadata.annotations[SELECTED_NODE], "restartPolicy": "Never",
                 "terminationGracePeriodSeconds": 1, "tolerations": [{"operator": "Exists"}],
                 "containers": [{"name": "helper-pod", "image": image, "command": remove,
                                 "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                 "volumes": [{"name": "data", "hostPath": {"path": parent, "type": "DirectoryOrCreate"}}]}})
