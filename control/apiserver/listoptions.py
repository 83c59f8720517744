"""Kubernetes' checks of list and watch options (resourceVersion, resourceVersionMatch, sendInitialEvents)
and what a list's resourceVersion asks for: the most recent state, any state, not older than N, exactly N."""

from __future__ import annotations

from dataclasses import dataclass

from control.apiserver import errors
from skiff.v1 import requests_pb2

EXACT = "Exact"
NOT_OLDER_THAN = "NotOlderThan"


def _forbidden(field: str, why: str) -> errors.FieldViolation:
    return errors.FieldViolation(field=field, description=f"Forbidden: {why}")


def _not_supported(field: str, value: str, supported: list[str]) -> errors.FieldViolation:
    values = ", ".join(f'"{v}"' for v in supported)
    return errors.FieldViolation(field=field, description=f'Unsupported value: "{value}": supported values: {values}')


def validate_list(request: requests_pb2.ListRequest) -> None:
    found: list[errors.FieldViolation] = []
    match = request.resource_version_match
    if match:
        if not request.resource_version:
            found.append(_forbidden("resourceVersionMatch",
                                    "resourceVersionMatch is forbidden unless resourceVersion is provided"))
        if request.continue_token:
            found.append(_forbidden("resourceVersionMatch",
                                    "resourceVersionMatch is forbidden when continue is provided"))
        if match not in (EXACT, NOT_OLDER_THAN):
            found.append(_not_supported("resourceVersionMatch", match, [EXACT, NOT_OLDER_THAN, ""]))
        if match == EXACT and request.resource_version == "0":
            found.append(_forbidden("resourceVersionMatch", 'resourceVersionMatch "exact" is forbidden for '
                                                            'resourceVersion "0"'))
    _raise(found)
    parse_revision(request.resource_version)


def validate_watch(request: requests_pb2.WatchRequest) -> None:
    found: list[errors.FieldViolation] = []
    match = request.resource_version_match
    initial = request.HasField("send_initial_events")
    if initial and match != NOT_OLDER_THAN:
        found.append(_forbidden("resourceVersionMatch",
                                f"sendInitialEvents requires setting resourceVersionMatch to {NOT_OLDER_THAN}"))
    if match:
        if not initial:
            found.append(_forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless "
                                                            "sendInitialEvents is provided"))
        if match != NOT_OLDER_THAN:
            found.append(_not_supported("resourceVersionMatch", match, [NOT_OLDER_THAN]))
    _raise(found)
    parse_revision(request.resource_version)


def _raise(found: list[errors.FieldViolation]) -> None:
    if found:
        raise errors.invalid_options("ListOptions", found)


def parse_revision(text: str) -> int | None:
    """A resourceVersion as a revision: None when absent, 0 for "any"."""
    if not text:
        return None
    try:
        revision = int(text)
    except ValueError:
        revision = -1
    if revision < 0:
        raise errors.bad_request(f'resourceVersion: Invalid value: "{text}": must be a non-negative integer',
                                 "resourceVersion")
    return revision


@dataclass(frozen=True)
class ListRead:
    """Where a list reads: `exact` at `revision`; else not older than `revision` (None: the most recent
    state, a consistent read; 0: any state)."""
    revision: int | None
    exact: bool


def list_read(request: requests_pb2.ListRequest) -> ListRead:
    revision = parse_revision(request.resource_version)
    match = request.resource_version_match
    # As kube-apiserver: a resourceVersion with a limit and no match pins the pages to that revision.
    exact = bool(revision) and (match == EXACT or (not match and request.limit > 0))
    return ListRead(revision, exact)
