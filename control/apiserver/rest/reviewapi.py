"""The review APIs over REST: create-only resources that are never stored, answered in their status.

authorization.k8s.io/v1: SelfSubjectAccessReview (`kubectl auth can-i`: may I?), SubjectAccessReview
(may this user?), the namespaced LocalSubjectAccessReview and SelfSubjectRulesReview (`kubectl auth
can-i --list`: what may I do here?); authentication.k8s.io/v1: SelfSubjectReview (`kubectl auth
whoami`) and TokenReview (does this token authenticate?). Asking about oneself needs only to be
authenticated (as Kubernetes' system:basic-user grants everyone); asking about others is authorized
as `create` on the review's resource. Discovery lists them beside the kind table's resources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
from google.protobuf import json_format

from control.apiserver import errors, reviews, tokenrequest
from control.apiserver.auth.attributes import Attributes, Decision
from control.apiserver.auth.gate import forbidden
from control.apiserver.auth.rbac import RuleResolver
from control.apiserver.auth.user import SYSTEM_MASTERS, UserInfo
from control.apiserver.context import ApiContext
from control.apiserver.validation.errors import Errors, invalid
from control.client.convert import to_dict
from skiff.v1 import authz_pb2

AUTHORIZATION = "authorization.k8s.io"
AUTHENTICATION = "authentication.k8s.io"


@dataclass(frozen=True)
class Review:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    about_others: bool  # authorized as `create` on the resource (it asks about someone else)
    # (api, the caller, the body, the URL's namespace) -> the status to answer with
    answer: Callable[[ApiContext, UserInfo | None, dict, str], dict]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def singular(self) -> str:
        return self.kind.lower()


def _spec(body: dict, kind: str) -> authz_pb2.SelfSubjectAccessReview:
    """The attributes part of an access review's spec (shared by every kind of access review)."""
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise errors.bad_request(f"{kind}.spec must be an object")
    review = authz_pb2.SelfSubjectAccessReview()
    attributes = {k: spec[k] for k in ("resourceAttributes", "nonResourceAttributes") if k in spec}
    try:
        json_format.ParseDict({"spec": attributes, "metadata": _meta(body)}, review, ignore_unknown_fields=True)
    except json_format.ParseError as e:
        raise errors.bad_request(f'{kind} in version "v1" cannot be handled as a {kind}: {e}') from None
    return review


def _meta(body: dict) -> dict:
    meta = body.get("metadata") or {}
    return {k: meta[k] for k in ("name", "namespace") if isinstance(meta, dict) and isinstance(meta.get(k), str)}


def _status(review: authz_pb2.SelfSubjectAccessReview) -> dict:
    return to_dict(review.status) or {"allowed": False}


def self_access(api: ApiContext, user: UserInfo | None, body: dict, _namespace: str) -> dict:
    return _status(reviews.access_review(api, user, _spec(body, "SelfSubjectAccessReview")))


def _subject(spec: dict) -> UserInfo:
    groups = spec.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise errors.bad_request("spec.groups must be a list of strings", "spec.groups")
    return UserInfo(str(spec.get("user") or ""), tuple(groups), str(spec.get("uid") or ""))


def _subject_checks(spec: dict) -> Errors:
    if not spec.get("user") and not spec.get("groups"):
        return [invalid("spec.user", spec.get("user") or "", "at least one of user or group must be specified")]
    return []


def subject_access(api: ApiContext, _user: UserInfo | None, body: dict, namespace: str,
                   kind: str = "SubjectAccessReview", extra: Errors = ()) -> dict:
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    review = _spec(body, kind)
    checks = _subject_checks(spec) + list(extra)
    subject = _subject(spec) if api.authenticator is not None else None  # off: everything is allowed
    return _status(reviews.access_review(api, subject, review, kind, checks))


def local_access(api: ApiContext, user: UserInfo | None, body: dict, namespace: str) -> dict:
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    meta_namespace = _meta(body).get("namespace", "")
    if meta_namespace and meta_namespace != namespace:
        raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the "
                                 "request")
    extra: Errors = []
    attributes = spec.get("resourceAttributes")
    if isinstance(attributes, dict) and attributes.get("namespace", "") != namespace:
        extra.append(invalid("spec.resourceAttributes.namespace", attributes.get("namespace", ""),
                             "must match metadata.namespace"))
    if "nonResourceAttributes" in spec:
        extra.append(invalid("spec.nonResourceAttributes", spec["nonResourceAttributes"],
                             "disallowed on this kind of request"))
    return subject_access(api, user, body, namespace, "LocalSubjectAccessReview", extra)


