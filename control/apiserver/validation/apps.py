"""ReplicaSets and Deployments: selectors that match their template, rollout parameters."""

from __future__ import annotations

import re

from control.apiserver.validation.errors import (
    Errors,
    forbidden,
    immutable,
    invalid,
    not_supported,
    required,
)
from control.apiserver.validation.meta import validate_label_selector
from control.apiserver.validation.pod import validate_pod_template
from control.client.convert import int_or_string
from control.client.selectors import SelectorError, from_label_selector
from skiff.v1 import apps_pb2, pod_pb2

STRATEGY_TYPES = ("Recreate", "RollingUpdate")
NONNEGATIVE_MSG = "must be greater than or equal to 0"
PERCENT_FMT = "[0-9]+%"
PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  "
               f"or '93%', regex used for validation is '{PERCENT_FMT}')")


def nonnegative(value: int, path: str) -> Errors:
    return [invalid(path, value, NONNEGATIVE_MSG)] if value < 0 else []


def validate_selector_and_template(sel, has_selector: bool, template: pod_pb2.PodTemplateSpec,
                                   path: str, empty_for: str = "deployment", owner: str = "ReplicaSet") -> Errors:
    """The selector (non-empty, matching the template's labels) and an always-restarting template.
    Kubernetes words the empty selector after `empty_for` and the deadline after `owner`."""
    errs: Errors = []
    selector = None
    if not has_selector:
        errs.append(required(f"{path}.selector"))
    else:
        errs += validate_label_selector(sel, f"{path}.selector")
        if not sel.match_labels and not sel.match_expressions:
            errs.append(invalid(f"{path}.selector", sel, f"empty selector is invalid for {empty_for}"))
        try:
            selector = from_label_selector(sel)
        except SelectorError:
            errs.append(invalid(f"{path}.selector", sel, "invalid label selector"))
    t = f"{path}.template"
    if selector is not None and not selector.empty and not selector.matches(template.metadata.labels):
        errs.append(invalid(f"{t}.metadata.labels", dict(template.metadata.labels),
                            "`selector` does not match template `labels`"))
    errs += validate_pod_template(template, t)
    if template.spec.restart_policy not in ("", "Always"):  # empty: reported as required
        errs.append(not_supported(f"{t}.spec.restartPolicy", template.spec.restart_policy, ["Always"]))
    if template.spec.HasField("active_deadline_seconds"):
        errs.append(forbidden(f"{t}.spec.activeDeadlineSeconds",
                              f"activeDeadlineSeconds in {owner} is not Supported"))
    return errs


def validate_replica_set(rs: apps_pb2.ReplicaSet) -> Errors:
    spec = rs.spec
    errs = nonnegative(spec.replicas, "spec.replicas") + nonnegative(spec.min_ready_seconds,
                                                                        "spec.minReadySeconds")
    errs += validate_selector_and_template(spec.selector, spec.HasField("selector"), spec.template, "spec")
    st = rs.status
    for field, json in (("replicas", "replicas"), ("fully_labeled_replicas", "fullyLabeledReplicas"),
                        ("ready_replicas", "readyReplicas"), ("available_replicas", "availableReplicas"),
                        ("observed_generation", "observedGeneration")):
        errs += nonnegative(getattr(st, field), f"status.{json}")
    for field, json in (("fully_labeled_replicas", "fullyLabeledReplicas"), ("ready_replicas", "readyReplicas"),
                        ("available_replicas", "availableReplicas")):
        if getattr(st, field) > st.replicas:
            errs.append(invalid(f"status.{json}", getattr(st, field), "cannot be greater than status.replicas"))
    if st.available_replicas > st.ready_replicas:
        errs.append(invalid("status.availableReplicas", st.available_replicas,
                            "cannot be greater than readyReplicas"))
    return errs


