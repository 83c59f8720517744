"""What `describe` shows for PodDisruptionBudgets and PriorityClasses (kubectl's fields and their order)."""

from __future__ import annotations

from control.cli.context import Context
from control.cli.describe_kinds import describes
from control.cli.describe_text import Section, render_section
from control.client.printers import label_selector_text


def _int_or_string(value) -> str:
    kind = value.WhichOneof("kind")
    return str(int(value.number_value)) if kind == "number_value" else value.string_value


@describes("PodDisruptionBudget")
async def pod_disruption_budget(ctx: Context, pdb) -> Section:
    m, spec, st = pdb.metadata, pdb.spec, pdb.status
    s = Section().add("Name", m.name).add("Namespace", m.namespace)
    if spec.HasField("min_available"):
        s.add("Min available", _int_or_string(spec.min_available))
    elif spec.HasField("max_unavailable"):
        s.add("Max unavailable", _int_or_string(spec.max_unavailable))
    s.add("Selector", label_selector_text(spec.selector) if spec.HasField("selector") else "<unset>")
    status = (Section().add("Allowed disruptions", str(st.disruptions_allowed))
              .add("Current", str(st.current_healthy)).add("Desired", str(st.desired_healthy))
              .add("Total", str(st.expected_pods)))
    return s.raw("Status:\n" + render_section(status, indent=4))  # kubectl indents it two levels


@describes("PriorityClass")
async def priority_class(ctx: Context, pc) -> Section:
    annotations = ",".join(f"{k}={v}" for k, v in sorted(pc.metadata.annotations.items()))
    return (Section().add("Name", pc.metadata.name).add("Value", str(pc.value))
            .add("GlobalDefault", "true" if pc.global_default else "false")
            .add("PreemptionPolicy", pc.preemption_policy)
            .add("Description", pc.description)
            .add("Annotations", annotations or "<none>"))
