"""Events (v1): expire after the apiserver's --event-ttl (the storage layer's etcd leases)."""

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import core

strategy = Strategy(validate=core.validate_event)
