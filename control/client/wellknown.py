"""Kubernetes' well-known names, written once: labels, annotations, taints, finalizers, phases,
formats, and the helpers every component uses on status conditions.

Every other module imports these instead of spelling the strings again (the names are
Kubernetes' own, from `k8s.io/api/core/v1/well_known_labels.go`, `well_known_taints.go` and
the apps and batch types)."""

from __future__ import annotations

import time

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

# --- namespaces --------------------------------------------------------------------------------------

NAMESPACE_DEFAULT = "default"
NAMESPACE_SYSTEM = "kube-system"
NAMESPACE_NODE_LEASE = "kube-node-lease"  # the nodes' heartbeat Leases
NAMESPACE_PUBLIC = "kube-public"

# --- labels ------------------------------------------------------------------------------------------

LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ZONE = "topology.kubernetes.io/zone"
LABEL_OS = "kubernetes.io/os"
LABEL_ARCH = "kubernetes.io/arch"
LABEL_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
LABEL_NODE_ROLE = "kubernetes.io/role"  # the older spelling of a node's role
LABEL_NODE_RESTRICTION_PREFIX = "node-restriction.kubernetes.io/"
LABEL_METADATA_NAME = "kubernetes.io/metadata.name"
LABEL_POD_TEMPLATE_HASH = "pod-template-hash"
LABEL_CONTROLLER_REVISION_HASH = "controller-revision-hash"
LABEL_STATEFULSET_POD_NAME = "statefulset.kubernetes.io/pod-name"
LABEL_POD_INDEX = "apps.kubernetes.io/pod-index"  # a StatefulSet pod's ordinal
LABEL_TEMPLATE_GENERATION = "pod-template-generation"  # a DaemonSet pod's template generation
LABEL_JOB_NAME = "batch.kubernetes.io/job-name"
LABEL_CONTROLLER_UID = "batch.kubernetes.io/controller-uid"

# --- annotations -------------------------------------------------------------------------------------

ANNOTATION_REVISION = "deployment.kubernetes.io/revision"
ANNOTATION_REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
ANNOTATION_DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
ANNOTATION_MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ANNOTATION_TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"
ANNOTATION_CHANGE_CAUSE = "kubernetes.io/change-cause"
ANNOTATION_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ANNOTATION_RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ANNOTATION_DEFAULT_STORAGE_CLASS = "storageclass.kubernetes.io/is-default-class"
ANNOTATION_BETA_DEFAULT_STORAGE_CLASS = "storageclass.beta.kubernetes.io/is-default-class"
# The persistent-volume controller's and the scheduler's marks on volumes and claims.
ANNOTATION_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANNOTATION_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANNOTATION_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
ANNOTATION_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANNOTATION_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANNOTATION_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANNOTATION_DEFAULT_INGRESS_CLASS = "ingressclass.kubernetes.io/is-default-class"

ANNOTATION_DEFAULT_INGRESS_CLASS = "ingressclass.kubernetes.io/is-default-class"
ANNOTATION_INGRESS_CLASS = "kubernetes.io/ingress.class"  # the deprecated way to name a class

# --- taints ------------------------------------------------------------------------------------------

TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"

NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
NO_EXECUTE = "NoExecute"
TAINT_EFFECTS = (NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE)
SCHEDULING_EFFECTS = (NO_SCHEDULE, NO_EXECUTE)  # the effects that keep a pod off a node

# --- finalizers --------------------------------------------------------------------------------------

FINALIZER_ORPHAN = "orphan"
FINALIZER_FOREGROUND = "foregroundDeletion"
FINALIZER_KUBERNETES = "kubernetes"  # a Namespace's spec.finalizers
FINALIZER_PV_PROTECTION = "kubernetes.io/pv-protection"
FINALIZER_PVC_PROTECTION = "kubernetes.io/pvc-protection"
FINALIZER_JOB_TRACKING = "batch.kubernetes.io/job-tracking"

# --- pod phases and condition types ------------------------------------------------------------------

POD_PENDING = "Pending"
POD_RUNNING = "Running"
POD_SUCCEEDED = "Succeeded"
POD_FAILED = "Failed"
POD_UNKNOWN = "Unknown"
TERMINAL_PHASES = (POD_SUCCEEDED, POD_FAILED)

POD_SCHEDULED = "PodScheduled"
POD_INITIALIZED = "Initialized"
POD_READY = "Ready"
CONTAINERS_READY = "ContainersReady"
NODE_READY = "Ready"
DEPLOYMENT_AVAILABLE = "Available"
DEPLOYMENT_PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"  # ReplicaSets' and Deployments'

