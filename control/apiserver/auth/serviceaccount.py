"""Bound ServiceAccount tokens, as kube-apiserver issues and checks them (pkg/serviceaccount).

A token is a JWT signed with --service-account-signing-key-file, issued by the first
--service-account-issuer for the requested audiences (default --api-audiences) and lifetime, bound
to the ServiceAccount and optionally a Pod or Secret (and the Pod's Node). It authenticates while
its signature checks against a --service-account-key-file key, it has not expired, one of its
audiences is the apiserver's, and the objects it is bound to still exist with the same uid.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from google.protobuf.message import Message

from control.apiserver.auth import jwt
from control.apiserver.auth.user import AUTHENTICATED, UserInfo
from control.client.kinds import KINDS

SA_PREFIX = "system:serviceaccount:"
ALL_SA_GROUP = "system:serviceaccounts"
CLAIMS = "kubernetes.io"
# Tokens asked for with this lifetime and bound to a pod are the admission's default projection:
# kube-apiserver makes them valid for a year and records when the kubelet should have refreshed them.
WARN_ONLY_EXPIRATION = 3607
EXTENDED_EXPIRATION = 365 * 24 * 3600
NBF_LEEWAY = 60


class TokenInvalid(Exception):
    """A token this apiserver issued that no longer authenticates; the message says why."""


@dataclass
class TokenOptions:
    issuers: list[str]
    signing_key: jwt.PrivateKey | None
    keys: list[jwt.PublicKey]
    audiences: list[str] = field(default_factory=list)  # --api-audiences, default: the issuers
    max_expiration: int = 0  # --service-account-max-token-expiration in seconds; 0: no cap
    extend_expiration: bool = True

    def __post_init__(self) -> None:
        if not self.audiences:
            self.audiences = list(self.issuers)


def username(namespace: str, name: str) -> str:
    return f"{SA_PREFIX}{namespace}:{name}"


def split_username(user: str) -> tuple[str, str] | None:
    if not user.startswith(SA_PREFIX):
        return None
    namespace, sep, name = user[len(SA_PREFIX):].partition(":")
    return (namespace, name) if sep and namespace and name and ":" not in name else None


EXTRA_PREFIX = "authentication.kubernetes.io/"


def user_info(namespace: str, name: str, uid: str, extra: dict[str, str] | None = None) -> UserInfo:
    """The account's user; `extra` (credential-id, pod-name, pod-uid, node-name, node-uid) as Kubernetes
    puts it in user.Info's Extra under authentication.kubernetes.io/."""
    pairs = tuple((EXTRA_PREFIX + k, (v,)) for k, v in (extra or {}).items() if v)
    return UserInfo(username(namespace, name), (ALL_SA_GROUP, f"{ALL_SA_GROUP}:{namespace}", AUTHENTICATED), uid,
                    pairs)


def _ref(obj: Message) -> dict:
    return {"name": obj.metadata.name, "uid": obj.metadata.uid}


def claims(sa: Message, audiences: list[str], expiration: int, issuer: str, now: int, pod: Message | None = None,
           secret: Message | None = None, node: Message | None = None, warn_after: int = 0) -> dict:
    """The JWT claims of a token for sa, as Kubernetes' token.Claims builds them."""
    private: dict = {"namespace": sa.metadata.namespace, "serviceaccount": _ref(sa)}
    if pod is not None:
        private["pod"] = _ref(pod)
    if secret is not None:
        private["secret"] = _ref(secret)
    if node is not None:
        private["node"] = _ref(node)
    if warn_after:
        private["warnafter"] = now + warn_after
    return {"iss": issuer, "sub": username(sa.metadata.namespace, sa.metadata.name), "aud": list(audiences),
            "exp": now + expiration, "iat": now, "nbf": now, "jti": str(uuid.uuid4()), CLAIMS: private}


