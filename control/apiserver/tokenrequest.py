"""The `serviceaccounts/token` subresource (authentication.k8s.io/v1 TokenRequest, create): a signed,
bound token for a ServiceAccount, as kube-apiserver's TokenREST does; and TokenReview (create),
which says whether a token authenticates and as whom."""

from __future__ import annotations

import time

import grpc
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.auth.serviceaccount import ServiceAccountTokens, TokenInvalid, claims
from control.apiserver.context import ApiContext
from control.apiserver.storage import NotFoundError
from control.apiserver.validation.errors import Errors, invalid
from control.client.kinds import KINDS
from skiff.v1 import authz_pb2

DEFAULT_EXPIRATION = 3600
MIN_EXPIRATION = 600
MAX_EXPIRATION = 1 << 32
BINDABLE = ("Pod", "Secret")


def validate(request: authz_pb2.TokenRequest) -> Errors:
    """Kubernetes' ValidateTokenRequest."""
    seconds = request.spec.expiration_seconds
    if seconds < MIN_EXPIRATION:
        return [invalid("spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes")]
    if seconds > MAX_EXPIRATION:
        return [invalid("spec.expirationSeconds", seconds, "may not specify a duration larger than 2^32 seconds")]
    return []


def _tokens(api: ApiContext) -> ServiceAccountTokens:
    tokens = api.service_account_tokens
    if tokens is None or not tokens.can_issue:
        raise errors.ApiError(grpc.StatusCode.NOT_FOUND, "the server could not find the requested resource")
    return tokens


async def _get(api: ApiContext, kind: str, namespace: str, name: str) -> Message:
    """A quorum read, as a Get: a pod created a moment ago on another apiserver is found."""
    try:
        return await api.storage.get(KINDS[kind], namespace, name)
    except NotFoundError:
        raise errors.not_found(KINDS[kind].resource, name) from None


async def _bound(api: ApiContext, request: authz_pb2.TokenRequest, sa: Message) -> tuple:
    """(pod, secret, node) the token is bound to, checked as kube-apiserver checks them."""
    ref = request.spec.bound_object_ref
    if not request.spec.HasField("bound_object_ref"):
        return None, None, None
    if ref.kind not in BINDABLE or (ref.api_version or "v1") != "v1":
        raise errors.bad_request(f"cannot bind token to object of type {ref.api_version}, Kind={ref.kind}")
    obj = await _get(api, ref.kind, sa.metadata.namespace, ref.name)
    if ref.uid and ref.uid != obj.metadata.uid:
        raise errors.conflict(ref.kind, ref.name, f"the UID in the bound object reference ({ref.uid}) does not "
                              "match the UID in record. The object might have been deleted and then recreated")
    if ref.kind == "Secret":
        return None, obj, None
    if obj.spec.service_account_name != sa.metadata.name:
        raise errors.bad_request(f'cannot bind token for serviceaccount "{sa.metadata.name}" to pod running '
                                 "with different serviceaccount name.")
    node = api.cache[KINDS["Node"]].get("", obj.spec.node_name) if obj.spec.node_name else None
    return obj, None, node


async def create_token(api: ApiContext, request: authz_pb2.TokenRequest) -> authz_pb2.TokenRequest:
    tokens = _tokens(api)
    namespace, name = request.metadata.namespace or "default", request.metadata.name
    sa = await _get(api, "ServiceAccount", namespace, name)
    out = authz_pb2.TokenRequest()
    out.CopyFrom(request)
    out.api_version, out.kind = "authentication.k8s.io/v1", "TokenRequest"
    if not out.spec.HasField("expiration_seconds"):
        out.spec.expiration_seconds = DEFAULT_EXPIRATION
    if not out.spec.audiences:
        out.spec.audiences.extend(tokens.options.audiences)
    violations = validate(out)
    if violations:
        raise errors.invalid("TokenRequest", name, violations)
    pod, secret, node = await _bound(api, out, sa)
    if out.spec.HasField("bound_object_ref"):
        out.spec.bound_object_ref.uid = (pod or secret).metadata.uid
        out.spec.bound_object_ref.api_version = "v1"
    lifetime, warn_after = tokens.lifetime(out.spec.expiration_seconds, pod is not None, list(out.spec.audiences))
    now = int(time.time())
    token_claims = claims(sa, list(out.spec.audiences), lifetime, tokens.options.issuers[0], now, pod, secret, node,
                          warn_after)
    out.status.token = tokens.issue(token_claims)
    out.status.expiration_timestamp.seconds = now + (warn_after or lifetime)
    out.metadata.namespace, out.metadata.name = namespace, name
    out.metadata.creation_timestamp.seconds = now
    return out


def review(api: ApiContext, review_in: authz_pb2.TokenReview) -> authz_pb2.TokenReview:
    """Whether spec.token authenticates (any authenticator: static tokens too) for spec.audiences."""
    if not review_in.spec.token:
        raise errors.invalid("TokenReview", review_in.metadata.name, [
            errors.FieldViolation(field="spec.token", description="Required value: token must not be empty")])
    out = authz_pb2.TokenReview(api_version="authentication.k8s.io/v1", kind="TokenReview",
                                metadata=review_in.metadata, spec=review_in.spec)
    authn = api.authenticator
    wanted = list(review_in.spec.audiences)
    user = authn.tokens.get(review_in.spec.token) if authn is not None else None
    audiences: list[str] = []
    if user is not None:
        audiences = wanted or list(_api_audiences(api))  # static tokens are not bound to audiences
    elif api.service_account_tokens is not None:
        try:
            found = api.service_account_tokens.authenticate(review_in.spec.token, wanted or None)
        except TokenInvalid as e:
            out.status.error = f"[invalid bearer token, {e}]"
            return out
        if found is not None:
            user, audiences = found
    if user is None:
        out.status.error = "[invalid bearer token, token lookup failed]"
        return out
    out.status.authenticated = True
    user.fill(out.status.user)
    out.status.audiences.extend(audiences)
    return out


def _api_audiences(api: ApiContext) -> list[str]:
    tokens = api.service_account_tokens
    return tokens.options.audiences if tokens is not None else []
