"""The table of resource kinds: each kind's client facts, declared once.

Names (plural, short names, categories), the API group, whether it is namespaced, its
subresources (status, scale), the field selectors it supports, its printer columns (what `get`
shows, control/client/printers.py), whether `rollout` manages it, its protobuf message and the
gRPC service with any RPCs beyond the common verbs. Everything that is a list of kinds — the gRPC
services (`scripts/gen-proto` writes `services.proto` from this table), the apiserver's registry,
RBAC bootstrap, the garbage collector, namespace deletion, `get all`, `api-resources`, `scale`,
`rollout` — is derived from this table; a kind's server rules live in
`control/apiserver/registry/<kind>.py`.

This module imports no generated code at import time, so the proto generator can read it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from functools import cached_property

from google.protobuf.message import Message

from control.client import hpatext, networkprinters, printers, storageprinters
from control.client.printers import Columns

RBAC_GROUP = "rbac.authorization.k8s.io"
COMMON_FIELD_SELECTORS = ("metadata.name", "metadata.namespace")
# The verbs every kind's service serves (discovery's verbs, as `api-resources -o wide` lists them).
COMMON_VERBS = ("create", "delete", "get", "list", "update", "watch")
_POD_SPEC = "skiff.v1.PodSpec"
_POD_TEMPLATE = "skiff.v1.PodTemplateSpec"


@dataclass(frozen=True)
class Rpc:
    """An RPC of a kind's service beyond the common verbs, authorized as Kubernetes authorizes the
    subresource it stands for (`pods/log`: get). Types are messages in package skiff.v1."""
    name: str
    request: str
    response: str
    verb: str
    subresource: str
    client_streaming: bool = False
    server_streaming: bool = False
    for_users: bool = True  # granted by the default user-facing roles with the kind (not pods/binding)


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    group: str  # "" for the core group
    namespaced: bool
    proto: str  # "<file>.<Message>" in proto/skiff/v1, e.g. "apps.Deployment"
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # kubectl's categories, e.g. "all"
    has_status: bool = True  # the status subresource
    has_spec: bool = True  # spec changes bump metadata.generation
    scale: bool = False  # the scale subresource: spec.replicas, status.replicas, spec.selector
    field_selectors: tuple[str, ...] = ()  # beyond metadata.name and metadata.namespace
    columns: Columns = printers.DEFAULT  # `get`'s printer columns; kubectl's NAME and AGE unless declared
    rollout: bool = False  # `rollout status|history|undo|restart|pause|resume` manage it
    rpcs: tuple[Rpc, ...] = ()
    # The default user-facing ClusterRoles that grant it (Kubernetes' aggregate-to-* labels):
    # "view" reads it, "edit" reads and writes it, "admin" alone reads and writes it.
    aggregate_to: tuple[str, ...] = ()
    version: str = "v1"
    service_name: str = ""  # only where the derived name would clash with a message
    aliases: tuple[str, ...] = field(default=())
    # Older versions of the group whose manifests are accepted and converted (control/client/conversion.py).
    old_versions: tuple[str, ...] = ()
    delete_collection: bool = True  # REST's `deletecollection` (DELETE on the collection); Namespaces have none
    # Set only on an older version's view (`at_version`): the version objects are stored in.
    stored_version: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def old_api_versions(self) -> tuple[str, ...]:
        return tuple(f"{self.group}/{v}" if self.group else v for v in self.old_versions)

    def at_version(self, version: str) -> Kind:
        """The kind as one of its `old_versions` shows it over REST: that version's messages (generated
        in `<file>_<version>.proto`), converted to and from the stored version at the edges
        (control/client/conversion.py). Handlers, storage and RBAC stay the stored kind's."""
        if version == self.version:
            return self
        if version not in self.old_versions:
            raise ValueError(f"{self.kind} is not served in version {version}")
        return replace(self, version=version, proto=f"{self.proto_file}_{version}.{self.message_name}",
                       old_versions=(), stored_version=self.version)

    @property
    def stored(self) -> Kind:
        """The version objects are stored in (the kind itself unless it is an older version's view)."""
        return KINDS[self.kind] if self.stored_version else self

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """kubectl's `deployment.apps` spelling used in messages."""
        return f"{self.singular}.{self.group}" if self.group else self.singular

    @property
    def resource(self) -> str:
        """kubectl's `deployments.apps` spelling (resource plus group)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def service(self) -> str:
        """The gRPC service's name inside skiff.v1: the kind's plural in CamelCase."""
        return self.service_name or camel_plural(self.kind, self.plural)

    @property
    def proto_file(self) -> str:
        return self.proto.split(".")[0]

    @property
    def message_name(self) -> str:
        return self.proto.split(".")[1]

    @property
    def supported_field_selectors(self) -> tuple[str, ...]:
        return COMMON_FIELD_SELECTORS + self.field_selectors

    @property
    def verbs(self) -> tuple[str, ...]:
        return COMMON_VERBS

    @property
    def served_rpcs(self) -> tuple[Rpc, ...]:
        """The kind's own RPCs and, with the scale subresource, GetScale and UpdateScale."""
        return self.rpcs + (SCALE_RPCS if self.scale else ())

    @cached_property
    def pod_spec_path(self) -> tuple[str, ...]:
        """Where the kind's PodSpec lives, read from its message: ("spec",) for a Pod,
        ("spec", "template", "spec") for a kind with a pod template, () for the rest."""
        spec = self.message.DESCRIPTOR.fields_by_name.get("spec")
        if spec is None or spec.message_type is None:
            return ()
        if spec.message_type.full_name == _POD_SPEC:
            return ("spec",)
        if _is_template(spec.message_type.fields_by_name.get("template")):
            return ("spec", "template", "spec")
        job_template = spec.message_type.fields_by_name.get("job_template")  # a CronJob's
        if job_template is not None and job_template.message_type is not None:
            inner = job_template.message_type.fields_by_name.get("spec")
            if inner is not None and _is_template(inner.message_type.fields_by_name.get("template")):
                return ("spec", "job_template", "spec", "template", "spec")
        return ()

    @property
    def has_pod_template(self) -> bool:
        return len(self.pod_spec_path) == 3

    @cached_property
    def message(self) -> type[Message]:
        return getattr(_module(f"{self.proto_file}_pb2"), self.message_name)

    @property
    def versions(self) -> tuple[Kind, ...]:
        """The stored version first, then the older ones served beside it."""
        return (self, *(self.at_version(v) for v in self.old_versions))

    @cached_property
    def request_message(self) -> type[Message]:
        return getattr(_module("services_pb2"), f"{self.kind}Request")

    @cached_property
    def list_message(self) -> type[Message]:
        return getattr(_module("services_pb2"), f"{self.kind}List")

    @cached_property
    def watch_event_message(self) -> type[Message]:
        return getattr(_module("services_pb2"), f"{self.kind}WatchEvent")

    @property
    def full_service_name(self) -> str:
        return f"skiff.v1.{self.service}"

    def stub(self, channel):  # -> services_pb2_grpc.<Service>Stub
        return getattr(_module("services_pb2_grpc"), f"{self.service}Stub")(channel)

    def new(self, **kwargs) -> Message:
        obj = self.message(**kwargs)
        obj.api_version = self.api_version
        obj.kind = self.kind
        return obj


