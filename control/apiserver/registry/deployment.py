"""Deployments (apps/v1): RollingUpdate 25 %/25 %, revisionHistoryLimit 10, progress deadline
600 s by default; the selector is immutable."""

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import apps

strategy = Strategy(default=defaults.default_deployment, validate=apps.validate_deployment,
                    validate_update=apps.validate_selector_update)
