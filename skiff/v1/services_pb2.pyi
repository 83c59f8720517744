from skiff.v1 import apps_pb2 as _apps_pb2
from skiff.v1 import authz_pb2 as _authz_pb2
from skiff.v1 import autoscaling_pb2 as _autoscaling_pb2
from skiff.v1 import batch_pb2 as _batch_pb2
from skiff.v1 import coordination_pb2 as _coordination_pb2
from skiff.v1 import core_pb2 as _core_pb2
from skiff.v1 import meta_pb2 as _meta_pb2
from skiff.v1 import networking_pb2 as _networking_pb2
from skiff.v1 import node_agent_pb2 as _node_agent_pb2
from skiff.v1 import pod_pb2 as _pod_pb2
from skiff.v1 import policy_pb2 as _policy_pb2
from skiff.v1 import rbac_pb2 as _rbac_pb2
from skiff.v1 import requests_pb2 as _requests_pb2
from skiff.v1 import scheduling_pb2 as _scheduling_pb2
from skiff.v1 import storage_pb2 as _storage_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NamespaceRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.Namespace
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.Namespace, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class NamespaceList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.Namespace]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.Namespace, _Mapping]]] = ...) -> None: ...

class NamespaceWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.Namespace
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.Namespace, _Mapping]] = ...) -> None: ...

class NodeRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.Node
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.Node, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class NodeList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.Node]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.Node, _Mapping]]] = ...) -> None: ...

class NodeWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.Node
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.Node, _Mapping]] = ...) -> None: ...

class PodRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _pod_pb2.Pod
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_pod_pb2.Pod, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class PodList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_pod_pb2.Pod]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_pod_pb2.Pod, _Mapping]]] = ...) -> None: ...

class PodWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _pod_pb2.Pod
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_pod_pb2.Pod, _Mapping]] = ...) -> None: ...

class ServiceRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.Service
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.Service, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ServiceList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.Service]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.Service, _Mapping]]] = ...) -> None: ...

class ServiceWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.Service
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.Service, _Mapping]] = ...) -> None: ...

class EndpointsRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.Endpoints
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.Endpoints, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class EndpointsList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.Endpoints]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.Endpoints, _Mapping]]] = ...) -> None: ...

class EndpointsWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.Endpoints
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.Endpoints, _Mapping]] = ...) -> None: ...

class ConfigMapRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.ConfigMap
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.ConfigMap, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ConfigMapList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.ConfigMap]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.ConfigMap, _Mapping]]] = ...) -> None: ...

class ConfigMapWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.ConfigMap
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.ConfigMap, _Mapping]] = ...) -> None: ...

class SecretRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.Secret
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.Secret, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class SecretList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.Secret]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.Secret, _Mapping]]] = ...) -> None: ...

class SecretWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.Secret
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.Secret, _Mapping]] = ...) -> None: ...

class ServiceAccountRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.ServiceAccount
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.ServiceAccount, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ServiceAccountList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.ServiceAccount]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.ServiceAccount, _Mapping]]] = ...) -> None: ...

class ServiceAccountWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.ServiceAccount
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.ServiceAccount, _Mapping]] = ...) -> None: ...

class EventRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.Event
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.Event, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class EventList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.Event]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.Event, _Mapping]]] = ...) -> None: ...

class EventWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.Event
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.Event, _Mapping]] = ...) -> None: ...

class ReplicaSetRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _apps_pb2.ReplicaSet
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_apps_pb2.ReplicaSet, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ReplicaSetList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_apps_pb2.ReplicaSet]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_apps_pb2.ReplicaSet, _Mapping]]] = ...) -> None: ...

class ReplicaSetWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _apps_pb2.ReplicaSet
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_apps_pb2.ReplicaSet, _Mapping]] = ...) -> None: ...

class DeploymentRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _apps_pb2.Deployment
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_apps_pb2.Deployment, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class DeploymentList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_apps_pb2.Deployment]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_apps_pb2.Deployment, _Mapping]]] = ...) -> None: ...

class DeploymentWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _apps_pb2.Deployment
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_apps_pb2.Deployment, _Mapping]] = ...) -> None: ...

class JobRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _batch_pb2.Job
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_batch_pb2.Job, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class JobList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_batch_pb2.Job]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_batch_pb2.Job, _Mapping]]] = ...) -> None: ...

class JobWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _batch_pb2.Job
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_batch_pb2.Job, _Mapping]] = ...) -> None: ...

class CronJobRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _batch_pb2.CronJob
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_batch_pb2.CronJob, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class CronJobList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_batch_pb2.CronJob]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_batch_pb2.CronJob, _Mapping]]] = ...) -> None: ...

class CronJobWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _batch_pb2.CronJob
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_batch_pb2.CronJob, _Mapping]] = ...) -> None: ...

class DaemonSetRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _apps_pb2.DaemonSet
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_apps_pb2.DaemonSet, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class DaemonSetList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_apps_pb2.DaemonSet]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_apps_pb2.DaemonSet, _Mapping]]] = ...) -> None: ...

class DaemonSetWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _apps_pb2.DaemonSet
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_apps_pb2.DaemonSet, _Mapping]] = ...) -> None: ...

class StatefulSetRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _apps_pb2.StatefulSet
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_apps_pb2.StatefulSet, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class StatefulSetList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_apps_pb2.StatefulSet]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_apps_pb2.StatefulSet, _Mapping]]] = ...) -> None: ...

class StatefulSetWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _apps_pb2.StatefulSet
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_apps_pb2.StatefulSet, _Mapping]] = ...) -> None: ...

class ControllerRevisionRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _apps_pb2.ControllerRevision
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_apps_pb2.ControllerRevision, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ControllerRevisionList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_apps_pb2.ControllerRevision]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_apps_pb2.ControllerRevision, _Mapping]]] = ...) -> None: ...

class ControllerRevisionWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _apps_pb2.ControllerRevision
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_apps_pb2.ControllerRevision, _Mapping]] = ...) -> None: ...

class PersistentVolumeRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.PersistentVolume
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.PersistentVolume, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class PersistentVolumeList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.PersistentVolume]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.PersistentVolume, _Mapping]]] = ...) -> None: ...

class PersistentVolumeWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.PersistentVolume
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.PersistentVolume, _Mapping]] = ...) -> None: ...

class PersistentVolumeClaimRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.PersistentVolumeClaim
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.PersistentVolumeClaim, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class PersistentVolumeClaimList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.PersistentVolumeClaim]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.PersistentVolumeClaim, _Mapping]]] = ...) -> None: ...

class PersistentVolumeClaimWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.PersistentVolumeClaim
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.PersistentVolumeClaim, _Mapping]] = ...) -> None: ...

class StorageClassRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _storage_pb2.StorageClass
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_storage_pb2.StorageClass, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class StorageClassList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_storage_pb2.StorageClass]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_storage_pb2.StorageClass, _Mapping]]] = ...) -> None: ...

class StorageClassWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _storage_pb2.StorageClass
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_storage_pb2.StorageClass, _Mapping]] = ...) -> None: ...

class LimitRangeRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.LimitRange
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.LimitRange, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class LimitRangeList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.LimitRange]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.LimitRange, _Mapping]]] = ...) -> None: ...

class LimitRangeWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.LimitRange
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.LimitRange, _Mapping]] = ...) -> None: ...

class ResourceQuotaRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _core_pb2.ResourceQuota
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_core_pb2.ResourceQuota, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ResourceQuotaList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_core_pb2.ResourceQuota]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_core_pb2.ResourceQuota, _Mapping]]] = ...) -> None: ...

class ResourceQuotaWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _core_pb2.ResourceQuota
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_core_pb2.ResourceQuota, _Mapping]] = ...) -> None: ...

class LeaseRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _coordination_pb2.Lease
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_coordination_pb2.Lease, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class LeaseList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_coordination_pb2.Lease]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_coordination_pb2.Lease, _Mapping]]] = ...) -> None: ...

class LeaseWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _coordination_pb2.Lease
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_coordination_pb2.Lease, _Mapping]] = ...) -> None: ...

class IngressRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _networking_pb2.Ingress
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_networking_pb2.Ingress, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class IngressList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_networking_pb2.Ingress]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_networking_pb2.Ingress, _Mapping]]] = ...) -> None: ...

class IngressWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _networking_pb2.Ingress
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_networking_pb2.Ingress, _Mapping]] = ...) -> None: ...

class IngressClassRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _networking_pb2.IngressClass
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_networking_pb2.IngressClass, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class IngressClassList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_networking_pb2.IngressClass]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_networking_pb2.IngressClass, _Mapping]]] = ...) -> None: ...

class IngressClassWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _networking_pb2.IngressClass
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_networking_pb2.IngressClass, _Mapping]] = ...) -> None: ...

class NetworkPolicyRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _networking_pb2.NetworkPolicy
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_networking_pb2.NetworkPolicy, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class NetworkPolicyList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_networking_pb2.NetworkPolicy]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_networking_pb2.NetworkPolicy, _Mapping]]] = ...) -> None: ...

class NetworkPolicyWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _networking_pb2.NetworkPolicy
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_networking_pb2.NetworkPolicy, _Mapping]] = ...) -> None: ...

class PodDisruptionBudgetRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _policy_pb2.PodDisruptionBudget
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_policy_pb2.PodDisruptionBudget, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class PodDisruptionBudgetList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_policy_pb2.PodDisruptionBudget]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_policy_pb2.PodDisruptionBudget, _Mapping]]] = ...) -> None: ...

class PodDisruptionBudgetWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _policy_pb2.PodDisruptionBudget
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_policy_pb2.PodDisruptionBudget, _Mapping]] = ...) -> None: ...

class PriorityClassRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _scheduling_pb2.PriorityClass
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_scheduling_pb2.PriorityClass, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class PriorityClassList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_scheduling_pb2.PriorityClass]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_scheduling_pb2.PriorityClass, _Mapping]]] = ...) -> None: ...

class PriorityClassWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _scheduling_pb2.PriorityClass
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_scheduling_pb2.PriorityClass, _Mapping]] = ...) -> None: ...

class RoleRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _rbac_pb2.Role
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_rbac_pb2.Role, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class RoleList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_rbac_pb2.Role]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_rbac_pb2.Role, _Mapping]]] = ...) -> None: ...

class RoleWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _rbac_pb2.Role
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_rbac_pb2.Role, _Mapping]] = ...) -> None: ...

class ClusterRoleRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _rbac_pb2.ClusterRole
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_rbac_pb2.ClusterRole, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ClusterRoleList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_rbac_pb2.ClusterRole]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_rbac_pb2.ClusterRole, _Mapping]]] = ...) -> None: ...

class ClusterRoleWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _rbac_pb2.ClusterRole
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_rbac_pb2.ClusterRole, _Mapping]] = ...) -> None: ...

class RoleBindingRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _rbac_pb2.RoleBinding
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_rbac_pb2.RoleBinding, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class RoleBindingList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_rbac_pb2.RoleBinding]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_rbac_pb2.RoleBinding, _Mapping]]] = ...) -> None: ...

class RoleBindingWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _rbac_pb2.RoleBinding
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_rbac_pb2.RoleBinding, _Mapping]] = ...) -> None: ...

class ClusterRoleBindingRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _rbac_pb2.ClusterRoleBinding
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_rbac_pb2.ClusterRoleBinding, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ClusterRoleBindingList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_rbac_pb2.ClusterRoleBinding]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_rbac_pb2.ClusterRoleBinding, _Mapping]]] = ...) -> None: ...

class ClusterRoleBindingWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _rbac_pb2.ClusterRoleBinding
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_rbac_pb2.ClusterRoleBinding, _Mapping]] = ...) -> None: ...

class HorizontalPodAutoscalerRequest(_message.Message):
    __slots__ = ("object", "dry_run")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    object: _autoscaling_pb2.HorizontalPodAutoscaler
    dry_run: bool
    def __init__(self, object: _Optional[_Union[_autoscaling_pb2.HorizontalPodAutoscaler, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class HorizontalPodAutoscalerList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[_autoscaling_pb2.HorizontalPodAutoscaler]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[_autoscaling_pb2.HorizontalPodAutoscaler, _Mapping]]] = ...) -> None: ...

class HorizontalPodAutoscalerWatchEvent(_message.Message):
    __slots__ = ("type", "object")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: _autoscaling_pb2.HorizontalPodAutoscaler
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[_autoscaling_pb2.HorizontalPodAutoscaler, _Mapping]] = ...) -> None: ...
