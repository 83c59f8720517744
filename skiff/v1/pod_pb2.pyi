import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from skiff.v1 import core_pb2 as _core_pb2
from skiff.v1 import meta_pb2 as _meta_pb2
from skiff.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Pod(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    spec: PodSpec
    status: PodStatus
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[PodSpec, _Mapping]] = ..., status: _Optional[_Union[PodStatus, _Mapping]] = ...) -> None: ...

class PodSpec(_message.Message):
    __slots__ = ("active_deadline_seconds", "affinity", "automount_service_account_token", "containers", "dns_config", "dns_policy", "enable_service_links", "ephemeral_containers", "eviction_responders", "host_aliases", "host_ipc", "host_network", "host_pid", "host_users", "hostname", "hostname_override", "image_pull_secrets", "init_containers", "node_name", "node_selector", "os", "overhead", "preemption_policy", "priority", "priority_class_name", "readiness_gates", "resource_claims", "resources", "restart_policy", "runtime_class_name", "scheduler_name", "scheduling_gates", "scheduling_group", "security_context", "service_account", "service_account_name", "set_hostname_as_fqdn", "share_process_namespace", "subdomain", "termination_grace_period_seconds", "tolerations", "topology_spread_constraints", "volumes")
    class NodeSelectorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class OverheadEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTIVE_DEADLINE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AFFINITY_FIELD_NUMBER: _ClassVar[int]
    AUTOMOUNT_SERVICE_ACCOUNT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    DNS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    DNS_POLICY_FIELD_NUMBER: _ClassVar[int]
    ENABLE_SERVICE_LINKS_FIELD_NUMBER: _ClassVar[int]
    EPHEMERAL_CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    EVICTION_RESPONDERS_FIELD_NUMBER: _ClassVar[int]
    HOST_ALIASES_FIELD_NUMBER: _ClassVar[int]
    HOST_IPC_FIELD_NUMBER: _ClassVar[int]
    HOST_NETWORK_FIELD_NUMBER: _ClassVar[int]
    HOST_PID_FIELD_NUMBER: _ClassVar[int]
    HOST_USERS_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PULL_SECRETS_FIELD_NUMBER: _ClassVar[int]
    INIT_CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    NODE_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    OVERHEAD_FIELD_NUMBER: _ClassVar[int]
    PREEMPTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    READINESS_GATES_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_CLAIMS_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    RESTART_POLICY_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULING_GATES_FIELD_NUMBER: _ClassVar[int]
    SCHEDULING_GROUP_FIELD_NUMBER: _ClassVar[int]
    SECURITY_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ACCOUNT_NAME_FIELD_NUMBER: _ClassVar[int]
    SET_HOSTNAME_AS_FQDN_FIELD_NUMBER: _ClassVar[int]
    SHARE_PROCESS_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SUBDOMAIN_FIELD_NUMBER: _ClassVar[int]
    TERMINATION_GRACE_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TOLERATIONS_FIELD_NUMBER: _ClassVar[int]
    TOPOLOGY_SPREAD_CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    active_deadline_seconds: int
    affinity: Affinity
    automount_service_account_token: bool
    containers: _containers.RepeatedCompositeFieldContainer[Container]
    dns_config: PodDNSConfig
    dns_policy: str
    enable_service_links: bool
    ephemeral_containers: _containers.RepeatedCompositeFieldContainer[EphemeralContainer]
    eviction_responders: _containers.RepeatedCompositeFieldContainer[EvictionResponder]
    host_aliases: _containers.RepeatedCompositeFieldContainer[HostAlias]
    host_ipc: bool
    host_network: bool
    host_pid: bool
    host_users: bool
    hostname: str
    hostname_override: str
    image_pull_secrets: _containers.RepeatedCompositeFieldContainer[_meta_pb2.LocalObjectReference]
    init_containers: _containers.RepeatedCompositeFieldContainer[Container]
    node_name: str
    node_selector: _containers.ScalarMap[str, str]
    os: PodOS
    overhead: _containers.ScalarMap[str, str]
    preemption_policy: str
    priority: int
    priority_class_name: str
    readiness_gates: _containers.RepeatedCompositeFieldContainer[PodReadinessGate]
    resource_claims: _containers.RepeatedCompositeFieldContainer[PodResourceClaim]
    resources: ResourceRequirements
    restart_policy: str
    runtime_class_name: str
    scheduler_name: str
    scheduling_gates: _containers.RepeatedCompositeFieldContainer[PodSchedulingGate]
    scheduling_group: PodSchedulingGroup
    security_context: PodSecurityContext
    service_account: str
    service_account_name: str
    set_hostname_as_fqdn: bool
    share_process_namespace: bool
    subdomain: str
    termination_grace_period_seconds: int
    tolerations: _containers.RepeatedCompositeFieldContainer[Toleration]
    topology_spread_constraints: _containers.RepeatedCompositeFieldContainer[TopologySpreadConstraint]
    volumes: _containers.RepeatedCompositeFieldContainer[Volume]
    def __init__(self, active_deadline_seconds: _Optional[int] = ..., affinity: _Optional[_Union[Affinity, _Mapping]] = ..., automount_service_account_token: _Optional[bool] = ..., containers: _Optional[_Iterable[_Union[Container, _Mapping]]] = ..., dns_config: _Optional[_Union[PodDNSConfig, _Mapping]] = ..., dns_policy: _Optional[str] = ..., enable_service_links: _Optional[bool] = ..., ephemeral_containers: _Optional[_Iterable[_Union[EphemeralContainer, _Mapping]]] = ..., eviction_responders: _Optional[_Iterable[_Union[EvictionResponder, _Mapping]]] = ..., host_aliases: _Optional[_Iterable[_Union[HostAlias, _Mapping]]] = ..., host_ipc: _Optional[bool] = ..., host_network: _Optional[bool] = ..., host_pid: _Optional[bool] = ..., host_users: _Optional[bool] = ..., hostname: _Optional[str] = ..., hostname_override: _Optional[str] = ..., image_pull_secrets: _Optional[_Iterable[_Union[_meta_pb2.LocalObjectReference, _Mapping]]] = ..., init_containers: _Optional[_Iterable[_Union[Container, _Mapping]]] = ..., node_name: _Optional[str] = ..., node_selector: _Optional[_Mapping[str, str]] = ..., os: _Optional[_Union[PodOS, _Mapping]] = ..., overhead: _Optional[_Mapping[str, str]] = ..., preemption_policy: _Optional[str] = ..., priority: _Optional[int] = ..., priority_class_name: _Optional[str] = ..., readiness_gates: _Optional[_Iterable[_Union[PodReadinessGate, _Mapping]]] = ..., resource_claims: _Optional[_Iterable[_Union[PodResourceClaim, _Mapping]]] = ..., resources: _Optional[_Union[ResourceRequirements, _Mapping]] = ..., restart_policy: _Optional[str] = ..., runtime_class_name: _Optional[str] = ..., scheduler_name: _Optional[str] = ..., scheduling_gates: _Optional[_Iterable[_Union[PodSchedulingGate, _Mapping]]] = ..., scheduling_group: _Optional[_Union[PodSchedulingGroup, _Mapping]] = ..., security_context: _Optional[_Union[PodSecurityContext, _Mapping]] = ..., service_account: _Optional[str] = ..., service_account_name: _Optional[str] = ..., set_hostname_as_fqdn: _Optional[bool] = ..., share_process_namespace: _Optional[bool] = ..., subdomain: _Optional[str] = ..., termination_grace_period_seconds: _Optional[int] = ..., tolerations: _Optional[_Iterable[_Union[Toleration, _Mapping]]] = ..., topology_spread_constraints: _Optional[_Iterable[_Union[TopologySpreadConstraint, _Mapping]]] = ..., volumes: _Optional[_Iterable[_Union[Volume, _Mapping]]] = ...) -> None: ...

