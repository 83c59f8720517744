"""Pod priority: built-in PriorityClasses, the Priority admission plugin, PriorityClass rules."""

from __future__ import annotations

import grpc
import pytest

from control.client.convert import from_dict


def pod(name: str, **spec) -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                      "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}})


def priority_class(name: str, value: int, **extra) -> object:
    return from_dict({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
                      "value": value, **extra})


async def refused(coro, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await coro
    assert e.value.code() == code, e.value
    return e.value.details()


async def test_system_classes_exist_and_resolve(client):
    critical = await client.get("PriorityClass", "system-node-critical", "")
    assert critical.value == 2000001000 and critical.preemption_policy == "PreemptLowerPriority"
    created = await client.create(pod("critical", priorityClassName="system-node-critical"))
    assert created.spec.priority == 2000001000
    plain = await client.create(pod("plain"))
    assert plain.spec.priority == 0 and plain.spec.preemption_policy == "PreemptLowerPriority"
    assert not plain.spec.priority_class_name


async def test_admission_refuses_unknown_class_and_a_given_priority(client):
    message = await refused(client.create(pod("lost", priorityClassName="nope")), grpc.StatusCode.PERMISSION_DENIED)
    assert message == 'pods "lost" is forbidden: no PriorityClass with name nope was found'
    message = await refused(client.create(pod("self", priority=5)), grpc.StatusCode.PERMISSION_DENIED)
    assert "the integer value of priority (5) must not be provided in pod spec" in message


async def test_global_default_and_its_uniqueness(client):
    await client.create(priority_class("batch-low", 100, globalDefault=True, preemptionPolicy="Never"))
    try:
        got = await client.create(pod("defaulted"))
        assert (got.spec.priority_class_name, got.spec.priority, got.spec.preemption_policy) == (
            "batch-low", 100, "Never")
        message = await refused(client.create(priority_class("second", 5, globalDefault=True)),
                                grpc.StatusCode.PERMISSION_DENIED)
        assert "PriorityClass batch-low is already marked as default. Only one default can exist" in message
    finally:
        await client.delete("PriorityClass", "batch-low", "")


async def test_priority_class_validation(client):
    message = await refused(client.create(priority_class("huge", 1_000_000_001)), grpc.StatusCode.INVALID_ARGUMENT)
    assert "maximum allowed value of a user defined priority is 1000000000" in message
    message = await refused(client.create(priority_class("system-mine", 5)), grpc.StatusCode.INVALID_ARGUMENT)
    assert "priority class names with 'system-' prefix are reserved for system use only" in message
    created = await client.create(priority_class("mid", 1000))
    try:
        created.value = 2000
        message = await refused(client.update(created), grpc.StatusCode.INVALID_ARGUMENT)
        assert "value: Forbidden: may not be changed in an update." in message
    finally:
        await client.delete("PriorityClass", "mid", "")