class ServiceAccountTokens:
    """Issues tokens (TokenRequest) and authenticates them against the watch cache's objects."""

    def __init__(self, options: TokenOptions, cache=None) -> None:
        self.options = options
        self.cache = cache  # watchcache.WatchCache: the bound objects' current uids

    @property
    def can_issue(self) -> bool:
        return self.options.signing_key is not None and bool(self.options.issuers)

    def lifetime(self, requested: int, pod_bound: bool, audiences: list[str]) -> tuple[int, int]:
        """(the token's lifetime, its warn-after) for a request of `requested` seconds."""
        cap = self.options.max_expiration
        if self.options.extend_expiration and pod_bound and requested == WARN_ONLY_EXPIRATION and \
                set(audiences) <= set(self.options.audiences):
            return max(EXTENDED_EXPIRATION, cap), requested
        return (min(requested, cap) if cap else requested), 0

    def issue(self, token_claims: dict) -> str:
        assert self.options.signing_key is not None
        return jwt.sign(token_claims, self.options.signing_key)

    def authenticate(self, token: str, audiences: list[str] | None = None,
                     now: float | None = None) -> tuple[UserInfo, list[str]] | None:
        """(the user, the audiences it is valid for) for a token this apiserver issued; None for a token
        that is not ours (no JWT, another issuer, no key of ours); TokenInvalid for one of ours that
        fails."""
        if not jwt.looks_like_jwt(token):
            return None
        try:
            found = jwt.verify(token, self.options.keys)
        except jwt.InvalidToken:
            return None
        if found.get("iss") not in self.options.issuers:
            return None
        now = time.time() if now is None else now
        _check_times(found, now)
        valid_for = _audiences(found, audiences or self.options.audiences)
        return self._bound_user(found), valid_for

    def _bound_user(self, found: dict) -> UserInfo:
        private = found.get(CLAIMS)
        if not isinstance(private, dict):
            raise TokenInvalid("token has no kubernetes.io claims")
        namespace = private.get("namespace")
        sa_ref = private.get("serviceaccount") or {}
        if not isinstance(namespace, str) or not isinstance(sa_ref, dict) or not sa_ref.get("name"):
            raise TokenInvalid("token names no service account")
        sa = self._current("ServiceAccount", namespace, sa_ref, "service account")
        extra = {"credential-id": f"JTI={found['jti']}" if isinstance(found.get("jti"), str) else ""}
        for key, kind, what in (("pod", "Pod", "pod"), ("secret", "Secret", "secret"), ("node", "Node", "node")):
            ref = private.get(key)
            if ref is not None:
                self._current(kind, "" if kind == "Node" else namespace, ref, what)
                if key != "secret":
                    extra[f"{key}-name"], extra[f"{key}-uid"] = ref["name"], ref.get("uid", "")
        if found.get("sub") != username(namespace, sa_ref["name"]):
            raise TokenInvalid("token subject does not match its service account")
        return user_info(namespace, sa.metadata.name, sa.metadata.uid, extra)

    def _current(self, kind: str, namespace: str, ref, what: str) -> Message:
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            raise TokenInvalid(f"token has a malformed {what} reference")
        obj = self.cache[KINDS[kind]].get(namespace, ref["name"]) if self.cache is not None else None
        where = f"{namespace}/{ref['name']}" if namespace else ref["name"]
        if obj is None:
            raise TokenInvalid(f"{what} {where} has been deleted")
        if ref.get("uid") and obj.metadata.uid != ref["uid"]:
            raise TokenInvalid(f"{what} UID ({obj.metadata.uid}) does not match claim ({ref['uid']})")
        if kind == "Pod" and obj.metadata.HasField("deletion_timestamp") and \
                obj.metadata.deletion_timestamp.seconds < time.time():
            raise TokenInvalid(f"pod {where} is being deleted")
        return obj


def _check_times(found: dict, now: float) -> None:
    exp, nbf = found.get("exp"), found.get("nbf")
    if not isinstance(exp, (int, float)):
        raise TokenInvalid("token has no expiry")
    if now >= exp:
        raise TokenInvalid("service account token has expired")
    if isinstance(nbf, (int, float)) and now + NBF_LEEWAY < nbf:
        raise TokenInvalid("service account token is not valid yet")


def _audiences(found: dict, wanted: list[str]) -> list[str]:
    aud = found.get("aud")
    token_audiences = [aud] if isinstance(aud, str) else [a for a in aud or [] if isinstance(a, str)]
    valid = [a for a in wanted if a in token_audiences]
    if not valid:
        raise TokenInvalid(f"token audiences {token_audiences!r} is invalid for the target audiences {wanted!r}")
    return valid
