"""ReplicaSets (apps/v1): replicas default to 1; the selector is immutable."""

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import apps

strategy = Strategy(default=defaults.default_replica_set, validate=apps.validate_replica_set,
                    validate_update=apps.validate_selector_update)
