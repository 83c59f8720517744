"""Printer columns of the storage kinds (PersistentVolume, PersistentVolumeClaim, StorageClass), as
kubectl prints them; the kind table (control/client/kinds.py) declares them."""

from __future__ import annotations

from control.client.humanize import age, is_set
from control.client.printers import Columns
from control.client.quantity import canonical
from control.client.volumeutil import claim_class, is_default_class

_AGE = "AGE"

_ACCESS_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                 ("ReadWriteOncePod", "RWOP"))
_UNSET = "<unset>"


def access_modes_text(modes) -> str:
    """kubectl's short access modes, in its fixed order: RWO,ROX,RWX,RWOP."""
    return ",".join(short for mode, short in _ACCESS_MODES if mode in modes)


def _storage(resources) -> str:
    value = resources.get("storage", "")
    return canonical(value) if value else "0"


def _optional_text(msg, field: str) -> str:
    return getattr(msg, field) if msg.HasField(field) else _UNSET


def _phase(obj) -> str:
    return "Terminating" if is_set(obj.metadata.deletion_timestamp) else obj.status.phase


def _pv_row(pv, now):
    ref = pv.spec.claim_ref
    claim = f"{ref.namespace}/{ref.name}" if pv.spec.HasField("claim_ref") else ""
    return [pv.metadata.name, _storage(pv.spec.capacity), access_modes_text(pv.spec.access_modes),
            pv.spec.persistent_volume_reclaim_policy, _phase(pv), claim, claim_class(pv),
            _optional_text(pv.spec, "volume_attributes_class_name"), pv.status.reason,
            age(pv.metadata.creation_timestamp, now)]


def _pvc_row(pvc, now):
    capacity, modes = "", ""
    if pvc.spec.volume_name:
        capacity, modes = _storage(pvc.status.capacity), access_modes_text(pvc.status.access_modes)
    return [pvc.metadata.name, _phase(pvc), pvc.spec.volume_name, capacity, modes, claim_class(pvc),
            _optional_text(pvc.spec, "volume_attributes_class_name"), age(pvc.metadata.creation_timestamp, now)]


def _volume_mode_cell(obj, now):
    return [_optional_text(obj.spec, "volume_mode")]


def _storage_class_row(sc, now):
    name = sc.metadata.name + (" (default)" if is_default_class(sc) else "")
    return [name, sc.provisioner, sc.reclaim_policy or "Delete", sc.volume_binding_mode or "Immediate",
            "true" if sc.allow_volume_expansion else "false", age(sc.metadata.creation_timestamp, now)]


PERSISTENTVOLUME = Columns(("NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS",
                            "VOLUMEATTRIBUTESCLASS", "REASON", _AGE), ("VOLUMEMODE",), _pv_row, _volume_mode_cell)
PERSISTENTVOLUMECLAIM = Columns(("NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS",
                                 "VOLUMEATTRIBUTESCLASS", _AGE), ("VOLUMEMODE",), _pvc_row, _volume_mode_cell)
STORAGECLASS = Columns(("NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", _AGE),
                       (), _storage_class_row)
