"""What `describe` shows for Jobs and CronJobs (kubectl's fields and their order)."""

from __future__ import annotations

from control.cli.context import Context
from control.cli.describe_kinds import _template, annotations_text, describes
from control.cli.describe_text import Section, map_text
from control.client.humanize import human_duration, is_set, timestamp_text
from control.client.printers import label_selector_text

UNSET = "<unset>"


def _optional(spec, field: str) -> str:
    return str(getattr(spec, field)) if spec.HasField(field) else UNSET


def _owner(s: Section, meta) -> None:
    owner = next((o for o in meta.owner_references if o.controller), None)
    if owner is not None:
        s.add("Controlled By", f"{owner.kind}/{owner.name}")


@describes("Job")
async def job(ctx: Context, job) -> Section:
    m, spec, st = job.metadata, job.spec, job.status
    s = Section().add("Name", m.name).add("Namespace", m.namespace)
    s.add("Selector", label_selector_text(spec.selector))
    s.add("Labels", map_text(dict(m.labels))).add("Annotations", annotations_text(m))
    _owner(s, m)
    s.add("Parallelism", _optional(spec, "parallelism")).add("Completions", _optional(spec, "completions"))
    s.add("Completion Mode", spec.completion_mode or "NonIndexed")
    if spec.completion_mode == "Indexed":
        s.add("Completed Indexes", st.completed_indexes or "<none>")
    s.add("Suspend", "true" if spec.suspend else "false")
    s.add("Backoff Limit", _optional(spec, "backoff_limit"))
    if spec.HasField("ttl_seconds_after_finished"):
        s.add("TTL Seconds After Finished", str(spec.ttl_seconds_after_finished))
    if is_set(st.start_time):
        s.add("Start Time", timestamp_text(st.start_time))
    if is_set(st.completion_time):
        s.add("Completed At", timestamp_text(st.completion_time))
        s.add("Duration", human_duration(st.completion_time.seconds - st.start_time.seconds))
    if spec.HasField("active_deadline_seconds"):
        s.add("Active Deadline Seconds", f"{spec.active_deadline_seconds}s")
    s.add("Pods Statuses", f"{st.active} Active ({st.ready} Ready) / {st.succeeded} Succeeded / {st.failed} Failed")
    s.add("Pod Template", _template(spec.template))
    return s


@describes("CronJob")
async def cronjob(ctx: Context, cj) -> Section:
    m, spec, st = cj.metadata, cj.spec, cj.status
    s = Section().add("Name", m.name).add("Namespace", m.namespace)
    s.add("Labels", map_text(dict(m.labels))).add("Annotations", annotations_text(m))
    s.add("Schedule", spec.schedule)
    if spec.HasField("time_zone"):
        s.add("Time Zone", spec.time_zone)
    s.add("Concurrency Policy", spec.concurrency_policy)
    s.add("Suspend", ("True" if spec.suspend else "False") if spec.HasField("suspend") else UNSET)
    s.add("Successful Job History Limit", _optional(spec, "successful_jobs_history_limit"))
    s.add("Failed Job History Limit", _optional(spec, "failed_jobs_history_limit"))
    s.add("Starting Deadline Seconds", f"{spec.starting_deadline_seconds}s"
          if spec.HasField("starting_deadline_seconds") else UNSET)
    template = spec.job_template.spec
    s.add("Selector", label_selector_text(template.selector) if template.HasField("selector") else UNSET)
    s.add("Parallelism", _optional(template, "parallelism")).add("Completions", _optional(template, "completions"))
    s.add("Pod Template", _template(template.template))
    s.add("Last Schedule Time", timestamp_text(st.last_schedule_time))
    s.add("Active Jobs", ", ".join(r.name for r in st.active) or "<none>")
    return s
