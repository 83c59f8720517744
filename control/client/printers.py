"""Printer columns: what `get` shows for each kind, and the extra columns of `-o wide`.

Like Kubernetes' pkg/printers, this belongs to no command line: the kind table declares each kind's
`Columns` (control/client/kinds.py), skiffctl prints them, and the apiserver's Table output can
serve the same cells. A kind without columns of its own gets kubectl's default NAME and AGE.
Row functions only read attributes, so this module needs no generated code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from control.client.humanize import age, human_duration, is_set
from control.client.podprinting import pod_ready_text, pod_restarts_text, pod_status_text
from control.client.quantity import canonical
from control.client.wellknown import (
    CONDITION_TRUE,
    LABEL_NODE_ROLE,
    LABEL_NODE_ROLE_PREFIX,
    NODE_READY,
)

NONE = "<none>"

Row = Callable[[Message, float], list[str]]


def _no_cells(obj: Message, now: float) -> list[str]:
    return []


@dataclass(frozen=True)
class Columns:
    """A kind's printer columns: the headers and a row's cells, plain and the extra `-o wide` ones;
    `wide_at`, when given, is where each wide column stands among all of them (Kubernetes puts some
    between the plain ones), else they follow."""
    headers: tuple[str, ...]
    wide_headers: tuple[str, ...]
    row: Row
    wide_row: Row = _no_cells
    wide_at: tuple[int, ...] = ()

    def arranged(self, plain: list, wide: list) -> list:
        """Plain and wide cells (or headers) in the order `-o wide` shows them."""
        if not self.wide_at:
            return [*plain, *wide]
        out, rest = [None] * (len(plain) + len(wide)), iter(plain)
        for at, cell in zip(self.wide_at, wide, strict=True):
            out[at] = cell
        return [cell if i in self.wide_at else next(rest) for i, cell in enumerate(out)]


def _join(values, empty: str = NONE) -> str:
    values = [v for v in values if v]
    return ",".join(values) if values else empty


def _selector_text(labels) -> str:
    return _join(f"{k}={v}" for k, v in sorted(labels.items()))


def selector_string(selector) -> str:
    """A LabelSelector in the `-l` syntax (`app=web,tier in (a,b),!legacy`)."""
    parts = [f"{k}={v}" for k, v in sorted(selector.match_labels.items())]
    for req in selector.match_expressions:
        op = req.operator
        if op in ("In", "NotIn"):
            parts.append(f"{req.key} {op.lower()} ({','.join(req.values)})")
        elif op == "Exists":
            parts.append(req.key)
        elif op == "DoesNotExist":
            parts.append(f"!{req.key}")
    return ",".join(parts)


def label_selector_text(selector) -> str:
    return selector_string(selector) or NONE


# --- Pods (their columns' text: podprinting.py) -----------------------------------------------------

def _pod_row(pod, now):
    return [pod.metadata.name, pod_ready_text(pod), pod_status_text(pod), pod_restarts_text(pod, now),
            age(pod.metadata.creation_timestamp, now)]


def _pod_wide(pod, now):
    return [pod.status.pod_ip or NONE, pod.spec.node_name or NONE, NONE, NONE]


# --- Workloads --------------------------------------------------------------------------------------

def _containers_and_images(template) -> list[str]:
    containers = template.spec.containers
    return [_join(c.name for c in containers), _join(c.image for c in containers)]


def _replicas(spec) -> int:
    return spec.replicas if spec.HasField("replicas") else 1


def _deployment_row(d, now):
    s = d.status
    return [d.metadata.name, f"{s.ready_replicas}/{_replicas(d.spec)}", str(s.updated_replicas),
            str(s.available_replicas), age(d.metadata.creation_timestamp, now)]


def _workload_wide(obj, now):
    return [*_containers_and_images(obj.spec.template), label_selector_text(obj.spec.selector)]


def _replicaset_row(rs, now):
    return [rs.metadata.name, str(_replicas(rs.spec)), str(rs.status.replicas), str(rs.status.ready_replicas),
            age(rs.metadata.creation_timestamp, now)]


# --- Jobs and CronJobs ------------------------------------------------------------------------------

def _has_condition(conditions, type_: str) -> bool:
    return any(c.type == type_ and c.status == CONDITION_TRUE for c in conditions)


def job_status_text(job) -> str:
    """kubectl's STATUS of a Job: its first true condition in kubectl's order, else Running."""
    conditions = job.status.conditions
    for type_, text in (("Complete", "Complete"), ("Failed", "Failed")):
        if _has_condition(conditions, type_):
            return text
    if is_set(job.metadata.deletion_timestamp):
        return "Terminating"
    for type_ in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _has_condition(conditions, type_):
            return type_
    return "Running"


def job_completions_text(job) -> str:
    succeeded = job.status.succeeded
    if job.spec.HasField("completions"):
        return f"{succeeded}/{job.spec.completions}"
    parallelism = job.spec.parallelism if job.spec.HasField("parallelism") else 0
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def job_duration_text(job, now: float) -> str:
    start = job.status.start_time
    if not is_set(start):
        return ""
    end = job.status.completion_time
    until = end.seconds + end.nanos / 1e9 if is_set(end) else now
    return human_duration(until - start.seconds - start.nanos / 1e9)


def _job_row(job, now):
    return [job.metadata.name, job_status_text(job), job_completions_text(job), job_duration_text(job, now),
            age(job.metadata.creation_timestamp, now)]


def _cronjob_row(cj, now):
    spec = cj.spec
    suspend = ("True" if spec.suspend else "False") if spec.HasField("suspend") else "<unset>"
    last = cj.status.last_schedule_time
    return [cj.metadata.name, spec.schedule, spec.time_zone if spec.HasField("time_zone") else NONE, suspend,
            str(len(cj.status.active)), age(last, now) if is_set(last) else NONE,
            age(cj.metadata.creation_timestamp, now)]


def _cronjob_wide(cj, now):
    template = cj.spec.job_template.spec
    return [*_containers_and_images(template.template), label_selector_text(template.selector)]


def _daemonset_row(ds, now):
    s = ds.status
    return [ds.metadata.name, str(s.desired_number_scheduled), str(s.current_number_scheduled), str(s.number_ready),
            str(s.updated_number_scheduled), str(s.number_available),
            _selector_text(ds.spec.template.spec.node_selector), age(ds.metadata.creation_timestamp, now)]


def _statefulset_row(sts, now):
    return [sts.metadata.name, f"{sts.status.ready_replicas}/{_replicas(sts.spec)}",
            age(sts.metadata.creation_timestamp, now)]


def _statefulset_wide(sts, now):
    return _containers_and_images(sts.spec.template)


def controller_text(obj) -> str:
    """kubectl's `daemonset.apps/web` for an object's controller, `<none>` without one."""
    ref = next((o for o in obj.metadata.owner_references if o.controller), None)
    if ref is None:
        return NONE
    group = ref.api_version.rpartition("/")[0]
    kind = f"{ref.kind}.{group}" if group else ref.kind
    return f"{kind.lower()}/{ref.name}"


def _controllerrevision_row(cr, now):
    return [cr.metadata.name, controller_text(cr), str(cr.revision), age(cr.metadata.creation_timestamp, now)]


# --- Services and endpoints -------------------------------------------------------------------------

def service_ports_text(svc) -> str:
    parts = []
    for p in svc.spec.ports:
        port = f"{p.port}:{p.node_port}" if p.node_port else str(p.port)
        parts.append(f"{port}/{p.protocol or 'TCP'}")
    return _join(parts)


def _external_ip(svc) -> str:
    kind = svc.spec.type or "ClusterIP"
    if kind == "ExternalName":
        return svc.spec.external_name
    ingress = [i.ip or i.hostname for i in svc.status.load_balancer.ingress]
    ips = list(svc.spec.external_ips)
    if kind == "LoadBalancer":
        return _join(ingress + ips, "<pending>")
    return _join(ips)


def _service_row(svc, now):
    return [svc.metadata.name, svc.spec.type or "ClusterIP", svc.spec.cluster_ip or NONE, _external_ip(svc),
            service_ports_text(svc), age(svc.metadata.creation_timestamp, now)]


def _service_wide(svc, now):
    return [_selector_text(svc.spec.selector)]


def endpoints_text(ep, limit: int = 3) -> str:
    addrs = []
    for subset in ep.subsets:
        ports = [p.port for p in subset.ports] or [None]
        for a in subset.addresses:
            addrs.extend(a.ip if port is None else f"{a.ip}:{port}" for port in ports)
    if not addrs:
        return NONE
    shown = ",".join(addrs[:limit])
    return shown + (f" + {len(addrs) - limit} more..." if len(addrs) > limit else "")


def _endpoints_row(ep, now):
    return [ep.metadata.name, endpoints_text(ep), age(ep.metadata.creation_timestamp, now)]


# --- Nodes ------------------------------------------------------------------------------------------

def node_status_text(node) -> str:
    ready = [c for c in node.status.conditions if c.type == NODE_READY]
    status = "Unknown" if not ready else ("Ready" if ready[0].status == CONDITION_TRUE else "NotReady")
    return f"{status},SchedulingDisabled" if node.spec.unschedulable else status


def node_roles_text(node) -> str:
    labels = node.metadata.labels
    roles = {k.removeprefix(LABEL_NODE_ROLE_PREFIX) for k in labels if k.startswith(LABEL_NODE_ROLE_PREFIX)}
    roles.discard("")
    if labels.get(LABEL_NODE_ROLE):
        roles.add(labels[LABEL_NODE_ROLE])
    return _join(sorted(roles))


def _node_address(node, kind: str) -> str:
    return next((a.address for a in node.status.addresses if a.type == kind), NONE)


def _node_row(node, now):
    return [node.metadata.name, node_status_text(node), node_roles_text(node),
            age(node.metadata.creation_timestamp, now), node.status.node_info.kubelet_version or NONE]


def _node_wide(node, now):
    info = node.status.node_info
    return [_node_address(node, "InternalIP"), _node_address(node, "ExternalIP"), info.os_image or NONE,
            info.kernel_version or NONE, info.container_runtime_version or NONE]


# --- Config and the rest ----------------------------------------------------------------------------

def _configmap_row(cm, now):
    return [cm.metadata.name, str(len(cm.data) + len(cm.binary_data)), age(cm.metadata.creation_timestamp, now)]


def _secret_row(s, now):
    return [s.metadata.name, s.type or "Opaque", str(len(s.data)), age(s.metadata.creation_timestamp, now)]


def _namespace_row(ns, now):
    return [ns.metadata.name, ns.status.phase or "Active", age(ns.metadata.creation_timestamp, now)]


def event_last_seen(ev, now) -> str:
    for ts in (ev.last_timestamp, ev.first_timestamp, ev.metadata.creation_timestamp):
        if is_set(ts):
            return age(ts, now)
    return "<unknown>"


def _event_row(ev, now):
    ref = ev.involved_object
    target = f"{ref.kind.lower()}/{ref.name}" if ref.name else ref.kind.lower()
    return [event_last_seen(ev, now), ev.type or "Normal", ev.reason, target, ev.message.strip()]


def _event_wide(ev, now):
    component = ev.source.component or ev.reporting_component
    instance = ev.source.host or ev.reporting_instance
    source = f"{component}, {instance}" if instance else component
    first = ev.first_timestamp if is_set(ev.first_timestamp) else ev.event_time
    count = ev.series.count if ev.HasField("series") else ev.count or 1
    return [ev.involved_object.field_path, source, age(first, now) if is_set(first) else "<unknown>", str(count),
            ev.metadata.name]


def _lease_row(lease, now):
    return [lease.metadata.name, lease.spec.holder_identity or NONE, age(lease.metadata.creation_timestamp, now)]


def _int_or_string_text(parent: Message, field: str) -> str:
    if not parent.HasField(field):
        return NONE
    value = getattr(parent, field)
    kind = value.WhichOneof("kind")
    return str(int(value.number_value)) if kind == "number_value" else value.string_value if kind else NONE


def _service_account_row(sa, now):
    return [sa.metadata.name, str(len(sa.secrets)), age(sa.metadata.creation_timestamp, now)]


def _pdb_row(pdb, now):
    spec = pdb.spec
    return [pdb.metadata.name, _int_or_string_text(spec, "min_available"),
            _int_or_string_text(spec, "max_unavailable"), str(pdb.status.disruptions_allowed),
            age(pdb.metadata.creation_timestamp, now)]


def _priority_class_row(pc, now):
    return [pc.metadata.name, str(pc.value), str(pc.global_default).lower(),
            age(pc.metadata.creation_timestamp, now), pc.preemption_policy or NONE]


# --- RBAC -------------------------------------------------------------------------------------------

def _created_at(ts: Timestamp) -> str:
    return ts.ToDatetime().strftime("%Y-%m-%dT%H:%M:%SZ") if is_set(ts) else ""


def _quantity(text: str) -> str:
    try:
        return canonical(text)
    except ValueError:
        return text


def _limitrange_row(lr, now):
    return [lr.metadata.name, _created_at(lr.metadata.creation_timestamp)]


def _quota_row(q, now):
    """kubectl's REQUEST and LIMIT: `resource: used/hard` for every hard resource, sorted by name;
    `limits.*` go to LIMIT, the rest to REQUEST."""
    request, limit = [], []
    for name in sorted(q.status.hard):
        cell = f"{name}: {_quantity(q.status.used.get(name, '0'))}/{_quantity(q.status.hard[name])}"
        (limit if name.startswith("limits.") else request).append(cell)
    return [q.metadata.name, age(q.metadata.creation_timestamp, now), ", ".join(request), ", ".join(limit)]


def _role_row(role, now):
    return [role.metadata.name, _created_at(role.metadata.creation_timestamp)]


def _binding_row(binding, now):
    ref = binding.role_ref
    return [binding.metadata.name, f"{ref.kind}/{ref.name}", age(binding.metadata.creation_timestamp, now)]


def subjects_text(subjects) -> tuple[str, str, str]:
    """kubectl's USERS, GROUPS and SERVICEACCOUNTS cells (service accounts as namespace/name)."""
    users = [s.name for s in subjects if s.kind == "User"]
    groups = [s.name for s in subjects if s.kind == "Group"]
    sas = [f"{s.namespace}/{s.name}" for s in subjects if s.kind == "ServiceAccount"]
    return ", ".join(users), ", ".join(groups), ", ".join(sas)


