"""NodeRestriction admission: a node writes only what is its own.

Its own Node (create, update, status, delete; but not its taints, pod CIDRs or labels under
node-restriction.kubernetes.io/, which the cluster's admins set), its own Lease kube-node-lease/<name>, the status
and deletion of pods bound to it (by the stored spec.nodeName), events, and ServiceAccount tokens
bound to its pods. It may not create
pods (there are no mirror pods here). Other users pass untouched.
"""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.auth.attributes import Attributes
from control.apiserver.context import ApiContext
from control.client.kinds import KINDS
from control.client.wellknown import NAMESPACE_NODE_LEASE

LEASE_NAMESPACE = NAMESPACE_NODE_LEASE
WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})
POD, NODE = KINDS["Pod"], KINDS["Node"]
RESTRICTED_LABEL_DOMAIN = "node-restriction.kubernetes.io"


def _restricted(label: str) -> bool:
    domain = label.split("/")[0] if "/" in label else ""
    return domain == RESTRICTED_LABEL_DOMAIN or domain.endswith("." + RESTRICTED_LABEL_DOMAIN)


def _forbidden(attrs: Attributes, name: str, reason: str) -> errors.ApiError:
    resource = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    subject = f'{resource} "{name}"' if name else resource
    return errors.forbidden(f"{subject} is forbidden: {reason}")


class NodeRestriction:
    def __init__(self, api: ApiContext) -> None:
        self.api = api

    async def admit(self, attrs: Attributes, obj: Message | None = None) -> None:
        """`obj` is the object a create or update carries; its name counts for a create."""
        node = attrs.user.node_name
        if node is None or attrs.verb not in WRITES:
            return
        name = attrs.name or (obj.metadata.name if obj is not None else "")
        key = (attrs.api_group, attrs.resource)
        if key == ("", "nodes"):
            if name != node:
                raise _forbidden(attrs, name, f'node "{node}" is not allowed to modify node "{name}"')
            if obj is not None and not attrs.subresource:
                await self._own_node(attrs, node, obj)
        elif key == ("coordination.k8s.io", "leases"):
            self._lease(attrs, node, name)
        elif key == ("", "pods"):
            await self._pod(attrs, node, name)
        elif key == ("", "serviceaccounts") and attrs.subresource == "token":
            await self._token(attrs, node, obj)

    async def _own_node(self, attrs: Attributes, node: str, obj: Message) -> None:
        """Labels under node-restriction.kubernetes.io/, taints and pod CIDRs are the cluster's to set."""
        old = None
        if attrs.verb == "update":
            await self.api.cache[NODE].wait_fresh()
            old = self.api.cache[NODE].get("", node)
        old_labels = dict(old.metadata.labels) if old is not None else {}
        labels = dict(obj.metadata.labels)
        changed = sorted(k for k in set(labels) | set(old_labels)
                         if _restricted(k) and labels.get(k) != old_labels.get(k))
        if changed:
            verb = "set the following labels" if old is None else "modify labels"
            raise _forbidden(attrs, node, f'node "{node}" is not allowed to {verb}: {", ".join(changed)}')
        if old is None:
            return
        if list(obj.spec.taints) != list(old.spec.taints):
            raise _forbidden(attrs, node, f'node "{node}" is not allowed to modify taints')
        if obj.spec.pod_cidr != old.spec.pod_cidr or list(obj.spec.pod_cidrs) != list(old.spec.pod_cidrs):
            raise _forbidden(attrs, node, f'node "{node}" is not allowed to modify pod CIDRs')

    @staticmethod
    def _lease(attrs: Attributes, node: str, name: str) -> None:
        if attrs.namespace != LEASE_NAMESPACE:
            raise _forbidden(attrs, name, f"can only access leases in the {LEASE_NAMESPACE} namespace")
        if name != node:
            raise _forbidden(attrs, name, f'node "{node}" can only access node lease with the same name '
                                          "as the requesting node")

    async def _token(self, attrs: Attributes, node: str, request: Message | None) -> None:
        """A node asks only for tokens bound to a pod (by uid) that is bound to it."""
        ref = request.spec.bound_object_ref if request is not None else None
        if ref is None or ref.kind != "Pod":
            raise _forbidden(attrs, attrs.name, "node requested token not bound to a pod")
        if not ref.uid:
            raise _forbidden(attrs, attrs.name, "node requested token with a pod binding without a uid")
        cache = self.api.cache[POD]
        await cache.wait_fresh()
        pod = cache.get(attrs.namespace, ref.name)
        if pod is None or pod.metadata.uid != ref.uid:
            raise _forbidden(attrs, attrs.name, "node requested token bound to a pod that does not exist "
                                                 "or has another uid")
        if pod.spec.node_name != node:
            raise _forbidden(attrs, attrs.name, "node requested token bound to a pod scheduled on a different node")

    async def _pod(self, attrs: Attributes, node: str, name: str) -> None:
        if attrs.verb == "create" and not attrs.subresource:
            raise _forbidden(attrs, name, f'node "{node}" can only create mirror pods, '
                                          "and skiff has none")
        cache = self.api.cache[POD]
        await cache.wait_fresh()
        pod = cache.get(attrs.namespace, name)
        if pod is None:
            return  # the handler answers NotFound
        if attrs.subresource == "status" and pod.spec.node_name != node:
            raise _forbidden(attrs, name, f'node "{node}" can only update pod status for pods with '
                                          "spec.nodeName set to itself")
        if attrs.verb == "delete" and not attrs.subresource and pod.spec.node_name != node:
            raise _forbidden(attrs, name, f'node "{node}" can only delete pods with spec.nodeName set to itself')
        if attrs.verb == "update" and not attrs.subresource and pod.spec.node_name != node:
            raise _forbidden(attrs, name, f'node "{node}" can only update pods with spec.nodeName set to itself')
