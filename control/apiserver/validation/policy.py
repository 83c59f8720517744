"""policy/v1 validation: PodDisruptionBudgets."""

from __future__ import annotations

from control.apiserver.validation.apps import int_or_percent
from control.apiserver.validation.errors import Errors, enum, invalid
from control.apiserver.validation.meta import validate_label_selector
from control.client.convert import int_or_string
from control.client.wellknown import UNHEALTHY_POD_EVICTION_POLICIES
from skiff.v1 import policy_pb2


def _validate_budget_value(spec: policy_pb2.PodDisruptionBudgetSpec, field: str, json: str) -> Errors:
    if not spec.HasField(field):
        return []
    path = f"spec.{json}"
    errs, number, percent = int_or_percent(getattr(spec, field), path)
    if percent and number is not None and number > 100:
        errs.append(invalid(path, f"{number}%", "must not be greater than 100%"))
    return errs


def validate_pdb(pdb: policy_pb2.PodDisruptionBudget) -> Errors:
    spec = pdb.spec
    errs: Errors = []
    if spec.HasField("min_available") and spec.HasField("max_unavailable"):
        errs.append(invalid("spec", f"{{minAvailable: {int_or_string(spec.min_available)}, maxUnavailable: "
                            f"{int_or_string(spec.max_unavailable)}}}",
                            "minAvailable and maxUnavailable cannot be both set"))
    errs += _validate_budget_value(spec, "min_available", "minAvailable")
    errs += _validate_budget_value(spec, "max_unavailable", "maxUnavailable")
    errs += validate_label_selector(spec.selector, "spec.selector")
    if spec.HasField("unhealthy_pod_eviction_policy"):
        errs += enum("spec.unhealthyPodEvictionPolicy", spec.unhealthy_pod_eviction_policy,
                     UNHEALTHY_POD_EVICTION_POLICIES)
    return errs
