"""ConfigMaps (v1): data and binaryData, immutable once `immutable` is set."""

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import core

strategy = Strategy(validate=core.validate_config_map, validate_update=core.validate_config_map_update)
