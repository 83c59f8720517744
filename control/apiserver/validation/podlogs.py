"""PodLogOptions (pods/log): the refusals of Kubernetes' ValidatePodLogOptions, before any agent is asked."""

from __future__ import annotations

import grpc

from control.apiserver import errors
from control.apiserver.validation.errors import Errors, forbidden, invalid
from skiff.v1 import node_agent_pb2

BOTH_SINCE = "at most one of `sinceTime` or `sinceSeconds` may be specified"


def validate_pod_log_options(request: node_agent_pb2.LogsRequest, limit_bytes: int | None = None) -> Errors:
    errs: Errors = []
    if request.HasField("tail_lines") and request.tail_lines < 0:
        errs.append(invalid("tailLines", request.tail_lines, "must be greater than or equal to 0"))
    if limit_bytes is not None and limit_bytes < 1:
        errs.append(invalid("limitBytes", limit_bytes, "must be greater than 0"))
    if request.HasField("since_seconds") and request.HasField("since_time"):
        errs.append(forbidden("", BOTH_SINCE))
    elif request.HasField("since_seconds") and request.since_seconds < 1:
        errs.append(invalid("sinceSeconds", request.since_seconds, "must be greater than 0"))
    return errs


def check_pod_log_options(request: node_agent_pb2.LogsRequest, limit_bytes: int | None = None) -> None:
    """Raises Kubernetes' 422 for bad options: `PodLogOptions "NAME" is invalid: ...`."""
    errs = validate_pod_log_options(request, limit_bytes)
    if not errs:
        return
    # A field error prints as "PATH: DETAIL", also with the empty path of the sinceTime/sinceSeconds rule.
    details = ", ".join(f"{v.field}: {v.description}" for v in errs)
    if len(errs) > 1:
        details = f"[{details}]"
    raise errors.ApiError(grpc.StatusCode.INVALID_ARGUMENT, f'PodLogOptions "{request.name}" is invalid: {details}',
                          errs)