def _binding_wide(binding, now):
    return list(subjects_text(binding.subjects))


def _default_row(obj, now):
    return [obj.metadata.name, age(obj.metadata.creation_timestamp, now)]


# --- the columns each kind declares (control/client/kinds.py) -------------------------------------

_AGE = "AGE"
_WORKLOAD_WIDE = ("CONTAINERS", "IMAGES", "SELECTOR")
_BINDING_WIDE = ("USERS", "GROUPS", "SERVICEACCOUNTS")

DEFAULT = Columns(("NAME", _AGE), (), _default_row)
POD = Columns(("NAME", "READY", "STATUS", "RESTARTS", _AGE), ("IP", "NODE", "NOMINATED NODE", "READINESS GATES"),
              _pod_row, _pod_wide)
DEPLOYMENT = Columns(("NAME", "READY", "UP-TO-DATE", "AVAILABLE", _AGE), _WORKLOAD_WIDE, _deployment_row,
                     _workload_wide)
REPLICASET = Columns(("NAME", "DESIRED", "CURRENT", "READY", _AGE), _WORKLOAD_WIDE, _replicaset_row, _workload_wide)
DAEMONSET = Columns(("NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", _AGE),
                    _WORKLOAD_WIDE, _daemonset_row, _workload_wide)
STATEFULSET = Columns(("NAME", "READY", _AGE), ("CONTAINERS", "IMAGES"), _statefulset_row, _statefulset_wide)
CONTROLLERREVISION = Columns(("NAME", "CONTROLLER", "REVISION", _AGE), (), _controllerrevision_row)
SERVICE = Columns(("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", _AGE), ("SELECTOR",), _service_row,
                  _service_wide)
