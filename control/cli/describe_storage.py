"""What `describe` shows for PersistentVolumes, PersistentVolumeClaims and StorageClasses, as kubectl."""

from __future__ import annotations

from control.cli.context import Context
from control.cli.describe_kinds import annotations_text, describes
from control.cli.describe_text import Section, map_text
from control.client.convert import to_dict
from control.client.quantity import canonical
from control.client.storageprinters import access_modes_text
from control.client.volumeutil import STORAGE, claim_class, claims_of, is_default_class
from control.client.wellknown import ANNOTATION_LAST_APPLIED, is_terminal

# kubectl's words for each volume source.
_SOURCE_TYPES = {"hostPath": "HostPath (bare host directory volume)", "local": "LocalVolume (a persistent volume "
                 "backed by local storage on a node)", "nfs": "NFS (an NFS mount that lasts the lifetime of a pod)",
                 "csi": "CSI (a Container Storage Interface (CSI) volume source)"}


def _finalizers(meta) -> str:
    return f"[{' '.join(meta.finalizers)}]"


def _storage(resources) -> str:
    return canonical(resources[STORAGE]) if STORAGE in resources else ""


def _node_affinity(pv) -> Section | str:
    if not pv.spec.HasField("node_affinity"):
        return "<none>"
    terms = Section()
    for i, term in enumerate(pv.spec.node_affinity.required.node_selector_terms):
        exprs = [f"{r.key} {r.operator.lower()} [{', '.join(r.values)}]" for r in term.match_expressions]
        terms.add(f"Term {i}", ", ".join(exprs) or "<none>")
    return Section().add("Required Terms", terms)


def _source(pv) -> Section:
    spec = pv.spec
    field = next((f for f, _ in spec.ListFields() if f.message_type is not None and not f.is_repeated
                  and f.name not in ("claim_ref", "node_affinity")), None)
    if field is None:
        return Section().add("Type", "<unknown>")
    s = Section().add("Type", _SOURCE_TYPES.get(field.json_name, field.json_name))
    values = to_dict(getattr(spec, field.name))
    if field.json_name == "hostPath":
        return s.add("Path", values.get("path", "")).add("HostPathType", values.get("type", ""))
    for key, value in sorted(values.items()):
        s.add(key[0].upper() + key[1:], value if isinstance(value, str) else str(value).lower())
    return s


@describes("PersistentVolume")
async def persistent_volume(ctx: Context, pv) -> Section:
    ref = pv.spec.claim_ref
    s = Section().add("Name", pv.metadata.name).add("Labels", map_text(dict(pv.metadata.labels)))
    s.add("Annotations", annotations_text(pv.metadata)).add("Finalizers", _finalizers(pv.metadata))
    s.add("StorageClass", claim_class(pv))
    s.add("Status", "Terminating" if pv.metadata.HasField("deletion_timestamp") else pv.status.phase)
    s.add("Claim", f"{ref.namespace}/{ref.name}" if pv.spec.HasField("claim_ref") else "")
    s.add("Reclaim Policy", pv.spec.persistent_volume_reclaim_policy)
    s.add("Access Modes", access_modes_text(pv.spec.access_modes))
    s.add("VolumeMode", pv.spec.volume_mode)
    s.add("Capacity", _storage(pv.spec.capacity))
    s.add("Node Affinity", _node_affinity(pv))
    s.add("Message", pv.status.message)
    return s.add("Source", _source(pv))


@describes("PersistentVolumeClaim")
async def persistent_volume_claim(ctx: Context, pvc) -> Section:
    meta = pvc.metadata
    s = Section().add("Name", meta.name).add("Namespace", meta.namespace)
    s.add("StorageClass", claim_class(pvc))
    s.add("Status", "Terminating" if meta.HasField("deletion_timestamp") else pvc.status.phase)
    s.add("Volume", pvc.spec.volume_name)
    s.add("Labels", map_text(dict(meta.labels))).add("Annotations", annotations_text(meta))
    s.add("Finalizers", _finalizers(meta))
    s.add("Capacity", _storage(pvc.status.capacity))
    s.add("Access Modes", access_modes_text(pvc.status.access_modes))
    s.add("VolumeMode", pvc.spec.volume_mode)
    pods, _ = await ctx.client.list_all("Pod", meta.namespace)
    users = [p.metadata.name for p in pods if not is_terminal(p) and meta.name in claims_of(p)]
    return s.add("Used By", "\n".join(users) or "<none>")


@describes("StorageClass")
async def storage_class(ctx: Context, sc) -> Section:
    s = Section().add("Name", sc.metadata.name).add("IsDefaultClass", "Yes" if is_default_class(sc) else "No")
    shown = {k: v for k, v in sc.metadata.annotations.items() if k != ANNOTATION_LAST_APPLIED}
    s.add("Annotations", ",".join(f"{k}={v}" for k, v in sorted(shown.items())))
    s.add("Provisioner", sc.provisioner)
    s.add("Parameters", ",".join(f"{k}={v}" for k, v in sorted(sc.parameters.items())) or "<none>")
    s.add("AllowVolumeExpansion", str(sc.allow_volume_expansion) if sc.HasField("allow_volume_expansion")
          else "<unset>")
    s.add("MountOptions", "\n".join(sc.mount_options) or "<none>")
    s.add("ReclaimPolicy", sc.reclaim_policy)
    return s.add("VolumeBindingMode", sc.volume_binding_mode)
