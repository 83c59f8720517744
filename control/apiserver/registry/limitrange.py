"""LimitRanges (v1): Container items default their default limit from max and their default
request from the default limit or min; min <= default request <= default <= max. The LimitRanger
admission that applies them to pods is control/apiserver/limitranger.py."""

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import quota

strategy = Strategy(default=defaults.default_limit_range, validate=quota.validate_limit_range)