def _is_template(field) -> bool:
    return field is not None and field.message_type is not None and field.message_type.full_name == _POD_TEMPLATE


def camel_plural(kind: str, plural: str) -> str:
    """`ConfigMap` + `configmaps` → `ConfigMaps`; `NetworkPolicy` + `networkpolicies` → `NetworkPolicies`."""
    n = 0
    while n < min(len(kind), len(plural)) and kind[n].lower() == plural[n]:
        n += 1
    return kind[:n] + plural[n:]


def _module(name: str):
    return importlib.import_module(f"skiff.v1.{name}")


_ALL_CATEGORY = ("all",)
# The scale subresource (autoscaling/v1 Scale), served by every kind with `scale`.
SCALE_RPCS = (
    Rpc("GetScale", "GetRequest", "Scale", "get", "scale"),
    Rpc("UpdateScale", "Scale", "Scale", "update", "scale"),
)
_POD_RPCS = (
    Rpc("Bind", "Binding", "Pod", "create", "binding", for_users=False),
    Rpc("Evict", "Eviction", "Eviction", "create", "eviction"),
    Rpc("Logs", "LogsRequest", "LogChunk", "get", "log", server_streaming=True),
    Rpc("Exec", "ExecRequest", "ExecResponse", "create", "exec"),
    Rpc("ExecStream", "ExecInput", "ExecOutput", "create", "exec", client_streaming=True, server_streaming=True),
    Rpc("Attach", "ExecInput", "ExecOutput", "create", "attach", client_streaming=True, server_streaming=True),
    Rpc("PortForward", "PortForwardInput", "PortForwardOutput", "create", "portforward", client_streaming=True,
        server_streaming=True),
    # Not in the default user-facing roles, as in Kubernetes: an ephemeral container bypasses the pod's admission.
    Rpc("GetEphemeralContainers", "GetRequest", "Pod", "get", "ephemeralcontainers", for_users=False),
    Rpc("UpdateEphemeralContainers", "PodRequest", "Pod", "update", "ephemeralcontainers", for_users=False),
    # In-place resize: only the containers' cpu and memory change (control/apiserver/resize.py).
    Rpc("GetResize", "GetRequest", "Pod", "get", "resize"),
    Rpc("UpdateResize", "PodRequest", "Pod", "update", "resize"),
)
_POD_FIELDS = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
               "spec.hostNetwork", "status.phase", "status.podIP")
