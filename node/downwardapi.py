"""The files of downwardAPI and projected volumes (the kubelet's downwardapi and projected plugins):
pure payloads (relative path -> (content, mode)) that node/volumes.py writes atomically.

A downward-API file holds one pod field (metadata.name, namespace, uid, labels, annotations, one
label or annotation) or one container resource; all labels or annotations are written one
`key="value"` per line, sorted, as the kubelet's fieldpath.FormatMap does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from node.runtime.env import ContainerConfigError, EnvContext, resource_field_value
from skiff.v1 import pod_pb2

DEFAULT_MODE = 0o644
_ONE_KEY = re.compile(r"metadata\.(labels|annotations)\['([^']+)'\]")

Payload = dict[str, tuple[bytes, int]]


class DownwardAPIError(ValueError):
    """A file cannot be produced (an unknown field, a missing container)."""


def format_map(values: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={json.dumps(values[key], ensure_ascii=False)}" for key in sorted(values))


def field_value(pod: pod_pb2.Pod, path: str) -> str:
    meta = pod.metadata
    simple = {"metadata.name": meta.name, "metadata.namespace": meta.namespace, "metadata.uid": meta.uid,
              "metadata.labels": format_map(meta.labels), "metadata.annotations": format_map(meta.annotations)}
    if path in simple:
        return simple[path]
    m = _ONE_KEY.fullmatch(path)
    if m:
        return (meta.labels if m.group(1) == "labels" else meta.annotations).get(m.group(2), "")
    raise DownwardAPIError(f"unsupported fieldPath: {path}")


def _container(pod: pod_pb2.Pod, name: str) -> pod_pb2.Container:
    for c in [*pod.spec.init_containers, *pod.spec.containers]:
        if c.name == name:
            return c
    raise DownwardAPIError(f"container {name!r} not found in pod")


def downward_payload(pod: pod_pb2.Pod, items, default_mode: int, allocatable: Mapping[str, str],
                     clean: Callable[[str, str], str]) -> Payload:
    payload: Payload = {}
    for i, item in enumerate(items):
        if item.HasField("field_ref"):
            value = field_value(pod, item.field_ref.field_path)
        elif item.HasField("resource_field_ref"):
            ref = item.resource_field_ref
            try:
                value = resource_field_value(pod, _container(pod, ref.container_name), ref,
                                             EnvContext(node_allocatable=allocatable))
            except ContainerConfigError as e:
                raise DownwardAPIError(str(e)) from None
        else:
            raise DownwardAPIError(f"items[{i}]: must specify one of: `fieldRef` or `resourceFieldRef`")
        mode = item.mode if item.HasField("mode") else default_mode
        payload[clean(item.path, f"items[{i}].path")] = (value.encode(), mode)
    return payload


def uses_pod_metadata(pod: pod_pb2.Pod) -> bool:
    """Whether any volume shows labels or annotations (so a metadata change must rewrite files)."""
    for v in pod.spec.volumes:
        sources = [v.downward_api] if v.HasField("downward_api") else []
        sources += [s.downward_api for s in v.projected.sources if s.HasField("downward_api")]
        if any(item.field_ref.field_path.startswith(("metadata.labels", "metadata.annotations"))
               for source in sources for item in source.items):
            return True
    return False
