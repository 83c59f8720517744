"""DaemonSets (apps/v1): RollingUpdate with maxUnavailable 1 and maxSurge 0, revisionHistoryLimit 10
by default; the selector is immutable."""

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import apps, apps_sets

strategy = Strategy(default=defaults.default_daemon_set, validate=apps_sets.validate_daemon_set,
                    validate_update=apps.validate_selector_update)
