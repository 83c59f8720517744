"""A kind's server rules: Kubernetes' REST strategy (pkg/registry/<group>/<kind>/strategy.go).

Each kind's module in this package defines `strategy`, an instance of a Strategy subclass that
overrides only what differs from the common rules: defaults, validation on create and update,
what the server resets on create and keeps on update, when a deletion is finished, the side effects
of writes (allocations) and the RPCs the kind adds to its service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import grpc
from google.protobuf.message import Message

from control.apiserver.context import ApiContext, KindHooks
from control.apiserver.validation.errors import Errors
from control.apiserver.validation.names import NameCheck, dns1123_subdomain_errors

if TYPE_CHECKING:
    import argparse

    from control.apiserver.deletion import DeletionPlan
    from control.apiserver.rpc import Guarded


Defaulter = Callable[[Message], None]
Validator = Callable[[Message], Errors]
UpdateValidator = Callable[[Message, Message], Errors]


class Strategy:
    """The common rules. A kind whose rules are only defaults and validation passes them in;
    a kind with more subclasses and overrides."""

    def __init__(self, default: Defaulter | None = None, validate: Validator | None = None,
                 validate_update: UpdateValidator | None = None, name_check: NameCheck | None = None) -> None:
        self._default = default
        self._validate = validate
        self._validate_update = validate_update
        # The check for metadata.name: most kinds are DNS subdomains.
        self.name_check: NameCheck = name_check or dns1123_subdomain_errors

    def default(self, obj: Message) -> None:
        """Fills Kubernetes' defaults into unset fields (create and update)."""
        if self._default is not None:
            self._default(obj)

    def validate(self, obj: Message) -> Errors:
        """The kind's own rules (metadata is checked for every kind)."""
        return self._validate(obj) if self._validate is not None else []

    def validate_update(self, new: Message, old: Message) -> Errors:
        """What may not change, beyond `validate(new)`."""
        return self._validate_update(new, old) if self._validate_update is not None else []

    def prepare_for_create(self, obj: Message) -> None:
        """What the server resets on create (status, write-only fields)."""
        if obj.DESCRIPTOR.fields_by_name.get("status") is not None:
            obj.ClearField("status")

    def prepare_for_update(self, new: Message, old: Message) -> None:
        """What the server keeps from the stored object on update, beyond metadata and status."""

    def canonicalize(self, obj: Message) -> None:
        """The last touch before a create is stored, once the object has its (generated) name."""

    async def admit(self, obj: Message, api: ApiContext) -> None:
        """Mutating admission on create (the built-in plugins that apply to this kind), before the
        object is validated."""

    def admit_update(self, new: Message, old: Message, api: ApiContext) -> None:
        """Admission on update (raises ApiError to refuse), after validation."""

    def plan_deletion(self, obj: Message, marked: bool, grace: int | None) -> DeletionPlan | None:
        """A kind's own deletion (graceful pods, terminating namespaces); None for the common rule."""
        return None

    def deletion_finished(self, obj: Message) -> bool:
        """Whether an object marked for deletion can go now (its finalizers are done)."""
        return not obj.metadata.finalizers

    def hooks(self, api: ApiContext, options: argparse.Namespace) -> KindHooks | None:
        """Side effects of writes (e.g. allocations), built once at start from the server's flags."""
        return None

    def rpc_methods(self, api: ApiContext, guard: Guarded) -> dict[str, grpc.RpcMethodHandler]:
        """Handlers for the kind's own RPCs (`Kind.rpcs`), by method name."""
        return {}
