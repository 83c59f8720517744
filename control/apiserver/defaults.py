"""Kubernetes' defaults (pkg/apis/<group>/v1/defaults.go), applied in place before validation by each
kind's registry module (create and update).

Like Kubernetes' defaulting, this only fills fields that are unset; it never
allocates anything (ClusterIPs and NodePorts are the apiserver's allocators').
"""

from __future__ import annotations

from google.protobuf.message import Message

from control.client import quota
from control.client.convert import int_or_string
from control.client.kinds import RBAC_GROUP
from control.client.wellknown import LABEL_METADATA_NAME
from skiff.v1 import apps_pb2, autoscaling_pb2, batch_pb2, core_pb2, pod_pb2, storage_pb2

DEFAULT_SCHEDULER = "default-scheduler"
DEFAULT_GRACE_PERIOD = 30
DEFAULT_FILE_MODE = 0o644
DEFAULT_SURGE = DEFAULT_UNAVAILABLE = "25%"
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE = 600
DEFAULT_CLIENT_IP_TIMEOUT = 10800  # three hours
DEFAULT_BACKOFF_LIMIT = 6
MAX_INT32 = 2**31 - 1


def image_pull_policy(image: str) -> str:
    """Always for `:latest` or untagged images, IfNotPresent for tags and digests."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _default_http_get(action: pod_pb2.HTTPGetAction) -> None:
    action.path = action.path or "/"
    action.scheme = action.scheme or "HTTP"


def _default_probe(probe: pod_pb2.Probe) -> None:
    # Zero means unset in Kubernetes' Go types, so zero is defaulted too.
    for field, value in (("timeout_seconds", 1), ("period_seconds", 10), ("success_threshold", 1),
                         ("failure_threshold", 3)):
        if not getattr(probe, field):
            setattr(probe, field, value)
    if probe.HasField("http_get"):
        _default_http_get(probe.http_get)


def _default_container(c: pod_pb2.Container, host_network: bool) -> None:
    c.image_pull_policy = c.image_pull_policy or image_pull_policy(c.image)
    c.termination_message_path = c.termination_message_path or "/dev/termination-log"
    c.termination_message_policy = c.termination_message_policy or "File"
    for port in c.ports:
        port.protocol = port.protocol or "TCP"
        if host_network and not port.host_port:
            port.host_port = port.container_port
    for field in ("liveness_probe", "readiness_probe", "startup_probe"):
        if c.HasField(field):
            _default_probe(getattr(c, field))
    for hook in ("post_start", "pre_stop"):
        if c.lifecycle.HasField(hook) and getattr(c.lifecycle, hook).HasField("http_get"):
            _default_http_get(getattr(c.lifecycle, hook).http_get)
    for env in c.env:
        if env.value_from.HasField("field_ref"):
            env.value_from.field_ref.api_version = env.value_from.field_ref.api_version or "v1"


def _default_downward_items(items) -> None:
    for item in items:
        if item.HasField("field_ref"):
            item.field_ref.api_version = item.field_ref.api_version or "v1"


def _default_volume(volume: pod_pb2.Volume) -> None:
    for field in ("config_map", "secret", "downward_api", "projected"):
        if volume.HasField(field) and not getattr(volume, field).HasField("default_mode"):
            getattr(volume, field).default_mode = DEFAULT_FILE_MODE
    _default_downward_items(volume.downward_api.items)
    for source in volume.projected.sources:
        _default_downward_items(source.downward_api.items)
    if volume.HasField("ephemeral") and volume.ephemeral.HasField("volume_claim_template"):
        default_claim_spec(volume.ephemeral.volume_claim_template.spec)


def default_pod_spec(spec: pod_pb2.PodSpec) -> None:
    spec.restart_policy = spec.restart_policy or "Always"
    spec.dns_policy = spec.dns_policy or "ClusterFirst"
    spec.scheduler_name = spec.scheduler_name or DEFAULT_SCHEDULER
    if not spec.HasField("termination_grace_period_seconds"):
        spec.termination_grace_period_seconds = DEFAULT_GRACE_PERIOD
    spec.security_context.SetInParent()
    for volume in spec.volumes:
        _default_volume(volume)
    for c in (*spec.init_containers, *spec.containers, *spec.ephemeral_containers):
        _default_container(c, spec.host_network)


def _default_requests_from_limits(c: pod_pb2.Container) -> None:
    for name, limit in c.resources.limits.items():
        if name not in c.resources.requests:
            c.resources.requests[name] = limit


def default_pod(pod: pod_pb2.Pod) -> None:
    default_pod_spec(pod.spec)
    # Only pods, not templates: what a pod gets from its limits and service links.
    if not pod.spec.HasField("enable_service_links"):
        pod.spec.enable_service_links = True
    for c in (*pod.spec.init_containers, *pod.spec.containers):
        _default_requests_from_limits(c)
    _default_pod_level_requests(pod.spec)


def _default_pod_level_requests(spec: pod_pb2.PodSpec) -> None:
    """With pod-level limits, each pod-level request not given is the containers' effective request
    for it (hugepages excepted), else the pod-level limit, as Kubernetes defaults them."""
    if not spec.resources.limits:
        return
    requests = spec.resources.requests
    for name, value in quota.render(quota.aggregate_container_requests(spec)).items():
        if name not in requests and quota.is_pod_level_resource(name) and not name.startswith("hugepages-"):
            requests[name] = value
    for name, limit in spec.resources.limits.items():
        if name not in requests and quota.is_pod_level_resource(name):
            requests[name] = limit


def default_replica_set(rs: apps_pb2.ReplicaSet) -> None:
    if not rs.spec.HasField("replicas"):
        rs.spec.replicas = 1
    default_pod_spec(rs.spec.template.spec)


def _default_strategy(strategy: apps_pb2.DeploymentStrategy) -> None:
    strategy.type = strategy.type or "RollingUpdate"
    if strategy.type != "RollingUpdate":
        return
    ru = strategy.rolling_update
    if int_or_string(ru.max_unavailable) is None:
        ru.max_unavailable.string_value = DEFAULT_UNAVAILABLE
    if int_or_string(ru.max_surge) is None:
        ru.max_surge.string_value = DEFAULT_SURGE


def default_deployment(d: apps_pb2.Deployment) -> None:
    spec = d.spec
    if not spec.HasField("replicas"):
        spec.replicas = 1
    _default_strategy(spec.strategy)
    if not spec.HasField("revision_history_limit"):
        spec.revision_history_limit = DEFAULT_REVISION_HISTORY_LIMIT
    if not spec.HasField("progress_deadline_seconds"):
        spec.progress_deadline_seconds = DEFAULT_PROGRESS_DEADLINE
    default_pod_spec(spec.template.spec)


def _default_failure_policy(spec: batch_pb2.JobSpec) -> None:
    for rule in spec.pod_failure_policy.rules:
        for pattern in rule.on_pod_conditions:
            if not pattern.HasField("status"):
                pattern.status = "True"


def default_job_spec(spec: batch_pb2.JobSpec) -> None:
    if not spec.HasField("completions") and not spec.HasField("parallelism"):
        spec.completions = 1
    if not spec.HasField("parallelism"):
        spec.parallelism = 1
    if not spec.HasField("backoff_limit"):
        spec.backoff_limit = MAX_INT32 if spec.HasField("backoff_limit_per_index") else DEFAULT_BACKOFF_LIMIT
    if not spec.HasField("completion_mode"):
        spec.completion_mode = "NonIndexed"
    if not spec.HasField("suspend"):
        spec.suspend = False
    _default_failure_policy(spec)
    if not spec.HasField("pod_replacement_policy"):
        spec.pod_replacement_policy = "Failed" if spec.HasField("pod_failure_policy") else "TerminatingOrFailed"
    if not spec.HasField("manual_selector"):
        spec.manual_selector = False
    default_pod_spec(spec.template.spec)


def default_job(job: batch_pb2.Job) -> None:
    default_job_spec(job.spec)
    if not job.metadata.labels:
        job.metadata.labels.update(job.spec.template.metadata.labels)


def default_cron_job(cj: batch_pb2.CronJob) -> None:
    spec = cj.spec
    if not spec.HasField("concurrency_policy"):
        spec.concurrency_policy = "Allow"
    if not spec.HasField("suspend"):
        spec.suspend = False
    if not spec.HasField("successful_jobs_history_limit"):
        spec.successful_jobs_history_limit = 3
    if not spec.HasField("failed_jobs_history_limit"):
        spec.failed_jobs_history_limit = 1
    _default_failure_policy(spec.job_template.spec)  # a job template gets only these and its pods' defaults
    default_pod_spec(spec.job_template.spec.template.spec)


def default_daemon_set(ds: apps_pb2.DaemonSet) -> None:
    spec = ds.spec
    strategy = spec.update_strategy
    if not strategy.type:
        strategy.type = "RollingUpdate"
    if strategy.type == "RollingUpdate":
        ru = strategy.rolling_update
        if int_or_string(ru.max_unavailable) is None:
            ru.max_unavailable.number_value = 1
        if int_or_string(ru.max_surge) is None:
            ru.max_surge.number_value = 0
    if not spec.HasField("revision_history_limit"):
        spec.revision_history_limit = DEFAULT_REVISION_HISTORY_LIMIT
    default_pod_spec(spec.template.spec)


def default_claim_template(claim: core_pb2.PersistentVolumeClaim) -> None:
    """What a PersistentVolumeClaim gets by default, also inside a StatefulSet's volumeClaimTemplates."""
    claim.api_version = claim.api_version or "v1"
    claim.kind = claim.kind or "PersistentVolumeClaim"
    if not claim.spec.volume_mode:
        claim.spec.volume_mode = "Filesystem"
    if not claim.status.phase:
        claim.status.phase = "Pending"


