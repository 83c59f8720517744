"""Turning gRPC errors into kubectl's messages ('Error from server (NotFound): ...')."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

_DETAILS_KEY = "grpc-status-details-bin"

# The Kubernetes StatusReason each gRPC code stands for.
_REASONS = {
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.ABORTED: "Conflict",
    grpc.StatusCode.INVALID_ARGUMENT: "BadRequest",
    grpc.StatusCode.PERMISSION_DENIED: "Forbidden",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthorized",
    grpc.StatusCode.FAILED_PRECONDITION: "Forbidden",
    grpc.StatusCode.OUT_OF_RANGE: "Expired",
    grpc.StatusCode.DEADLINE_EXCEEDED: "Timeout",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "TooManyRequests",
    grpc.StatusCode.UNIMPLEMENTED: "MethodNotAllowed",
    grpc.StatusCode.INTERNAL: "InternalError",
    grpc.StatusCode.UNKNOWN: "InternalError",
    grpc.StatusCode.CANCELLED: "InternalError",
}


class CommandError(Exception):
    """An error already worded for the user; main prints it and exits 1."""


class UsageError(CommandError):
    """A wrong argument, which kubectl follows with where to find help."""

    def __init__(self, message: str, verb: str) -> None:
        super().__init__(message, verb)

    def __str__(self) -> str:
        return f"{self.args[0]}\nSee 'skiffctl {self.args[1]} -h' for help and examples"


def field_violations(err: grpc.aio.AioRpcError | grpc.RpcError) -> list[tuple[str, str]]:
    """(field, description) pairs from the google.rpc.BadRequest in the rich status, if any."""
    for key, value in (err.trailing_metadata() or ()):
        if key != _DETAILS_KEY:
            continue
        status = status_pb2.Status.FromString(value)
        found: list[tuple[str, str]] = []
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                found.extend((v.field, v.description) for v in bad.field_violations)
        return found
    return []


def is_code(err: BaseException, code: grpc.StatusCode) -> bool:
    return isinstance(err, grpc.RpcError) and err.code() == code


def describe_rpc_error(err: grpc.RpcError, server: str, kind: str = "", name: str = "") -> str:
    """kubectl's wording for a failed call; kind/name name the object for 'is invalid' messages."""
    code = err.code()
    details = err.details() or ""
    if code == grpc.StatusCode.UNAVAILABLE:
        return f"The connection to the server {server} was refused - did you specify the right host or port?"
    violations = field_violations(err)
    if code == grpc.StatusCode.INVALID_ARGUMENT and violations:
        return invalid_message(kind, name, violations)
    reason = _REASONS.get(code, "Unknown")
    return f"Error from server ({reason}): {details}"


def invalid_message(kind: str, name: str, violations: list[tuple[str, str]]) -> str:
    subject = f'The {kind} "{name}" is invalid: ' if kind else "The request is invalid: "
    causes = [_cause(field, text) for field, text in violations]
    if len(causes) == 1:
        return subject + causes[0]
    return subject + "".join(f"\n* {c}" for c in causes)


def _cause(field: str, text: str) -> str:
    # Some servers repeat the field path in the description; don't print it twice.
    if not field or text.startswith(f"{field}:"):
        return text
    return f"{field}: {text}"
