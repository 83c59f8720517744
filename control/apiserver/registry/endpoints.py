"""Endpoints (v1): written by the endpoints controller from a Service's ready pods."""

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import service

strategy = Strategy(default=defaults.default_endpoints, validate=service.validate_endpoints)