def default_stateful_set(sts: apps_pb2.StatefulSet) -> None:
    spec = sts.spec
    if not spec.pod_management_policy:
        spec.pod_management_policy = "OrderedReady"
    strategy = spec.update_strategy
    if not strategy.type:
        strategy.type = "RollingUpdate"
    if strategy.type == "RollingUpdate" and not strategy.rolling_update.HasField("partition"):
        strategy.rolling_update.partition = 0
    if not spec.HasField("replicas"):
        spec.replicas = 1
    if not spec.HasField("revision_history_limit"):
        spec.revision_history_limit = DEFAULT_REVISION_HISTORY_LIMIT
    policy = spec.persistent_volume_claim_retention_policy
    policy.when_deleted = policy.when_deleted or "Retain"
    policy.when_scaled = policy.when_scaled or "Retain"
    for claim in spec.volume_claim_templates:
        default_claim_template(claim)
    default_pod_spec(spec.template.spec)


def _default_service_port(port: core_pb2.ServicePort) -> None:
    port.protocol = port.protocol or "TCP"
    if int_or_string(port.target_port) in (None, 0, ""):
        port.target_port.number_value = port.port


def default_service(svc: core_pb2.Service) -> None:
    spec = svc.spec
    spec.type = spec.type or "ClusterIP"
    spec.session_affinity = spec.session_affinity or "None"
    if spec.session_affinity == "ClientIP":
        client_ip = spec.session_affinity_config.client_ip
        if not client_ip.HasField("timeout_seconds"):
            client_ip.timeout_seconds = DEFAULT_CLIENT_IP_TIMEOUT
    for port in spec.ports:
        _default_service_port(port)
    if spec.type == "ExternalName":
        return
    if not spec.ip_families:
        spec.ip_families.append("IPv4")
    spec.ip_family_policy = spec.ip_family_policy or "SingleStack"
    spec.internal_traffic_policy = spec.internal_traffic_policy or "Cluster"
    if spec.type in ("NodePort", "LoadBalancer"):
        spec.external_traffic_policy = spec.external_traffic_policy or "Cluster"
    if spec.type == "LoadBalancer" and not spec.HasField("allocate_load_balancer_node_ports"):
        spec.allocate_load_balancer_node_ports = True