_EVENT_FIELDS = (
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
    "reason", "reportingComponent", "source", "type",
)
_NO_SUBRESOURCES = {"has_status": False, "has_spec": False}
_VIEW, _EDIT, _ADMIN = ("view",), ("view", "edit"), ("admin",)

_ALL = [
    Kind("Namespace", "namespaces", "", False, "core.Namespace", ("ns",), field_selectors=("status.phase",),
         aggregate_to=_VIEW, columns=printers.NAMESPACE, delete_collection=False),
    Kind("Node", "nodes", "", False, "core.Node", ("no",), field_selectors=("spec.unschedulable",),
         rpcs=(Rpc("Stats", "StatsRequest", "StatsSummary", "get", "stats"),), columns=printers.NODE),
    Kind("Pod", "pods", "", True, "pod.Pod", ("po",), _ALL_CATEGORY, rpcs=_POD_RPCS, aggregate_to=_EDIT,
         field_selectors=_POD_FIELDS, columns=printers.POD),
    Kind("Service", "services", "", True, "core.Service", ("svc",), _ALL_CATEGORY, aggregate_to=_EDIT,
         columns=printers.SERVICE),
    Kind("Endpoints", "endpoints", "", True, "core.Endpoints", ("ep",), service_name="EndpointsService",
         aggregate_to=_EDIT, columns=printers.ENDPOINTS, **_NO_SUBRESOURCES),
    Kind("ConfigMap", "configmaps", "", True, "core.ConfigMap", ("cm",), aggregate_to=_EDIT,
         columns=printers.CONFIGMAP, **_NO_SUBRESOURCES),
    Kind("Secret", "secrets", "", True, "core.Secret", field_selectors=("type",), aggregate_to=("edit",),
         columns=printers.SECRET, **_NO_SUBRESOURCES),
    Kind("ServiceAccount", "serviceaccounts", "", True, "core.ServiceAccount", ("sa",), aggregate_to=_EDIT,
         rpcs=(Rpc("CreateToken", "TokenRequest", "TokenRequest", "create", "token"),),
         columns=printers.SERVICEACCOUNT, **_NO_SUBRESOURCES),
    Kind("Event", "events", "", True, "core.Event", ("ev",), field_selectors=_EVENT_FIELDS, aggregate_to=_VIEW,
         columns=printers.EVENT, **_NO_SUBRESOURCES),
    Kind("ReplicaSet", "replicasets", "apps", True, "apps.ReplicaSet", ("rs",), _ALL_CATEGORY, scale=True,
         field_selectors=("status.replicas",), aggregate_to=_EDIT, columns=printers.REPLICASET),
    Kind("Deployment", "deployments", "apps", True, "apps.Deployment", ("deploy",), _ALL_CATEGORY, scale=True,
         rollout=True, aggregate_to=_EDIT, columns=printers.DEPLOYMENT),
    Kind("Job", "jobs", "batch", True, "batch.Job", (), _ALL_CATEGORY, field_selectors=("status.successful",),
         aggregate_to=_EDIT, columns=printers.JOB),
    Kind("CronJob", "cronjobs", "batch", True, "batch.CronJob", ("cj",), _ALL_CATEGORY, aggregate_to=_EDIT,
         columns=printers.CRONJOB),
    Kind("DaemonSet", "daemonsets", "apps", True, "apps.DaemonSet", ("ds",), _ALL_CATEGORY, rollout=True,
         aggregate_to=_EDIT, columns=printers.DAEMONSET),
    Kind("StatefulSet", "statefulsets", "apps", True, "apps.StatefulSet", ("sts",), _ALL_CATEGORY, scale=True,
         rollout=True, aggregate_to=_EDIT, columns=printers.STATEFULSET),
    Kind("ControllerRevision", "controllerrevisions", "apps", True, "apps.ControllerRevision", aggregate_to=_VIEW,
         columns=printers.CONTROLLERREVISION, **_NO_SUBRESOURCES),
    Kind("PersistentVolume", "persistentvolumes", "", False, "core.PersistentVolume", ("pv",),
         columns=storageprinters.PERSISTENTVOLUME),
    Kind("PersistentVolumeClaim", "persistentvolumeclaims", "", True, "core.PersistentVolumeClaim", ("pvc",),
         aggregate_to=_EDIT, columns=storageprinters.PERSISTENTVOLUMECLAIM),
    Kind("StorageClass", "storageclasses", "storage.k8s.io", False, "storage.StorageClass", ("sc",),
         columns=storageprinters.STORAGECLASS, **_NO_SUBRESOURCES),
    Kind("LimitRange", "limitranges", "", True, "core.LimitRange", ("limits",), aggregate_to=_VIEW,
         columns=printers.LIMITRANGE, **_NO_SUBRESOURCES),
    Kind("ResourceQuota", "resourcequotas", "", True, "core.ResourceQuota", ("quota",), aggregate_to=_VIEW,
         columns=printers.RESOURCEQUOTA, has_spec=False),
    Kind("Lease", "leases", "coordination.k8s.io", True, "coordination.Lease", has_status=False,
         columns=printers.LEASE),
    Kind("Ingress", "ingresses", "networking.k8s.io", True, "networking.Ingress", ("ing",), aggregate_to=_EDIT,
         columns=networkprinters.INGRESS),
    Kind("IngressClass", "ingressclasses", "networking.k8s.io", False, "networking.IngressClass",
         columns=networkprinters.INGRESSCLASS, **_NO_SUBRESOURCES),
    Kind("NetworkPolicy", "networkpolicies", "networking.k8s.io", True, "networking.NetworkPolicy", ("netpol",),
         aggregate_to=_EDIT, columns=networkprinters.NETWORKPOLICY, has_status=False),
    Kind("PodDisruptionBudget", "poddisruptionbudgets", "policy", True, "policy.PodDisruptionBudget", ("pdb",),
         aggregate_to=_EDIT, columns=printers.PDB),
    Kind("PriorityClass", "priorityclasses", "scheduling.k8s.io", False, "scheduling.PriorityClass", ("pc",),
         columns=printers.PRIORITYCLASS, **_NO_SUBRESOURCES),
    Kind("Role", "roles", RBAC_GROUP, True, "rbac.Role", aggregate_to=_ADMIN, columns=printers.ROLE,
         **_NO_SUBRESOURCES),
    Kind("ClusterRole", "clusterroles", RBAC_GROUP, False, "rbac.ClusterRole", columns=printers.ROLE,
         **_NO_SUBRESOURCES),
    Kind("RoleBinding", "rolebindings", RBAC_GROUP, True, "rbac.RoleBinding", aggregate_to=_ADMIN,
         columns=printers.BINDING, **_NO_SUBRESOURCES),
    Kind("ClusterRoleBinding", "clusterrolebindings", RBAC_GROUP, False, "rbac.ClusterRoleBinding",
         columns=printers.BINDING, **_NO_SUBRESOURCES),
    Kind("HorizontalPodAutoscaler", "horizontalpodautoscalers", "autoscaling", True,
         "autoscaling.HorizontalPodAutoscaler", ("hpa",), _ALL_CATEGORY, version="v2", old_versions=("v1",),
         aggregate_to=_EDIT, columns=hpatext.COLUMNS),
]

