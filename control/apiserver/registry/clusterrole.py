"""ClusterRoles (rbac.authorization.k8s.io/v1): cluster-wide rules, also for non-resource URLs."""

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import rbac

strategy = Strategy(validate=rbac.validate_cluster_role, name_check=rbac.path_segment_name_errors)
