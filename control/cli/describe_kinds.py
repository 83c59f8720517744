"""What `describe` shows for each kind.

A describer registers itself for the kinds it describes (`@describes("Pod")`); a kind without one
gets kubectl's generic describer, so a new kind needs a describer only when kubectl has one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from google.protobuf.message import Message

from control.cli.commands.rollout import owned_replicasets
from control.cli.context import Context
from control.cli.describe_text import Section, map_text
from control.cli.printers import to_yaml
from control.client.convert import int_or_string, to_dict
from control.client.humanize import age, timestamp_text
from control.client.kinds import Kind
from control.client.podprinting import pod_status_text
from control.client.printers import (
    endpoints_text,
    label_selector_text,
    node_roles_text,
    node_status_text,
)
from control.client.wellknown import (
    ANNOTATION_LAST_APPLIED,
    LABEL_POD_TEMPLATE_HASH,
    POD_FAILED,
    POD_PENDING,
    POD_RUNNING,
    POD_SUCCEEDED,
    is_terminal,
)

Describer = Callable[[Context, Message], Awaitable[Section]]


@dataclass(frozen=True)
class _Registration:
    describe: Describer
    events: bool  # whether the object's Events follow, as kubectl prints them


_DESCRIBERS: dict[str, _Registration] = {}


def describes(*kinds: str, events: bool = True) -> Callable[[Describer], Describer]:
    """Registers a describer for kinds, by kind name; events=False where kubectl shows no Events."""
    def register(describer: Describer) -> Describer:
        for kind in kinds:
            _DESCRIBERS[kind] = _Registration(describer, events)
        return describer
    return register


def describer_for(kind: Kind) -> tuple[Describer, bool]:
    """The kind's describer and whether Events follow; kubectl's generic describer otherwise."""
    found = _DESCRIBERS.get(kind.kind)
    return (found.describe, found.events) if found is not None else (generic, True)


def described_kinds() -> list[str]:
    return sorted(_DESCRIBERS)


def annotations_text(meta) -> str:
    """Annotations as kubectl shows them: without the (long) last-applied configuration."""
    shown = {k: v for k, v in meta.annotations.items() if k != ANNOTATION_LAST_APPLIED}
    return map_text(shown, ": ")


def _meta(section: Section, obj, namespaced: bool = True) -> Section:
    m = obj.metadata
    section.add("Name", m.name)
    if namespaced:
        section.add("Namespace", m.namespace)
    section.add("Labels", map_text(dict(m.labels)))
    section.add("Annotations", annotations_text(m))
    section.add("CreationTimestamp", timestamp_text(m.creation_timestamp))
    owner = next((o for o in m.owner_references if o.controller), None)
    if owner is not None:
        section.add("Controlled By", f"{owner.kind}/{owner.name}")
    return section


def _conditions(conditions) -> Section | str:
    if not conditions:
        return "<none>"
    rows = [["Type", "Status", "Reason"], ["----", "------", "------"]]
    rows += [[c.type, c.status, c.reason] for c in conditions]
    return Section.table(rows)


def _container(c, status=None) -> Section:
    s = Section()
    if status is not None and status.container_id:
        s.add("Container ID", status.container_id)
    s.add("Image", c.image)
    if status is not None and status.image_id:
        s.add("Image ID", status.image_id)
    ports = [f"{p.container_port}/{p.protocol or 'TCP'}" for p in c.ports]
    s.add("Port" if len(ports) <= 1 else "Ports", ", ".join(ports) or "<none>")
    if c.command:
        s.add("Command", "\n".join(c.command))
    if c.args:
        s.add("Args", "\n".join(c.args))
    if status is not None:
        _add_state(s, "State", status.state)
        if status.last_state.ListFields():
            _add_state(s, "Last State", status.last_state)
        s.add("Ready", str(status.ready))
        s.add("Restart Count", str(status.restart_count))
    for label, values in (("Limits", c.resources.limits), ("Requests", c.resources.requests)):
        if values:
            s.add(label, map_text(dict(values), ": "))
    for label, probe in (("Liveness", c.liveness_probe), ("Readiness", c.readiness_probe),
                         ("Startup", c.startup_probe)):
        if probe.ListFields():
            s.add(label, _probe_text(probe))
    s.add("Environment", "\n".join(_env_text(e) for e in c.env) or "<none>")
    s.add("Mounts", "\n".join(f"{m.mount_path} from {m.name} ({'ro' if m.read_only else 'rw'})"
                              for m in c.volume_mounts) or "<none>")
    return s


def _add_state(s: Section, label: str, state) -> None:
    if state.HasField("running"):
        s.add(label, "Running")
        s.add("  Started", timestamp_text(state.running.started_at))
    elif state.HasField("terminated"):
        t = state.terminated
        s.add(label, "Terminated")
        s.add("  Reason", t.reason or "<none>")
        s.add("  Exit Code", str(t.exit_code))
        s.add("  Started", timestamp_text(t.started_at))
        s.add("  Finished", timestamp_text(t.finished_at))
    elif state.HasField("waiting"):
        s.add(label, "Waiting")
        s.add("  Reason", state.waiting.reason or "<none>")
    else:
        s.add(label, "<none>")


def _probe_text(p) -> str:
    if p.HasField("http_get"):
        h = p.http_get
        action = f"http-get {(h.scheme or 'HTTP').lower()}://{h.host}:{int_or_string(h.port)}{h.path}"
    elif p.HasField("tcp_socket"):
        action = f"tcp-socket {p.tcp_socket.host}:{int_or_string(p.tcp_socket.port)}"
    elif p.HasField("exec"):
        action = f"exec [{' '.join(p.exec.command)}]"
    elif p.HasField("grpc"):
        action = f"grpc <pod>:{p.grpc.port}"
    else:
        action = "unknown"
    return (f"{action} delay={p.initial_delay_seconds}s timeout={p.timeout_seconds or 1}s "
            f"period={p.period_seconds or 10}s #success={p.success_threshold or 1} "
            f"#failure={p.failure_threshold or 3}")


def _env_text(e) -> str:
    if not e.HasField("value_from"):
        return f"{e.name}:  {e.value}"
    v = e.value_from
    if v.HasField("field_ref"):
        return f"{e.name}:   ({v.field_ref.api_version or 'v1'}:{v.field_ref.field_path})"
    if v.HasField("resource_field_ref"):
        return f"{e.name}:   {v.resource_field_ref.resource}"
    ref = v.config_map_key_ref if v.HasField("config_map_key_ref") else v.secret_key_ref
    source = "config map" if v.HasField("config_map_key_ref") else "secret"
    return f"{e.name}:  <set to the key '{ref.key}' of {source} '{ref.name}'>"


def _containers(containers, statuses=()) -> Section:
    by_name = {s.name: s for s in statuses}
    s = Section()
    for c in containers:
        s.add(c.name, _container(c, by_name.get(c.name)))
    return s


def _volumes(volumes) -> Section | str:
    if not volumes:
        return "<none>"
    s = Section()
    for v in volumes:
        field = next((f for f, _ in v.ListFields() if f.name != "name"), None)
        source = to_dict(getattr(v, field.name)) if field is not None else {}
        kind = field.json_name[0].upper() + field.json_name[1:] if field is not None else "<unknown>"
        detail = Section().add("Type", kind)
        for key, value in sorted(source.items()):
            detail.add(key[0].upper() + key[1:], value if isinstance(value, str) else str(value))
        s.add(v.name, detail)
    return s


def _template(template) -> Section:
    s = Section()
    s.add("Labels", map_text(dict(template.metadata.labels)))
    if template.metadata.annotations:
        s.add("Annotations", map_text(dict(template.metadata.annotations), ": "))
    if template.spec.init_containers:
        s.add("Init Containers", _containers(template.spec.init_containers))
    s.add("Containers", _containers(template.spec.containers))
    s.add("Volumes", _volumes(template.spec.volumes))
    return s


@describes("Pod")
async def pod(ctx: Context, p) -> Section:
    s = Section()
    s.add("Name", p.metadata.name).add("Namespace", p.metadata.namespace)
    s.add("Priority", str(p.spec.priority))
    s.add("Service Account", p.spec.service_account_name or "default")
    node = p.spec.node_name + (f"/{p.status.host_ip}" if p.status.host_ip else "")
    s.add("Node", node or "<none>")
    s.add("Start Time", timestamp_text(p.status.start_time))
    s.add("Labels", map_text(dict(p.metadata.labels)))
    s.add("Annotations", annotations_text(p.metadata))
    status = pod_status_text(p)
    s.add("Status", status)
    if status == "Terminating":
        s.add("Termination Grace Period", f"{p.metadata.deletion_grace_period_seconds}s")
    if p.status.reason:
        s.add("Reason", p.status.reason)
    if p.status.message:
        s.add("Message", p.status.message)
    s.add("IP", p.status.pod_ip)
    owner = next((o for o in p.metadata.owner_references if o.controller), None)
    s.add("Controlled By", f"{owner.kind}/{owner.name}" if owner else "<none>")
    if p.spec.init_containers:
        s.add("Init Containers", _containers(p.spec.init_containers, p.status.init_container_statuses))
    s.add("Containers", _containers(p.spec.containers, p.status.container_statuses))
    s.add("Conditions", _conditions(p.status.conditions))
    s.add("Volumes", _volumes(p.spec.volumes))
    s.add("QoS Class", p.status.qos_class or "<none>")
    s.add("Node-Selectors", map_text(dict(p.spec.node_selector)))
    tolerations = [_toleration_text(t) for t in p.spec.tolerations]
    s.add("Tolerations", "\n".join(tolerations) or "<none>")
    return s


def _toleration_text(t) -> str:
    text = t.key + (f"={t.value}" if t.value else "") if t.operator != "Exists" or t.key else ""
    text += f":{t.effect}" if t.effect else ""
    text += " op=Exists" if t.operator == "Exists" else ""
    if t.HasField("toleration_seconds"):
        text += f" for {t.toleration_seconds}s"
    return text


@describes("Deployment")
async def deployment(ctx: Context, d) -> Section:
    s = _meta(Section(), d)
    st = d.status
    replicas = d.spec.replicas if d.spec.HasField("replicas") else 1
    s.add("Selector", label_selector_text(d.spec.selector))
    s.add("Replicas", f"{replicas} desired | {st.updated_replicas} updated | {st.replicas} total | "
                      f"{st.available_replicas} available | {st.unavailable_replicas} unavailable")
    strategy = d.spec.strategy.type or "RollingUpdate"
    s.add("StrategyType", strategy)
    s.add("MinReadySeconds", str(d.spec.min_ready_seconds))
    if strategy == "RollingUpdate":
        ru = d.spec.strategy.rolling_update
        unavailable = int_or_string(ru.max_unavailable) if ru.HasField("max_unavailable") else "25%"
        surge = int_or_string(ru.max_surge) if ru.HasField("max_surge") else "25%"
        s.add("RollingUpdateStrategy", f"{unavailable} max unavailable, {surge} max surge")
    s.add("Pod Template", _template(d.spec.template))
    s.add("Conditions", _conditions(st.conditions))
    old, new = await _deployment_replicasets(ctx, d)
    s.add("OldReplicaSets", ", ".join(old) or "<none>")
    s.add("NewReplicaSet", new or "<none>")
    return s


async def _deployment_replicasets(ctx: Context, d) -> tuple[list[str], str]:
    template = d.spec.template
    old, new = [], ""
    for rs in await owned_replicasets(ctx, d):
        rs_template = type(template)()
        rs_template.CopyFrom(rs.spec.template)
        rs_template.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH, None)
        replicas = rs.spec.replicas if rs.spec.HasField("replicas") else 1
        text = f"{rs.metadata.name} ({rs.status.replicas}/{replicas} replicas created)"
        if rs_template == template:
            new = text
        elif rs.status.replicas or replicas:
            old.append(text)
    return old, new


@describes("ReplicaSet")
async def replicaset(ctx: Context, rs) -> Section:
    s = _meta(Section(), rs)
    replicas = rs.spec.replicas if rs.spec.HasField("replicas") else 1
    s.add("Selector", label_selector_text(rs.spec.selector))
    s.add("Replicas", f"{rs.status.replicas} current / {replicas} desired")
    pods, _ = await ctx.client.list_all("Pod", rs.metadata.namespace)
    owned = [p for p in pods if any(o.uid == rs.metadata.uid for o in p.metadata.owner_references)]
    counts = {phase: sum(1 for p in owned if p.status.phase == phase)
              for phase in (POD_RUNNING, POD_PENDING, POD_SUCCEEDED, POD_FAILED)}
    s.add("Pods Status", f"{counts[POD_RUNNING]} Running / {counts[POD_PENDING]} Waiting / "
                         f"{counts[POD_SUCCEEDED]} Succeeded / {counts[POD_FAILED]} Failed")
    s.add("Pod Template", _template(rs.spec.template))
    s.add("Conditions", _conditions(rs.status.conditions))
    return s


@describes("Service")
async def service(ctx: Context, svc) -> Section:
    s = _meta(Section(), svc)
    spec = svc.spec
    s.add("Selector", ",".join(f"{k}={v}" for k, v in sorted(spec.selector.items())) or "<none>")
    s.add("Type", spec.type or "ClusterIP")
    s.add("IP", spec.cluster_ip or "<none>")
    lb = [f"{i.ip} ({i.ip_mode})" if i.ip and i.ip_mode else i.ip or i.hostname
          for i in svc.status.load_balancer.ingress]
    if lb:
        s.add("LoadBalancer Ingress", ", ".join(lb))
    endpoints = await _endpoints_text(ctx, svc)
    for p in spec.ports:
        s.add("Port", f"{p.name or '<unset>'}  {p.port}/{p.protocol or 'TCP'}")
        target = int_or_string(p.target_port) if p.HasField("target_port") else p.port
        s.add("TargetPort", f"{target}/{p.protocol or 'TCP'}")
        if p.node_port:
            s.add("NodePort", f"{p.name or '<unset>'}  {p.node_port}/{p.protocol or 'TCP'}")
        s.add("Endpoints", endpoints)
    s.add("Session Affinity", spec.session_affinity or "None")
    if spec.type in ("NodePort", "LoadBalancer"):
        s.add("External Traffic Policy", spec.external_traffic_policy or "Cluster")
    if spec.health_check_node_port:
        s.add("HealthCheck NodePort", str(spec.health_check_node_port))
    if spec.load_balancer_source_ranges:
        s.add("LoadBalancer Source Ranges", ",".join(spec.load_balancer_source_ranges))
    return s


async def _endpoints_text(ctx: Context, svc) -> str:
    try:
        ep = await ctx.client.get("Endpoints", svc.metadata.name, svc.metadata.namespace)
    except Exception:  # noqa: BLE001 - no Endpoints object (yet) reads as none
        return "<none>"
    return endpoints_text(ep)


@describes("Node")
async def node(ctx: Context, n) -> Section:
    s = Section().add("Name", n.metadata.name).add("Roles", node_roles_text(n))
    s.add("Labels", map_text(dict(n.metadata.labels)))
    s.add("Annotations", annotations_text(n.metadata))
    s.add("CreationTimestamp", timestamp_text(n.metadata.creation_timestamp))
    s.add("Taints", "\n".join(f"{t.key}{'=' + t.value if t.value else ''}:{t.effect}" for t in n.spec.taints)
          or "<none>")
    s.add("Unschedulable", str(n.spec.unschedulable).lower())
    s.add("Status", node_status_text(n))
    s.add("Conditions", _conditions(n.status.conditions))
    s.add("Addresses", Section.table([[f"{a.type}:", a.address] for a in n.status.addresses])
          if n.status.addresses else "<none>")
    for label, values in (("Capacity", n.status.capacity), ("Allocatable", n.status.allocatable)):
        s.add(label, map_text(dict(values), ": "))
    info = n.status.node_info
    s.add("System Info", Section().add("Kernel Version", info.kernel_version).add("OS Image", info.os_image)
          .add("Container Runtime Version", info.container_runtime_version)
          .add("Kubelet Version", info.kubelet_version))
    s.add("PodCIDR", n.spec.pod_cidr or "<none>")
    pods, _ = await ctx.client.list_all("Pod", "", field_selector=f"spec.nodeName={n.metadata.name}")
    running = [p for p in pods if not is_terminal(p)]
    s.add("Non-terminated Pods", f"({len(running)} in total)")
    if running:
        rows = [["Namespace", "Name", "Age"], ["---------", "----", "---"]]
        rows += [[p.metadata.namespace, p.metadata.name, age(p.metadata.creation_timestamp)] for p in running]
        s.add("Pods", Section.table(rows))
    return s


@describes("Namespace")
async def namespace(ctx: Context, ns) -> Section:
    s = Section().add("Name", ns.metadata.name)
    s.add("Labels", map_text(dict(ns.metadata.labels)))
    s.add("Annotations", annotations_text(ns.metadata))
    s.add("Status", ns.status.phase or "Active")
    return s


@describes("ConfigMap")
async def configmap(ctx: Context, cm) -> Section:
    s = _meta(Section(), cm)
    data = "\n\n".join(f"{key}:\n----\n{value.rstrip()}" for key, value in sorted(cm.data.items()))
    s.raw(f"\nData\n====\n{data}")
    binary = "".join(f"{k}: {len(v)} bytes\n" for k, v in sorted(cm.binary_data.items()))
    s.raw(f"\nBinaryData\n====\n{binary}")
    s.raw(" ")
    return s


@describes("Secret")
async def secret(ctx: Context, sec) -> Section:
    s = _meta(Section(), sec)
    s.add("Type", sec.type or "Opaque")
    data = "".join(f"{k}:  {len(v)} bytes\n" for k, v in sorted(sec.data.items()))
    s.raw(f"\nData\n====\n{data}")
    s.raw(" ")
    return s


async def generic(ctx: Context, obj) -> Section:
    s = _meta(Section(), obj, bool(obj.metadata.namespace))
    data = to_dict(obj)
    for key in ("spec", "status", "subsets", "involvedObject", "reason", "message", "type", "count"):
        if key in data:
            value = data[key]
            s.add(key[0].upper() + key[1:], to_yaml(value).rstrip("\n") if isinstance(value, (dict, list))
                  else str(value))
    return s


@describes("Event", events=False)
async def event(ctx: Context, ev) -> Section:
    return await generic(ctx, ev)


def _go_list(values) -> str:
    return "[" + " ".join(values) + "]"


def _rule_rows(rules) -> list[list[str]]:
    """kubectl's PolicyRule table: a row per resource (as resource.group) and name with its verbs
    merged, and a row per non-resource URL and verb."""
    merged: dict[tuple[str, str], list[str]] = {}
    rows = []
    for r in rules:
        for group in r.api_groups:
            for resource in r.resources:
                name = _combine_resource_group(resource, group)
                for rn in list(r.resource_names) or [None]:
                    verbs = merged.setdefault((name, _go_list([rn] if rn is not None else [])), [])
                    verbs += [v for v in r.verbs if v not in verbs]
        rows += [["", _go_list([url]), "[]", _go_list([verb])] for url in r.non_resource_urls for verb in r.verbs]
    rows += [[name, "[]", names, _go_list(verbs)] for (name, names), verbs in merged.items()]
    return sorted(rows)


def _combine_resource_group(resource: str, group: str) -> str:
    """kubectl's spelling: the group goes before a subresource, `deployments.apps/scale`."""
    base, slash, sub = resource.partition("/")
    return f"{base}.{group}{slash}{sub}" if group else resource


@describes("Role", "ClusterRole", events=False)
async def role(ctx: Context, r) -> Section:
    s = Section().add("Name", r.metadata.name)
    s.add("Labels", map_text(dict(r.metadata.labels)))
    s.add("Annotations", annotations_text(r.metadata))
    rows = [["Resources", "Non-Resource URLs", "Resource Names", "Verbs"],
            ["---------", "-----------------", "--------------", "-----"]]
    s.add("PolicyRule", Section.table(rows + _rule_rows(r.rules)))
    return s


@describes("RoleBinding", "ClusterRoleBinding", events=False)
async def binding(ctx: Context, b) -> Section:
    s = Section().add("Name", b.metadata.name)
    s.add("Labels", map_text(dict(b.metadata.labels)))
    s.add("Annotations", annotations_text(b.metadata))
    s.add("Role", Section().add("Kind", b.role_ref.kind).add("Name", b.role_ref.name))
    rows = [["Kind", "Name", "Namespace"], ["----", "----", "---------"]]
    rows += [[sub.kind, sub.name, sub.namespace] for sub in b.subjects]
    s.add("Subjects", Section.table(rows))
    return s

