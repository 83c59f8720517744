"""pods/resize: the one way a pod's containers get new cpu and memory requests and limits in place.

Only the containers' and sidecars' resources are taken from the request; the rest of the pod is the
stored one. The resize is validated (control/apiserver/validation/resize.py), checked against the
namespace's LimitRanges for what it changes and charged to its ResourceQuotas by what it adds, in
the pod's own etcd transaction, as a pod create is; the node applies it (node/runtime/resize.py)."""

from __future__ import annotations

from control.apiserver import errors, limitranger
from control.apiserver.context import ApiContext
from control.apiserver.pods import qos_class
from control.apiserver.storage import ConflictError, NotFoundError, StaleWriteError
from control.apiserver.validation.pod import validate_pod
from control.apiserver.validation.resize import validate_pod_resize
from control.client.kinds import KINDS
from skiff.v1 import pod_pb2, requests_pb2, services_pb2

POD = KINDS["Pod"]
SUBRESOURCE = "resize"


async def get(api: ApiContext, request: requests_pb2.GetRequest) -> pod_pb2.Pod:
    try:
        return await api.storage.get(POD, request.namespace or "default", request.name)
    except NotFoundError:
        raise errors.not_found("pods", request.name) from None


def with_resources(old: pod_pb2.Pod, spec: pod_pb2.PodSpec) -> pod_pb2.Pod:
    """The stored pod with the request's containers (resources only, matched by position: a renamed
    or reordered list is refused by validation)."""
    new = pod_pb2.Pod()
    new.CopyFrom(old)
    for field in ("containers", "init_containers"):
        stored, asked = getattr(new.spec, field), getattr(spec, field)
        if [c.name for c in stored] != [c.name for c in asked]:
            new.spec.ClearField(field)
            getattr(new.spec, field).extend(asked)
            continue
        for c, wanted in zip(stored, asked, strict=True):
            c.resources.CopyFrom(wanted.resources)
            if not wanted.HasField("resources"):
                c.ClearField("resources")
    return new


async def _admitted(api: ApiContext, new: pod_pb2.Pod, old: pod_pb2.Pod) -> None:
    violations = validate_pod(new) + validate_pod_resize(new, old, qos_class(new),
                                                          old.status.qos_class or qos_class(old))
    if violations:
        raise errors.invalid("Pod", new.metadata.name, violations)
    if api.admission.enabled("LimitRanger"):
        await limitranger.validate_resize(new, old, api)


async def update(api: ApiContext, request: services_pb2.PodRequest) -> pod_pb2.Pod:
    meta = request.object.metadata
    namespace, name = meta.namespace or "default", meta.name
    if not name:
        raise errors.invalid("Pod", "", [errors.FieldViolation(
            field="metadata.name", description="Required value: name is required")])
    stale = False
    async with api.quota.serialized(namespace):
        while True:
            old = await get(api, requests_pb2.GetRequest(namespace=namespace, name=name))
            if meta.resource_version and meta.resource_version != old.metadata.resource_version:
                raise errors.conflict("pods", name)
            new = with_resources(old, request.object.spec)
            if new == old:
                return old
            await _admitted(api, new, old)
            charge = await api.quota.charge(POD, new, old, fresh=stale, subresource=SUBRESOURCE)
            if request.dry_run:
                return new
            try:
                written = await api.storage.update(POD, new, int(old.metadata.resource_version), charge.claims)
            except StaleWriteError:
                stale = True
                continue
            except ConflictError:
                if meta.resource_version:
                    raise errors.conflict("pods", name) from None
                continue
            api.cache[POD].note_write(int(written.metadata.resource_version))
            if charge.charged:
                api.quota.charged(int(written.metadata.resource_version))
            return written