def self_rules(api: ApiContext, user: UserInfo | None, body: dict, _namespace: str) -> dict:
    """What the caller may do in spec.namespace: the rules of every binding of theirs, as RBAC's resolver
    lists them (unmerged, in the bindings' order); `incomplete` when some authorizer cannot list them."""
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    namespace = spec.get("namespace") if isinstance(spec.get("namespace"), str) else ""
    if user is None or SYSTEM_MASTERS in user.groups:  # authorization off, or the privileged group
        return {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
    rules, problems = RuleResolver(api.cache).rules_for(user, namespace)
    status: dict = {
        "resourceRules": [{k: v for k, v in to_dict(r).items() if k != "nonResourceURLs"}
                          for r in rules if r.resources],
        "nonResourceRules": [{"verbs": list(r.verbs), "nonResourceURLs": list(r.non_resource_urls)}
                             for r in rules if r.non_resource_urls],
        "incomplete": bool(problems) or user.node_name is not None}
    if problems:
        status["evaluationError"] = ", ".join(problems)
    elif user.node_name is not None:
        status["evaluationError"] = "node authorizer does not support user rule resolution"
    return status


def self_subject(_api: ApiContext, user: UserInfo | None, _body: dict, _namespace: str) -> dict:
    return to_dict(reviews.self_review(user).status)


def token(api: ApiContext, _user: UserInfo | None, body: dict, _namespace: str) -> dict:
    """Whether spec.token authenticates, as whom, for which of spec.audiences (tokenrequest.review)."""
    review = authz_pb2.TokenReview()
    try:
        json_format.ParseDict({"spec": body.get("spec") or {}, "metadata": _meta(body)}, review,
                              ignore_unknown_fields=True)
    except json_format.ParseError as e:
        raise errors.bad_request(f'TokenReview in version "v1" cannot be handled as a TokenReview: {e}') from None
    return to_dict(tokenrequest.review(api, review).status) or {"user": {}}


REVIEWS = (
    Review(AUTHORIZATION, "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False, False, self_access),
    Review(AUTHORIZATION, "v1", "subjectaccessreviews", "SubjectAccessReview", False, True, subject_access),
    Review(AUTHORIZATION, "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview", True, True, local_access),
    Review(AUTHORIZATION, "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False, False, self_rules),
    Review(AUTHENTICATION, "v1", "selfsubjectreviews", "SelfSubjectReview", False, False, self_subject),
    Review(AUTHENTICATION, "v1", "tokenreviews", "TokenReview", False, True, token),
)


def find(gv: tuple[str, str] | None, parts: list[str]) -> tuple[Review, str] | None:
    """The review a path names, with its namespace: `selfsubjectaccessreviews`,
    `namespaces/{ns}/localsubjectaccessreviews`."""
    if gv is None:
        return None
    namespace, rest = (parts[1], parts[2:]) if len(parts) >= 3 and parts[0] == "namespaces" else ("", parts)
    for review in REVIEWS:
        if (review.group, review.version) == gv and rest == [review.plural] and review.namespaced == bool(namespace):
            return review, namespace
    return None


def serve(api: ApiContext, review: Review, namespace: str, method: str, user: UserInfo | None, body) -> dict:
    if method != "POST":
        raise errors.ApiError(grpc.StatusCode.UNIMPLEMENTED, "the server does not allow this method on the "
                              f"requested resource ({method})")
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    if body.get("kind", review.kind) != review.kind:
        raise errors.bad_request(f"the kind in the data ({body.get('kind')}) does not match the expected kind "
                                 f"({review.kind})")
    if review.about_others and user is not None:
        attrs = Attributes(user, "create", review.group, review.plural, "", namespace)
        verdict = api.authorizer.authorize(attrs)
        if verdict.decision is not Decision.ALLOW:
            raise forbidden(attrs, verdict.reason)
    status = review.answer(api, user, body, namespace)
    doc = {"kind": review.kind, "apiVersion": review.api_version, "metadata": {"creationTimestamp": None}}
    if review.namespaced:
        doc["metadata"]["namespace"] = namespace
    if "spec" in body:
        doc["spec"] = body["spec"]
    doc["status"] = status
    return doc
