"""pods/ephemeralcontainers: the one way a running pod's spec changes, adding debugging containers.

Only spec.ephemeralContainers is taken from the request; the rest of the pod is the stored one."""

from __future__ import annotations

from control.apiserver import errors
from control.apiserver.context import ApiContext
from control.apiserver.defaults import default_pod_spec
from control.apiserver.storage import ConflictError, NotFoundError
from control.apiserver.validation.ephemeral import validate_ephemeral_update
from control.client.kinds import KINDS
from skiff.v1 import pod_pb2, requests_pb2, services_pb2

POD = KINDS["Pod"]


async def get(api: ApiContext, request: requests_pb2.GetRequest) -> pod_pb2.Pod:
    try:
        return await api.storage.get(POD, request.namespace or "default", request.name)
    except NotFoundError:
        raise errors.not_found("pods", request.name) from None


async def update(api: ApiContext, request: services_pb2.PodRequest) -> pod_pb2.Pod:
    meta = request.object.metadata
    namespace, name = meta.namespace or "default", meta.name
    if not name:
        raise errors.invalid("Pod", "", [errors.FieldViolation(
            field="metadata.name", description="Required value: name is required")])
    while True:
        try:
            old = await api.storage.get(POD, namespace, name)
        except NotFoundError:
            raise errors.not_found("pods", name) from None
        if meta.resource_version and meta.resource_version != old.metadata.resource_version:
            raise errors.conflict("pods", name)
        new = _with_ephemeral(old, request.object.spec)
        violations = validate_ephemeral_update(new.spec, old.spec)
        if violations:
            raise errors.invalid("Pod", name, violations)
        if new == old or request.dry_run:
            return new
        try:
            written = await api.storage.update(POD, new, int(old.metadata.resource_version))
        except ConflictError:
            if meta.resource_version:
                raise errors.conflict("pods", name) from None
            continue
        api.cache[POD].note_write(int(written.metadata.resource_version))
        return written


def _with_ephemeral(old: pod_pb2.Pod, spec: pod_pb2.PodSpec) -> pod_pb2.Pod:
    new = pod_pb2.Pod()
    new.CopyFrom(old)
    new.spec.ClearField("ephemeral_containers")
    new.spec.ephemeral_containers.extend(spec.ephemeral_containers)
    default_pod_spec(new.spec)
    return new
