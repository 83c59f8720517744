"""CronJobs (batch/v1): concurrencyPolicy Allow, suspend false, history limits 3 successful and
1 failed; a schedule in standard cron syntax without TZ/CRON_TZ (timeZone says where)."""

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import batch

strategy = Strategy(default=defaults.default_cron_job, validate=batch.validate_cron_job)
