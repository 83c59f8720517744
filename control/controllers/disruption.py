"""The disruption controller: each PodDisruptionBudget's status from the pods it selects.

As Kubernetes' DisruptionController: with an integer `minAvailable` the expected count is the
number of selected pods and the desired healthy count is that number; with a percentage or with
`maxUnavailable` the expected count is the scale of the pods' controllers (the kinds with a scale
subresource) and the desired healthy count follows from it, rounding up. Healthy pods are Ready and
not being deleted; pods an eviction just charged (`disruptedPods`) are not counted until they are
gone or two minutes have passed. `disruptionsAllowed` is what the Eviction subresource may spend.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext, option
from control.client.controllerref import controller_ref
from control.client.informer import copy_of, split_key
from control.client.kinds import KINDS
from control.client.podutil import is_pod_ready
from control.client.selectors import from_label_selector
from control.client.wellknown import (
    CONDITION_DISRUPTION_ALLOWED,
    CONDITION_FALSE,
    CONDITION_TRUE,
    is_being_deleted,
    set_condition,
)
from control.controllers.deployment_rollout import scaled_value

log = logging.getLogger(__name__)
DELETION_TIMEOUT = 120.0  # seconds an evicted pod may take to disappear before it counts again


@dataclass(frozen=True)
class DisruptionOptions:
    concurrent_disruption_syncs: int = option(2, "PodDisruptionBudgets synced at once")


class NoControllerError(Exception):
    pass


class DisruptionController(Controller):
    name = "disruption"
    Options = DisruptionOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_disruption_syncs)
        self.budgets = ctx.informers.get("PodDisruptionBudget")
        self.pods = ctx.informers.get("Pod")
        self.scalables = {k.kind: ctx.informers.get(k.kind) for k in KINDS.values() if k.scale}
        self.budgets.add_handler(**self.enqueue_handlers())
        enqueue = self.enqueue_selecting(self.budgets)
        self.pods.add_handler(on_add=enqueue, on_update=lambda old, new: (enqueue(old), enqueue(new)),
                              on_delete=enqueue)

    async def reconcile(self, key: str) -> None:
        pdb = self.budgets.store.get(key)
        if pdb is None:
            return
        namespace, _ = split_key(key)
        selector = from_label_selector(pdb.spec.selector)
        pods = [p for p in self.pods.store.by_index("namespace", namespace) if selector.matches(p.metadata.labels)]
        status = copy_of(pdb).status
        try:
            expected, desired = self._counts(pdb, pods)
        except NoControllerError as e:
            status.observed_generation = pdb.metadata.generation
            status.disruptions_allowed = 0
            set_condition(status, CONDITION_DISRUPTION_ALLOWED, CONDITION_FALSE, "SyncFailed", str(e))
            await self._write(pdb, status)
            return
        _fill_status(status, pdb, pods, expected, desired, time.time())
        await self._write(pdb, status)
        if status.disrupted_pods:  # entries expire: look again when the oldest one does
            self.queue.add_after(key, DELETION_TIMEOUT)

    async def _write(self, pdb: Message, status: Message) -> None:
        if status != pdb.status:
            await self.write_status(pdb, status)

    def _counts(self, pdb: Message, pods: list[Message]) -> tuple[int, int]:
        spec = pdb.spec
        if spec.HasField("min_available") and spec.min_available.WhichOneof("kind") == "number_value":
            return len(pods), int(spec.min_available.number_value)
        expected = self._controllers_scale(pods)
        if spec.HasField("max_unavailable"):
            return expected, max(0, expected - scaled_value(spec.max_unavailable, expected, round_up=True))
        if spec.HasField("min_available"):
            return expected, scaled_value(spec.min_available, expected, round_up=True)
        return expected, expected  # neither set: no disruption allowed

    def _controllers_scale(self, pods: list[Message]) -> int:
        seen: dict[str, int] = {}
        for pod in pods:
            ref = controller_ref(pod)
            informer = self.scalables.get(ref.kind) if ref is not None else None
            if informer is None:
                raise NoControllerError(f"found no controllers for pod {pod.metadata.name!r}")
            owner = informer.store.get_by_name(pod.metadata.namespace, ref.name)
            if owner is None or owner.metadata.uid != ref.uid:
                raise NoControllerError(f"found no controllers for pod {pod.metadata.name!r}")
            seen[ref.uid] = owner.spec.replicas if owner.spec.HasField("replicas") else 1
        return sum(seen.values())


def _fill_status(status: Message, pdb: Message, pods: list[Message], expected: int, desired: int,
                 now: float) -> None:
    live = {p.metadata.name: p for p in pods if not is_being_deleted(p)}
    for name in list(status.disrupted_pods):
        if name not in live or status.disrupted_pods[name].seconds + DELETION_TIMEOUT < now:
            del status.disrupted_pods[name]
    healthy = sum(1 for name, p in live.items() if is_pod_ready(p) and name not in status.disrupted_pods)
    status.expected_pods, status.desired_healthy, status.current_healthy = expected, desired, healthy
    status.disruptions_allowed = max(0, healthy - desired) if expected > 0 else 0
    status.observed_generation = pdb.metadata.generation
    if status.disruptions_allowed > 0:
        set_condition(status, CONDITION_DISRUPTION_ALLOWED, CONDITION_TRUE, "SufficientPods")
    else:
        set_condition(status, CONDITION_DISRUPTION_ALLOWED, CONDITION_FALSE, "InsufficientPods")