ENDPOINTS = Columns(("NAME", "ENDPOINTS", _AGE), (), _endpoints_row)
NODE = Columns(("NAME", "STATUS", "ROLES", _AGE, "VERSION"),
               ("INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"), _node_row, _node_wide)
CONFIGMAP = Columns(("NAME", "DATA", _AGE), (), _configmap_row)
SECRET = Columns(("NAME", "TYPE", "DATA", _AGE), (), _secret_row)
NAMESPACE = Columns(("NAME", "STATUS", _AGE), (), _namespace_row)
EVENT = Columns(("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"),
                ("SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"), _event_row, _event_wide, (4, 5, 7, 8, 9))
JOB = Columns(("NAME", "STATUS", "COMPLETIONS", "DURATION", _AGE), _WORKLOAD_WIDE, _job_row, _workload_wide)
CRONJOB = Columns(("NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", _AGE), _WORKLOAD_WIDE,
                  _cronjob_row, _cronjob_wide)
LEASE = Columns(("NAME", "HOLDER", _AGE), (), _lease_row)
SERVICEACCOUNT = Columns(("NAME", "SECRETS", _AGE), (), _service_account_row)
PDB = Columns(("NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", _AGE), (), _pdb_row)
PRIORITYCLASS = Columns(("NAME", "VALUE", "GLOBAL-DEFAULT", _AGE, "PREEMPTIONPOLICY"), (), _priority_class_row)
LIMITRANGE = Columns(("NAME", "CREATED AT"), (), _limitrange_row)
RESOURCEQUOTA = Columns(("NAME", _AGE, "REQUEST", "LIMIT"), (), _quota_row)
ROLE = Columns(("NAME", "CREATED AT"), (), _role_row)
BINDING = Columns(("NAME", "ROLE", _AGE), _BINDING_WIDE, _binding_row, _binding_wide)