KINDS: dict[str, Kind] = {k.kind: k for k in _ALL}
BY_PLURAL: dict[str, Kind] = {k.plural: k for k in _ALL}


def _names(k: Kind) -> set[str]:
    names = {k.kind.lower(), k.plural, k.singular, *k.short_names}
    if k.group:
        names |= {f"{n}.{k.group}" for n in (k.plural, k.singular)}
    return names


_LOOKUP: dict[str, Kind] = {name: k for k in _ALL for name in _names(k)}


class UnknownKindError(LookupError):
    pass


def lookup(name: str) -> Kind:
    """Finds a kind by kubectl's spellings: Pod, pod, pods, po, deployment.apps."""
    try:
        return _LOOKUP[name.lower()]
    except KeyError:
        raise UnknownKindError(f'the server doesn\'t have a resource type "{name}"') from None


def in_category(category: str) -> list[Kind]:
    """The kinds of a kubectl category (`all`), in table order."""
    return [k for k in _ALL if category in k.categories]


def for_object(api_version: str, kind: str) -> Kind:
    """The kind a manifest names, checking its apiVersion too."""
    k = KINDS.get(kind)
    if k is None:
        raise UnknownKindError(f'no matches for kind "{kind}" in version "{api_version}"')
    if api_version and api_version != k.api_version and api_version not in k.old_api_versions:
        raise UnknownKindError(f'no matches for kind "{kind}" in version "{api_version}"')
    return k


_BY_MESSAGE: dict[str, Kind] = {f"skiff.v1.{k.message_name}": k for k in _ALL}


def kind_of(obj: Message) -> Kind:
    try:
        return _BY_MESSAGE[obj.DESCRIPTOR.full_name]
    except KeyError:
        raise UnknownKindError(f"no kind for message {type(obj).__name__}") from None
