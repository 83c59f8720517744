"""How kubectl shows a HorizontalPodAutoscaler: its `get` columns and the TARGETS text.

TARGETS lists each metric as `<name>: <current>/<target>` (`cpu: 250%/50%`), the current value
`<unknown>` until the controller has measured it; past two metrics it ends `+ N more...`.
Like control/client/printers.py, it only reads attributes.
"""

from __future__ import annotations

from control.client.humanize import age
from control.client.printers import NONE, Columns

UNKNOWN = "<unknown>"
_SHOWN = 2


def _utilization(target, current) -> tuple[str, str]:
    now = f"{current.average_utilization}%" if current is not None and current.HasField("average_utilization") \
        else UNKNOWN
    goal = f"{target.average_utilization}%" if target.HasField("average_utilization") else "<auto>"
    return now, goal


def _resource_text(source, status) -> str:
    target = source.target
    current = status.current if status is not None else None
    if target.HasField("average_value"):
        now = current.average_value if current is not None and current.HasField("average_value") else UNKNOWN
        return f"{source.name}: {now}/{target.average_value}"
    now, goal = _utilization(target, current)
    return f"{source.name}: {now}/{goal}"


def _metric_text(spec, status) -> str:
    if spec.type == "Resource":
        return _resource_text(spec.resource, status.resource if status is not None and status.HasField("resource")
                              else None)
    if spec.type == "ContainerResource":
        s = status.container_resource if status is not None and status.HasField("container_resource") else None
        return _resource_text(spec.container_resource, s)
    if spec.type == "Pods":
        now = status.pods.current.average_value if status is not None and status.HasField("pods") else UNKNOWN
        return f"{now}/{spec.pods.target.average_value}"
    if spec.type in ("Object", "External"):
        source = spec.object if spec.type == "Object" else spec.external
        target = source.target.value or source.target.average_value
        suffix = " (avg)" if source.target.average_value else ""
        return f"{UNKNOWN}/{target}{suffix}"
    return "<unknown type>"


def targets_text(hpa) -> str:
    specs, statuses = hpa.spec.metrics, hpa.status.current_metrics
    if not specs:
        return NONE
    texts = [_metric_text(s, statuses[i] if i < len(statuses) else None) for i, s in enumerate(specs)]
    if len(texts) > _SHOWN:
        return ", ".join(texts[:_SHOWN]) + f" + {len(texts) - _SHOWN} more..."
    return ", ".join(texts)


def reference_text(hpa) -> str:
    ref = hpa.spec.scale_target_ref
    return f"{ref.kind}/{ref.name}"


def _row(hpa, now):
    spec = hpa.spec
    min_pods = str(spec.min_replicas) if spec.HasField("min_replicas") else "<unset>"
    return [hpa.metadata.name, reference_text(hpa), targets_text(hpa), min_pods, str(spec.max_replicas),
            str(hpa.status.current_replicas), age(hpa.metadata.creation_timestamp, now)]


COLUMNS = Columns(("NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"), (), _row)
