"""Kubernetes' Node authorizer: what a kubelet (user system:node:<name> in system:nodes) may do.

Secrets, ConfigMaps and PersistentVolumeClaims only by name, and only those a pod bound to the node
references, PersistentVolumes bound to those claims, and tokens (serviceaccounts/token) of the
ServiceAccounts its pods run as (the relationship graph, read from the
watch cache). Everything else by the static node rules,
which are what skiff-agent and its network daemon call: their own Node and Lease (narrowed to
their own by NodeRestriction), their pods and pod status, events, the services and endpoints
the node's proxy and DNS follow, and the namespaces and network policies its policy enforcer
follows. No opinion for anyone who is not a node.
"""

from __future__ import annotations

from collections.abc import Iterator

from control.apiserver.auth.attributes import Attributes, Decision, Verdict
from control.apiserver.watchcache import WatchCache
from control.client.kinds import KINDS
from control.client.volumeutil import claims_of
from skiff.v1 import pod_pb2

POD = KINDS["Pod"]
CLAIM = KINDS["PersistentVolumeClaim"]
COORDINATION = "coordination.k8s.io"

# (api group, resource incl. /subresource) -> verbs
NODE_RULES: dict[tuple[str, str], frozenset[str]] = {
    ("", "nodes"): frozenset({"get", "list", "watch", "create", "update", "patch", "delete"}),
    ("", "nodes/status"): frozenset({"update", "patch"}),
    ("", "pods"): frozenset({"get", "list", "watch", "delete"}),
    ("", "pods/status"): frozenset({"update", "patch"}),
    ("", "services"): frozenset({"get", "list", "watch"}),
    ("", "endpoints"): frozenset({"get", "list", "watch"}),
    # The node's NetworkPolicy enforcer (what a network plugin's own account reads elsewhere).
    ("", "namespaces"): frozenset({"get", "list", "watch"}),
    ("networking.k8s.io", "networkpolicies"): frozenset({"get", "list", "watch"}),
    ("", "events"): frozenset({"create", "update", "patch"}),
    (COORDINATION, "leases"): frozenset({"get", "create", "update", "patch", "delete"}),
}
GRAPH_RESOURCES = {("", "secrets"): "secret", ("", "configmaps"): "configmap",
                   ("", "persistentvolumeclaims"): "pvc", ("", "persistentvolumes"): "pv",
                   ("", "persistentvolumeclaims/status"): "pvc"}
# Beyond get: a node records an expanded claim's new capacity (the kubelet's NodeExpandVolume).
GRAPH_VERBS = {("", "persistentvolumeclaims/status"): frozenset({"get", "update", "patch"})}
GET_ONLY = frozenset({"get"})

ALLOWED = Verdict(Decision.ALLOW)


def pod_secrets(pod: pod_pb2.Pod) -> Iterator[str]:
    for volume in pod.spec.volumes:
        if volume.HasField("secret"):
            yield volume.secret.secret_name
        yield from (s.secret.name for s in volume.projected.sources if s.HasField("secret"))
    for ref in pod.spec.image_pull_secrets:
        yield ref.name
    for container in _containers(pod):
        for env in container.env:
            if env.value_from.HasField("secret_key_ref"):
                yield env.value_from.secret_key_ref.name
        for source in container.env_from:
            if source.HasField("secret_ref"):
                yield source.secret_ref.name


def pod_config_maps(pod: pod_pb2.Pod) -> Iterator[str]:
    for volume in pod.spec.volumes:
        if volume.HasField("config_map"):
            yield volume.config_map.name
        yield from (s.config_map.name for s in volume.projected.sources if s.HasField("config_map"))
    for container in _containers(pod):
        for env in container.env:
            if env.value_from.HasField("config_map_key_ref"):
                yield env.value_from.config_map_key_ref.name
        for source in container.env_from:
            if source.HasField("config_map_ref"):
                yield source.config_map_ref.name


def _containers(pod: pod_pb2.Pod) -> Iterator:
    yield from pod.spec.init_containers
    yield from pod.spec.containers


REFERENCES = {"secret": pod_secrets, "configmap": pod_config_maps, "pvc": claims_of}
BY_NODE = "spec.nodeName"


def _node_of(pod: pod_pb2.Pod) -> str:
    return pod.spec.node_name


class NodeAuthorizer:
    def __init__(self, cache: WatchCache) -> None:
        self.cache = cache
        cache[POD].add_index(BY_NODE, _node_of)

    def authorize(self, attrs: Attributes) -> Verdict:
        node = attrs.user.node_name
        if node is None:
            if attrs.user.name.startswith("system:node:"):
                return Verdict(Decision.NO_OPINION, "unknown node for user " f'"{attrs.user.name}"')
            return Verdict(Decision.NO_OPINION)
        resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        if (attrs.api_group, resource) == ("", "serviceaccounts/token"):
            return self._token(node, attrs)
        graph_type = GRAPH_RESOURCES.get((attrs.api_group, resource))
        if graph_type:
            return self._graph(node, graph_type, attrs, GRAPH_VERBS.get((attrs.api_group, resource), GET_ONLY))
        if attrs.verb in NODE_RULES.get((attrs.api_group, resource), ()):
            return ALLOWED
        return Verdict(Decision.NO_OPINION)

    def _token(self, node: str, attrs: Attributes) -> Verdict:
        """Tokens for the ServiceAccounts pods on the node run as (NodeRestriction checks the binding)."""
        if attrs.verb != "create" or not attrs.name:
            return Verdict(Decision.NO_OPINION, "can only create tokens for individual service accounts")
        if any(pod.metadata.namespace == attrs.namespace and pod.spec.service_account_name == attrs.name
               for pod in self.cache[POD].by_index(BY_NODE, node)):
            return ALLOWED
        return Verdict(Decision.NO_OPINION, f"no relationship found between node '{node}' and this object")

    def _graph(self, node: str, graph_type: str, attrs: Attributes, verbs: frozenset[str]) -> Verdict:
        if attrs.verb not in verbs or not attrs.name:
            return Verdict(Decision.NO_OPINION, "can only get individual resources of this type")
        if self._referenced(node, graph_type, attrs.namespace, attrs.name):
            return ALLOWED
        return Verdict(Decision.NO_OPINION, f"no relationship found between node '{node}' and this object")

    def _referenced(self, node: str, graph_type: str, namespace: str, name: str) -> bool:
        if graph_type == "pv":
            return self._volume_referenced(node, name)
        references = REFERENCES[graph_type]
        return any(pod.metadata.namespace == namespace and name in references(pod)
                   for pod in self.cache[POD].by_index(BY_NODE, node))

    def _volume_referenced(self, node: str, name: str) -> bool:
        """A volume bound to a claim that a pod on the node uses."""
        claims = self.cache[CLAIM]
        for pod in self.cache[POD].by_index(BY_NODE, node):
            for claim_name in claims_of(pod):
                claim = claims.get(pod.metadata.namespace, claim_name)
                if claim is not None and claim.spec.volume_name == name:
                    return True
        return False
