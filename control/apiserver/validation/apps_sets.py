"""DaemonSets, StatefulSets and ControllerRevisions (apps/v1): update strategies, what may change
on update, and the status counters."""

from __future__ import annotations

from google.protobuf import json_format

from control.apiserver.validation.apps import (
    PERCENT_MSG,
    int_or_percent,
    nonnegative,
    validate_selector_and_template,
)
from control.apiserver.validation.errors import Errors, forbidden, immutable, invalid, not_supported, required
from control.apiserver.validation.names import dns1123_label_errors
from control.client.convert import int_or_string
from skiff.v1 import apps_pb2, pod_pb2

DAEMONSET_STRATEGIES = ("RollingUpdate", "OnDelete")
POD_MANAGEMENT_POLICIES = ("OrderedReady", "Parallel")
RETENTION_POLICIES = ("Retain", "Delete")
STS_MUTABLE_MSG = ("updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                   "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
_STS_MUTABLE = ("replicas", "ordinals", "template", "update_strategy", "persistent_volume_claim_retention_policy",
                "min_ready_seconds")
_NOT_OVER_100 = "must not be greater than 100%"
__all__ = ["validate_daemon_set", "validate_stateful_set", "validate_stateful_set_update",
           "validate_controller_revision", "validate_controller_revision_update", "PERCENT_MSG"]


def _percent_or_count(value, path: str) -> tuple[Errors, int]:
    """Errors of a positive int-or-percent (at most 100%) and its number (0 when unset or bad)."""
    errs, number, percent = int_or_percent(value, path)
    if percent and number is not None and number > 100:
        errs.append(invalid(path, f"{number}%", _NOT_OVER_100))
    return errs, number or 0


# --- DaemonSet ------------------------------------------------------------------------------------

def _validate_rolling_update_daemon_set(ru: apps_pb2.RollingUpdateDaemonSet, path: str) -> Errors:
    errs, unavailable = _percent_or_count(ru.max_unavailable, f"{path}.maxUnavailable")
    surge_errs, surge = _percent_or_count(ru.max_surge, f"{path}.maxSurge")
    errs += surge_errs
    if unavailable and surge:
        errs.append(invalid(f"{path}.maxSurge", int_or_string(ru.max_surge),
                            "may not be set when maxUnavailable is non-zero"))
    elif not unavailable and not surge and not errs:
        errs.append(required(f"{path}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return errs


def _validate_daemon_set_strategy(strategy: apps_pb2.DaemonSetUpdateStrategy, path: str) -> Errors:
    if strategy.type == "OnDelete":
        return []
    if strategy.type != "RollingUpdate":
        return [not_supported(path, strategy.type, DAEMONSET_STRATEGIES)]
    if not strategy.HasField("rolling_update"):
        return [required(f"{path}.rollingUpdate")]
    return _validate_rolling_update_daemon_set(strategy.rolling_update, f"{path}.rollingUpdate")


def validate_daemon_set(ds: apps_pb2.DaemonSet) -> Errors:
    spec = ds.spec
    errs = validate_selector_and_template(spec.selector, spec.HasField("selector"), spec.template, "spec",
                                          empty_for="daemonset", owner="DaemonSet")
    errs += nonnegative(spec.min_ready_seconds, "spec.minReadySeconds")
    errs += _validate_daemon_set_strategy(spec.update_strategy, "spec.updateStrategy")
    if spec.HasField("revision_history_limit"):
        errs += nonnegative(spec.revision_history_limit, "spec.revisionHistoryLimit")
    st = ds.status
    for field in apps_pb2.DaemonSetStatus.DESCRIPTOR.fields:
        if field.type in (field.TYPE_INT32, field.TYPE_INT64):
            errs += nonnegative(getattr(st, field.name), f"status.{field.json_name}")
    return errs


# --- StatefulSet ----------------------------------------------------------------------------------

def _validate_sts_strategy(strategy: apps_pb2.StatefulSetUpdateStrategy, path: str) -> Errors:
    if not strategy.type:
        return [required(path)]
    if strategy.type == "OnDelete":
        if strategy.HasField("rolling_update"):
            return [invalid(f"{path}.rollingUpdate", json_format.MessageToDict(strategy.rolling_update),
                            "only allowed for updateStrategy 'RollingUpdate'")]
        return []
    if strategy.type != "RollingUpdate":
        return [invalid(path, strategy.type, "must be 'RollingUpdate' or 'OnDelete'")]
    ru, ru_path = strategy.rolling_update, f"{path}.rollingUpdate"
    errs = nonnegative(ru.partition, f"{ru_path}.partition")
    if int_or_string(ru.max_unavailable) is not None:
        unavailable_errs, unavailable = _percent_or_count(ru.max_unavailable, f"{ru_path}.maxUnavailable")
        errs += unavailable_errs
        if not unavailable_errs and unavailable == 0:
            errs.append(invalid(f"{ru_path}.maxUnavailable", int_or_string(ru.max_unavailable), "cannot be 0"))
    return errs


def _validate_retention(policy: apps_pb2.StatefulSetPersistentVolumeClaimRetentionPolicy, path: str) -> Errors:
    errs: Errors = []
    for field, json in (("when_deleted", "whenDeleted"), ("when_scaled", "whenScaled")):
        value = getattr(policy, field)
        if value not in RETENTION_POLICIES:
            errs.append(not_supported(f"{path}.{json}", value, RETENTION_POLICIES))
    return errs


def _validate_claim_templates(spec: apps_pb2.StatefulSetSpec) -> Errors:
    errs: Errors = []
    for i, claim in enumerate(spec.volume_claim_templates):
        path = f"spec.volumeClaimTemplates[{i}]"
        if not claim.metadata.name:
            errs.append(required(f"{path}.metadata.name", "name or generateName is required"))
        if not claim.spec.access_modes:
            errs.append(required(f"{path}.spec.accessModes", "at least 1 access mode is required"))
        if "storage" not in claim.spec.resources.requests:
            errs.append(required(f"{path}.spec.resources[storage]"))
    return errs


def _validate_sts_spec(spec: apps_pb2.StatefulSetSpec) -> Errors:
    errs: Errors = []
    if spec.pod_management_policy not in POD_MANAGEMENT_POLICIES:
        errs.append(required("spec.podManagementPolicy") if not spec.pod_management_policy else
                    invalid("spec.podManagementPolicy", spec.pod_management_policy,
                            "must be 'OrderedReady' or 'Parallel'"))
    errs += _validate_sts_strategy(spec.update_strategy, "spec.updateStrategy")
    errs += _validate_retention(spec.persistent_volume_claim_retention_policy,
                                "spec.persistentVolumeClaimRetentionPolicy")
    errs += nonnegative(spec.replicas, "spec.replicas")
    errs += nonnegative(spec.min_ready_seconds, "spec.minReadySeconds")
    errs += nonnegative(spec.ordinals.start, "spec.ordinals.start")
    if spec.service_name:
        errs += [invalid("spec.serviceName", spec.service_name, m) for m in dns1123_label_errors(spec.service_name)]
    if spec.HasField("revision_history_limit"):
        errs += nonnegative(spec.revision_history_limit, "spec.revisionHistoryLimit")
    errs += validate_selector_and_template(spec.selector, spec.HasField("selector"), _with_claim_volumes(spec),
                                           "spec", empty_for="statefulset", owner="StatefulSet")
    return errs + _validate_claim_templates(spec)


def _with_claim_volumes(spec: apps_pb2.StatefulSetSpec) -> pod_pb2.PodTemplateSpec:
    """The template as its pods will have it: each claim template is a volume the containers may
    mount (Kubernetes leaves this union unchecked and skips the pod spec; Skiff checks the union)."""
    template = pod_pb2.PodTemplateSpec()
    template.CopyFrom(spec.template)
    have = {v.name for v in template.spec.volumes}
    for claim in spec.volume_claim_templates:
        if claim.metadata.name and claim.metadata.name not in have:
            template.spec.volumes.add(name=claim.metadata.name).empty_dir.SetInParent()
    return template


def _validate_sts_status(st: apps_pb2.StatefulSetStatus) -> Errors:
    errs: Errors = []
    for field in apps_pb2.StatefulSetStatus.DESCRIPTOR.fields:
        if field.type in (field.TYPE_INT32, field.TYPE_INT64):
            errs += nonnegative(getattr(st, field.name), f"status.{field.json_name}")
    for field, json in (("ready_replicas", "readyReplicas"), ("current_replicas", "currentReplicas"),
                        ("updated_replicas", "updatedReplicas"), ("available_replicas", "availableReplicas")):
        if getattr(st, field) > st.replicas:
            errs.append(invalid(f"status.{json}", getattr(st, field), "cannot be greater than status.replicas"))
    if st.available_replicas > st.ready_replicas:
        errs.append(invalid("status.availableReplicas", st.available_replicas,
                            "cannot be greater than status.readyReplicas"))
    return errs


def validate_stateful_set(sts: apps_pb2.StatefulSet) -> Errors:
    return _validate_sts_spec(sts.spec) + _validate_sts_status(sts.status)


def _immutable_part(spec: apps_pb2.StatefulSetSpec) -> apps_pb2.StatefulSetSpec:
    part = apps_pb2.StatefulSetSpec()
    part.CopyFrom(spec)
    for field in _STS_MUTABLE:
        part.ClearField(field)
    return part


def validate_stateful_set_update(new: apps_pb2.StatefulSet, old: apps_pb2.StatefulSet) -> Errors:
    """Only replicas, ordinals, template, updateStrategy, the claim retention policy and
    minReadySeconds may change."""
    if _immutable_part(new.spec) != _immutable_part(old.spec):
        return [forbidden("spec", STS_MUTABLE_MSG)]
    return []


# --- ControllerRevision ---------------------------------------------------------------------------

def validate_controller_revision(cr: apps_pb2.ControllerRevision) -> Errors:
    errs: Errors = []
    if not cr.HasField("data"):
        errs.append(required("data", "data is mandatory"))
    return errs + nonnegative(cr.revision, "revision")


def validate_controller_revision_update(new: apps_pb2.ControllerRevision,
                                        old: apps_pb2.ControllerRevision) -> Errors:
    if new.data != old.data:
        return [immutable("data", json_format.MessageToDict(new.data) if new.HasField("data") else None)]
    return []
