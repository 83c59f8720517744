"""ResourceQuotas (v1): hard limits, scopes and scope selectors; status (hard and used) is the
resource-quota controller's. What quotas admit is control/apiserver/quotaadmission.py."""

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import quota

strategy = Strategy(validate=quota.validate_resource_quota, validate_update=quota.validate_resource_quota_update)