def default_endpoints(ep: core_pb2.Endpoints) -> None:
    for subset in ep.subsets:
        for port in subset.ports:
            port.protocol = port.protocol or "TCP"


def default_secret(secret: core_pb2.Secret) -> None:
    secret.type = secret.type or "Opaque"


def default_namespace(ns: core_pb2.Namespace) -> None:
    # The "kubernetes" finalizer is added on create only (no resourceVersion yet): the namespace
    # controller removes it on deletion and an update must not bring it back.
    creating = not ns.metadata.resource_version and not ns.metadata.HasField("deletion_timestamp")
    if creating and "kubernetes" not in ns.spec.finalizers:
        ns.spec.finalizers.append("kubernetes")
    ns.status.phase = ns.status.phase or "Active"
    if ns.metadata.name:  # not for a generateName: the label follows the name, on every write
        ns.metadata.labels[LABEL_METADATA_NAME] = ns.metadata.name


def default_node(node: core_pb2.Node) -> None:
    if not node.status.allocatable:
        node.status.allocatable.update(node.status.capacity)


def default_claim_spec(spec: core_pb2.PersistentVolumeClaimSpec) -> None:
    if not spec.HasField("volume_mode"):
        spec.volume_mode = "Filesystem"


def default_persistent_volume(pv: core_pb2.PersistentVolume) -> None:
    pv.spec.persistent_volume_reclaim_policy = pv.spec.persistent_volume_reclaim_policy or "Retain"
    if not pv.spec.HasField("volume_mode"):
        pv.spec.volume_mode = "Filesystem"
    pv.status.phase = pv.status.phase or "Pending"


