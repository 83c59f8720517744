"""Probes and lifecycle handlers: exactly one action, sane thresholds."""

from __future__ import annotations

from control.apiserver.validation.errors import Errors, forbidden, invalid, invalids, not_supported, required
from control.apiserver.validation.names import http_header_name_errors, port_name_errors, port_number_errors
from control.client.convert import int_or_string
from skiff.v1 import pod_pb2

PROBE_HANDLERS = ("exec", "http_get", "tcp_socket", "grpc")
LIFECYCLE_HANDLERS = ("exec", "http_get", "tcp_socket", "sleep")
_JSON = {"exec": "exec", "http_get": "httpGet", "tcp_socket": "tcpSocket", "grpc": "grpc", "sleep": "sleep"}
URI_SCHEMES = ("HTTP", "HTTPS")


def validate_port_num_or_name(value, path: str) -> Errors:
    port = int_or_string(value) if value is not None else None
    if isinstance(port, int):
        return invalids(path, port, port_number_errors(port))
    if isinstance(port, str):
        if not port:
            return [required(path)]
        return invalids(path, port, port_name_errors(port))
    return [required(path)]


def _validate_http_get(action: pod_pb2.HTTPGetAction, path: str) -> Errors:
    errs = validate_port_num_or_name(action.port if action.HasField("port") else None, f"{path}.port")
    if action.scheme and action.scheme not in URI_SCHEMES:
        errs.append(not_supported(f"{path}.scheme", action.scheme, URI_SCHEMES))
    for i, header in enumerate(action.http_headers):
        errs += invalids(f"{path}.httpHeaders[{i}].name", header.name, http_header_name_errors(header.name))
    return errs


def _validate_action(handler, name: str, path: str) -> Errors:
    action = getattr(handler, name)
    if name == "exec":
        return [] if action.command else [required(f"{path}.command")]
    if name == "http_get":
        return _validate_http_get(action, path)
    if name == "tcp_socket":
        return validate_port_num_or_name(action.port if action.HasField("port") else None, f"{path}.port")
    if name == "grpc":
        return invalids(f"{path}.port", action.port, port_number_errors(action.port))
    if action.seconds < 0:  # sleep
        return [invalid(f"{path}.seconds", action.seconds, "must be greater than or equal to 0")]
    return []


def validate_handler(handler, names: tuple[str, ...], path: str) -> Errors:
    present = [n for n in names if handler.HasField(n)]
    if not present:
        return [required(path, "must specify a handler type")]
    errs = _validate_action(handler, present[0], f"{path}.{_JSON[present[0]]}")
    for extra in present[1:]:
        errs.append(forbidden(f"{path}.{_JSON[extra]}", "may not specify more than 1 handler type"))
    return errs


def _at_least(probe: pod_pb2.Probe, field: str, json: str, minimum: int, path: str) -> Errors:
    if not probe.HasField(field):
        return []
    value = getattr(probe, field)
    if value < 0:
        return [invalid(f"{path}.{json}", value, "must be greater than or equal to 0")]
    if value < minimum:
        return [invalid(f"{path}.{json}", value, f"must be greater than or equal to {minimum}")]
    return []


def validate_probe(probe: pod_pb2.Probe, kind: str, path: str) -> Errors:
    """kind is "liveness", "readiness" or "startup"."""
    errs = validate_handler(probe, PROBE_HANDLERS, path)
    errs += _at_least(probe, "initial_delay_seconds", "initialDelaySeconds", 0, path)
    # Zero means "unset" in Kubernetes and is defaulted; only a missing default could leave it here.
    fields = [("timeout_seconds", "timeoutSeconds"), ("period_seconds", "periodSeconds"),
              ("failure_threshold", "failureThreshold")]
    must_be_one = kind in ("liveness", "startup")
    if must_be_one and probe.HasField("success_threshold") and probe.success_threshold != 1:
        errs.append(invalid(f"{path}.successThreshold", probe.success_threshold, "must be 1"))
    elif not must_be_one:
        fields.append(("success_threshold", "successThreshold"))
    for field, json in fields:
        errs += _at_least(probe, field, json, 1, path)
    if probe.HasField("termination_grace_period_seconds"):
        if kind == "readiness":
            errs.append(forbidden(f"{path}.terminationGracePeriodSeconds",
                                  "must not be set for readinessProbes"))
        elif probe.termination_grace_period_seconds <= 0:
            errs.append(invalid(f"{path}.terminationGracePeriodSeconds",
                                probe.termination_grace_period_seconds, "must be greater than 0"))
    return errs


def validate_lifecycle(lifecycle: pod_pb2.Lifecycle, path: str) -> Errors:
    errs: Errors = []
    for field, json in (("post_start", "postStart"), ("pre_stop", "preStop")):
        if lifecycle.HasField(field):
            errs += validate_handler(getattr(lifecycle, field), LIFECYCLE_HANDLERS, f"{path}.{json}")
    return errs
