"""Jobs and CronJobs (batch/v1): Kubernetes' rules and messages (pkg/apis/batch/validation)."""

from __future__ import annotations

import re

from control.apiserver.validation.errors import (
    Errors,
    forbidden,
    immutable,
    invalid,
    not_supported,
    required,
)
from control.apiserver.validation.meta import validate_label_selector
from control.apiserver.validation.pod import validate_pod_template
from control.client import cron
from control.client.jobindexes import IndexesError, parse_intervals
from control.client.selectors import SelectorError, from_label_selector
from control.client.wellknown import LABEL_JOB_CONTROLLER_UID
from skiff.v1 import batch_pb2

NONNEGATIVE_MSG = "must be greater than or equal to 0"
COMPLETION_MODES = ("NonIndexed", "Indexed")
RESTART_POLICIES = ("OnFailure", "Never")
REPLACEMENT_POLICIES = ("Failed", "TerminatingOrFailed")
POLICY_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
EXIT_CODE_OPERATORS = ("In", "NotIn")
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
MAX_PARALLELISM_INDEXED = 100000
MAX_CRONJOB_NAME = 52  # the Job's name adds "-" and 11 digits
_COUNTS = (("parallelism", "parallelism"), ("completions", "completions"),
           ("active_deadline_seconds", "activeDeadlineSeconds"), ("backoff_limit", "backoffLimit"),
           ("ttl_seconds_after_finished", "ttlSecondsAfterFinished"),
           ("backoff_limit_per_index", "backoffLimitPerIndex"), ("max_failed_indexes", "maxFailedIndexes"))


def _nonnegative(msg, field: str, path: str) -> Errors:
    value = getattr(msg, field)
    return [invalid(path, value, NONNEGATIVE_MSG)] if msg.HasField(field) and value < 0 else []


