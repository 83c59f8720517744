"""`describe hpa`: kubectl's HorizontalPodAutoscaler describer (reference, each metric's current and
target, replica bounds, behavior, the target's pod counts and the conditions with their messages)."""

from __future__ import annotations

from control.cli.context import Context
from control.cli.describe_kinds import _meta, describes
from control.cli.describe_text import Section
from control.client.hpatext import UNKNOWN

_PERCENT = "  (as a percentage of request)"


def _resource_line(source, status, container: bool) -> str:
    where = f'resource {source.name} of container "{source.container}" on pods' if container \
        else f"resource {source.name} on pods"
    current = status.current if status is not None else None
    if source.target.HasField("average_value"):
        now = current.average_value if current is not None and current.HasField("average_value") else UNKNOWN
        return f"{where}:  {now} / {source.target.average_value}"
    now = f"{current.average_utilization}% ({current.average_value})" \
        if current is not None and current.HasField("average_utilization") else UNKNOWN
    goal = f"{source.target.average_utilization}%" if source.target.HasField("average_utilization") else "<auto>"
    return f"{where}{_PERCENT}:  {now} / {goal}"


def _metric_line(spec, status) -> str:
    if spec.type == "Resource":
        return _resource_line(spec.resource, status.resource if status and status.HasField("resource") else None,
                              False)
    if spec.type == "ContainerResource":
        s = status.container_resource if status and status.HasField("container_resource") else None
        return _resource_line(spec.container_resource, s, True)
    if spec.type == "Pods":
        now = status.pods.current.average_value if status and status.HasField("pods") else UNKNOWN
        return f'"{spec.pods.metric.name}" on pods:  {now} / {spec.pods.target.average_value}'
    if spec.type == "Object":
        o = spec.object
        goal = o.target.value or o.target.average_value
        return f'"{o.metric.name}" on {o.described_object.kind}/{o.described_object.name} (target value):  ' \
               f"{UNKNOWN} / {goal}"
    if spec.type == "External":
        e = spec.external
        return f'"{e.metric.name}" (target value):  {UNKNOWN} / {e.target.value or e.target.average_value}'
    return f"<unknown metric type {spec.type}>"


def _direction(name: str, rules) -> list[str]:
    lines = [f"  {name}:"]
    if rules.HasField("stabilization_window_seconds"):
        lines.append(f"    Stabilization Window: {rules.stabilization_window_seconds} seconds")
    if rules.policies:
        lines.append(f"    Select Policy: {rules.select_policy or 'Max'}")
        lines.append("    Policies:")
        width = max(len(p.type) for p in rules.policies)
        lines += [f"      - Type: {p.type.ljust(width)}  Value: {p.value}  Period: {p.period_seconds} seconds"
                  for p in rules.policies]
    return lines


@describes("HorizontalPodAutoscaler")
async def horizontal_pod_autoscaler(ctx: Context, hpa) -> Section:
    s = _meta(Section(), hpa)
    spec, status = hpa.spec, hpa.status
    s.add("Reference", f"{spec.scale_target_ref.kind}/{spec.scale_target_ref.name}")
    s.add("Metrics", "( current / target )")
    for i, m in enumerate(spec.metrics):
        s.raw("  " + _metric_line(m, status.current_metrics[i] if i < len(status.current_metrics) else None))
    s.add("Min replicas", str(spec.min_replicas) if spec.HasField("min_replicas") else "<unset>")
    s.add("Max replicas", str(spec.max_replicas))
    if spec.HasField("behavior"):
        lines = ["Behavior:"]
        if spec.behavior.HasField("scale_up"):
            lines += _direction("Scale Up", spec.behavior.scale_up)
        if spec.behavior.HasField("scale_down"):
            lines += _direction("Scale Down", spec.behavior.scale_down)
        s.raw("\n".join(lines))
    s.add(f"{spec.scale_target_ref.kind} pods",
          f"{status.current_replicas} current / {status.desired_replicas} desired")
    if status.conditions:
        rows = [["Type", "Status", "Reason", "Message"], ["----", "------", "------", "-------"]]
        rows += [[c.type, c.status, c.reason, c.message] for c in status.conditions]
        s.add("Conditions", Section.table(rows))
    return s