CONDITION_TRUE = "True"
CONDITION_FALSE = "False"
CONDITION_UNKNOWN = "Unknown"

# --- priority -----------------------------------------------------------------------------------------
PREEMPT_LOWER_PRIORITY, PREEMPT_NEVER = "PreemptLowerPriority", "Never"
PREEMPTION_POLICIES = (PREEMPT_LOWER_PRIORITY, PREEMPT_NEVER)
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_PRIORITY_CLASS_PREFIX = "system-"
SYSTEM_CLUSTER_CRITICAL, SYSTEM_NODE_CRITICAL = "system-cluster-critical", "system-node-critical"
SYSTEM_PRIORITY_CLASSES = {SYSTEM_CLUSTER_CRITICAL: 2_000_000_000, SYSTEM_NODE_CRITICAL: 2_000_001_000}

# --- disruption -----------------------------------------------------------------------------------------
IF_HEALTHY_BUDGET, ALWAYS_ALLOW = "IfHealthyBudget", "AlwaysAllow"
UNHEALTHY_POD_EVICTION_POLICIES = (IF_HEALTHY_BUDGET, ALWAYS_ALLOW)
CONDITION_DISRUPTION_ALLOWED = "DisruptionAllowed"
CONDITION_DISRUPTION_TARGET = "DisruptionTarget"

# --- formats -----------------------------------------------------------------------------------------

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = rf"{DNS1123_LABEL_FMT}(\.{DNS1123_LABEL_FMT})*"
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

# The JSON names of fields whose map values are resource quantities.
QUANTITY_FIELDS = frozenset({"limits", "requests", "capacity", "allocatable", "sizeLimit", "divisor", "hard",
                             "used", "default", "defaultRequest", "max", "min", "maxLimitRequestRatio"})


def is_terminal(pod: Message) -> bool:
    return pod.status.phase in TERMINAL_PHASES


def is_being_deleted(obj: Message) -> bool:
    return obj.metadata.HasField("deletion_timestamp")


# --- conditions --------------------------------------------------------------------------------------

def now_timestamp() -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(time.time_ns())
    return ts


def get_condition(status: Message, type_: str) -> Message | None:
    """The condition of this type in `status.conditions`, or None."""
    return next((c for c in status.conditions if c.type == type_), None)


def condition_is_true(status: Message, type_: str) -> bool:
    cond = get_condition(status, type_)
    return cond is not None and cond.status == CONDITION_TRUE


def set_condition(status: Message, type_: str, value: str, reason: str = "", message: str = "",
                  when: Timestamp | None = None) -> bool:
    """Sets a condition in place; lastTransitionTime moves only when its status flips.
    Returns whether anything changed."""
    when = when or now_timestamp()
    current = get_condition(status, type_)
    if current is None:
        cond = status.conditions.add(type=type_, status=value, reason=reason or None, message=message or None)
        cond.last_transition_time.CopyFrom(when)
        return True
    if (current.status, current.reason, current.message) == (value, reason, message):
        return False
    if current.status != value:
        current.last_transition_time.CopyFrom(when)
    current.status = value
    _set_or_clear(current, "reason", reason)
    _set_or_clear(current, "message", message)
    return True


def _set_or_clear(msg: Message, field: str, value: str) -> None:
    """An empty string stays unset, so it is left out of the JSON as Kubernetes' omitempty does."""
    if value:
        setattr(msg, field, value)
    else:
        msg.ClearField(field)


def remove_condition(status: Message, type_: str) -> None:
    kept = [c for c in status.conditions if c.type != type_]
    del status.conditions[:]
    status.conditions.extend(kept)


# batch/v1: Jobs and CronJobs.
LABEL_JOB_CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
LABEL_JOB_NAME = "batch.kubernetes.io/job-name"
LABEL_LEGACY_CONTROLLER_UID = "controller-uid"
LABEL_LEGACY_JOB_NAME = "job-name"
JOB_COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
JOB_INDEX_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
JOB_INDEX_IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
JOB_COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
FINALIZER_JOB_TRACKING = "batch.kubernetes.io/job-tracking"
CRONJOB_SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
JOB_COMPLETE = "Complete"
JOB_FAILED = "Failed"
JOB_SUSPENDED = "Suspended"
JOB_FAILURE_TARGET = "FailureTarget"
JOB_SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"