def int_or_percent(value, path: str) -> tuple[Errors, int | None, bool]:
    """(errors, number, is_percent) for maxSurge/maxUnavailable."""
    v = int_or_string(value)
    if isinstance(v, str):
        if not re.fullmatch(PERCENT_FMT, v):
            return [invalid(path, v, PERCENT_MSG)], None, True
        return [], int(v[:-1]), True
    if v is None:
        return [], None, False
    return nonnegative(v, path), v, False


def _validate_rolling_update(ru: apps_pb2.RollingUpdateDeployment, path: str) -> Errors:
    unavailable_path, surge_path = f"{path}.maxUnavailable", f"{path}.maxSurge"
    errs, unavailable, percent = int_or_percent(ru.max_unavailable, unavailable_path)
    surge_errs, surge, _ = int_or_percent(ru.max_surge, surge_path)
    errs += surge_errs
    if percent and unavailable is not None and unavailable > 100:
        errs.append(invalid(unavailable_path, f"{unavailable}%", "must not be greater than 100%"))
    if not unavailable and not surge and not errs:
        errs.append(invalid(unavailable_path, int_or_string(ru.max_unavailable),
                            "may not be 0 when `maxSurge` is 0"))
    return errs


def _validate_strategy(strategy: apps_pb2.DeploymentStrategy, path: str) -> Errors:
    if strategy.type not in STRATEGY_TYPES:
        if not strategy.type:
            return [required(f"{path}.type")]
        return [not_supported(f"{path}.type", strategy.type, STRATEGY_TYPES)]
    if strategy.type == "Recreate":
        if strategy.HasField("rolling_update"):
            return [forbidden(f"{path}.rollingUpdate",
                              "may not be specified when strategy `type` is 'Recreate'")]
        return []
    if not strategy.HasField("rolling_update"):
        return [required(f"{path}.rollingUpdate", "this should be defaulted and never be nil")]
    return _validate_rolling_update(strategy.rolling_update, f"{path}.rollingUpdate")


def validate_deployment(d: apps_pb2.Deployment) -> Errors:
    spec = d.spec
    errs = nonnegative(spec.replicas, "spec.replicas")
    errs += validate_selector_and_template(spec.selector, spec.HasField("selector"), spec.template, "spec")
    errs += _validate_strategy(spec.strategy, "spec.strategy")
    errs += nonnegative(spec.min_ready_seconds, "spec.minReadySeconds")
    if spec.HasField("revision_history_limit"):
        errs += nonnegative(spec.revision_history_limit, "spec.revisionHistoryLimit")
    if spec.HasField("progress_deadline_seconds"):
        errs += nonnegative(spec.progress_deadline_seconds, "spec.progressDeadlineSeconds")
        if spec.progress_deadline_seconds <= spec.min_ready_seconds:
            errs.append(invalid("spec.progressDeadlineSeconds", spec.progress_deadline_seconds,
                                "must be greater than minReadySeconds"))
    return errs + _validate_deployment_status(d.status)


def _validate_deployment_status(st: apps_pb2.DeploymentStatus) -> Errors:
    errs: Errors = []
    for field, json in (("observed_generation", "observedGeneration"), ("replicas", "replicas"),
                        ("updated_replicas", "updatedReplicas"), ("ready_replicas", "readyReplicas"),
                        ("available_replicas", "availableReplicas"),
                        ("unavailable_replicas", "unavailableReplicas"), ("collision_count", "collisionCount")):
        errs += nonnegative(getattr(st, field), f"status.{json}")
    for field, json in (("ready_replicas", "readyReplicas"), ("available_replicas", "availableReplicas")):
        if getattr(st, field) > st.replicas:
            errs.append(invalid(f"status.{json}", getattr(st, field), "cannot be greater than status.replicas"))
    if st.available_replicas > st.ready_replicas:
        errs.append(invalid("status.availableReplicas", st.available_replicas,
                            "cannot be greater than readyReplicas"))
    return errs


def validate_selector_update(new, old) -> Errors:
    """apps/v1 makes the selector of ReplicaSets and Deployments immutable."""
    if new.spec.selector != old.spec.selector:
        return [immutable("spec.selector", new.spec.selector)]
    return []
