"""Pod priority: the Priority admission plugin and the built-in PriorityClasses.

On pod create the pod's `priorityClassName` is resolved to `spec.priority` and
`spec.preemptionPolicy`; with no class named, the globalDefault class (the lowest value if several)
is used, or priority 0 and PreemptLowerPriority. A PriorityClass may not be a second globalDefault.
"""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.context import ApiContext
from control.apiserver.handlers import create_unless_exists
from control.client.kinds import KINDS
from control.client.wellknown import PREEMPT_LOWER_PRIORITY, SYSTEM_PRIORITY_CLASSES


def _classes(api: ApiContext) -> list[Message]:
    return api.cache[KINDS["PriorityClass"]].snapshot()[0]


def _global_default(api: ApiContext) -> Message | None:
    defaults = [pc for pc in _classes(api) if pc.global_default and not pc.metadata.HasField("deletion_timestamp")]
    return min(defaults, key=lambda pc: pc.value, default=None)


def _forbidden(pod: Message, why: str) -> errors.ApiError:
    return errors.forbidden(f'pods "{pod.metadata.name or pod.metadata.generate_name}" is forbidden: {why}')


def admit_pod(pod: Message, api: ApiContext) -> None:
    spec = pod.spec
    if spec.priority_class_name:
        pc = api.cache[KINDS["PriorityClass"]].get("", spec.priority_class_name)
        if pc is None:
            raise _forbidden(pod, f"no PriorityClass with name {spec.priority_class_name} was found")
        priority, policy = pc.value, pc.preemption_policy or PREEMPT_LOWER_PRIORITY
    else:
        pc = _global_default(api)
        if pc is not None:
            spec.priority_class_name = pc.metadata.name
        priority = pc.value if pc is not None else 0
        policy = (pc.preemption_policy if pc is not None else "") or PREEMPT_LOWER_PRIORITY
    if spec.HasField("priority") and spec.priority != priority:
        raise _forbidden(pod, f"the integer value of priority ({spec.priority}) must not be provided in pod spec; "
                              f"priority admission controller computed {priority} from the given PriorityClass name")
    if spec.HasField("preemption_policy") and spec.preemption_policy != policy:
        raise _forbidden(pod, f"the string value of PreemptionPolicy ({spec.preemption_policy}) must not be "
                              f"provided in pod spec; priority admission controller computed {policy} from the "
                              "given PriorityClass name")
    spec.priority, spec.preemption_policy = priority, policy


def admit_priority_class(pc: Message, api: ApiContext) -> None:
    """Only one PriorityClass may be the global default."""
    if not pc.global_default:
        return
    other = next((c for c in _classes(api) if c.global_default and c.metadata.name != pc.metadata.name), None)
    if other is not None:
        raise errors.forbidden(f'priorityclasses.scheduling.k8s.io "{pc.metadata.name}" is forbidden: PriorityClass '
                               f"{other.metadata.name} is already marked as default. Only one default can exist")


async def ensure_system_priority_classes(api: ApiContext) -> None:
    for name, value in SYSTEM_PRIORITY_CLASSES.items():
        pc = KINDS["PriorityClass"].new(value=value, description="Used for system critical pods that must not be "
                                        "moved from their current node." if name.endswith("node-critical") else
                                        "Used for system critical pods that must run in the cluster, but can be "
                                        "moved to another node if necessary.")
        pc.metadata.name = name
        await create_unless_exists(api, pc)
