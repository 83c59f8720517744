"""The agent's token manager: asks once, renews at 80% of the lifetime, keeps a valid token when a
renewal fails, forgets a pod's tokens."""

from __future__ import annotations

import grpc
import pytest

from control.client.convert import from_dict
from node.tokens import TokenError, TokenManager, token_key, token_sources
from skiff.v1 import authz_pb2


class Refused(grpc.aio.AioRpcError):
    def __init__(self) -> None:
        super().__init__(grpc.StatusCode.PERMISSION_DENIED, grpc.aio.Metadata(), grpc.aio.Metadata(), "no")


class FakeTokens:
    def __init__(self, clock) -> None:
        self.clock, self.calls, self.fail = clock, [], False

    async def create_token(self, namespace, name, audiences, expiration_seconds, bound):
        if self.fail:
            raise Refused()
        self.calls.append((namespace, name, audiences, expiration_seconds, bound.metadata.uid))
        answer = authz_pb2.TokenRequest()
        answer.status.token = f"token-{len(self.calls)}"
        answer.status.expiration_timestamp.seconds = int(self.clock.now) + expiration_seconds
        return answer


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


POD = from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "team", "uid": "u1"},
                 "spec": {"serviceAccountName": "builder", "containers": [{"name": "c", "image": "i"}],
                          "volumes": [{"name": "kube-api-access-abcde", "projected": {"sources": [
                              {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                              {"serviceAccountToken": {"path": "vault", "audience": "vault"}}]}}]}})


async def test_tokens_are_asked_once_and_renewed_at_80_percent() -> None:
    clock = Clock()
    fake = FakeTokens(clock)
    manager = TokenManager(fake, clock)
    assert [token_key(s) for s in token_sources(POD)] == [("", 3607), ("vault", 3600)]
    assert await manager.token(POD, "", 3607) == "token-1"
    assert fake.calls == [("team", "builder", None, 3607, "u1")]
    clock.now += 0.79 * 3607
    assert await manager.token(POD, "", 3607) == "token-1"
    clock.now += 0.02 * 3607
    assert await manager.token(POD, "", 3607) == "token-2"
    assert await manager.token(POD, "vault", 3600) == "token-3"
    assert fake.calls[-1][2] == ["vault"]


async def test_a_failed_renewal_keeps_a_valid_token_and_fails_without_one() -> None:
    clock = Clock()
    fake = FakeTokens(clock)
    manager = TokenManager(fake, clock)
    await manager.token(POD, "", 3607)
    fake.fail = True
    clock.now += 0.9 * 3607
    assert await manager.token(POD, "", 3607) == "token-1"
    clock.now += 0.2 * 3607
    with pytest.raises(TokenError, match='serviceaccounts "builder" token'):
        await manager.token(POD, "", 3607)
    manager.forget("u1")
    fake.fail = False
    assert await manager.token(POD, "", 3607) == "token-2"
