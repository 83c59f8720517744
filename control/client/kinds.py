"""The table of resource kinds: names, API groups and protobuf types.

Everything that needs to go from a kind's name to its messages or its gRPC
service (the apiserver, the client library, skiffctl) looks it up here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.message import Message

from skiff.v1 import apps_pb2, coordination_pb2, core_pb2, pod_pb2, rbac_pb2, services_pb2, services_pb2_grpc


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    group: str  # "" for the core group
    namespaced: bool
    message: type[Message]
    service: str  # gRPC service name inside skiff.v1
    short_names: tuple[str, ...] = ()
    has_status: bool = True
    has_spec: bool = True
    aliases: tuple[str, ...] = field(default=())

    @property
    def api_version(self) -> str:
        return f"{self.group}/v1" if self.group else "v1"

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """kubectl's `deployment.apps` spelling used in messages."""
        return f"{self.singular}.{self.group}" if self.group else self.singular

    @property
    def request_message(self) -> type[Message]:
        return getattr(services_pb2, f"{self.kind}Request")

    @property
    def list_message(self) -> type[Message]:
        return getattr(services_pb2, f"{self.kind}List")

    @property
    def watch_event_message(self) -> type[Message]:
        return getattr(services_pb2, f"{self.kind}WatchEvent")

    @property
    def full_service_name(self) -> str:
        return f"skiff.v1.{self.service}"

    def stub(self, channel):  # -> services_pb2_grpc.<Service>Stub
        return getattr(services_pb2_grpc, f"{self.service}Stub")(channel)

    def new(self, **kwargs) -> Message:
        obj = self.message(**kwargs)
        obj.api_version = self.api_version
        obj.kind = self.kind
        return obj


RBAC_GROUP = "rbac.authorization.k8s.io"

_ALL = [
    Kind("Namespace", "namespaces", "", False, core_pb2.Namespace, "Namespaces", ("ns",)),
    Kind("Node", "nodes", "", False, core_pb2.Node, "Nodes", ("no",)),
    Kind("Pod", "pods", "", True, pod_pb2.Pod, "Pods", ("po",)),
    Kind("Service", "services", "", True, core_pb2.Service, "Services", ("svc",)),
    Kind("Endpoints", "endpoints", "", True, core_pb2.Endpoints, "EndpointsService", ("ep",),
         has_status=False, has_spec=False),
    Kind("ConfigMap", "configmaps", "", True, core_pb2.ConfigMap, "ConfigMaps", ("cm",),
         has_status=False, has_spec=False),
    Kind("Secret", "secrets", "", True, core_pb2.Secret, "Secrets", (), has_status=False, has_spec=False),
    Kind("Event", "events", "", True, core_pb2.Event, "Events", ("ev",), has_status=False, has_spec=False),
    Kind("ReplicaSet", "replicasets", "apps", True, apps_pb2.ReplicaSet, "ReplicaSets", ("rs",)),
    Kind("Deployment", "deployments", "apps", True, apps_pb2.Deployment, "Deployments", ("deploy",)),
    Kind("Lease", "leases", "coordination.k8s.io", True, coordination_pb2.Lease, "Leases", (),
         has_status=False),
    Kind("Role", "roles", RBAC_GROUP, True, rbac_pb2.Role, "Roles", (), has_status=False, has_spec=False),
    Kind("ClusterRole", "clusterroles", RBAC_GROUP, False, rbac_pb2.ClusterRole, "ClusterRoles", (),
         has_status=False, has_spec=False),
    Kind("RoleBinding", "rolebindings", RBAC_GROUP, True, rbac_pb2.RoleBinding, "RoleBindings", (),
         has_status=False, has_spec=False),
    Kind("ClusterRoleBinding", "clusterrolebindings", RBAC_GROUP, False, rbac_pb2.ClusterRoleBinding,
         "ClusterRoleBindings", (), has_status=False, has_spec=False),
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


def for_object(api_version: str, kind: str) -> Kind:
    """The kind a manifest names, checking its apiVersion too."""
    k = KINDS.get(kind)
    if k is None:
        raise UnknownKindError(f'no matches for kind "{kind}" in version "{api_version}"')
    if api_version and api_version != k.api_version:
        raise UnknownKindError(f'no matches for kind "{kind}" in version "{api_version}"')
    return k


_BY_MESSAGE: dict[str, Kind] = {k.message.DESCRIPTOR.full_name: k for k in _ALL}


def kind_of(obj: Message) -> Kind:
    try:
        return _BY_MESSAGE[obj.DESCRIPTOR.full_name]
    except KeyError:
        raise UnknownKindError(f"no kind for message {type(obj).__name__}") from None


# Pods' companions used by the pod service beyond the common verbs.
Binding = pod_pb2.Binding
