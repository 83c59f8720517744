"""Namespaces (v1): Active until deleted, then Terminating while the namespace controller empties
them; they go once spec.finalizers (the `kubernetes` finalizer) is cleared."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import defaults, errors
from control.apiserver.deletion import DeletionPlan, mark_now
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import core
from control.apiserver.validation.names import dns1123_label_errors
from control.client.wellknown import LABEL_METADATA_NAME

# NamespaceLifecycle admission keeps these: the cluster's own objects live in them.
IMMORTAL = frozenset({"default", "kube-system", "kube-public"})


class NamespaceStrategy(Strategy):
    def prepare_for_create(self, obj: Message) -> None:
        obj.ClearField("status")
        obj.status.phase = "Active"

    def canonicalize(self, obj: Message) -> None:
        # A generated name was not there yet when defaults set the label.
        obj.metadata.labels[LABEL_METADATA_NAME] = obj.metadata.name

    def plan_deletion(self, obj: Message, marked: bool, grace: int | None) -> DeletionPlan:
        if obj.metadata.name in IMMORTAL:
            raise errors.forbidden(f'namespaces "{obj.metadata.name}" is forbidden: this namespace may not be deleted')
        if not marked:
            mark_now(obj)
            obj.status.phase = "Terminating"
            return DeletionPlan(remove_now=False, updated=obj)
        if self.deletion_finished(obj):
            return DeletionPlan(remove_now=True)
        return DeletionPlan(remove_now=False, updated=obj)

    def deletion_finished(self, obj: Message) -> bool:
        return not obj.metadata.finalizers and not obj.spec.finalizers


# Namespace names are DNS labels.
strategy = NamespaceStrategy(default=defaults.default_namespace, validate=core.validate_namespace,
                             name_check=dns1123_label_errors)
