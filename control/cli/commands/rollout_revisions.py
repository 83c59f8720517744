"""`rollout status|history|undo` for the kinds whose history is kept in ControllerRevisions
(DaemonSet, StatefulSet), with kubectl's messages."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import Message

from control.cli.errors import CommandError
from control.cli.printers import to_yaml
from control.cli.tables import render
from control.client.convert import to_dict
from control.client.kinds import Kind
from control.client.wellknown import ANNOTATION_CHANGE_CAUSE, LABEL_CONTROLLER_REVISION_HASH
from skiff.v1 import pod_pb2

REVISION_KINDS = ("DaemonSet", "StatefulSet")


def daemonset_status(ds: Message) -> tuple[str, bool]:
    if ds.spec.update_strategy.type != "RollingUpdate":
        raise CommandError("rollout status is only available for RollingUpdate strategy type")
    s, name = ds.status, ds.metadata.name
    if ds.metadata.generation > s.observed_generation:
        return "Waiting for daemon set spec update to be observed...", False
    if s.updated_number_scheduled < s.desired_number_scheduled:
        return (f'Waiting for daemon set "{name}" rollout to finish: {s.updated_number_scheduled} out of '
                f"{s.desired_number_scheduled} new pods have been updated..."), False
    if s.number_available < s.desired_number_scheduled:
        return (f'Waiting for daemon set "{name}" rollout to finish: {s.number_available} of '
                f"{s.desired_number_scheduled} updated pods are available..."), False
    return f'daemon set "{name}" successfully rolled out', True


def statefulset_status(sts: Message) -> tuple[str, bool]:
    strategy = sts.spec.update_strategy
    if strategy.type != "RollingUpdate":
        raise CommandError("rollout status is only available for RollingUpdate strategy type")
    s = sts.status
    if s.observed_generation == 0 or sts.metadata.generation > s.observed_generation:
        return "Waiting for statefulset spec update to be observed...", False
    replicas = sts.spec.replicas if sts.spec.HasField("replicas") else 1
    if s.ready_replicas < replicas:
        return f"Waiting for {replicas - s.ready_replicas} pods to be ready...", False
    if strategy.HasField("rolling_update"):
        want = replicas - strategy.rolling_update.partition
        if strategy.rolling_update.HasField("partition") and s.updated_replicas < want:
            return (f"Waiting for partitioned roll out to finish: {s.updated_replicas} out of {want} new pods "
                    "have been updated..."), False
        return f"partitioned roll out complete: {s.updated_replicas} new pods have been updated...", True
    if s.update_revision != s.current_revision:
        return (f"waiting for statefulset rolling update to complete {s.updated_replicas} pods at revision "
                f"{s.update_revision}..."), False
    return f"statefulset rolling update complete {s.current_replicas} pods at revision {s.current_revision}...", True


def status_message(obj: Message) -> tuple[str, bool]:
    return daemonset_status(obj) if obj.kind == "DaemonSet" else statefulset_status(obj)


def owned_revisions(owner: Message, revisions: list[Message]) -> dict[int, Message]:
    uid = owner.metadata.uid
    owned = [r for r in revisions if any(o.uid == uid and o.controller for o in r.metadata.owner_references)]
    return {r.revision: r for r in owned}


def template_of(revision: Message) -> pod_pb2.PodTemplateSpec:
    body = dict(to_dict(revision).get("data", {}).get("spec", {}).get("template", {}))
    body.pop("$patch", None)
    return json_format.ParseDict(body, pod_pb2.PodTemplateSpec())


def history_text(kind: Kind, owner: Message, by_revision: dict[int, Message], revision: int) -> str:
    name = f"{kind.qualified}/{owner.metadata.name}"
    if revision:
        found = by_revision.get(revision)
        if found is None:
            raise CommandError(f"unable to find the specified revision {revision}")
        template = to_dict(template_of(found))
        template.get("metadata", {}).get("labels", {}).pop(LABEL_CONTROLLER_REVISION_HASH, None)
        body = "".join(f"  {line}\n" for line in to_yaml(template).splitlines())
        return f"{name} with revision #{revision}\nPod Template:\n{body}"
    rows = [["REVISION", "CHANGE-CAUSE"]]
    rows += [[str(r), by_revision[r].metadata.annotations.get(ANNOTATION_CHANGE_CAUSE, "<none>")]
             for r in sorted(by_revision)]
    return f"{name} \n{render(rows, gap=2)}\n"


def rollback_target(by_revision: dict[int, Message], to_revision: int) -> Message:
    if to_revision:
        if to_revision not in by_revision:
            raise CommandError(f"unable to find specified revision {to_revision} in history")
        return by_revision[to_revision]
    revisions = sorted(by_revision)
    if len(revisions) <= 1:
        raise CommandError("no last revision to roll back to")
    return by_revision[revisions[-2]]