def default_claim(pvc: core_pb2.PersistentVolumeClaim) -> None:
    default_claim_spec(pvc.spec)
    pvc.status.phase = pvc.status.phase or "Pending"


def default_storage_class(sc: storage_pb2.StorageClass) -> None:
    sc.reclaim_policy = sc.reclaim_policy or "Delete"
    if not sc.HasField("volume_binding_mode"):
        sc.volume_binding_mode = "Immediate"


def default_binding(binding: Message) -> None:
    """rbac/v1 defaults: roleRef's and User/Group subjects' apiGroup."""
    if not binding.role_ref.api_group:
        binding.role_ref.api_group = RBAC_GROUP
    for subject in binding.subjects:
        if not subject.api_group and subject.kind in ("User", "Group"):
            subject.api_group = RBAC_GROUP


DEFAULT_CPU_UTILIZATION = 80


def _default_scaling_rules(rules: autoscaling_pb2.HPAScalingRules, up: bool) -> None:
    # Only scaleUp has a default window: scaleDown's comes from the controller's
    # --horizontal-pod-autoscaler-downscale-stabilization, as in Kubernetes.
    if up and not rules.HasField("stabilization_window_seconds"):
        rules.stabilization_window_seconds = 0
    if not rules.HasField("select_policy"):
        rules.select_policy = "Max"
    if not rules.policies:
        defaults = [("Pods", 4, 15), ("Percent", 100, 15)] if up else [("Percent", 100, 15)]
        for kind, value, period in defaults:
            rules.policies.add(type=kind, value=value, period_seconds=period)


def default_horizontal_pod_autoscaler(hpa: autoscaling_pb2.HorizontalPodAutoscaler) -> None:
    spec = hpa.spec
    if not spec.HasField("min_replicas"):
        spec.min_replicas = 1
    if not spec.metrics:
        m = spec.metrics.add(type="Resource")
        m.resource.name = "cpu"
        m.resource.target.type = "Utilization"
        m.resource.target.average_utilization = DEFAULT_CPU_UTILIZATION
    if spec.HasField("behavior"):
        _default_scaling_rules(spec.behavior.scale_up, True)
        _default_scaling_rules(spec.behavior.scale_down, False)


def default_limit_range(lr: core_pb2.LimitRange) -> None:
    """Container items: a default limit from max, a default request from the default limit, else
    from min."""
    for item in lr.spec.limits:
        if item.type != "Container":
            continue
        for target, sources in ((item.default, (item.max,)), (item.default_request, (item.default, item.min))):
            for source in sources:
                for name, value in source.items():
                    if name not in target:
                        target[name] = value