def _validate_counts(spec: batch_pb2.JobSpec, path: str) -> Errors:
    errs: Errors = []
    for field, json in _COUNTS:
        errs += _nonnegative(spec, field, f"{path}.{json}")
    if spec.HasField("active_deadline_seconds") and spec.active_deadline_seconds == 0:
        errs.append(invalid(f"{path}.activeDeadlineSeconds", 0, "must be greater than 0"))
    if spec.HasField("max_failed_indexes") and not spec.HasField("backoff_limit_per_index"):
        errs.append(required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified"))
    return errs


def _validate_completion_mode(spec: batch_pb2.JobSpec, path: str) -> Errors:
    mode = spec.completion_mode
    if spec.HasField("completion_mode") and mode not in COMPLETION_MODES:
        return [not_supported(f"{path}.completionMode", mode, COMPLETION_MODES)]
    errs: Errors = []
    if mode == "Indexed":
        if not spec.HasField("completions"):
            errs.append(required(f"{path}.completions", "when completion mode is Indexed"))
        if spec.parallelism > MAX_PARALLELISM_INDEXED:
            errs.append(invalid(f"{path}.parallelism", spec.parallelism,
                                f"must be less than or equal to {MAX_PARALLELISM_INDEXED} when completion mode "
                                "is Indexed"))
        if spec.HasField("max_failed_indexes") and spec.HasField("completions") and \
                spec.max_failed_indexes > spec.completions:
            errs.append(invalid(f"{path}.maxFailedIndexes", spec.max_failed_indexes,
                                "must be less than or equal to completions"))
        return errs
    for field, json in (("backoff_limit_per_index", "backoffLimitPerIndex"),
                        ("max_failed_indexes", "maxFailedIndexes")):
        if spec.HasField(field):
            errs.append(forbidden(f"{path}.{json}", "requires indexed completion mode"))
    if spec.HasField("success_policy"):
        errs.append(invalid(f"{path}.successPolicy", spec.success_policy, "requires indexed completion mode"))
    return errs


def _validate_rule(rule: batch_pb2.PodFailurePolicyRule, spec: batch_pb2.JobSpec, path: str) -> Errors:
    errs: Errors = []
    if rule.action not in POLICY_ACTIONS:
        errs.append(not_supported(f"{path}.action", rule.action, POLICY_ACTIONS) if rule.HasField("action")
                    else required(f"{path}.action"))
    elif rule.action == "FailIndex" and not spec.HasField("backoff_limit_per_index"):
        errs.append(forbidden(f"{path}.action", "requires the backoffLimitPerIndex to be set"))
    has_codes, has_conditions = rule.HasField("on_exit_codes"), bool(rule.on_pod_conditions)
    if has_codes and has_conditions:
        errs.append(invalid(path, rule, "specifying both OnExitCodes and OnPodConditions is not supported"))
    elif not has_codes and not has_conditions:
        errs.append(invalid(path, rule, "specifying one of OnExitCodes and OnPodConditions is required"))
    if has_codes:
        codes = rule.on_exit_codes
        if codes.operator not in EXIT_CODE_OPERATORS:
            errs.append(not_supported(f"{path}.onExitCodes.operator", codes.operator, EXIT_CODE_OPERATORS))
        if not codes.values:
            errs.append(invalid(f"{path}.onExitCodes.values", [], "at least one value is required"))
        for i, value in enumerate(codes.values):
            if codes.operator == "In" and value == 0:
                errs.append(invalid(f"{path}.onExitCodes.values[{i}]", 0,
                                    "must not be 0 for the In operator"))
            if i > 0 and value <= codes.values[i - 1]:
                errs.append(invalid(f"{path}.onExitCodes.values[{i}]", value, "must be ordered"))
    for i, pattern in enumerate(rule.on_pod_conditions):
        p = f"{path}.onPodConditions[{i}]"
        if pattern.status not in ("True", "False", "Unknown"):
            errs.append(not_supported(f"{p}.status", pattern.status, ("True", "False", "Unknown")))
        if not pattern.type:
            errs.append(required(f"{p}.type"))
    return errs


def _validate_policies(spec: batch_pb2.JobSpec, path: str) -> Errors:
    errs: Errors = []
    for i, rule in enumerate(spec.pod_failure_policy.rules):
        errs += _validate_rule(rule, spec, f"{path}.podFailurePolicy.rules[{i}]")
    if spec.HasField("pod_replacement_policy"):
        allowed = ("Failed",) if spec.HasField("pod_failure_policy") else REPLACEMENT_POLICIES
        if spec.pod_replacement_policy not in allowed:
            errs.append(not_supported(f"{path}.podReplacementPolicy", spec.pod_replacement_policy, allowed))
    rules = spec.success_policy.rules
    if spec.HasField("success_policy") and not rules:
        errs.append(required(f"{path}.successPolicy.rules", "at least one rules must be specified when the "
                                                             "successPolicy is specified"))
    for i, rule in enumerate(rules):
        p = f"{path}.successPolicy.rules[{i}]"
        if not rule.HasField("succeeded_count") and not rule.HasField("succeeded_indexes"):
            errs.append(required(p, "at least one of succeededCount or succeededIndexes must be specified"))
        if rule.HasField("succeeded_count") and rule.succeeded_count < 0:
            errs.append(invalid(f"{p}.succeededCount", rule.succeeded_count, NONNEGATIVE_MSG))
        if rule.HasField("succeeded_count") and rule.succeeded_count > spec.completions:
            errs.append(invalid(f"{p}.succeededCount", rule.succeeded_count,
                                f"must be less than or equal to {spec.completions} (the number of "
                                "specified completions)"))
        if rule.HasField("succeeded_indexes"):
            errs += _validate_indexes(rule.succeeded_indexes, spec.completions, f"{p}.succeededIndexes")
    return errs


def _validate_indexes(text: str, completions: int, path: str) -> Errors:
    try:
        parse_intervals(text, completions)
    except IndexesError as e:
        return [invalid(path, text, f"error parsing succeededIndexes: {text} cause: {e}")]
    return []


def _validate_template(spec: batch_pb2.JobSpec, path: str) -> Errors:
    t = f"{path}.template"
    errs = validate_pod_template(spec.template, t)
    policy = spec.template.spec.restart_policy
    if policy not in RESTART_POLICIES:
        errs.append(not_supported(f"{t}.spec.restartPolicy", policy, RESTART_POLICIES))
    elif policy == "OnFailure" and spec.HasField("pod_failure_policy"):
        errs.append(invalid(f"{t}.spec.restartPolicy", policy,
                            'only "Never" is supported when podFailurePolicy is specified'))
    return errs


def validate_job_spec(spec: batch_pb2.JobSpec, path: str) -> Errors:
    """The rules a Job's spec and a CronJob's job template share (no selector rules)."""
    return (_validate_counts(spec, path) + _validate_completion_mode(spec, path)
            + _validate_policies(spec, path) + _validate_template(spec, path))


def _validate_selector(job: batch_pb2.Job) -> Errors:
    spec = job.spec
    if not spec.HasField("selector"):
        return [required("spec.selector")]
    errs = validate_label_selector(spec.selector, "spec.selector")
    try:
        selector = from_label_selector(spec.selector)
    except SelectorError:
        return errs + [invalid("spec.selector", spec.selector, "invalid label selector")]
    labels = spec.template.metadata.labels
    if not selector.empty and not selector.matches(labels):
        errs.append(invalid("spec.template.metadata.labels", dict(labels),
                            "`selector` does not match template `labels`"))
    if not spec.manual_selector:
        uid = job.metadata.uid
        if spec.selector.match_labels.get(LABEL_JOB_CONTROLLER_UID) != uid:
            errs.append(invalid("spec.selector", spec.selector, "`selector` not auto-generated"))
        elif labels.get(LABEL_JOB_CONTROLLER_UID) != uid:
            errs.append(invalid("spec.template.metadata.labels", dict(labels),
                                f"must be '{LABEL_JOB_CONTROLLER_UID}: {uid}'"))
    return errs


def _validate_job_status(st: batch_pb2.JobStatus) -> Errors:
    errs: Errors = []
    for field in ("active", "ready", "succeeded", "failed", "terminating"):
        errs += _nonnegative(st, field, f"status.{field}")
    return errs


def validate_job(job: batch_pb2.Job) -> Errors:
    return validate_job_spec(job.spec, "spec") + _validate_selector(job) + _validate_job_status(job.status)


def _template_changes_allowed(new: batch_pb2.Job, old: batch_pb2.Job) -> bool:
    """A suspended Job that never started may change its pods' scheduling directives and labels."""
    if not (new.spec.suspend and old.spec.suspend) or old.status.HasField("start_time"):
        return False
    a, b = batch_pb2.JobSpec(), batch_pb2.JobSpec()
    a.template.CopyFrom(new.spec.template)
    b.template.CopyFrom(old.spec.template)
    for spec in (a, b):
        meta, pod = spec.template.metadata, spec.template.spec
        meta.ClearField("labels")
        meta.ClearField("annotations")
        for field in ("node_selector", "affinity", "tolerations", "scheduling_gates"):
            if field in pod.DESCRIPTOR.fields_by_name:
                pod.ClearField(field)
    return a.template == b.template


def validate_job_update(new: batch_pb2.Job, old: batch_pb2.Job) -> Errors:
    errs: Errors = []
    spec, prev = new.spec, old.spec
    for field, json in (("selector", "selector"), ("completion_mode", "completionMode"),
                        ("pod_failure_policy", "podFailurePolicy"),
                        ("backoff_limit_per_index", "backoffLimitPerIndex"), ("managed_by", "managedBy"),
                        ("success_policy", "successPolicy")):
        if spec.HasField(field) != prev.HasField(field) or getattr(spec, field) != getattr(prev, field):
            errs.append(immutable(f"spec.{json}", getattr(spec, field)))
    if spec.template != prev.template and not _template_changes_allowed(new, old):
        errs.append(immutable("spec.template", spec.template))
    if spec.completions != prev.completions:
        if spec.completion_mode != "Indexed":
            errs.append(immutable("spec.completions", spec.completions))
        elif spec.parallelism != spec.completions:
            errs.append(invalid("spec.completions", spec.completions,
                                "can only be modified in tandem with spec.parallelism"))
    return errs


def validate_schedule(schedule: str, path: str) -> Errors:
    if not schedule:
        return [required(path)]
    errs: Errors = []
    fields = schedule.split(maxsplit=1)
    # The parser reads a leading TZ=/CRON_TZ= itself; the API refuses it in favour of timeZone.
    text = fields[1] if len(fields) == 2 and fields[0].startswith(("TZ=", "CRON_TZ=")) else schedule
    try:
        cron.parse(text)
    except cron.CronError as e:
        errs.append(invalid(path, schedule, str(e)))
    if "TZ" in schedule:
        errs.append(invalid(path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    return errs


_TZ_PART = re.compile(r"[A-Za-z._+\-0-9]+")


def _validate_time_zone(spec: batch_pb2.CronJobSpec) -> Errors:
    if not spec.HasField("time_zone"):
        return []
    tz, path = spec.time_zone, "spec.timeZone"
    if not tz:
        return [invalid(path, tz, "timeZone must be nil or non-empty string")]
    for part in tz.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TZ_PART.fullmatch(part):
            return [invalid(path, tz, f"unknown time zone {tz}")]
    if tz.lower() == "local":
        return [invalid(path, tz, "timeZone must be an explicit time zone as defined in "
                                  "https://www.iana.org/time-zones")]
    try:
        cron.zone(tz)
    except cron.CronError as e:
        return [invalid(path, tz, str(e))]
    return []


def validate_cron_job(cj: batch_pb2.CronJob) -> Errors:
    spec = cj.spec
    errs: Errors = []
    if len(cj.metadata.name) > MAX_CRONJOB_NAME:
        errs.append(invalid("metadata.name", cj.metadata.name, f"must be no more than {MAX_CRONJOB_NAME} characters"))
    errs += validate_schedule(spec.schedule, "spec.schedule") + _validate_time_zone(spec)
    if spec.concurrency_policy not in CONCURRENCY_POLICIES:
        errs.append(not_supported("spec.concurrencyPolicy", spec.concurrency_policy, CONCURRENCY_POLICIES)
                    if spec.concurrency_policy else required("spec.concurrencyPolicy"))
    for field, json in (("starting_deadline_seconds", "startingDeadlineSeconds"),
                        ("successful_jobs_history_limit", "successfulJobsHistoryLimit"),
                        ("failed_jobs_history_limit", "failedJobsHistoryLimit")):
        errs += _nonnegative(spec, field, f"spec.{json}")
    template = spec.job_template
    errs += validate_job_spec(template.spec, "spec.jobTemplate.spec")
    if template.spec.HasField("selector") and not template.spec.manual_selector:
        errs.append(invalid("spec.jobTemplate.spec.selector", template.spec.selector,
                            "`selector` will be auto-generated"))
    return errs
