"""API errors: Kubernetes' reasons and messages, carried as gRPC statuses.

Validation failures carry google.rpc.BadRequest field violations in the rich
status, so a client in any language can read each field path.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

FieldViolation = error_details_pb2.BadRequest.FieldViolation


class ApiError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str,
                 violations: list[FieldViolation] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.violations = violations or []
        self.details: dict | None = None  # a Status' details beyond what the code and message imply
        self.list_meta: dict | None = None  # a Status' metadata (the continue token of an expired list)

    def to_status(self) -> status_pb2.Status:
        status = status_pb2.Status(code=self.code.value[0], message=self.message)
        if self.violations:
            detail = any_pb2.Any()
            detail.Pack(error_details_pb2.BadRequest(field_violations=self.violations))
            status.details.append(detail)
        return status


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(grpc.StatusCode.NOT_FOUND, f'{resource} "{name}" not found')


def already_exists(resource: str, name: str) -> ApiError:
    return ApiError(grpc.StatusCode.ALREADY_EXISTS, f'{resource} "{name}" already exists')


def conflict(resource: str, name: str, why: str | None = None) -> ApiError:
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    return ApiError(grpc.StatusCode.ABORTED, f'Operation cannot be fulfilled on {resource} "{name}": {why}')


class ApplyConflict(ApiError):
    """A server-side apply refused for fields other managers own: 409 Conflict whose causes name them."""

    def __init__(self, message: str, causes: list[dict]) -> None:
        super().__init__(grpc.StatusCode.ABORTED, message)
        self.causes = causes


def invalid(kind: str, name: str, violations: list[FieldViolation]) -> ApiError:
    details = ", ".join(f"{v.field}: {v.description}" if v.field else v.description for v in violations)
    if len(violations) > 1:
        details = f"[{details}]"
    return ApiError(grpc.StatusCode.INVALID_ARGUMENT, f'{kind} "{name}" is invalid: {details}', violations)


def bad_request(message: str, field: str = "") -> ApiError:
    return ApiError(grpc.StatusCode.INVALID_ARGUMENT, message,
                    [FieldViolation(field=field, description=message)] if field else None)


def unauthorized(message: str = "Unauthorized") -> ApiError:
    """Kubernetes' 401: no valid credentials."""
    return ApiError(grpc.StatusCode.UNAUTHENTICATED, message)


def forbidden(message: str) -> ApiError:
    return ApiError(grpc.StatusCode.PERMISSION_DENIED, message)


def gone(message: str) -> ApiError:
    err = ApiError(grpc.StatusCode.OUT_OF_RANGE, message)
    err.details = {}  # Kubernetes' 410 Expired names no object
    return err


def too_large_resource_version(wanted: int, current: int) -> ApiError:
    """Kubernetes' 504 for a resourceVersion this apiserver has not seen in time; client-go's reflector
    recognizes it by its cause and retries."""
    err = ApiError(grpc.StatusCode.DEADLINE_EXCEEDED,
                   f"Timeout: Too large resource version: {wanted}, current: {current}")
    err.details = {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                   "retryAfterSeconds": 1}
    return err


def invalid_options(kind: str, violations: list[FieldViolation]) -> ApiError:
    """422 for query options (ListOptions), whose Status names the options' kind in meta.k8s.io."""
    err = invalid(f"{kind}.meta.k8s.io", "", violations)
    err.details = {"group": "meta.k8s.io", "kind": kind}
    return err


def unavailable(message: str) -> ApiError:
    return ApiError(grpc.StatusCode.UNAVAILABLE, message)