class PodStatus(_message.Message):
    __slots__ = ("allocated_resources", "conditions", "container_statuses", "ephemeral_container_statuses", "extended_resource_claim_status", "host_ip", "host_ips", "init_container_statuses", "message", "node_allocatable_resource_claim_statuses", "nominated_node_name", "observed_generation", "phase", "pod_ip", "pod_ips", "qos_class", "reason", "resize", "resource_claim_statuses", "resources", "start_time", "volume_health")
    class AllocatedResourcesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ALLOCATED_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_STATUSES_FIELD_NUMBER: _ClassVar[int]
    EPHEMERAL_CONTAINER_STATUSES_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_RESOURCE_CLAIM_STATUS_FIELD_NUMBER: _ClassVar[int]
    HOST_IP_FIELD_NUMBER: _ClassVar[int]
    HOST_IPS_FIELD_NUMBER: _ClassVar[int]
    INIT_CONTAINER_STATUSES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUSES_FIELD_NUMBER: _ClassVar[int]
    NOMINATED_NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_GENERATION_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    POD_IP_FIELD_NUMBER: _ClassVar[int]
    POD_IPS_FIELD_NUMBER: _ClassVar[int]
    QOS_CLASS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESIZE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_CLAIM_STATUSES_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    VOLUME_HEALTH_FIELD_NUMBER: _ClassVar[int]
    allocated_resources: _containers.ScalarMap[str, str]
    conditions: _containers.RepeatedCompositeFieldContainer[PodCondition]
    container_statuses: _containers.RepeatedCompositeFieldContainer[ContainerStatus]
    ephemeral_container_statuses: _containers.RepeatedCompositeFieldContainer[ContainerStatus]
    extended_resource_claim_status: PodExtendedResourceClaimStatus
    host_ip: str
    host_ips: _containers.RepeatedCompositeFieldContainer[HostIP]
    init_container_statuses: _containers.RepeatedCompositeFieldContainer[ContainerStatus]
    message: str
    node_allocatable_resource_claim_statuses: _containers.RepeatedCompositeFieldContainer[NodeAllocatableResourceClaimStatus]
    nominated_node_name: str
    observed_generation: int
    phase: str
    pod_ip: str
    pod_ips: _containers.RepeatedCompositeFieldContainer[PodIP]
    qos_class: str
    reason: str
    resize: str
    resource_claim_statuses: _containers.RepeatedCompositeFieldContainer[PodResourceClaimStatus]
    resources: ResourceRequirements
    start_time: _timestamp_pb2.Timestamp
    volume_health: _containers.RepeatedCompositeFieldContainer[PodVolumeHealth]
    def __init__(self, allocated_resources: _Optional[_Mapping[str, str]] = ..., conditions: _Optional[_Iterable[_Union[PodCondition, _Mapping]]] = ..., container_statuses: _Optional[_Iterable[_Union[ContainerStatus, _Mapping]]] = ..., ephemeral_container_statuses: _Optional[_Iterable[_Union[ContainerStatus, _Mapping]]] = ..., extended_resource_claim_status: _Optional[_Union[PodExtendedResourceClaimStatus, _Mapping]] = ..., host_ip: _Optional[str] = ..., host_ips: _Optional[_Iterable[_Union[HostIP, _Mapping]]] = ..., init_container_statuses: _Optional[_Iterable[_Union[ContainerStatus, _Mapping]]] = ..., message: _Optional[str] = ..., node_allocatable_resource_claim_statuses: _Optional[_Iterable[_Union[NodeAllocatableResourceClaimStatus, _Mapping]]] = ..., nominated_node_name: _Optional[str] = ..., observed_generation: _Optional[int] = ..., phase: _Optional[str] = ..., pod_ip: _Optional[str] = ..., pod_ips: _Optional[_Iterable[_Union[PodIP, _Mapping]]] = ..., qos_class: _Optional[str] = ..., reason: _Optional[str] = ..., resize: _Optional[str] = ..., resource_claim_statuses: _Optional[_Iterable[_Union[PodResourceClaimStatus, _Mapping]]] = ..., resources: _Optional[_Union[ResourceRequirements, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., volume_health: _Optional[_Iterable[_Union[PodVolumeHealth, _Mapping]]] = ...) -> None: ...

class Affinity(_message.Message):
    __slots__ = ("node_affinity", "pod_affinity", "pod_anti_affinity")
    NODE_AFFINITY_FIELD_NUMBER: _ClassVar[int]
    POD_AFFINITY_FIELD_NUMBER: _ClassVar[int]
    POD_ANTI_AFFINITY_FIELD_NUMBER: _ClassVar[int]
    node_affinity: NodeAffinity
    pod_affinity: PodAffinity
    pod_anti_affinity: PodAntiAffinity
    def __init__(self, node_affinity: _Optional[_Union[NodeAffinity, _Mapping]] = ..., pod_affinity: _Optional[_Union[PodAffinity, _Mapping]] = ..., pod_anti_affinity: _Optional[_Union[PodAntiAffinity, _Mapping]] = ...) -> None: ...

class Container(_message.Message):
    __slots__ = ("args", "command", "env", "env_from", "image", "image_pull_policy", "lifecycle", "liveness_probe", "name", "ports", "readiness_probe", "resize_policy", "resources", "restart_policy", "restart_policy_rules", "security_context", "startup_probe", "stdin", "stdin_once", "termination_message_path", "termination_message_policy", "tty", "volume_devices", "volume_mounts", "working_dir")
    ARGS_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    ENV_FROM_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PULL_POLICY_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_PROBE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    READINESS_PROBE_FIELD_NUMBER: _ClassVar[int]
    RESIZE_POLICY_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    RESTART_POLICY_FIELD_NUMBER: _ClassVar[int]
    RESTART_POLICY_RULES_FIELD_NUMBER: _ClassVar[int]
    SECURITY_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    STARTUP_PROBE_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    STDIN_ONCE_FIELD_NUMBER: _ClassVar[int]
    TERMINATION_MESSAGE_PATH_FIELD_NUMBER: _ClassVar[int]
    TERMINATION_MESSAGE_POLICY_FIELD_NUMBER: _ClassVar[int]
    TTY_FIELD_NUMBER: _ClassVar[int]
    VOLUME_DEVICES_FIELD_NUMBER: _ClassVar[int]
    VOLUME_MOUNTS_FIELD_NUMBER: _ClassVar[int]
    WORKING_DIR_FIELD_NUMBER: _ClassVar[int]
    args: _containers.RepeatedScalarFieldContainer[str]
    command: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.RepeatedCompositeFieldContainer[EnvVar]
    env_from: _containers.RepeatedCompositeFieldContainer[EnvFromSource]
    image: str
    image_pull_policy: str
    lifecycle: Lifecycle
    liveness_probe: Probe
    name: str
    ports: _containers.RepeatedCompositeFieldContainer[ContainerPort]
    readiness_probe: Probe
    resize_policy: _containers.RepeatedCompositeFieldContainer[ContainerResizePolicy]
    resources: ResourceRequirements
    restart_policy: str
    restart_policy_rules: _containers.RepeatedCompositeFieldContainer[ContainerRestartRule]
    security_context: SecurityContext
    startup_probe: Probe
    stdin: bool
    stdin_once: bool
    termination_message_path: str
    termination_message_policy: str
    tty: bool
    volume_devices: _containers.RepeatedCompositeFieldContainer[VolumeDevice]
    volume_mounts: _containers.RepeatedCompositeFieldContainer[VolumeMount]
    working_dir: str
    def __init__(self, args: _Optional[_Iterable[str]] = ..., command: _Optional[_Iterable[str]] = ..., env: _Optional[_Iterable[_Union[EnvVar, _Mapping]]] = ..., env_from: _Optional[_Iterable[_Union[EnvFromSource, _Mapping]]] = ..., image: _Optional[str] = ..., image_pull_policy: _Optional[str] = ..., lifecycle: _Optional[_Union[Lifecycle, _Mapping]] = ..., liveness_probe: _Optional[_Union[Probe, _Mapping]] = ..., name: _Optional[str] = ..., ports: _Optional[_Iterable[_Union[ContainerPort, _Mapping]]] = ..., readiness_probe: _Optional[_Union[Probe, _Mapping]] = ..., resize_policy: _Optional[_Iterable[_Union[ContainerResizePolicy, _Mapping]]] = ..., resources: _Optional[_Union[ResourceRequirements, _Mapping]] = ..., restart_policy: _Optional[str] = ..., restart_policy_rules: _Optional[_Iterable[_Union[ContainerRestartRule, _Mapping]]] = ..., security_context: _Optional[_Union[SecurityContext, _Mapping]] = ..., startup_probe: _Optional[_Union[Probe, _Mapping]] = ..., stdin: _Optional[bool] = ..., stdin_once: _Optional[bool] = ..., termination_message_path: _Optional[str] = ..., termination_message_policy: _Optional[str] = ..., tty: _Optional[bool] = ..., volume_devices: _Optional[_Iterable[_Union[VolumeDevice, _Mapping]]] = ..., volume_mounts: _Optional[_Iterable[_Union[VolumeMount, _Mapping]]] = ..., working_dir: _Optional[str] = ...) -> None: ...

class PodDNSConfig(_message.Message):
    __slots__ = ("nameservers", "options", "searches")
    NAMESERVERS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    SEARCHES_FIELD_NUMBER: _ClassVar[int]
    nameservers: _containers.RepeatedScalarFieldContainer[str]
    options: _containers.RepeatedCompositeFieldContainer[PodDNSConfigOption]
    searches: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, nameservers: _Optional[_Iterable[str]] = ..., options: _Optional[_Iterable[_Union[PodDNSConfigOption, _Mapping]]] = ..., searches: _Optional[_Iterable[str]] = ...) -> None: ...

class EphemeralContainer(_message.Message):
    __slots__ = ("args", "command", "env", "env_from", "image", "image_pull_policy", "lifecycle", "liveness_probe", "name", "ports", "readiness_probe", "resize_policy", "resources", "restart_policy", "restart_policy_rules", "security_context", "startup_probe", "stdin", "stdin_once", "target_container_name", "termination_message_path", "termination_message_policy", "tty", "volume_devices", "volume_mounts", "working_dir")
    ARGS_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    ENV_FROM_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PULL_POLICY_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_PROBE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    READINESS_PROBE_FIELD_NUMBER: _ClassVar[int]
    RESIZE_POLICY_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    RESTART_POLICY_FIELD_NUMBER: _ClassVar[int]
    RESTART_POLICY_RULES_FIELD_NUMBER: _ClassVar[int]
    SECURITY_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    STARTUP_PROBE_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    STDIN_ONCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_CONTAINER_NAME_FIELD_NUMBER: _ClassVar[int]
    TERMINATION_MESSAGE_PATH_FIELD_NUMBER: _ClassVar[int]
    TERMINATION_MESSAGE_POLICY_FIELD_NUMBER: _ClassVar[int]
    TTY_FIELD_NUMBER: _ClassVar[int]
    VOLUME_DEVICES_FIELD_NUMBER: _ClassVar[int]
    VOLUME_MOUNTS_FIELD_NUMBER: _ClassVar[int]
    WORKING_DIR_FIELD_NUMBER: _ClassVar[int]
    args: _containers.RepeatedScalarFieldContainer[str]
    command: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.RepeatedCompositeFieldContainer[EnvVar]
    env_from: _containers.RepeatedCompositeFieldContainer[EnvFromSource]
    image: str
    image_pull_policy: str
    lifecycle: Lifecycle
    liveness_probe: Probe
    name: str
    ports: _containers.RepeatedCompositeFieldContainer[ContainerPort]
    readiness_probe: Probe
    resize_policy: _containers.RepeatedCompositeFieldContainer[ContainerResizePolicy]
    resources: ResourceRequirements
    restart_policy: str
    restart_policy_rules: _containers.RepeatedCompositeFieldContainer[ContainerRestartRule]
    security_context: SecurityContext
    startup_probe: Probe
    stdin: bool
    stdin_once: bool
    target_container_name: str
    termination_message_path: str
    termination_message_policy: str
    tty: bool
    volume_devices: _containers.RepeatedCompositeFieldContainer[VolumeDevice]
    volume_mounts: _containers.RepeatedCompositeFieldContainer[VolumeMount]
    working_dir: str
    def __init__(self, args: _Optional[_Iterable[str]] = ..., command: _Optional[_Iterable[str]] = ..., env: _Optional[_Iterable[_Union[EnvVar, _Mapping]]] = ..., env_from: _Optional[_Iterable[_Union[EnvFromSource, _Mapping]]] = ..., image: _Optional[str] = ..., image_pull_policy: _Optional[str] = ..., lifecycle: _Optional[_Union[Lifecycle, _Mapping]] = ..., liveness_probe: _Optional[_Union[Probe, _Mapping]] = ..., name: _Optional[str] = ..., ports: _Optional[_Iterable[_Union[ContainerPort, _Mapping]]] = ..., readiness_probe: _Optional[_Union[Probe, _Mapping]] = ..., resize_policy: _Optional[_Iterable[_Union[ContainerResizePolicy, _Mapping]]] = ..., resources: _Optional[_Union[ResourceRequirements, _Mapping]] = ..., restart_policy: _Optional[str] = ..., restart_policy_rules: _Optional[_Iterable[_Union[ContainerRestartRule, _Mapping]]] = ..., security_context: _Optional[_Union[SecurityContext, _Mapping]] = ..., startup_probe: _Optional[_Union[Probe, _Mapping]] = ..., stdin: _Optional[bool] = ..., stdin_once: _Optional[bool] = ..., target_container_name: _Optional[str] = ..., termination_message_path: _Optional[str] = ..., termination_message_policy: _Optional[str] = ..., tty: _Optional[bool] = ..., volume_devices: _Optional[_Iterable[_Union[VolumeDevice, _Mapping]]] = ..., volume_mounts: _Optional[_Iterable[_Union[VolumeMount, _Mapping]]] = ..., working_dir: _Optional[str] = ...) -> None: ...

class EvictionResponder(_message.Message):
    __slots__ = ("name", "priority")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    priority: int
    def __init__(self, name: _Optional[str] = ..., priority: _Optional[int] = ...) -> None: ...

class HostAlias(_message.Message):
    __slots__ = ("hostnames", "ip")
    HOSTNAMES_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    hostnames: _containers.RepeatedScalarFieldContainer[str]
    ip: str
    def __init__(self, hostnames: _Optional[_Iterable[str]] = ..., ip: _Optional[str] = ...) -> None: ...

class PodOS(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class PodReadinessGate(_message.Message):
    __slots__ = ("condition_type",)
    CONDITION_TYPE_FIELD_NUMBER: _ClassVar[int]
    condition_type: str
    def __init__(self, condition_type: _Optional[str] = ...) -> None: ...

class PodResourceClaim(_message.Message):
    __slots__ = ("name", "resource_claim_name", "resource_claim_template_name")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_CLAIM_NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_CLAIM_TEMPLATE_NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    resource_claim_name: str
    resource_claim_template_name: str
    def __init__(self, name: _Optional[str] = ..., resource_claim_name: _Optional[str] = ..., resource_claim_template_name: _Optional[str] = ...) -> None: ...

class ResourceRequirements(_message.Message):
    __slots__ = ("claims", "limits", "requests")
    class LimitsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class RequestsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    claims: _containers.RepeatedCompositeFieldContainer[ResourceClaim]
    limits: _containers.ScalarMap[str, str]
    requests: _containers.ScalarMap[str, str]
    def __init__(self, claims: _Optional[_Iterable[_Union[ResourceClaim, _Mapping]]] = ..., limits: _Optional[_Mapping[str, str]] = ..., requests: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PodSchedulingGate(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class PodSchedulingGroup(_message.Message):
    __slots__ = ("pod_group_name",)
    POD_GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    pod_group_name: str
    def __init__(self, pod_group_name: _Optional[str] = ...) -> None: ...

class PodSecurityContext(_message.Message):
    __slots__ = ("app_armor_profile", "fs_group", "fs_group_change_policy", "run_as_group", "run_as_non_root", "run_as_user", "se_linux_change_policy", "se_linux_options", "seccomp_profile", "supplemental_groups", "supplemental_groups_policy", "sysctls", "windows_options")
    APP_ARMOR_PROFILE_FIELD_NUMBER: _ClassVar[int]
    FS_GROUP_FIELD_NUMBER: _ClassVar[int]
    FS_GROUP_CHANGE_POLICY_FIELD_NUMBER: _ClassVar[int]
    RUN_AS_GROUP_FIELD_NUMBER: _ClassVar[int]
    RUN_AS_NON_ROOT_FIELD_NUMBER: _ClassVar[int]
    RUN_AS_USER_FIELD_NUMBER: _ClassVar[int]
    SE_LINUX_CHANGE_POLICY_FIELD_NUMBER: _ClassVar[int]
    SE_LINUX_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    SECCOMP_PROFILE_FIELD_NUMBER: _ClassVar[int]
    SUPPLEMENTAL_GROUPS_FIELD_NUMBER: _ClassVar[int]
    SUPPLEMENTAL_GROUPS_POLICY_FIELD_NUMBER: _ClassVar[int]
    SYSCTLS_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    app_armor_profile: AppArmorProfile
    fs_group: int
    fs_group_change_policy: str
    run_as_group: int
    run_as_non_root: bool
    run_as_user: int
    se_linux_change_policy: str
    se_linux_options: SELinuxOptions
    seccomp_profile: SeccompProfile
    supplemental_groups: _containers.RepeatedScalarFieldContainer[int]
    supplemental_groups_policy: str
    sysctls: _containers.RepeatedCompositeFieldContainer[Sysctl]
    windows_options: WindowsSecurityContextOptions
    def __init__(self, app_armor_profile: _Optional[_Union[AppArmorProfile, _Mapping]] = ..., fs_group: _Optional[int] = ..., fs_group_change_policy: _Optional[str] = ..., run_as_group: _Optional[int] = ..., run_as_non_root: _Optional[bool] = ..., run_as_user: _Optional[int] = ..., se_linux_change_policy: _Optional[str] = ..., se_linux_options: _Optional[_Union[SELinuxOptions, _Mapping]] = ..., seccomp_profile: _Optional[_Union[SeccompProfile, _Mapping]] = ..., supplemental_groups: _Optional[_Iterable[int]] = ..., supplemental_groups_policy: _Optional[str] = ..., sysctls: _Optional[_Iterable[_Union[Sysctl, _Mapping]]] = ..., windows_options: _Optional[_Union[WindowsSecurityContextOptions, _Mapping]] = ...) -> None: ...

class Toleration(_message.Message):
    __slots__ = ("effect", "key", "operator", "toleration_seconds", "value")
    EFFECT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    TOLERATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    effect: str
    key: str
    operator: str
    toleration_seconds: int
    value: str
    def __init__(self, effect: _Optional[str] = ..., key: _Optional[str] = ..., operator: _Optional[str] = ..., toleration_seconds: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...

class TopologySpreadConstraint(_message.Message):
    __slots__ = ("label_selector", "match_label_keys", "max_skew", "min_domains", "node_affinity_policy", "node_taints_policy", "topology_key", "when_unsatisfiable")
    LABEL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    MATCH_LABEL_KEYS_FIELD_NUMBER: _ClassVar[int]
    MAX_SKEW_FIELD_NUMBER: _ClassVar[int]
    MIN_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    NODE_AFFINITY_POLICY_FIELD_NUMBER: _ClassVar[int]
    NODE_TAINTS_POLICY_FIELD_NUMBER: _ClassVar[int]
    TOPOLOGY_KEY_FIELD_NUMBER: _ClassVar[int]
    WHEN_UNSATISFIABLE_FIELD_NUMBER: _ClassVar[int]
    label_selector: _meta_pb2.LabelSelector
    match_label_keys: _containers.RepeatedScalarFieldContainer[str]
    max_skew: int
    min_domains: int
    node_affinity_policy: str
    node_taints_policy: str
    topology_key: str
    when_unsatisfiable: str
    def __init__(self, label_selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., match_label_keys: _Optional[_Iterable[str]] = ..., max_skew: _Optional[int] = ..., min_domains: _Optional[int] = ..., node_affinity_policy: _Optional[str] = ..., node_taints_policy: _Optional[str] = ..., topology_key: _Optional[str] = ..., when_unsatisfiable: _Optional[str] = ...) -> None: ...

class Volume(_message.Message):
    __slots__ = ("aws_elastic_block_store", "azure_disk", "azure_file", "cephfs", "cinder", "config_map", "csi", "downward_api", "empty_dir", "ephemeral", "fc", "flex_volume", "flocker", "gce_persistent_disk", "git_repo", "glusterfs", "host_path", "image", "iscsi", "name", "nfs", "persistent_volume_claim", "photon_persistent_disk", "portworx_volume", "projected", "quobyte", "rbd", "scale_io", "secret", "storageos", "vsphere_volume")
    AWS_ELASTIC_BLOCK_STORE_FIELD_NUMBER: _ClassVar[int]
    AZURE_DISK_FIELD_NUMBER: _ClassVar[int]
    AZURE_FILE_FIELD_NUMBER: _ClassVar[int]
    CEPHFS_FIELD_NUMBER: _ClassVar[int]
    CINDER_FIELD_NUMBER: _ClassVar[int]
    CONFIG_MAP_FIELD_NUMBER: _ClassVar[int]
    CSI_FIELD_NUMBER: _ClassVar[int]
    DOWNWARD_API_FIELD_NUMBER: _ClassVar[int]
    EMPTY_DIR_FIELD_NUMBER: _ClassVar[int]
    EPHEMERAL_FIELD_NUMBER: _ClassVar[int]
    FC_FIELD_NUMBER: _ClassVar[int]
    FLEX_VOLUME_FIELD_NUMBER: _ClassVar[int]
    FLOCKER_FIELD_NUMBER: _ClassVar[int]
    GCE_PERSISTENT_DISK_FIELD_NUMBER: _ClassVar[int]
    GIT_REPO_FIELD_NUMBER: _ClassVar[int]
    GLUSTERFS_FIELD_NUMBER: _ClassVar[int]
    HOST_PATH_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    ISCSI_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NFS_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_VOLUME_CLAIM_FIELD_NUMBER: _ClassVar[int]
    PHOTON_PERSISTENT_DISK_FIELD_NUMBER: _ClassVar[int]
    PORTWORX_VOLUME_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_FIELD_NUMBER: _ClassVar[int]
    QUOBYTE_FIELD_NUMBER: _ClassVar[int]
    RBD_FIELD_NUMBER: _ClassVar[int]
    SCALE_IO_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    STORAGEOS_FIELD_NUMBER: _ClassVar[int]
    VSPHERE_VOLUME_FIELD_NUMBER: _ClassVar[int]
    aws_elastic_block_store: _core_pb2.AWSElasticBlockStoreVolumeSource
    azure_disk: _core_pb2.AzureDiskVolumeSource
    azure_file: AzureFileVolumeSource
    cephfs: CephFSVolumeSource
    cinder: CinderVolumeSource
    config_map: ConfigMapVolumeSource
    csi: CSIVolumeSource
    downward_api: DownwardAPIVolumeSource
    empty_dir: EmptyDirVolumeSource
    ephemeral: EphemeralVolumeSource
    fc: _core_pb2.FCVolumeSource
    flex_volume: FlexVolumeSource
    flocker: _core_pb2.FlockerVolumeSource
    gce_persistent_disk: _core_pb2.GCEPersistentDiskVolumeSource
    git_repo: GitRepoVolumeSource
    glusterfs: GlusterfsVolumeSource
    host_path: _core_pb2.HostPathVolumeSource
    image: ImageVolumeSource
    iscsi: ISCSIVolumeSource
    name: str
    nfs: _core_pb2.NFSVolumeSource
    persistent_volume_claim: PersistentVolumeClaimVolumeSource
    photon_persistent_disk: _core_pb2.PhotonPersistentDiskVolumeSource
    portworx_volume: _core_pb2.PortworxVolumeSource
    projected: ProjectedVolumeSource
    quobyte: _core_pb2.QuobyteVolumeSource
    rbd: RBDVolumeSource
    scale_io: ScaleIOVolumeSource
    secret: SecretVolumeSource
    storageos: StorageOSVolumeSource
    vsphere_volume: _core_pb2.VsphereVirtualDiskVolumeSource
    def __init__(self, aws_elastic_block_store: _Optional[_Union[_core_pb2.AWSElasticBlockStoreVolumeSource, _Mapping]] = ..., azure_disk: _Optional[_Union[_core_pb2.AzureDiskVolumeSource, _Mapping]] = ..., azure_file: _Optional[_Union[AzureFileVolumeSource, _Mapping]] = ..., cephfs: _Optional[_Union[CephFSVolumeSource, _Mapping]] = ..., cinder: _Optional[_Union[CinderVolumeSource, _Mapping]] = ..., config_map: _Optional[_Union[ConfigMapVolumeSource, _Mapping]] = ..., csi: _Optional[_Union[CSIVolumeSource, _Mapping]] = ..., downward_api: _Optional[_Union[DownwardAPIVolumeSource, _Mapping]] = ..., empty_dir: _Optional[_Union[EmptyDirVolumeSource, _Mapping]] = ..., ephemeral: _Optional[_Union[EphemeralVolumeSource, _Mapping]] = ..., fc: _Optional[_Union[_core_pb2.FCVolumeSource, _Mapping]] = ..., flex_volume: _Optional[_Union[FlexVolumeSource, _Mapping]] = ..., flocker: _Optional[_Union[_core_pb2.FlockerVolumeSource, _Mapping]] = ..., gce_persistent_disk: _Optional[_Union[_core_pb2.GCEPersistentDiskVolumeSource, _Mapping]] = ..., git_repo: _Optional[_Union[GitRepoVolumeSource, _Mapping]] = ..., glusterfs: _Optional[_Union[GlusterfsVolumeSource, _Mapping]] = ..., host_path: _Optional[_Union[_core_pb2.HostPathVolumeSource, _Mapping]] = ..., image: _Optional[_Union[ImageVolumeSource, _Mapping]] = ..., iscsi: _Optional[_Union[ISCSIVolumeSource, _Mapping]] = ..., name: _Optional[str] = ..., nfs: _Optional[_Union[_core_pb2.NFSVolumeSource, _Mapping]] = ..., persistent_volume_claim: _Optional[_Union[PersistentVolumeClaimVolumeSource, _Mapping]] = ..., photon_persistent_disk: _Optional[_Union[_core_pb2.PhotonPersistentDiskVolumeSource, _Mapping]] = ..., portworx_volume: _Optional[_Union[_core_pb2.PortworxVolumeSource, _Mapping]] = ..., projected: _Optional[_Union[ProjectedVolumeSource, _Mapping]] = ..., quobyte: _Optional[_Union[_core_pb2.QuobyteVolumeSource, _Mapping]] = ..., rbd: _Optional[_Union[RBDVolumeSource, _Mapping]] = ..., scale_io: _Optional[_Union[ScaleIOVolumeSource, _Mapping]] = ..., secret: _Optional[_Union[SecretVolumeSource, _Mapping]] = ..., storageos: _Optional[_Union[StorageOSVolumeSource, _Mapping]] = ..., vsphere_volume: _Optional[_Union[_core_pb2.VsphereVirtualDiskVolumeSource, _Mapping]] = ...) -> None: ...

class PodCondition(_message.Message):
    __slots__ = ("last_probe_time", "last_transition_time", "message", "observed_generation", "reason", "status", "type")
    LAST_PROBE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_TRANSITION_TIME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_GENERATION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    last_probe_time: _timestamp_pb2.Timestamp
    last_transition_time: _timestamp_pb2.Timestamp
    message: str
    observed_generation: int
    reason: str
    status: str
    type: str
    def __init__(self, last_probe_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_transition_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ..., observed_generation: _Optional[int] = ..., reason: _Optional[str] = ..., status: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class ContainerStatus(_message.Message):
    __slots__ = ("allocated_resources", "allocated_resources_status", "container_id", "image", "image_id", "last_state", "name", "ready", "resources", "restart_count", "started", "state", "stop_signal", "user", "volume_mounts")
    class AllocatedResourcesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ALLOCATED_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_RESOURCES_STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_STATE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    RESTART_COUNT_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STOP_SIGNAL_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    VOLUME_MOUNTS_FIELD_NUMBER: _ClassVar[int]
    allocated_resources: _containers.ScalarMap[str, str]
    allocated_resources_status: _containers.RepeatedCompositeFieldContainer[ResourceStatus]
    container_id: str
    image: str
    image_id: str
    last_state: ContainerState
    name: str
    ready: bool
    resources: ResourceRequirements
    restart_count: int
    started: bool
    state: ContainerState
    stop_signal: str
    user: ContainerUser
    volume_mounts: _containers.RepeatedCompositeFieldContainer[VolumeMountStatus]
    def __init__(self, allocated_resources: _Optional[_Mapping[str, str]] = ..., allocated_resources_status: _Optional[_Iterable[_Union[ResourceStatus, _Mapping]]] = ..., container_id: _Optional[str] = ..., image: _Optional[str] = ..., image_id: _Optional[str] = ..., last_state: _Optional[_Union[ContainerState, _Mapping]] = ..., name: _Optional[str] = ..., ready: _Optional[bool] = ..., resources: _Optional[_Union[ResourceRequirements, _Mapping]] = ..., restart_count: _Optional[int] = ..., started: _Optional[bool] = ..., state: _Optional[_Union[ContainerState, _Mapping]] = ..., stop_signal: _Optional[str] = ..., user: _Optional[_Union[ContainerUser, _Mapping]] = ..., volume_mounts: _Optional[_Iterable[_Union[VolumeMountStatus, _Mapping]]] = ...) -> None: ...

class PodExtendedResourceClaimStatus(_message.Message):
    __slots__ = ("request_mappings", "resource_claim_name")
    REQUEST_MAPPINGS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_CLAIM_NAME_FIELD_NUMBER: _ClassVar[int]
    request_mappings: _containers.RepeatedCompositeFieldContainer[ContainerExtendedResourceRequest]
    resource_claim_name: str
    def __init__(self, request_mappings: _Optional[_Iterable[_Union[ContainerExtendedResourceRequest, _Mapping]]] = ..., resource_claim_name: _Optional[str] = ...) -> None: ...

class HostIP(_message.Message):
    __slots__ = ("ip",)
    IP_FIELD_NUMBER: _ClassVar[int]
    ip: str
    def __init__(self, ip: _Optional[str] = ...) -> None: ...

class NodeAllocatableResourceClaimStatus(_message.Message):
    __slots__ = ("containers", "mapping", "overhead", "resource_claim_name")
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    OVERHEAD_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_CLAIM_NAME_FIELD_NUMBER: _ClassVar[int]
    containers: _containers.RepeatedScalarFieldContainer[str]
    mapping: _containers.RepeatedCompositeFieldContainer[NodeAllocatableMappedResources]
    overhead: _containers.RepeatedCompositeFieldContainer[NodeAllocatableOverheadResources]
    resource_claim_name: str
    def __init__(self, containers: _Optional[_Iterable[str]] = ..., mapping: _Optional[_Iterable[_Union[NodeAllocatableMappedResources, _Mapping]]] = ..., overhead: _Optional[_Iterable[_Union[NodeAllocatableOverheadResources, _Mapping]]] = ..., resource_claim_name: _Optional[str] = ...) -> None: ...

class PodIP(_message.Message):
    __slots__ = ("ip",)
    IP_FIELD_NUMBER: _ClassVar[int]
    ip: str
    def __init__(self, ip: _Optional[str] = ...) -> None: ...

class PodResourceClaimStatus(_message.Message):
    __slots__ = ("name", "resource_claim_name")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_CLAIM_NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    resource_claim_name: str
    def __init__(self, name: _Optional[str] = ..., resource_claim_name: _Optional[str] = ...) -> None: ...

class PodVolumeHealth(_message.Message):
    __slots__ = ("health_conditions", "last_transition_time", "name")
    HEALTH_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    LAST_TRANSITION_TIME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    health_conditions: _containers.RepeatedCompositeFieldContainer[_core_pb2.VolumeHealthCondition]
    last_transition_time: _timestamp_pb2.Timestamp
    name: str
    def __init__(self, health_conditions: _Optional[_Iterable[_Union[_core_pb2.VolumeHealthCondition, _Mapping]]] = ..., last_transition_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., name: _Optional[str] = ...) -> None: ...

class NodeAffinity(_message.Message):
    __slots__ = ("preferred_during_scheduling_ignored_during_execution", "required_during_scheduling_ignored_during_execution")
    PREFERRED_DURING_SCHEDULING_IGNORED_DURING_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_DURING_SCHEDULING_IGNORED_DURING_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    preferred_during_scheduling_ignored_during_execution: _containers.RepeatedCompositeFieldContainer[PreferredSchedulingTerm]
    required_during_scheduling_ignored_during_execution: _core_pb2.NodeSelector
    def __init__(self, preferred_during_scheduling_ignored_during_execution: _Optional[_Iterable[_Union[PreferredSchedulingTerm, _Mapping]]] = ..., required_during_scheduling_ignored_during_execution: _Optional[_Union[_core_pb2.NodeSelector, _Mapping]] = ...) -> None: ...

class PodAffinity(_message.Message):
    __slots__ = ("preferred_during_scheduling_ignored_during_execution", "required_during_scheduling_ignored_during_execution")
    PREFERRED_DURING_SCHEDULING_IGNORED_DURING_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_DURING_SCHEDULING_IGNORED_DURING_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    preferred_during_scheduling_ignored_during_execution: _containers.RepeatedCompositeFieldContainer[WeightedPodAffinityTerm]
    required_during_scheduling_ignored_during_execution: _containers.RepeatedCompositeFieldContainer[PodAffinityTerm]
    def __init__(self, preferred_during_scheduling_ignored_during_execution: _Optional[_Iterable[_Union[WeightedPodAffinityTerm, _Mapping]]] = ..., required_during_scheduling_ignored_during_execution: _Optional[_Iterable[_Union[PodAffinityTerm, _Mapping]]] = ...) -> None: ...

class PodAntiAffinity(_message.Message):
    __slots__ = ("preferred_during_scheduling_ignored_during_execution", "required_during_scheduling_ignored_during_execution")
    PREFERRED_DURING_SCHEDULING_IGNORED_DURING_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_DURING_SCHEDULING_IGNORED_DURING_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    preferred_during_scheduling_ignored_during_execution: _containers.RepeatedCompositeFieldContainer[WeightedPodAffinityTerm]
    required_during_scheduling_ignored_during_execution: _containers.RepeatedCompositeFieldContainer[PodAffinityTerm]
    def __init__(self, preferred_during_scheduling_ignored_during_execution: _Optional[_Iterable[_Union[WeightedPodAffinityTerm, _Mapping]]] = ..., required_during_scheduling_ignored_during_execution: _Optional[_Iterable[_Union[PodAffinityTerm, _Mapping]]] = ...) -> None: ...

class EnvVar(_message.Message):
    __slots__ = ("name", "value", "value_from")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FROM_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    value_from: EnvVarSource
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ..., value_from: _Optional[_Union[EnvVarSource, _Mapping]] = ...) -> None: ...

class EnvFromSource(_message.Message):
    __slots__ = ("config_map_ref", "prefix", "secret_ref")
    CONFIG_MAP_REF_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    config_map_ref: ConfigMapEnvSource
    prefix: str
    secret_ref: SecretEnvSource
    def __init__(self, config_map_ref: _Optional[_Union[ConfigMapEnvSource, _Mapping]] = ..., prefix: _Optional[str] = ..., secret_ref: _Optional[_Union[SecretEnvSource, _Mapping]] = ...) -> None: ...

class Lifecycle(_message.Message):
    __slots__ = ("post_start", "pre_stop", "stop_signal")
    POST_START_FIELD_NUMBER: _ClassVar[int]
    PRE_STOP_FIELD_NUMBER: _ClassVar[int]
    STOP_SIGNAL_FIELD_NUMBER: _ClassVar[int]
    post_start: LifecycleHandler
    pre_stop: LifecycleHandler
    stop_signal: str
    def __init__(self, post_start: _Optional[_Union[LifecycleHandler, _Mapping]] = ..., pre_stop: _Optional[_Union[LifecycleHandler, _Mapping]] = ..., stop_signal: _Optional[str] = ...) -> None: ...

class Probe(_message.Message):
    __slots__ = ("exec", "failure_threshold", "grpc", "http_get", "initial_delay_seconds", "period_seconds", "success_threshold", "tcp_socket", "termination_grace_period_seconds", "timeout_seconds")
    EXEC_FIELD_NUMBER: _ClassVar[int]
    FAILURE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    GRPC_FIELD_NUMBER: _ClassVar[int]
    HTTP_GET_FIELD_NUMBER: _ClassVar[int]
    INITIAL_DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    TCP_SOCKET_FIELD_NUMBER: _ClassVar[int]
    TERMINATION_GRACE_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    exec: ExecAction
    failure_threshold: int
    grpc: GRPCAction
    http_get: HTTPGetAction
    initial_delay_seconds: int
    period_seconds: int
    success_threshold: int
    tcp_socket: TCPSocketAction
    termination_grace_period_seconds: int
    timeout_seconds: int
    def __init__(self, exec: _Optional[_Union[ExecAction, _Mapping]] = ..., failure_threshold: _Optional[int] = ..., grpc: _Optional[_Union[GRPCAction, _Mapping]] = ..., http_get: _Optional[_Union[HTTPGetAction, _Mapping]] = ..., initial_delay_seconds: _Optional[int] = ..., period_seconds: _Optional[int] = ..., success_threshold: _Optional[int] = ..., tcp_socket: _Optional[_Union[TCPSocketAction, _Mapping]] = ..., termination_grace_period_seconds: _Optional[int] = ..., timeout_seconds: _Optional[int] = ...) -> None: ...

class ContainerPort(_message.Message):
    __slots__ = ("container_port", "host_ip", "host_port", "name", "protocol")
    CONTAINER_PORT_FIELD_NUMBER: _ClassVar[int]
    HOST_IP_FIELD_NUMBER: _ClassVar[int]
    HOST_PORT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    container_port: int
    host_ip: str
    host_port: int
    name: str
    protocol: str
    def __init__(self, container_port: _Optional[int] = ..., host_ip: _Optional[str] = ..., host_port: _Optional[int] = ..., name: _Optional[str] = ..., protocol: _Optional[str] = ...) -> None: ...

class ContainerResizePolicy(_message.Message):
    __slots__ = ("resource_name", "restart_policy")
    RESOURCE_NAME_FIELD_NUMBER: _ClassVar[int]
    RESTART_POLICY_FIELD_NUMBER: _ClassVar[int]
    resource_name: str
    restart_policy: str
    def __init__(self, resource_name: _Optional[str] = ..., restart_policy: _Optional[str] = ...) -> None: ...

class ContainerRestartRule(_message.Message):
    __slots__ = ("action", "exit_codes")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODES_FIELD_NUMBER: _ClassVar[int]
    action: str
    exit_codes: ContainerRestartRuleOnExitCodes
    def __init__(self, action: _Optional[str] = ..., exit_codes: _Optional[_Union[ContainerRestartRuleOnExitCodes, _Mapping]] = ...) -> None: ...

class SecurityContext(_message.Message):
    __slots__ = ("allow_privilege_escalation", "app_armor_profile", "capabilities", "privileged", "proc_mount", "read_only_root_filesystem", "run_as_group", "run_as_non_root", "run_as_user", "se_linux_options", "seccomp_profile", "windows_options")
    ALLOW_PRIVILEGE_ESCALATION_FIELD_NUMBER: _ClassVar[int]
    APP_ARMOR_PROFILE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    PRIVILEGED_FIELD_NUMBER: _ClassVar[int]
    PROC_MOUNT_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_ROOT_FILESYSTEM_FIELD_NUMBER: _ClassVar[int]
    RUN_AS_GROUP_FIELD_NUMBER: _ClassVar[int]
    RUN_AS_NON_ROOT_FIELD_NUMBER: _ClassVar[int]
    RUN_AS_USER_FIELD_NUMBER: _ClassVar[int]
    SE_LINUX_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    SECCOMP_PROFILE_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    allow_privilege_escalation: bool
    app_armor_profile: AppArmorProfile
    capabilities: Capabilities
    privileged: bool
    proc_mount: str
    read_only_root_filesystem: bool
    run_as_group: int
    run_as_non_root: bool
    run_as_user: int
    se_linux_options: SELinuxOptions
    seccomp_profile: SeccompProfile
    windows_options: WindowsSecurityContextOptions
    def __init__(self, allow_privilege_escalation: _Optional[bool] = ..., app_armor_profile: _Optional[_Union[AppArmorProfile, _Mapping]] = ..., capabilities: _Optional[_Union[Capabilities, _Mapping]] = ..., privileged: _Optional[bool] = ..., proc_mount: _Optional[str] = ..., read_only_root_filesystem: _Optional[bool] = ..., run_as_group: _Optional[int] = ..., run_as_non_root: _Optional[bool] = ..., run_as_user: _Optional[int] = ..., se_linux_options: _Optional[_Union[SELinuxOptions, _Mapping]] = ..., seccomp_profile: _Optional[_Union[SeccompProfile, _Mapping]] = ..., windows_options: _Optional[_Union[WindowsSecurityContextOptions, _Mapping]] = ...) -> None: ...

class VolumeDevice(_message.Message):
    __slots__ = ("device_path", "name")
    DEVICE_PATH_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    device_path: str
    name: str
    def __init__(self, device_path: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class VolumeMount(_message.Message):
    __slots__ = ("bind_mount_options", "mount_path", "mount_propagation", "name", "read_only", "recursive_read_only", "sub_path", "sub_path_expr")
    BIND_MOUNT_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    MOUNT_PATH_FIELD_NUMBER: _ClassVar[int]
    MOUNT_PROPAGATION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    RECURSIVE_READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SUB_PATH_FIELD_NUMBER: _ClassVar[int]
    SUB_PATH_EXPR_FIELD_NUMBER: _ClassVar[int]
    bind_mount_options: _containers.RepeatedScalarFieldContainer[str]
    mount_path: str
    mount_propagation: str
    name: str
    read_only: bool
    recursive_read_only: str
    sub_path: str
    sub_path_expr: str
    def __init__(self, bind_mount_options: _Optional[_Iterable[str]] = ..., mount_path: _Optional[str] = ..., mount_propagation: _Optional[str] = ..., name: _Optional[str] = ..., read_only: _Optional[bool] = ..., recursive_read_only: _Optional[str] = ..., sub_path: _Optional[str] = ..., sub_path_expr: _Optional[str] = ...) -> None: ...

class PodDNSConfigOption(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class ResourceClaim(_message.Message):
    __slots__ = ("name", "request")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    name: str
    request: str
    def __init__(self, name: _Optional[str] = ..., request: _Optional[str] = ...) -> None: ...

class AppArmorProfile(_message.Message):
    __slots__ = ("localhost_profile", "type")
    LOCALHOST_PROFILE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    localhost_profile: str
    type: str
    def __init__(self, localhost_profile: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class SELinuxOptions(_message.Message):
    __slots__ = ("level", "role", "type", "user")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    level: str
    role: str
    type: str
    user: str
    def __init__(self, level: _Optional[str] = ..., role: _Optional[str] = ..., type: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...

class SeccompProfile(_message.Message):
    __slots__ = ("localhost_profile", "type")
    LOCALHOST_PROFILE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    localhost_profile: str
    type: str
    def __init__(self, localhost_profile: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class Sysctl(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class WindowsSecurityContextOptions(_message.Message):
    __slots__ = ("gmsa_credential_spec", "gmsa_credential_spec_name", "host_process", "run_as_user_name")
    GMSA_CREDENTIAL_SPEC_FIELD_NUMBER: _ClassVar[int]
    GMSA_CREDENTIAL_SPEC_NAME_FIELD_NUMBER: _ClassVar[int]
    HOST_PROCESS_FIELD_NUMBER: _ClassVar[int]
    RUN_AS_USER_NAME_FIELD_NUMBER: _ClassVar[int]
    gmsa_credential_spec: str
    gmsa_credential_spec_name: str
    host_process: bool
    run_as_user_name: str
    def __init__(self, gmsa_credential_spec: _Optional[str] = ..., gmsa_credential_spec_name: _Optional[str] = ..., host_process: _Optional[bool] = ..., run_as_user_name: _Optional[str] = ...) -> None: ...

class AzureFileVolumeSource(_message.Message):
    __slots__ = ("read_only", "secret_name", "share_name")
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SECRET_NAME_FIELD_NUMBER: _ClassVar[int]
    SHARE_NAME_FIELD_NUMBER: _ClassVar[int]
    read_only: bool
    secret_name: str
    share_name: str
    def __init__(self, read_only: _Optional[bool] = ..., secret_name: _Optional[str] = ..., share_name: _Optional[str] = ...) -> None: ...

class CephFSVolumeSource(_message.Message):
    __slots__ = ("monitors", "path", "read_only", "secret_file", "secret_ref", "user")
    MONITORS_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FILE_FIELD_NUMBER: _ClassVar[int]
    SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    monitors: _containers.RepeatedScalarFieldContainer[str]
    path: str
    read_only: bool
    secret_file: str
    secret_ref: _meta_pb2.LocalObjectReference
    user: str
    def __init__(self, monitors: _Optional[_Iterable[str]] = ..., path: _Optional[str] = ..., read_only: _Optional[bool] = ..., secret_file: _Optional[str] = ..., secret_ref: _Optional[_Union[_meta_pb2.LocalObjectReference, _Mapping]] = ..., user: _Optional[str] = ...) -> None: ...

class CinderVolumeSource(_message.Message):
    __slots__ = ("fs_type", "read_only", "secret_ref", "volume_id")
    FS_TYPE_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    fs_type: str
    read_only: bool
    secret_ref: _meta_pb2.LocalObjectReference
    volume_id: str
    def __init__(self, fs_type: _Optional[str] = ..., read_only: _Optional[bool] = ..., secret_ref: _Optional[_Union[_meta_pb2.LocalObjectReference, _Mapping]] = ..., volume_id: _Optional[str] = ...) -> None: ...

class ConfigMapVolumeSource(_message.Message):
    __slots__ = ("default_mode", "default_user", "items", "name", "optional")
    DEFAULT_MODE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_USER_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    default_mode: int
    default_user: int
    items: _containers.RepeatedCompositeFieldContainer[KeyToPath]
    name: str
    optional: bool
    def __init__(self, default_mode: _Optional[int] = ..., default_user: _Optional[int] = ..., items: _Optional[_Iterable[_Union[KeyToPath, _Mapping]]] = ..., name: _Optional[str] = ..., optional: _Optional[bool] = ...) -> None: ...

class CSIVolumeSource(_message.Message):
    __slots__ = ("driver", "fs_type", "node_publish_secret_ref", "read_only", "volume_attributes")
    class VolumeAttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    FS_TYPE_FIELD_NUMBER: _ClassVar[int]
    NODE_PUBLISH_SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    driver: str
    fs_type: str
    node_publish_secret_ref: _meta_pb2.LocalObjectReference
    read_only: bool
    volume_attributes: _containers.ScalarMap[str, str]
    def __init__(self, driver: _Optional[str] = ..., fs_type: _Optional[str] = ..., node_publish_secret_ref: _Optional[_Union[_meta_pb2.LocalObjectReference, _Mapping]] = ..., read_only: _Optional[bool] = ..., volume_attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class DownwardAPIVolumeSource(_message.Message):
    __slots__ = ("default_mode", "default_user", "items")
    DEFAULT_MODE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_USER_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    default_mode: int
    default_user: int
    items: _containers.RepeatedCompositeFieldContainer[DownwardAPIVolumeFile]
    def __init__(self, default_mode: _Optional[int] = ..., default_user: _Optional[int] = ..., items: _Optional[_Iterable[_Union[DownwardAPIVolumeFile, _Mapping]]] = ...) -> None: ...

class EmptyDirVolumeSource(_message.Message):
    __slots__ = ("medium", "mode", "size_limit")
    MEDIUM_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SIZE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    medium: str
    mode: int
    size_limit: str
    def __init__(self, medium: _Optional[str] = ..., mode: _Optional[int] = ..., size_limit: _Optional[str] = ...) -> None: ...

class EphemeralVolumeSource(_message.Message):
    __slots__ = ("volume_claim_template",)
    VOLUME_CLAIM_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    volume_claim_template: PersistentVolumeClaimTemplate
    def __init__(self, volume_claim_template: _Optional[_Union[PersistentVolumeClaimTemplate, _Mapping]] = ...) -> None: ...

class FlexVolumeSource(_message.Message):
    __slots__ = ("driver", "fs_type", "options", "read_only", "secret_ref")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    FS_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    driver: str
    fs_type: str
    options: _containers.ScalarMap[str, str]
    read_only: bool
    secret_ref: _meta_pb2.LocalObjectReference
    def __init__(self, driver: _Optional[str] = ..., fs_type: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ..., read_only: _Optional[bool] = ..., secret_ref: _Optional[_Union[_meta_pb2.LocalObjectReference, _Mapping]] = ...) -> None: ...

class GitRepoVolumeSource(_message.Message):
    __slots__ = ("directory", "repository", "revision")
    DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    directory: str
    repository: str
    revision: str
    def __init__(self, directory: _Optional[str] = ..., repository: _Optional[str] = ..., revision: _Optional[str] = ...) -> None: ...

class GlusterfsVolumeSource(_message.Message):
    __slots__ = ("endpoints", "path", "read_only")
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    endpoints: str
    path: str
    read_only: bool
    def __init__(self, endpoints: _Optional[str] = ..., path: _Optional[str] = ..., read_only: _Optional[bool] = ...) -> None: ...

class ImageVolumeSource(_message.Message):
    __slots__ = ("pull_policy", "reference")
    PULL_POLICY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    pull_policy: str
    reference: str
    def __init__(self, pull_policy: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class ISCSIVolumeSource(_message.Message):
    __slots__ = ("chap_auth_discovery", "chap_auth_session", "fs_type", "initiator_name", "iqn", "iscsi_interface", "lun", "portals", "read_only", "secret_ref", "target_portal")
    CHAP_AUTH_DISCOVERY_FIELD_NUMBER: _ClassVar[int]
    CHAP_AUTH_SESSION_FIELD_NUMBER: _ClassVar[int]
    FS_TYPE_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_NAME_FIELD_NUMBER: _ClassVar[int]
    IQN_FIELD_NUMBER: _ClassVar[int]
    ISCSI_INTERFACE_FIELD_NUMBER: _ClassVar[int]
    LUN_FIELD_NUMBER: _ClassVar[int]
    PORTALS_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    TARGET_PORTAL_FIELD_NUMBER: _ClassVar[int]
    chap_auth_discovery: bool
    chap_auth_session: bool
    fs_type: str
    initiator_name: str
    iqn: str
    iscsi_interface: str
    lun: int
    portals: _containers.RepeatedScalarFieldContainer[str]
    read_only: bool
    secret_ref: _meta_pb2.LocalObjectReference
    target_portal: str
    def __init__(self, chap_auth_discovery: _Optional[bool] = ..., chap_auth_session: _Optional[bool] = ..., fs_type: _Optional[str] = ..., initiator_name: _Optional[str] = ..., iqn: _Optional[str] = ..., iscsi_interface: _Optional[str] = ..., lun: _Optional[int] = ..., portals: _Optional[_Iterable[str]] = ..., read_only: _Optional[bool] = ..., secret_ref: _Optional[_Union[_meta_pb2.LocalObjectReference, _Mapping]] = ..., target_portal: _Optional[str] = ...) -> None: ...

class PersistentVolumeClaimVolumeSource(_message.Message):
    __slots__ = ("claim_name", "read_only")
    CLAIM_NAME_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    claim_name: str
    read_only: bool
    def __init__(self, claim_name: _Optional[str] = ..., read_only: _Optional[bool] = ...) -> None: ...

class ProjectedVolumeSource(_message.Message):
    __slots__ = ("default_mode", "default_user", "sources")
    DEFAULT_MODE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_USER_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    default_mode: int
    default_user: int
    sources: _containers.RepeatedCompositeFieldContainer[VolumeProjection]
    def __init__(self, default_mode: _Optional[int] = ..., default_user: _Optional[int] = ..., sources: _Optional[_Iterable[_Union[VolumeProjection, _Mapping]]] = ...) -> None: ...

class RBDVolumeSource(_message.Message):
    __slots__ = ("fs_type", "image", "keyring", "monitors", "pool", "read_only", "secret_ref", "user")
    FS_TYPE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    KEYRING_FIELD_NUMBER: _ClassVar[int]
    MONITORS_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    fs_type: str
    image: str
    keyring: str
    monitors: _containers.RepeatedScalarFieldContainer[str]
    pool: str
    read_only: bool
    secret_ref: _meta_pb2.LocalObjectReference
    user: str
    def __init__(self, fs_type: _Optional[str] = ..., image: _Optional[str] = ..., keyring: _Optional[str] = ..., monitors: _Optional[_Iterable[str]] = ..., pool: _Optional[str] = ..., read_only: _Optional[bool] = ..., secret_ref: _Optional[_Union[_meta_pb2.LocalObjectReference, _Mapping]] = ..., user: _Optional[str] = ...) -> None: ...

class ScaleIOVolumeSource(_message.Message):
    __slots__ = ("fs_type", "gateway", "protection_domain", "read_only", "secret_ref", "ssl_enabled", "storage_mode", "storage_pool", "system", "volume_name")
    FS_TYPE_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    SSL_ENABLED_FIELD_NUMBER: _ClassVar[int]
    STORAGE_MODE_FIELD_NUMBER: _ClassVar[int]
    STORAGE_POOL_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    VOLUME_NAME_FIELD_NUMBER: _ClassVar[int]
    fs_type: str
    gateway: str
    protection_domain: str
    read_only: bool
    secret_ref: _meta_pb2.LocalObjectReference
    ssl_enabled: bool
    storage_mode: str
    storage_pool: str
    system: str
    volume_name: str
    def __init__(self, fs_type: _Optional[str] = ..., gateway: _Optional[str] = ..., protection_domain: _Optional[str] = ..., read_only: _Optional[bool] = ..., secret_ref: _Optional[_Union[_meta_pb2.LocalObjectReference, _Mapping]] = ..., ssl_enabled: _Optional[bool] = ..., storage_mode: _Optional[str] = ..., storage_pool: _Optional[str] = ..., system: _Optional[str] = ..., volume_name: _Optional[str] = ...) -> None: ...

class SecretVolumeSource(_message.Message):
    __slots__ = ("default_mode", "default_user", "items", "optional", "secret_name")
    DEFAULT_MODE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_USER_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    SECRET_NAME_FIELD_NUMBER: _ClassVar[int]
    default_mode: int
    default_user: int
    items: _containers.RepeatedCompositeFieldContainer[KeyToPath]
    optional: bool
    secret_name: str
    def __init__(self, default_mode: _Optional[int] = ..., default_user: _Optional[int] = ..., items: _Optional[_Iterable[_Union[KeyToPath, _Mapping]]] = ..., optional: _Optional[bool] = ..., secret_name: _Optional[str] = ...) -> None: ...

class StorageOSVolumeSource(_message.Message):
    __slots__ = ("fs_type", "read_only", "secret_ref", "volume_name", "volume_namespace")
    FS_TYPE_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    VOLUME_NAME_FIELD_NUMBER: _ClassVar[int]
    VOLUME_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    fs_type: str
    read_only: bool
    secret_ref: _meta_pb2.LocalObjectReference
    volume_name: str
    volume_namespace: str
    def __init__(self, fs_type: _Optional[str] = ..., read_only: _Optional[bool] = ..., secret_ref: _Optional[_Union[_meta_pb2.LocalObjectReference, _Mapping]] = ..., volume_name: _Optional[str] = ..., volume_namespace: _Optional[str] = ...) -> None: ...

class ResourceStatus(_message.Message):
    __slots__ = ("name", "resources")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    name: str
    resources: _containers.RepeatedCompositeFieldContainer[ResourceHealth]
    def __init__(self, name: _Optional[str] = ..., resources: _Optional[_Iterable[_Union[ResourceHealth, _Mapping]]] = ...) -> None: ...

class ContainerState(_message.Message):
    __slots__ = ("running", "terminated", "waiting")
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    TERMINATED_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    running: ContainerStateRunning
    terminated: ContainerStateTerminated
    waiting: ContainerStateWaiting
    def __init__(self, running: _Optional[_Union[ContainerStateRunning, _Mapping]] = ..., terminated: _Optional[_Union[ContainerStateTerminated, _Mapping]] = ..., waiting: _Optional[_Union[ContainerStateWaiting, _Mapping]] = ...) -> None: ...

class ContainerUser(_message.Message):
    __slots__ = ("linux",)
    LINUX_FIELD_NUMBER: _ClassVar[int]
    linux: LinuxContainerUser
    def __init__(self, linux: _Optional[_Union[LinuxContainerUser, _Mapping]] = ...) -> None: ...

class VolumeMountStatus(_message.Message):
    __slots__ = ("mount_path", "name", "read_only", "recursive_read_only", "volume_status")
    MOUNT_PATH_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    RECURSIVE_READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    VOLUME_STATUS_FIELD_NUMBER: _ClassVar[int]
    mount_path: str
    name: str
    read_only: bool
    recursive_read_only: str
    volume_status: VolumeStatus
    def __init__(self, mount_path: _Optional[str] = ..., name: _Optional[str] = ..., read_only: _Optional[bool] = ..., recursive_read_only: _Optional[str] = ..., volume_status: _Optional[_Union[VolumeStatus, _Mapping]] = ...) -> None: ...

class ContainerExtendedResourceRequest(_message.Message):
    __slots__ = ("container_name", "request_name", "resource_name")
    CONTAINER_NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_NAME_FIELD_NUMBER: _ClassVar[int]
    container_name: str
    request_name: str
    resource_name: str
    def __init__(self, container_name: _Optional[str] = ..., request_name: _Optional[str] = ..., resource_name: _Optional[str] = ...) -> None: ...

class NodeAllocatableMappedResources(_message.Message):
    __slots__ = ("name", "quantity")
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    quantity: str
    def __init__(self, name: _Optional[str] = ..., quantity: _Optional[str] = ...) -> None: ...

class NodeAllocatableOverheadResources(_message.Message):
    __slots__ = ("name", "per_container", "per_pod")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PER_CONTAINER_FIELD_NUMBER: _ClassVar[int]
    PER_POD_FIELD_NUMBER: _ClassVar[int]
    name: str
    per_container: str
    per_pod: str
    def __init__(self, name: _Optional[str] = ..., per_container: _Optional[str] = ..., per_pod: _Optional[str] = ...) -> None: ...

class PreferredSchedulingTerm(_message.Message):
    __slots__ = ("preference", "weight")
    PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    preference: _core_pb2.NodeSelectorTerm
    weight: int
    def __init__(self, preference: _Optional[_Union[_core_pb2.NodeSelectorTerm, _Mapping]] = ..., weight: _Optional[int] = ...) -> None: ...

class WeightedPodAffinityTerm(_message.Message):
    __slots__ = ("pod_affinity_term", "weight")
    POD_AFFINITY_TERM_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    pod_affinity_term: PodAffinityTerm
    weight: int
    def __init__(self, pod_affinity_term: _Optional[_Union[PodAffinityTerm, _Mapping]] = ..., weight: _Optional[int] = ...) -> None: ...

class PodAffinityTerm(_message.Message):
    __slots__ = ("label_selector", "match_label_keys", "mismatch_label_keys", "namespace_selector", "namespaces", "topology_key")
    LABEL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    MATCH_LABEL_KEYS_FIELD_NUMBER: _ClassVar[int]
    MISMATCH_LABEL_KEYS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    TOPOLOGY_KEY_FIELD_NUMBER: _ClassVar[int]
    label_selector: _meta_pb2.LabelSelector
    match_label_keys: _containers.RepeatedScalarFieldContainer[str]
    mismatch_label_keys: _containers.RepeatedScalarFieldContainer[str]
    namespace_selector: _meta_pb2.LabelSelector
    namespaces: _containers.RepeatedScalarFieldContainer[str]
    topology_key: str
    def __init__(self, label_selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., match_label_keys: _Optional[_Iterable[str]] = ..., mismatch_label_keys: _Optional[_Iterable[str]] = ..., namespace_selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., namespaces: _Optional[_Iterable[str]] = ..., topology_key: _Optional[str] = ...) -> None: ...

class EnvVarSource(_message.Message):
    __slots__ = ("config_map_key_ref", "field_ref", "file_key_ref", "resource_field_ref", "secret_key_ref")
    CONFIG_MAP_KEY_REF_FIELD_NUMBER: _ClassVar[int]
    FIELD_REF_FIELD_NUMBER: _ClassVar[int]
    FILE_KEY_REF_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_REF_FIELD_NUMBER: _ClassVar[int]
    SECRET_KEY_REF_FIELD_NUMBER: _ClassVar[int]
    config_map_key_ref: ConfigMapKeySelector
    field_ref: ObjectFieldSelector
    file_key_ref: FileKeySelector
    resource_field_ref: ResourceFieldSelector
    secret_key_ref: SecretKeySelector
    def __init__(self, config_map_key_ref: _Optional[_Union[ConfigMapKeySelector, _Mapping]] = ..., field_ref: _Optional[_Union[ObjectFieldSelector, _Mapping]] = ..., file_key_ref: _Optional[_Union[FileKeySelector, _Mapping]] = ..., resource_field_ref: _Optional[_Union[ResourceFieldSelector, _Mapping]] = ..., secret_key_ref: _Optional[_Union[SecretKeySelector, _Mapping]] = ...) -> None: ...

class ConfigMapEnvSource(_message.Message):
    __slots__ = ("name", "optional")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    optional: bool
    def __init__(self, name: _Optional[str] = ..., optional: _Optional[bool] = ...) -> None: ...

class SecretEnvSource(_message.Message):
    __slots__ = ("name", "optional")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    optional: bool
    def __init__(self, name: _Optional[str] = ..., optional: _Optional[bool] = ...) -> None: ...

class LifecycleHandler(_message.Message):
    __slots__ = ("exec", "http_get", "sleep", "tcp_socket")
    EXEC_FIELD_NUMBER: _ClassVar[int]
    HTTP_GET_FIELD_NUMBER: _ClassVar[int]
    SLEEP_FIELD_NUMBER: _ClassVar[int]
    TCP_SOCKET_FIELD_NUMBER: _ClassVar[int]
    exec: ExecAction
    http_get: HTTPGetAction
    sleep: SleepAction
    tcp_socket: TCPSocketAction
    def __init__(self, exec: _Optional[_Union[ExecAction, _Mapping]] = ..., http_get: _Optional[_Union[HTTPGetAction, _Mapping]] = ..., sleep: _Optional[_Union[SleepAction, _Mapping]] = ..., tcp_socket: _Optional[_Union[TCPSocketAction, _Mapping]] = ...) -> None: ...

class ExecAction(_message.Message):
    __slots__ = ("command",)
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    command: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, command: _Optional[_Iterable[str]] = ...) -> None: ...

class GRPCAction(_message.Message):
    __slots__ = ("mode", "port", "service")
    MODE_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    mode: str
    port: int
    service: str
    def __init__(self, mode: _Optional[str] = ..., port: _Optional[int] = ..., service: _Optional[str] = ...) -> None: ...

class HTTPGetAction(_message.Message):
    __slots__ = ("host", "http_headers", "path", "port", "protocol", "scheme")
    HOST_FIELD_NUMBER: _ClassVar[int]
    HTTP_HEADERS_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    host: str
    http_headers: _containers.RepeatedCompositeFieldContainer[HTTPHeader]
    path: str
    port: _struct_pb2.Value
    protocol: str
    scheme: str
    def __init__(self, host: _Optional[str] = ..., http_headers: _Optional[_Iterable[_Union[HTTPHeader, _Mapping]]] = ..., path: _Optional[str] = ..., port: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., protocol: _Optional[str] = ..., scheme: _Optional[str] = ...) -> None: ...

class TCPSocketAction(_message.Message):
    __slots__ = ("host", "port")
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    host: str
    port: _struct_pb2.Value
    def __init__(self, host: _Optional[str] = ..., port: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class ContainerRestartRuleOnExitCodes(_message.Message):
    __slots__ = ("operator", "values")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    operator: str
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, operator: _Optional[str] = ..., values: _Optional[_Iterable[int]] = ...) -> None: ...

class Capabilities(_message.Message):
    __slots__ = ("add", "drop")
    ADD_FIELD_NUMBER: _ClassVar[int]
    DROP_FIELD_NUMBER: _ClassVar[int]
    add: _containers.RepeatedScalarFieldContainer[str]
    drop: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, add: _Optional[_Iterable[str]] = ..., drop: _Optional[_Iterable[str]] = ...) -> None: ...

class KeyToPath(_message.Message):
    __slots__ = ("key", "mode", "path", "user")
    KEY_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    key: str
    mode: int
    path: str
    user: int
    def __init__(self, key: _Optional[str] = ..., mode: _Optional[int] = ..., path: _Optional[str] = ..., user: _Optional[int] = ...) -> None: ...

class DownwardAPIVolumeFile(_message.Message):
    __slots__ = ("field_ref", "mode", "path", "resource_field_ref", "user")
    FIELD_REF_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_REF_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    field_ref: ObjectFieldSelector
    mode: int
    path: str
    resource_field_ref: ResourceFieldSelector
    user: int
    def __init__(self, field_ref: _Optional[_Union[ObjectFieldSelector, _Mapping]] = ..., mode: _Optional[int] = ..., path: _Optional[str] = ..., resource_field_ref: _Optional[_Union[ResourceFieldSelector, _Mapping]] = ..., user: _Optional[int] = ...) -> None: ...

class PersistentVolumeClaimTemplate(_message.Message):
    __slots__ = ("metadata", "spec")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ObjectMeta
    spec: _core_pb2.PersistentVolumeClaimSpec
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[_core_pb2.PersistentVolumeClaimSpec, _Mapping]] = ...) -> None: ...

class VolumeProjection(_message.Message):
    __slots__ = ("cluster_trust_bundle", "config_map", "downward_api", "pod_certificate", "secret", "service_account_token")
    CLUSTER_TRUST_BUNDLE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_MAP_FIELD_NUMBER: _ClassVar[int]
    DOWNWARD_API_FIELD_NUMBER: _ClassVar[int]
    POD_CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ACCOUNT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    cluster_trust_bundle: ClusterTrustBundleProjection
    config_map: ConfigMapProjection
    downward_api: DownwardAPIProjection
    pod_certificate: PodCertificateProjection
    secret: SecretProjection
    service_account_token: ServiceAccountTokenProjection
    def __init__(self, cluster_trust_bundle: _Optional[_Union[ClusterTrustBundleProjection, _Mapping]] = ..., config_map: _Optional[_Union[ConfigMapProjection, _Mapping]] = ..., downward_api: _Optional[_Union[DownwardAPIProjection, _Mapping]] = ..., pod_certificate: _Optional[_Union[PodCertificateProjection, _Mapping]] = ..., secret: _Optional[_Union[SecretProjection, _Mapping]] = ..., service_account_token: _Optional[_Union[ServiceAccountTokenProjection, _Mapping]] = ...) -> None: ...

class ResourceHealth(_message.Message):
    __slots__ = ("health", "message", "resource_id")
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    health: str
    message: str
    resource_id: str
    def __init__(self, health: _Optional[str] = ..., message: _Optional[str] = ..., resource_id: _Optional[str] = ...) -> None: ...

class ContainerStateRunning(_message.Message):
    __slots__ = ("started_at",)
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ContainerStateTerminated(_message.Message):
    __slots__ = ("container_id", "exit_code", "finished_at", "message", "reason", "signal", "started_at")
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    exit_code: int
    finished_at: _timestamp_pb2.Timestamp
    message: str
    reason: str
    signal: int
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, container_id: _Optional[str] = ..., exit_code: _Optional[int] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ..., reason: _Optional[str] = ..., signal: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ContainerStateWaiting(_message.Message):
    __slots__ = ("message", "reason")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    message: str
    reason: str
    def __init__(self, message: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class LinuxContainerUser(_message.Message):
    __slots__ = ("gid", "supplemental_groups", "uid")
    GID_FIELD_NUMBER: _ClassVar[int]
    SUPPLEMENTAL_GROUPS_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    gid: int
    supplemental_groups: _containers.RepeatedScalarFieldContainer[int]
    uid: int
    def __init__(self, gid: _Optional[int] = ..., supplemental_groups: _Optional[_Iterable[int]] = ..., uid: _Optional[int] = ...) -> None: ...

class VolumeStatus(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: ImageVolumeStatus
    def __init__(self, image: _Optional[_Union[ImageVolumeStatus, _Mapping]] = ...) -> None: ...

class ConfigMapKeySelector(_message.Message):
    __slots__ = ("key", "name", "optional")
    KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    key: str
    name: str
    optional: bool
    def __init__(self, key: _Optional[str] = ..., name: _Optional[str] = ..., optional: _Optional[bool] = ...) -> None: ...

class ObjectFieldSelector(_message.Message):
    __slots__ = ("api_version", "field_path")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    FIELD_PATH_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    field_path: str
    def __init__(self, api_version: _Optional[str] = ..., field_path: _Optional[str] = ...) -> None: ...

class FileKeySelector(_message.Message):
    __slots__ = ("key", "optional", "path", "volume_name")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    VOLUME_NAME_FIELD_NUMBER: _ClassVar[int]
    key: str
    optional: bool
    path: str
    volume_name: str
    def __init__(self, key: _Optional[str] = ..., optional: _Optional[bool] = ..., path: _Optional[str] = ..., volume_name: _Optional[str] = ...) -> None: ...

class ResourceFieldSelector(_message.Message):
    __slots__ = ("container_name", "divisor", "resource")
    CONTAINER_NAME_FIELD_NUMBER: _ClassVar[int]
    DIVISOR_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    container_name: str
    divisor: str
    resource: str
    def __init__(self, container_name: _Optional[str] = ..., divisor: _Optional[str] = ..., resource: _Optional[str] = ...) -> None: ...

class SecretKeySelector(_message.Message):
    __slots__ = ("key", "name", "optional")
    KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    key: str
    name: str
    optional: bool
    def __init__(self, key: _Optional[str] = ..., name: _Optional[str] = ..., optional: _Optional[bool] = ...) -> None: ...

class SleepAction(_message.Message):
    __slots__ = ("seconds",)
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    seconds: int
    def __init__(self, seconds: _Optional[int] = ...) -> None: ...

class HTTPHeader(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class ClusterTrustBundleProjection(_message.Message):
    __slots__ = ("label_selector", "name", "optional", "path", "signer_name", "user")
    LABEL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIGNER_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    label_selector: _meta_pb2.LabelSelector
    name: str
    optional: bool
    path: str
    signer_name: str
    user: int
    def __init__(self, label_selector: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., name: _Optional[str] = ..., optional: _Optional[bool] = ..., path: _Optional[str] = ..., signer_name: _Optional[str] = ..., user: _Optional[int] = ...) -> None: ...

class ConfigMapProjection(_message.Message):
    __slots__ = ("items", "name", "optional")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[KeyToPath]
    name: str
    optional: bool
    def __init__(self, items: _Optional[_Iterable[_Union[KeyToPath, _Mapping]]] = ..., name: _Optional[str] = ..., optional: _Optional[bool] = ...) -> None: ...

class DownwardAPIProjection(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[DownwardAPIVolumeFile]
    def __init__(self, items: _Optional[_Iterable[_Union[DownwardAPIVolumeFile, _Mapping]]] = ...) -> None: ...

class PodCertificateProjection(_message.Message):
    __slots__ = ("certificate_chain_path", "credential_bundle_path", "key_path", "key_type", "max_expiration_seconds", "signer_name", "user", "user_annotations")
    class UserAnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CERTIFICATE_CHAIN_PATH_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_BUNDLE_PATH_FIELD_NUMBER: _ClassVar[int]
    KEY_PATH_FIELD_NUMBER: _ClassVar[int]
    KEY_TYPE_FIELD_NUMBER: _ClassVar[int]
    MAX_EXPIRATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SIGNER_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    USER_ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    certificate_chain_path: str
    credential_bundle_path: str
    key_path: str
    key_type: str
    max_expiration_seconds: int
    signer_name: str
    user: int
    user_annotations: _containers.ScalarMap[str, str]
    def __init__(self, certificate_chain_path: _Optional[str] = ..., credential_bundle_path: _Optional[str] = ..., key_path: _Optional[str] = ..., key_type: _Optional[str] = ..., max_expiration_seconds: _Optional[int] = ..., signer_name: _Optional[str] = ..., user: _Optional[int] = ..., user_annotations: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SecretProjection(_message.Message):
    __slots__ = ("items", "name", "optional")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[KeyToPath]
    name: str
    optional: bool
    def __init__(self, items: _Optional[_Iterable[_Union[KeyToPath, _Mapping]]] = ..., name: _Optional[str] = ..., optional: _Optional[bool] = ...) -> None: ...

class ServiceAccountTokenProjection(_message.Message):
    __slots__ = ("audience", "expiration_seconds", "path", "user")
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    audience: str
    expiration_seconds: int
    path: str
    user: int
    def __init__(self, audience: _Optional[str] = ..., expiration_seconds: _Optional[int] = ..., path: _Optional[str] = ..., user: _Optional[int] = ...) -> None: ...

class ImageVolumeStatus(_message.Message):
    __slots__ = ("image_ref",)
    IMAGE_REF_FIELD_NUMBER: _ClassVar[int]
    image_ref: str
    def __init__(self, image_ref: _Optional[str] = ...) -> None: ...

class Binding(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "target")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    target: _meta_pb2.ObjectReference
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., target: _Optional[_Union[_meta_pb2.ObjectReference, _Mapping]] = ...) -> None: ...

class PodTemplate(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "template")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    template: PodTemplateSpec
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., template: _Optional[_Union[PodTemplateSpec, _Mapping]] = ...) -> None: ...

class PodTemplateSpec(_message.Message):
    __slots__ = ("metadata", "spec")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ObjectMeta
    spec: PodSpec
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[PodSpec, _Mapping]] = ...) -> None: ...
