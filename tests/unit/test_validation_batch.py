"""Job and CronJob defaults and validation, as the apiserver applies them on create and update."""

from __future__ import annotations

import copy

import pytest

from control.apiserver import strategy
from control.apiserver.registry import apply_defaults, strategy_for, validate
from control.client.convert import from_dict, to_dict
from control.client.kinds import kind_of
from tests.fixtures.validation import DELETE, patched

POD = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1"}]}}
JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "namespace": "default"},
       "spec": {"template": POD}}
CRONJOB = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick", "namespace": "default"},
           "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": POD}}}}


def created(doc: dict):
    obj = from_dict(copy.deepcopy(doc))
    apply_defaults(obj)
    strategy.prepare_for_create(kind_of(obj), obj)
    strategy_for(kind_of(obj)).prepare_for_create(obj)
    return obj


def problems(doc: dict) -> list[tuple[str, str]]:
    return [(v.field, v.description) for v in validate(created(doc))]


def test_job_defaults_and_generated_selector() -> None:
    job = to_dict(created(JOB))
    spec, uid = job["spec"], job["metadata"]["uid"]
    assert {k: spec[k] for k in ("completions", "parallelism", "backoffLimit", "completionMode", "suspend",
                                 "podReplacementPolicy", "manualSelector")} == {
        "completions": 1, "parallelism": 1, "backoffLimit": 6, "completionMode": "NonIndexed", "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed", "manualSelector": False}
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
              "controller-uid": uid, "job-name": "pi"}
    assert spec["template"]["metadata"]["labels"] == labels
    assert job["metadata"]["labels"] == labels  # a Job without labels takes its pods'


def test_parallelism_alone_leaves_completions_unset_and_a_failure_policy_replaces_failed_pods_only() -> None:
    doc = patched(patched(JOB, "spec.parallelism", 3), "spec.podFailurePolicy",
                  {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]})
    spec = to_dict(created(doc))["spec"]
    assert "completions" not in spec and spec["podReplacementPolicy"] == "Failed"
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"


def test_cronjob_defaults() -> None:
    spec = to_dict(created(CRONJOB))["spec"]
    assert {k: spec[k] for k in ("concurrencyPolicy", "suspend", "successfulJobsHistoryLimit",
                                 "failedJobsHistoryLimit")} == {
        "concurrencyPolicy": "Allow", "suspend": False, "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1}
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]


def test_valid() -> None:
    assert problems(JOB) == [] and problems(CRONJOB) == []


JOB_CASES = [
    ("spec.template.spec.restartPolicy", DELETE, "spec.template.spec.restartPolicy",
     'Unsupported value: "Always": supported values: "OnFailure", "Never"'),
    ("spec.parallelism", -1, "spec.parallelism", "Invalid value: -1: must be greater than or equal to 0"),
    ("spec.backoffLimit", -1, "spec.backoffLimit", "must be greater than or equal to 0"),
    ("spec.completionMode", "Sometimes", "spec.completionMode",
     'Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"'),
    ("spec.backoffLimitPerIndex", 1, "spec.backoffLimitPerIndex", "Forbidden: requires indexed completion mode"),
    ("spec.selector", {"matchLabels": {"app": "x"}}, "spec.template.metadata.labels",
     "`selector` does not match template `labels`"),
    ("spec.podReplacementPolicy", "Never", "spec.podReplacementPolicy",
     'Unsupported value: "Never": supported values: "Failed", "TerminatingOrFailed"'),
]


@pytest.mark.parametrize(("path", "value", "field", "fragment"), JOB_CASES)
def test_job_rules(path: str, value, field: str, fragment: str) -> None:
    got = problems(patched(JOB, path, value))
    assert any(f == field and fragment in d for f, d in got), got


