"""The apiserver's etcd client moves to the next member when one cannot serve: a read is repeated there,
a write only when it never reached a member (one cut off in flight may have been applied)."""

from __future__ import annotations

import grpc
import pytest

from control.apiserver.etcdclient import EtcdCluster


def error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class Member:
    """A member's KV stub: answers, or fails with the given error."""

    def __init__(self, name: str, fails: grpc.aio.AioRpcError | None = None) -> None:
        self.name, self.fails, self.calls = name, fails, []
        self.kvstub = self

    def __getattr__(self, method: str):
        async def call(request, **kwargs):
            self.calls.append(method)
            if self.fails:
                raise self.fails
            return self.name
        return call


def cluster(*members: Member) -> EtcdCluster:
    etcd = EtcdCluster([f"http://127.0.0.1:{2379 + i}" for i in range(len(members))])
    etcd.clients = list(members)
    return etcd


GONE = error(grpc.StatusCode.UNAVAILABLE, "Socket closed")
NEVER_SENT = error(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; last error: refused")


async def test_a_read_moves_to_the_next_member_and_stays_there():
    etcd = cluster(Member("a", GONE), Member("b"), Member("c"))
    assert await etcd.kv.Range(None) == "b"
    assert await etcd.kv.Range(None) == "b" and etcd.current == 1


async def test_a_write_cut_off_in_flight_is_not_repeated():
    a, b = Member("a", GONE), Member("b")
    etcd = cluster(a, b, Member("c"))
    with pytest.raises(grpc.aio.AioRpcError):
        await etcd.kv.Txn(None)
    assert b.calls == [] and etcd.current == 1  # the next call goes to b
    assert await etcd.kv.Txn(None) == "b"


async def test_a_write_that_never_left_is_sent_to_the_next_member():
    etcd = cluster(Member("a", NEVER_SENT), Member("b"))
    assert await etcd.kv.Txn(None) == "b"


async def test_a_member_without_a_leader_is_left_for_a_read():
    etcd = cluster(Member("a", error(grpc.StatusCode.UNAVAILABLE, "etcdserver: no leader")), Member("b"))
    assert await etcd.kv.Range(None) == "b"


async def test_other_errors_go_to_the_caller_unchanged():
    a = Member("a", error(grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request"))
    etcd = cluster(a, Member("b"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await etcd.kv.Range(None)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and etcd.current == 0
