"""The kubelet's token manager: ServiceAccount tokens for the pods' serviceAccountToken projections,
asked of the apiserver (TokenRequest bound to the pod) and renewed at 80% of their lifetime, or after a
day, whichever comes first. A renewal that fails keeps the current token while it is still valid."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from control.client.client import Client
from skiff.v1 import pod_pb2

log = logging.getLogger(__name__)
REFRESH_FRACTION = 0.8
MAX_AGE = 24 * 3600


class TokenError(Exception):
    """No valid token for the projection (the kubelet's FailedMount)."""


@dataclass(frozen=True)
class Token:
    value: str
    issued: float
    expires: float

    def needs_refresh(self, now: float) -> bool:
        return now >= self.issued + REFRESH_FRACTION * (self.expires - self.issued) or now - self.issued > MAX_AGE

    def valid(self, now: float) -> bool:
        return now < self.expires


class TokenManager:
    def __init__(self, client: Client, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.clock = clock
        self._tokens: dict[tuple[str, str, int], Token] = {}  # (pod uid, audience, seconds) -> token

    async def token(self, pod: pod_pb2.Pod, audience: str, expiration_seconds: int) -> str:
        key = (pod.metadata.uid, audience, expiration_seconds)
        current, now = self._tokens.get(key), self.clock()
        if current is not None and not current.needs_refresh(now):
            return current.value
        try:
            answer = await self.client.create_token(pod.metadata.namespace, pod.spec.service_account_name,
                                                    [audience] if audience else None, expiration_seconds, pod)
        except grpc.aio.AioRpcError as e:
            if current is not None and current.valid(now):
                log.warning("renewing the token of pod %s/%s failed, the current one stays: %s",
                            pod.metadata.namespace, pod.metadata.name, e.details())
                return current.value
            raise TokenError(f'failed to fetch token: serviceaccounts "{pod.spec.service_account_name}" '
                             f"token: {e.details()}") from None
        token = Token(answer.status.token, now, float(answer.status.expiration_timestamp.seconds))
        self._tokens[key] = token
        return token.value

    def forget(self, uid: str) -> None:
        for key in [k for k in self._tokens if k[0] == uid]:
            del self._tokens[key]


def token_sources(pod: pod_pb2.Pod) -> list[pod_pb2.ServiceAccountTokenProjection]:
    return [s.service_account_token for v in pod.spec.volumes for s in v.projected.sources
            if s.HasField("service_account_token")]


def token_key(source: pod_pb2.ServiceAccountTokenProjection) -> tuple[str, int]:
    return source.audience, source.expiration_seconds or 3600
