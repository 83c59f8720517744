"""Jobs (batch/v1): completions and parallelism 1, backoffLimit 6, NonIndexed; unless
manualSelector, the selector and the pod labels (`batch.kubernetes.io/controller-uid`,
`batch.kubernetes.io/job-name` and their legacy names) are generated from the Job's uid and name."""

from __future__ import annotations

from control.apiserver import defaults
from control.apiserver import strategy as common
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import batch
from control.client.wellknown import (
    LABEL_JOB_CONTROLLER_UID,
    LABEL_JOB_NAME,
    LABEL_LEGACY_CONTROLLER_UID,
    LABEL_LEGACY_JOB_NAME,
)
from skiff.v1 import batch_pb2


def generate_selector(job: batch_pb2.Job) -> None:
    """The labels the Job controller's pods carry, and the selector on its uid."""
    meta, labels = job.metadata, job.spec.template.metadata.labels
    job_labels_defaulted = dict(meta.labels) == dict(labels)
    for key, value in ((LABEL_LEGACY_CONTROLLER_UID, meta.uid), (LABEL_JOB_CONTROLLER_UID, meta.uid),
                       (LABEL_LEGACY_JOB_NAME, meta.name), (LABEL_JOB_NAME, meta.name)):
        labels.setdefault(key, value)
    job.spec.selector.match_labels.setdefault(LABEL_JOB_CONTROLLER_UID, meta.uid)
    if job_labels_defaulted:  # the Job's labels came from its template's, and follow them
        meta.labels.update(labels)


class JobStrategy(Strategy):
    def __init__(self) -> None:
        super().__init__(default=defaults.default_job, validate=batch.validate_job,
                         validate_update=batch.validate_job_update)

    def prepare_for_create(self, obj: batch_pb2.Job) -> None:
        super().prepare_for_create(obj)
        if not obj.spec.manual_selector:
            if not obj.metadata.name:  # the labels carry the name, so it is chosen now
                obj.metadata.name = common.generated_name(obj.metadata.generate_name)
            generate_selector(obj)


strategy = JobStrategy()
