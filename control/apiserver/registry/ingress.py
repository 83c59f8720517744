"""Ingresses (networking.k8s.io/v1): HTTP routes by host and path to Services.

The DefaultIngressClass admission plugin runs here: an Ingress created without a class gets the
class marked `ingressclass.kubernetes.io/is-default-class: "true"` (the newest if several are).
No ingress controller ships yet, so status.loadBalancer stays empty.
"""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver.context import ApiContext
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import networking
from control.client.kinds import KINDS
from control.client.wellknown import ANNOTATION_DEFAULT_INGRESS_CLASS, ANNOTATION_INGRESS_CLASS


class IngressStrategy(Strategy):
    async def admit(self, obj: Message, api: ApiContext) -> None:
        if obj.spec.ingress_class_name or ANNOTATION_INGRESS_CLASS in obj.metadata.annotations:
            return
        classes = [c for c in api.cache[KINDS["IngressClass"]].snapshot()[0]
                   if c.metadata.annotations.get(ANNOTATION_DEFAULT_INGRESS_CLASS) == "true"]
        if classes:
            newest = max(classes, key=lambda c: (c.metadata.creation_timestamp.seconds, c.metadata.name))
            obj.spec.ingress_class_name = newest.metadata.name


strategy = IngressStrategy(validate=networking.validate_ingress)
