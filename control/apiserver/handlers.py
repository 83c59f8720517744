"""The verbs every kind shares: Create, Get, Update, UpdateStatus, Delete.

Reads come from the watch cache (after it has seen this server's latest
write); writes go to etcd as single transactions. Every request is defaulted,
validated and checked before anything is written.
"""

from __future__ import annotations

import logging

from google.protobuf.message import Message

from control.apiserver import errors, limitranger, strategy
from control.apiserver.apply import tracking
from control.apiserver.context import ApiContext
from control.apiserver.deletion import plan_deletion
from control.apiserver.registry import apply_defaults, strategy_for, validate
from control.apiserver.storage import (
    Claims,
    ClaimTakenError,
    ConflictError,
    NotFoundError,
    StaleWriteError,
    TooLargeError,
)
from control.client.kinds import KINDS, Kind
from skiff.v1 import meta_pb2, requests_pb2

log = logging.getLogger(__name__)

GENERATE_NAME_ATTEMPTS = 8
# Picks of an allocated value (a ClusterIP) another apiserver claimed first before giving up. Near a
# full range, apiservers picking at once collide again and again (Kubernetes' allocator retries its
# conflicting updates until one lands); each attempt reads the claims from etcd afresh.
CLAIM_ATTEMPTS = 64
# Charges of a create computed again after another writer changed a quota first.
QUOTA_ATTEMPTS = 16


