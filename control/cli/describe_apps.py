"""What `describe` shows for DaemonSets and StatefulSets (kubectl's DaemonSetDescriber and
StatefulSetDescriber)."""

from __future__ import annotations

from control.cli.context import Context
from control.cli.describe_kinds import _meta, _template, annotations_text, describes
from control.cli.describe_text import Section, map_text
from control.client.printers import label_selector_text
from control.client.wellknown import POD_FAILED, POD_PENDING, POD_RUNNING, POD_SUCCEEDED


async def _pods_status(ctx: Context, owner) -> str:
    pods, _ = await ctx.client.list_all("Pod", owner.metadata.namespace)
    owned = [p for p in pods if any(o.uid == owner.metadata.uid and o.controller for o in p.metadata.owner_references)]
    counts = {phase: sum(p.status.phase == phase for p in owned)
              for phase in (POD_RUNNING, POD_PENDING, POD_SUCCEEDED, POD_FAILED)}
    return (f"{counts[POD_RUNNING]} Running / {counts[POD_PENDING]} Waiting / {counts[POD_SUCCEEDED]} Succeeded / "
            f"{counts[POD_FAILED]} Failed")


@describes("DaemonSet")
async def daemonset(ctx: Context, ds) -> Section:
    s, st = Section(), ds.status
    s.add("Name", ds.metadata.name)
    s.add("Selector", label_selector_text(ds.spec.selector))
    s.add("Node-Selector", map_text(dict(ds.spec.template.spec.node_selector)))
    s.add("Labels", map_text(dict(ds.metadata.labels)))
    s.add("Annotations", annotations_text(ds.metadata))
    s.add("Desired Number of Nodes Scheduled", str(st.desired_number_scheduled))
    s.add("Current Number of Nodes Scheduled", str(st.current_number_scheduled))
    s.add("Number of Nodes Scheduled with Up-to-date Pods", str(st.updated_number_scheduled))
    s.add("Number of Nodes Scheduled with Available Pods", str(st.number_available))
    s.add("Number of Nodes Misscheduled", str(st.number_misscheduled))
    s.add("Pods Status", await _pods_status(ctx, ds))
    s.add("Pod Template", _template(ds.spec.template))
    return s


def _claims(templates) -> Section | str:
    if not templates:
        return "<none>"
    s = Section()
    for t in templates:
        s.add("Name", t.metadata.name)
        s.add("StorageClass", t.spec.storage_class_name)
        s.add("Labels", map_text(dict(t.metadata.labels)))
        s.add("Annotations", map_text(dict(t.metadata.annotations), ": "))
        s.add("Capacity", t.spec.resources.requests.get("storage", ""))
        s.add("Access Modes", f"[{' '.join(t.spec.access_modes)}]")
    return s


@describes("StatefulSet")
async def statefulset(ctx: Context, sts) -> Section:
    s = _meta(Section(), sts)
    replicas = sts.spec.replicas if sts.spec.HasField("replicas") else 1
    s.add("Selector", label_selector_text(sts.spec.selector))
    s.add("Replicas", f"{replicas} desired | {sts.status.replicas} total")
    strategy = sts.spec.update_strategy
    s.add("Update Strategy", strategy.type)
    if strategy.type == "RollingUpdate" and strategy.rolling_update.HasField("partition"):
        s.add("  Partition", str(strategy.rolling_update.partition))
    s.add("Pods Status", await _pods_status(ctx, sts))
    s.add("Pod Template", _template(sts.spec.template))
    s.add("Volume Claims", _claims(sts.spec.volume_claim_templates))
    return s
