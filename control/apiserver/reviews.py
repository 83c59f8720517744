"""SelfSubjectAccessReview (authorization.k8s.io/v1) and SelfSubjectReview (authentication.k8s.io/v1):
the caller asks what it may do, or who it is; TokenReview (authentication.k8s.io/v1): whether a token
authenticates, authorized as `create` on tokenreviews. Create-only and never stored. Both need an authenticated
caller but no authorization: everyone may ask about themselves (Kubernetes' system:basic-user)."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
from google.protobuf.message import DecodeError, Message
from grpc_status import rpc_status

from control.apiserver import errors, metrics, tokenrequest
from control.apiserver.auth.attributes import Attributes, Decision
from control.apiserver.auth.gate import ANONYMOUS, Gate, forbidden
from control.apiserver.auth.user import UserInfo
from control.apiserver.context import ApiContext
from control.apiserver.validation.errors import Errors, invalid, required
from skiff.v1 import authz_pb2, reviews_pb2

SSAR_SERVICE = reviews_pb2.DESCRIPTOR.services_by_name["SelfSubjectAccessReviews"].full_name
SSR_SERVICE = reviews_pb2.DESCRIPTOR.services_by_name["SelfSubjectReviews"].full_name
TOKEN_REVIEW_SERVICE = reviews_pb2.DESCRIPTOR.services_by_name["TokenReviews"].full_name
SERVICE_NAMES = (SSAR_SERVICE, SSR_SERVICE, TOKEN_REVIEW_SERVICE)


def validate_spec(spec: authz_pb2.SelfSubjectAccessReviewSpec) -> Errors:
    """Kubernetes' ValidateSelfSubjectAccessReviewSpec: exactly one of the attribute sets, with a verb."""
    has_resource, has_non_resource = spec.HasField("resource_attributes"), spec.HasField("non_resource_attributes")
    if has_resource and has_non_resource:
        return [invalid("spec.nonResourceAttributes", spec.non_resource_attributes,
                        "cannot be specified in combination with resourceAttributes")]
    if not has_resource and not has_non_resource:
        return [required("spec.resourceAttributes",
                         "exactly one of nonResourceAttributes or resourceAttributes must be specified")]
    if has_resource:
        path, attrs = "spec.resourceAttributes", spec.resource_attributes
    else:
        path, attrs = "spec.nonResourceAttributes", spec.non_resource_attributes
    return [] if attrs.verb else [required(f"{path}.verb")]


def access_review(api: ApiContext, user: UserInfo | None, review: authz_pb2.SelfSubjectAccessReview,
                  kind: str = "SelfSubjectAccessReview", extra: Errors = ()) -> authz_pb2.SelfSubjectAccessReview:
    """What the authorizer says of user doing what the review's spec names; kind and extra serve the other
    access reviews (SubjectAccessReview: the user comes from the spec) with their own checks."""
    violations = validate_spec(review.spec) + list(extra)
    if violations:
        raise errors.invalid(kind, review.metadata.name, violations)
    out = authz_pb2.SelfSubjectAccessReview(api_version="authorization.k8s.io/v1", kind="SelfSubjectAccessReview",
                                            metadata=review.metadata, spec=review.spec)
    if user is None:  # --insecure-dev: authorization is off, everything is allowed
        out.status.allowed = True
        return out
    if review.spec.HasField("non_resource_attributes"):
        n = review.spec.non_resource_attributes
        attrs = Attributes(user, n.verb, "", "", path=n.path)
    else:
        r = review.spec.resource_attributes
        attrs = Attributes(user, r.verb, r.group, r.resource, r.subresource, r.namespace, r.name)
    verdict = api.authorizer.authorize(attrs)
    out.status.allowed = verdict.decision is Decision.ALLOW
    out.status.reason = verdict.reason
    return out


def self_review(user: UserInfo | None) -> authz_pb2.SelfSubjectReview:
    user = user or ANONYMOUS
    out = authz_pb2.SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview")
    user.fill(out.status.user_info)
    return out


def token_review(api: ApiContext, user: UserInfo | None, review: authz_pb2.TokenReview) -> authz_pb2.TokenReview:
    """Unlike the self reviews, asking about a token needs `create` on tokenreviews (system:auth-delegator)."""
    if user is not None:
        attrs = Attributes(user, "create", "authentication.k8s.io", "tokenreviews")
        verdict = api.authorizer.authorize(attrs)
        if verdict.decision is not Decision.ALLOW:
            raise forbidden(attrs, verdict.reason)
    return tokenrequest.review(api, review)


def _unary(gate: Gate, message_type, answer: Callable[[UserInfo | None, Message], Message],
           info: metrics.RequestInfo) -> Callable:
    async def handler(data: bytes, context: grpc.aio.ServicerContext):
        started = time.monotonic()
        try:
            user = gate.authenticate(context)  # before the body: who asks matters first, as in kube-apiserver
            try:
                request = message_type.FromString(data)
            except DecodeError as e:
                raise errors.bad_request(f"malformed {message_type.DESCRIPTOR.full_name}: {e}") from None
            result = answer(user, request)
        except errors.ApiError as e:
            metrics.observe(info, e.code, started)
            await context.abort_with_status(rpc_status.to_status(e.to_status()))
        metrics.observe(info, grpc.StatusCode.OK, started)
        return result
    return grpc.unary_unary_rpc_method_handler(handler, lambda b: b, message_type.SerializeToString)


def _create(group: str, resource: str) -> metrics.RequestInfo:
    return metrics.RequestInfo("POST", "", group, "v1", resource, "", "resource")


def review_services(api: ApiContext) -> list[grpc.GenericRpcHandler]:
    gate = Gate(api)
    ssar = _unary(gate, authz_pb2.SelfSubjectAccessReview, lambda user, r: access_review(api, user, r),
                  _create("authorization.k8s.io", "selfsubjectaccessreviews"))
    ssr = _unary(gate, authz_pb2.SelfSubjectReview, lambda user, _r: self_review(user),
                 _create("authentication.k8s.io", "selfsubjectreviews"))
    tokens = _unary(gate, authz_pb2.TokenReview, lambda user, r: token_review(api, user, r),
                    _create("authentication.k8s.io", "tokenreviews"))
    return [grpc.method_handlers_generic_handler(SSAR_SERVICE, {"Create": ssar}),
            grpc.method_handlers_generic_handler(SSR_SERVICE, {"Create": ssr}),
            grpc.method_handlers_generic_handler(TOKEN_REVIEW_SERVICE, {"Create": tokens})]