class ResourceHandlers:
    def __init__(self, kind: Kind, api: ApiContext) -> None:
        self.kind = kind
        self.api = api
        self.cache = api.cache[kind]
        self.rules = strategy_for(kind)

    # -- helpers ----------------------------------------------------------

    def namespace_of(self, namespace: str) -> str:
        return (namespace or "default") if self.kind.namespaced else ""

    def _set_namespace(self, meta: Message) -> None:
        if self.kind.namespaced:
            meta.namespace = self.namespace_of(meta.namespace)
        else:
            meta.ClearField("namespace")

    def not_found(self, name: str) -> errors.ApiError:
        return errors.not_found(self.kind.resource, name)

    async def require_namespace(self, namespace: str, name: str) -> None:
        if not self.kind.namespaced:
            return
        ns_cache = self.api.cache.caches["Namespace"]
        await ns_cache.wait_fresh()
        ns = ns_cache.get("", namespace)
        if ns is None:
            raise errors.not_found("namespaces", namespace)
        if ns.metadata.HasField("deletion_timestamp"):
            raise errors.forbidden(f'{self.kind.resource} "{name}" is forbidden: unable to create new content '
                                   f"in namespace {namespace} because it is being terminated")

    def _check_request_object(self, obj: Message) -> None:
        if obj.kind and obj.kind != self.kind.kind:
            raise errors.bad_request(f'kind: Invalid value: "{obj.kind}": must be {self.kind.kind}', "kind")
        if obj.api_version and obj.api_version != self.kind.api_version:
            raise errors.bad_request(
                f'apiVersion: Invalid value: "{obj.api_version}": must be {self.kind.api_version}', "apiVersion")

    def _validate(self, obj: Message, old: Message | None = None) -> None:
        violations = validate(obj, old)
        if violations:
            raise errors.invalid(self.kind.kind, obj.metadata.name or obj.metadata.generate_name, violations)

    async def _validate_admission(self, obj: Message, old: Message | None) -> None:
        """Validating admission before the write: LimitRanger (ResourceQuota follows, charged in the
        write itself)."""
        await limitranger.validate(self.kind, obj, old, self.api)

    def _written(self, obj: Message) -> Message:
        self.cache.note_write(int(obj.metadata.resource_version))
        return obj

    # -- create -----------------------------------------------------------

    async def create(self, obj: Message, dry_run: bool) -> Message:
        self._check_request_object(obj)
        meta = obj.metadata
        self._set_namespace(meta)
        if meta.resource_version:
            raise errors.bad_request(
                "metadata.resourceVersion: Invalid value: "
                f'"{meta.resource_version}": must be empty on create', "metadata.resourceVersion")
        if not meta.name and not meta.generate_name:
            raise errors.invalid(self.kind.kind, "", [errors.FieldViolation(
                field="metadata.name", description="Required value: name or generateName is required")])
        apply_defaults(obj)
        # Mutating admission sees the object before the server's own fields, as in Kubernetes.
        await self.rules.admit(obj, self.api)
        strategy.prepare_for_create(self.kind, obj)
        self.rules.prepare_for_create(obj)
        generate = not meta.name
        if generate:
            meta.name = strategy.generated_name(meta.generate_name)
        self._validate(obj)
        self.rules.canonicalize(obj)
        tracking.track(self.kind, None, obj)
        await self.require_namespace(meta.namespace, meta.name)
        await self._validate_admission(obj, None)
        hooks = self.api.hooks.get(self.kind.kind)
        if not hooks:
            return await self._charged_create(obj, generate, None, dry_run)
        unallocated = obj.__class__()
        unallocated.CopyFrom(obj)
        for _ in range(CLAIM_ATTEMPTS):
            claims = await hooks.before_create(obj, dry_run)
            try:
                return await self._charged_create(obj, generate, claims, dry_run)
            except ClaimTakenError as e:
                await hooks.after_failed_create(obj)
                await hooks.claim_taken(e.key)
                obj.CopyFrom(unallocated)
            except BaseException:
                await hooks.after_failed_create(obj)
                raise
        raise errors.ApiError(errors.grpc.StatusCode.UNAVAILABLE, "allocation raced with other writers; try again")

    async def _charged_create(self, obj: Message, generate: bool, claims: Claims | None, dry_run: bool) -> Message:
        """The create, charged to the namespace's ResourceQuotas in its own transaction."""
        quotas = self.api.quota
        charge = await quotas.charge(self.kind, obj)
        if not charge.charged:
            return obj if dry_run else self._written(await self._create_with_name_retries(obj, generate, claims))
        async with quotas.serialized(obj.metadata.namespace):
            for attempt in range(QUOTA_ATTEMPTS):
                charge = await quotas.charge(self.kind, obj, fresh=attempt > 0)
                if dry_run:
                    return obj
                try:
                    created = await self._create_with_name_retries(
                        obj, generate, charge.claims.merged(claims) if charge.claims else claims)
                except StaleWriteError:
                    continue
                if charge.charged:
                    quotas.charged(int(created.metadata.resource_version))
                return self._written(created)
        raise errors.unavailable("resource quota updates raced with other writers; try again")

    async def _create_with_name_retries(self, obj: Message, generate: bool, claims: Claims | None) -> Message:
        for _ in range(GENERATE_NAME_ATTEMPTS):
            try:
                return await self.api.storage.create(self.kind, obj, claims)
            except (ClaimTakenError, StaleWriteError):
                raise
            except ConflictError:
                if not generate:
                    raise errors.already_exists(self.kind.resource, obj.metadata.name) from None
                obj.metadata.name = strategy.generated_name(obj.metadata.generate_name)
                self.rules.canonicalize(obj)
            except TooLargeError as e:
                raise errors.bad_request(str(e)) from None
        raise errors.already_exists(self.kind.resource, obj.metadata.name)

    # -- get --------------------------------------------------------------

    async def get(self, namespace: str, name: str) -> Message:
        """A quorum read from etcd, as kube-apiserver's Get without a resourceVersion: it sees every
        acknowledged write, whichever apiserver made it. (Serving it from the watch cache would need
        etcd's progress notifications, which etcd before 3.4.31 may send ahead of the events.)"""
        return await self._stored(self.namespace_of(namespace), name)

    async def _stored(self, namespace: str, name: str) -> Message:
        try:
            return await self.api.storage.get(self.kind, namespace, name)
        except NotFoundError:
            raise self.not_found(name) from None

    # -- update -----------------------------------------------------------

    async def update(self, obj: Message, dry_run: bool, status_only: bool = False,
                     subresource: str = "") -> Message:
        """`subresource` names where a write of the main object came from (`scale`) for its managedFields."""
        self._check_request_object(obj)
        meta = obj.metadata
        self._set_namespace(meta)
        if not meta.name:
            raise errors.invalid(self.kind.kind, "", [errors.FieldViolation(
                field="metadata.name", description="Required value: name is required")])
        requested_rv = meta.resource_version
        stale_quota = False
        while True:
            old = await self._stored(meta.namespace, meta.name)
            if requested_rv and requested_rv != old.metadata.resource_version:
                raise errors.conflict(self.kind.resource, meta.name)
            new = self._prepare_update(obj, old, status_only, subresource)
            if _same(new, old):
                return old
            charge = None
            if not status_only:
                self.rules.admit_update(new, old, self.api)
                await self._validate_admission(new, old)
                charge = await self.api.quota.charge(self.kind, new, old, fresh=stale_quota)
            hooks = None if status_only else self.api.hooks.get(self.kind.kind)
            claims = await hooks.before_update(new, old, dry_run) if hooks else None
            if charge is not None and charge.claims:
                claims = charge.claims.merged(claims)
            if dry_run:
                return new
            try:
                written = self._written(await self._write_update(new, old, claims))
                if charge is not None and charge.charged:
                    self.api.quota.charged(int(written.metadata.resource_version))
                return written
            except ConflictError as e:
                if hooks:
                    await hooks.after_failed_update(new, old)
                if isinstance(e, ClaimTakenError):
                    await hooks.claim_taken(e.key)
                    continue
                if isinstance(e, StaleWriteError):
                    stale_quota = True
                    continue
                if requested_rv:
                    raise errors.conflict(self.kind.resource, meta.name) from None
            except TooLargeError as e:
                raise errors.bad_request(str(e)) from None

    def _prepare_update(self, obj: Message, old: Message, status_only: bool, subresource: str = "") -> Message:
        new = obj.__class__()
        new.CopyFrom(obj)
        if status_only:
            new = strategy.prepare_for_status_update(new, old)
        else:
            apply_defaults(new)
            strategy.prepare_for_update(self.kind, new, old)
            self.rules.prepare_for_update(new, old)
        self._validate(new, old)
        tracking.track(self.kind, old, new, "status" if status_only else subresource)
        return new

    async def _write_update(self, new: Message, old: Message, claims: Claims | None) -> Message:
        revision = int(old.metadata.resource_version)
        if new.metadata.HasField("deletion_timestamp") and self.rules.deletion_finished(new):
            return await self._remove(new, revision)
        return await self.api.storage.update(self.kind, new, revision, claims)

    async def _remove(self, obj: Message, revision: int) -> Message:
        hooks = self.api.hooks.get(self.kind.kind)
        claims = hooks.claims_for_delete(obj) if hooks else None
        deleted_at = await self.api.storage.delete(self.kind, obj, revision, claims)
        obj.metadata.resource_version = str(deleted_at)
        if hooks:
            await hooks.after_delete(obj)
        return obj

    # -- delete -----------------------------------------------------------

    async def delete(self, request: requests_pb2.DeleteRequest) -> Message:
        namespace = self.namespace_of(request.namespace)
        while True:
            old = await self._stored(namespace, request.name)
            self._check_preconditions(old, request.preconditions)
            grace = request.grace_period_seconds if request.HasField("grace_period_seconds") else None
            plan = plan_deletion(old, request.propagation_policy, grace, self.rules.plan_deletion)
            if request.dry_run:
                return plan.updated or old
            try:
                if plan.remove_now:
                    return self._written(await self._remove(old, int(old.metadata.resource_version)))
                if plan.updated is None:
                    return old
                return self._written(await self.api.storage.update(
                    self.kind, plan.updated, int(old.metadata.resource_version)))
            except ConflictError:
                continue

    def _check_preconditions(self, obj: Message, pre: meta_pb2.Preconditions) -> None:
        name = obj.metadata.name
        if pre.uid and pre.uid != obj.metadata.uid:
            raise errors.conflict(self.kind.resource, name, f"Precondition failed: UID in precondition: "
                                  f"{pre.uid}, UID in object meta: {obj.metadata.uid}")
        if pre.resource_version and pre.resource_version != obj.metadata.resource_version:
            raise errors.conflict(self.kind.resource, name, "Precondition failed: ResourceVersion in "
                                  f"precondition: {pre.resource_version}, ResourceVersion in object meta: "
                                  f"{obj.metadata.resource_version}")


def _same(new: Message, old: Message) -> bool:
    a, b = new.__class__(), old.__class__()
    a.CopyFrom(new)
    b.CopyFrom(old)
    a.metadata.ClearField("resource_version")
    b.metadata.ClearField("resource_version")
    return a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


async def create_unless_exists(api: ApiContext, obj: Message) -> None:
    """Creates a built-in object (a system namespace, a system PriorityClass) unless it is there."""
    try:
        await ResourceHandlers(KINDS[obj.kind], api).create(obj, dry_run=False)
    except errors.ApiError as e:
        if e.code.name != "ALREADY_EXISTS":
            raise