def test_indexed_rules() -> None:
    indexed = patched(patched(JOB, "spec.completionMode", "Indexed"), "spec.parallelism", 2)
    assert ("spec.completions", "Required value: when completion mode is Indexed") in problems(indexed)
    too_many = patched(patched(indexed, "spec.completions", 2), "spec.maxFailedIndexes", 3)
    got = problems(patched(too_many, "spec.backoffLimitPerIndex", 1))
    assert ("spec.maxFailedIndexes", "Invalid value: 3: must be less than or equal to completions") in got
    assert ("spec.backoffLimitPerIndex", "Required value: when maxFailedIndexes is specified") in problems(too_many)


def test_pod_failure_policy_rules() -> None:
    rule = {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [3, 1]}}
    doc = patched(JOB, "spec.podFailurePolicy", {"rules": [rule]})
    assert ("spec.podFailurePolicy.rules[0].onExitCodes.values[1]",
            "Invalid value: 1: must be ordered") in problems(doc)
    on_failure = patched(doc, "spec.template.spec.restartPolicy", "OnFailure")
    assert ("spec.template.spec.restartPolicy",
            'Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified') in \
        problems(on_failure)
    fail_index = patched(JOB, "spec.podFailurePolicy",
                         {"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [1]}}]})
    assert ("spec.podFailurePolicy.rules[0].action", "Forbidden: requires the backoffLimitPerIndex to be set") in \
        problems(fail_index)


def test_job_updates() -> None:
    old = created(JOB)
    new = copy.deepcopy(old)
    new.spec.template.spec.containers[0].image = "busybox:2"
    new.spec.completions = 3
    got = [(v.field, v.description.split(":")[0]) for v in validate(new, old)]
    assert ("spec.template", "Invalid value") in got and ("spec.completions", "Invalid value") in got
    assert any("field is immutable" in v.description for v in validate(new, old))
    changed_selector = copy.deepcopy(old)
    changed_selector.spec.selector.match_labels["extra"] = "x"
    assert "spec.selector" in [v.field for v in validate(changed_selector, old)]


def test_suspended_job_may_change_its_pods_scheduling_before_it_starts() -> None:
    old = created(patched(JOB, "spec.suspend", True))
    new = copy.deepcopy(old)
    new.spec.template.spec.node_selector["disk"] = "ssd"
    assert [v.field for v in validate(new, old)] == []


CRON_CASES = [
    ("spec.schedule", DELETE, "spec.schedule", "Required value"),
    ("spec.schedule", "61 * * * *", "spec.schedule",
     'Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'),
    ("spec.schedule", "CRON_TZ=UTC * * * * *", "spec.schedule",
     "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
    ("spec.timeZone", "Mars/Olympus", "spec.timeZone", 'Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'),
    ("spec.timeZone", "Local", "spec.timeZone", "timeZone must be an explicit time zone as defined in "
     "https://www.iana.org/time-zones"),
    ("spec.timeZone", "", "spec.timeZone", "timeZone must be nil or non-empty string"),
    ("spec.schedule", "TZ=UTC 61 * * * *", "spec.schedule", "end of range (61) above maximum (59): 61"),
    ("spec.concurrencyPolicy", "Sometimes", "spec.concurrencyPolicy",
     'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'),
    ("spec.startingDeadlineSeconds", -5, "spec.startingDeadlineSeconds", "must be greater than or equal to 0"),
    ("spec.successfulJobsHistoryLimit", -1, "spec.successfulJobsHistoryLimit", "must be greater than or equal to 0"),
    ("spec.jobTemplate.spec.template.spec.restartPolicy", "Always", "spec.jobTemplate.spec.template.spec.restartPolicy",
     'Unsupported value: "Always"'),
    ("metadata.name", "x" * 53, "metadata.name", "must be no more than 52 characters"),
]


@pytest.mark.parametrize(("path", "value", "field", "fragment"), CRON_CASES)
def test_cronjob_rules(path: str, value, field: str, fragment: str) -> None:
    got = problems(patched(CRONJOB, path, value))
    assert any(f == field and fragment in d for f, d in got), got


def test_cronjob_time_zone_accepted() -> None:
    assert problems(patched(CRONJOB, "spec.timeZone", "Europe/Berlin")) == []
