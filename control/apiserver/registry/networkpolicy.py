"""NetworkPolicies (networking.k8s.io/v1): which traffic the selected pods take and send.

Stored and served as Kubernetes does; enforcement by the nodes is not built yet (as on a Kubernetes
cluster whose network plugin does not enforce policies).
"""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import networking


def _default(np: Message) -> None:
    spec = np.spec
    for rules in (spec.ingress, spec.egress):
        for rule in rules:
            for port in rule.ports:
                if not port.HasField("protocol"):
                    port.protocol = "TCP"
    if not spec.policy_types:
        spec.policy_types.append("Ingress")
        if spec.egress:
            spec.policy_types.append("Egress")


strategy = Strategy(default=_default, validate=networking.validate_network_policy)
