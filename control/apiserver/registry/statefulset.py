"""StatefulSets (apps/v1): replicas 1, OrderedReady, RollingUpdate with partition 0,
revisionHistoryLimit 10 and claims retained on deletion and scale-down by default; on update only
replicas, ordinals, template, updateStrategy, persistentVolumeClaimRetentionPolicy and
minReadySeconds may change."""

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import apps_sets

strategy = Strategy(default=defaults.default_stateful_set, validate=apps_sets.validate_stateful_set,
                    validate_update=apps_sets.validate_stateful_set_update)
