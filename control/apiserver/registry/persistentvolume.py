"""PersistentVolumes (v1): Pending on create, the reclaim policy Retain and volume mode Filesystem by
default, immutable sources; the StorageObjectInUseProtection admission adds the
`kubernetes.io/pv-protection` finalizer."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import defaults
from control.apiserver.context import ApiContext
from control.apiserver.registry.base import Strategy
from control.apiserver.strategy import now
from control.apiserver.validation import storage
from control.client.volumeutil import VOLUME_PENDING
from control.client.wellknown import FINALIZER_PV_PROTECTION


def add_finalizer(obj: Message, finalizer: str) -> None:
    if finalizer not in obj.metadata.finalizers:
        obj.metadata.finalizers.append(finalizer)


class PersistentVolumeStrategy(Strategy):
    def prepare_for_create(self, obj: Message) -> None:
        obj.ClearField("status")
        obj.status.phase = VOLUME_PENDING
        obj.status.last_phase_transition_time.CopyFrom(now())

    async def admit(self, obj: Message, api: ApiContext) -> None:
        add_finalizer(obj, FINALIZER_PV_PROTECTION)


strategy = PersistentVolumeStrategy(default=defaults.default_persistent_volume,
                                    validate=storage.validate_persistent_volume,
                                    validate_update=storage.validate_persistent_volume_update)
