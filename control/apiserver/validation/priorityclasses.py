"""PriorityClass validation (scheduling.k8s.io/v1)."""

from __future__ import annotations

from control.apiserver.validation.errors import Errors, enum, forbidden, immutable
from control.client.wellknown import (
    HIGHEST_USER_DEFINABLE_PRIORITY,
    PREEMPTION_POLICIES,
    SYSTEM_PRIORITY_CLASS_PREFIX,
    SYSTEM_PRIORITY_CLASSES,
)
from skiff.v1 import scheduling_pb2


def validate_priority_class(pc: scheduling_pb2.PriorityClass) -> Errors:
    errs: Errors = []
    name = pc.metadata.name
    if name.startswith(SYSTEM_PRIORITY_CLASS_PREFIX):
        known = SYSTEM_PRIORITY_CLASSES.get(name)
        if known is None or known != pc.value or pc.global_default:
            why = (f"priority class {name} is not a known system priority class" if known is None
                   else f"value of {name} PriorityClass must be {known}" if known != pc.value
                   else f"globalDefault of {name} PriorityClass must be false")
            errs.append(forbidden("metadata.name", f"priority class names with '{SYSTEM_PRIORITY_CLASS_PREFIX}' "
                                  f"prefix are reserved for system use only. error: {why}"))
    elif pc.value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.append(forbidden("value", "maximum allowed value of a user defined priority is "
                              f"{HIGHEST_USER_DEFINABLE_PRIORITY}"))
    if pc.HasField("preemption_policy"):
        errs += enum("preemptionPolicy", pc.preemption_policy, PREEMPTION_POLICIES)
    return errs


def validate_priority_class_update(new: scheduling_pb2.PriorityClass, old: scheduling_pb2.PriorityClass) -> Errors:
    errs: Errors = []
    if new.value != old.value:
        errs.append(forbidden("value", "may not be changed in an update."))
    if new.preemption_policy != old.preemption_policy:
        errs.append(immutable("preemptionPolicy", new.preemption_policy))
    return errs
