"""Leases (coordination.k8s.io/v1): leader election and node heartbeats."""

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import core

strategy = Strategy(validate=core.validate_lease)
