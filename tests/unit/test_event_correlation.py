"""The event recorder's correlation on the fake client: counting, aggregation, the spam filter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from control.client.convert import from_dict
from control.client.events import EventRecorder
from control.client.fake import FakeClient

START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def pod(name: str = "web", uid: str = "uid-web"):
    return from_dict({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": "default", "uid": uid}})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
async def recorder(client: FakeClient, clock: Clock) -> AsyncIterator[EventRecorder]:
    r = EventRecorder(client, "kubelet", host="node-1", clock=clock)
    yield r
    await r.close()


async def record(recorder: EventRecorder, obj, reason: str, message: str, type_: str = "Normal") -> None:
    recorder.event(obj, type_, reason, message)
    await recorder.flush()


def events(client: FakeClient) -> list:
    return sorted(client.objects("Event"), key=lambda e: e.first_timestamp.ToNanoseconds())


async def test_identical_events_bump_count_and_last_timestamp_of_one_event(client, clock, recorder):
    for _ in range(3):
        await record(recorder, pod(), "BackOff", "Back-off restarting failed container")
        clock.now += 30
    [event] = events(client)
    assert event.count == 3
    assert event.first_timestamp.ToSeconds() == START
    assert event.last_timestamp.ToSeconds() == START + 60
    assert [a[0] for a in client.actions if a[1] == "Event"] == ["create", "update", "update"]


async def test_a_different_type_reason_message_or_object_is_an_event_of_its_own(client, recorder):
    await record(recorder, pod(), "BackOff", "a")
    await record(recorder, pod(), "BackOff", "a", type_="Warning")
    await record(recorder, pod(), "Pulled", "a")
    await record(recorder, pod(), "BackOff", "b")
    await record(recorder, pod("db", "uid-db"), "BackOff", "a")
    assert [e.count for e in events(client)] == [1] * 5


async def test_a_source_of_its_own_counts_apart(client, clock, recorder):
    other = EventRecorder(client, "kubelet", host="node-2", clock=clock)
    try:
        await record(recorder, pod(), "BackOff", "a")
        await record(other, pod(), "BackOff", "a")
    finally:
        await other.close()
    assert sorted(e.source.host for e in events(client)) == ["node-1", "node-2"]


async def test_similar_events_beyond_ten_are_combined_into_one(client, clock, recorder):
    for i in range(12):
        await record(recorder, pod(), "FailedMount", f"volume {i} not ready")
        clock.now += 10
    stored = events(client)
    assert [e.message for e in stored[:9]] == [f"volume {i} not ready" for i in range(9)]
    assert len(stored) == 10
    combined = stored[9]
    assert combined.message == "(combined from similar events): volume 11 not ready"
    assert combined.count == 3
    assert combined.reason == "FailedMount" and combined.involved_object.name == "web"
    assert combined.first_timestamp.ToSeconds() == START + 90
    assert combined.last_timestamp.ToSeconds() == START + 110


async def test_aggregation_keeps_going_while_similar_events_come_within_ten_minutes(client, clock, recorder):
    for i in range(10):
        await record(recorder, pod(), "FailedMount", f"volume {i} not ready")
        clock.now += 599  # each within 10 minutes of the one before, the 10th 90 minutes after the first
    assert events(client)[-1].message == "(combined from similar events): volume 9 not ready"


async def test_a_pause_over_ten_minutes_starts_the_similar_count_again(client, clock, recorder):
    for i in range(9):
        await record(recorder, pod(), "FailedMount", f"volume {i} not ready")
    clock.now += 601
    for i in range(9, 12):
        await record(recorder, pod(), "FailedMount", f"volume {i} not ready")
    assert not [e for e in events(client) if e.message.startswith("(combined")]
    assert len(events(client)) == 12


async def test_spam_filter_lets_25_through_then_one_per_five_minutes(client, clock, recorder):
    for i in range(30):
        await record(recorder, pod(), "Unhealthy", f"probe failed {i}" if i < 5 else "probe failed")
    writes = [a for a in client.actions if a[1] == "Event" and a[0] in ("create", "update")]
    assert len(writes) == 25
    [repeated] = [e for e in events(client) if e.message == "probe failed"]
    assert repeated.count == 20  # occurrences 6 to 25; the 5 dropped ones are counted in the next write

    clock.now += 299
    await record(recorder, pod(), "Unhealthy", "probe failed")
    assert len([a for a in client.actions if a[1] == "Event" and a[0] in ("create", "update")]) == 25

    clock.now += 1
    await record(recorder, pod(), "Unhealthy", "probe failed")
    [repeated] = [e for e in events(client) if e.message == "probe failed"]
    assert repeated.count == 27
    assert repeated.last_timestamp.ToSeconds() == START + 300


async def test_spam_filter_is_per_source_and_object(client, recorder):
    for i in range(25):
        await record(recorder, pod(), "Unhealthy", f"probe failed {i % 5}")
    await record(recorder, pod("db", "uid-db"), "Unhealthy", "probe failed")
    assert [e.count for e in events(client) if e.involved_object.name == "db"] == [1]


async def test_a_deleted_event_is_created_again_on_the_next_repeat(client, recorder):
    await record(recorder, pod(), "BackOff", "again")
    [event] = events(client)
    await client.delete("Event", event.metadata.name, "default")
    await record(recorder, pod(), "BackOff", "again")
    [again] = events(client)
    assert again.count == 2 and again.metadata.name == event.metadata.name
    assert again.metadata.uid != event.metadata.uid
