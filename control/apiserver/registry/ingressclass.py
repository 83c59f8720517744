"""IngressClasses (networking.k8s.io/v1): which controller serves an Ingress; one may be the default."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import networking


def _default(ic: Message) -> None:
    if ic.spec.HasField("parameters") and not ic.spec.parameters.HasField("scope"):
        ic.spec.parameters.scope = "Cluster"


strategy = Strategy(default=_default, validate=networking.validate_ingress_class,
                    validate_update=networking.validate_ingress_class_update)
