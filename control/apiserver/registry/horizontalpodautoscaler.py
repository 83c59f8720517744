"""HorizontalPodAutoscalers (autoscaling/v2): minReplicas 1 and a cpu target of 80 % by default; a given
behavior gets its missing rules and policies filled in."""

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import autoscaling

strategy = Strategy(default=defaults.default_horizontal_pod_autoscaler,
                    validate=autoscaling.validate_horizontal_pod_autoscaler)
