import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from skiff.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ObjectMeta(_message.Message):
    __slots__ = ("annotations", "creation_timestamp", "deletion_grace_period_seconds", "deletion_timestamp", "finalizers", "generate_name", "generation", "labels", "managed_fields", "name", "namespace", "owner_references", "resource_version", "self_link", "uid")
    class AnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    CREATION_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DELETION_GRACE_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DELETION_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    FINALIZERS_FIELD_NUMBER: _ClassVar[int]
    GENERATE_NAME_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MANAGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    OWNER_REFERENCES_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SELF_LINK_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    annotations: _containers.ScalarMap[str, str]
    creation_timestamp: _timestamp_pb2.Timestamp
    deletion_grace_period_seconds: int
    deletion_timestamp: _timestamp_pb2.Timestamp
    finalizers: _containers.RepeatedScalarFieldContainer[str]
    generate_name: str
    generation: int
    labels: _containers.ScalarMap[str, str]
    managed_fields: _containers.RepeatedCompositeFieldContainer[ManagedFieldsEntry]
    name: str
    namespace: str
    owner_references: _containers.RepeatedCompositeFieldContainer[OwnerReference]
    resource_version: str
    self_link: str
    uid: str
    def __init__(self, annotations: _Optional[_Mapping[str, str]] = ..., creation_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deletion_grace_period_seconds: _Optional[int] = ..., deletion_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finalizers: _Optional[_Iterable[str]] = ..., generate_name: _Optional[str] = ..., generation: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., managed_fields: _Optional[_Iterable[_Union[ManagedFieldsEntry, _Mapping]]] = ..., name: _Optional[str] = ..., namespace: _Optional[str] = ..., owner_references: _Optional[_Iterable[_Union[OwnerReference, _Mapping]]] = ..., resource_version: _Optional[str] = ..., self_link: _Optional[str] = ..., uid: _Optional[str] = ...) -> None: ...

class ManagedFieldsEntry(_message.Message):
    __slots__ = ("api_version", "fields_type", "fields_v1", "manager", "operation", "subresource", "time")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_TYPE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_V1_FIELD_NUMBER: _ClassVar[int]
    MANAGER_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    SUBRESOURCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    fields_type: str
    fields_v1: _struct_pb2.Value
    manager: str
    operation: str
    subresource: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, api_version: _Optional[str] = ..., fields_type: _Optional[str] = ..., fields_v1: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., manager: _Optional[str] = ..., operation: _Optional[str] = ..., subresource: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OwnerReference(_message.Message):
    __slots__ = ("api_version", "block_owner_deletion", "controller", "kind", "name", "uid")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    BLOCK_OWNER_DELETION_FIELD_NUMBER: _ClassVar[int]
    CONTROLLER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    block_owner_deletion: bool
    controller: bool
    kind: str
    name: str
    uid: str
    def __init__(self, api_version: _Optional[str] = ..., block_owner_deletion: _Optional[bool] = ..., controller: _Optional[bool] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., uid: _Optional[str] = ...) -> None: ...

class ListMeta(_message.Message):
    __slots__ = ("continue_", "remaining_item_count", "resource_version", "self_link", "shard_info")
    CONTINUE__FIELD_NUMBER: _ClassVar[int]
    REMAINING_ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SELF_LINK_FIELD_NUMBER: _ClassVar[int]
    SHARD_INFO_FIELD_NUMBER: _ClassVar[int]
    continue_: str
    remaining_item_count: int
    resource_version: str
    self_link: str
    shard_info: ShardInfo
    def __init__(self, continue_: _Optional[str] = ..., remaining_item_count: _Optional[int] = ..., resource_version: _Optional[str] = ..., self_link: _Optional[str] = ..., shard_info: _Optional[_Union[ShardInfo, _Mapping]] = ...) -> None: ...

class ShardInfo(_message.Message):
    __slots__ = ("selector",)
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    selector: str
    def __init__(self, selector: _Optional[str] = ...) -> None: ...

class LabelSelector(_message.Message):
    __slots__ = ("match_expressions", "match_labels")
    class MatchLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MATCH_EXPRESSIONS_FIELD_NUMBER: _ClassVar[int]
    MATCH_LABELS_FIELD_NUMBER: _ClassVar[int]
    match_expressions: _containers.RepeatedCompositeFieldContainer[LabelSelectorRequirement]
    match_labels: _containers.ScalarMap[str, str]
    def __init__(self, match_expressions: _Optional[_Iterable[_Union[LabelSelectorRequirement, _Mapping]]] = ..., match_labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class LabelSelectorRequirement(_message.Message):
    __slots__ = ("key", "operator", "values")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: str
    operator: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., operator: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class ObjectReference(_message.Message):
    __slots__ = ("api_version", "field_path", "kind", "name", "namespace", "resource_version", "uid")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    FIELD_PATH_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    field_path: str
    kind: str
    name: str
    namespace: str
    resource_version: str
    uid: str
    def __init__(self, api_version: _Optional[str] = ..., field_path: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., namespace: _Optional[str] = ..., resource_version: _Optional[str] = ..., uid: _Optional[str] = ...) -> None: ...

class LocalObjectReference(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("last_transition_time", "message", "observed_generation", "reason", "status", "type")
    LAST_TRANSITION_TIME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_GENERATION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    last_transition_time: _timestamp_pb2.Timestamp
    message: str
    observed_generation: int
    reason: str
    status: str
    type: str
    def __init__(self, last_transition_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ..., observed_generation: _Optional[int] = ..., reason: _Optional[str] = ..., status: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("api_version", "code", "details", "kind", "message", "metadata", "reason", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    code: int
    details: StatusDetails
    kind: str
    message: str
    metadata: ListMeta
    reason: str
    status: str
    def __init__(self, api_version: _Optional[str] = ..., code: _Optional[int] = ..., details: _Optional[_Union[StatusDetails, _Mapping]] = ..., kind: _Optional[str] = ..., message: _Optional[str] = ..., metadata: _Optional[_Union[ListMeta, _Mapping]] = ..., reason: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class StatusDetails(_message.Message):
    __slots__ = ("causes", "group", "kind", "name", "retry_after_seconds", "uid")
    CAUSES_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    causes: _containers.RepeatedCompositeFieldContainer[StatusCause]
    group: str
    kind: str
    name: str
    retry_after_seconds: int
    uid: str
    def __init__(self, causes: _Optional[_Iterable[_Union[StatusCause, _Mapping]]] = ..., group: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., retry_after_seconds: _Optional[int] = ..., uid: _Optional[str] = ...) -> None: ...

class StatusCause(_message.Message):
    __slots__ = ("field", "message", "reason")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    field: str
    message: str
    reason: str
    def __init__(self, field: _Optional[str] = ..., message: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DeleteOptions(_message.Message):
    __slots__ = ("api_version", "dry_run", "grace_period_seconds", "ignore_store_read_error_with_cluster_breaking_potential", "kind", "orphan_dependents", "preconditions", "propagation_policy")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    IGNORE_STORE_READ_ERROR_WITH_CLUSTER_BREAKING_POTENTIAL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORPHAN_DEPENDENTS_FIELD_NUMBER: _ClassVar[int]
    PRECONDITIONS_FIELD_NUMBER: _ClassVar[int]
    PROPAGATION_POLICY_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    dry_run: _containers.RepeatedScalarFieldContainer[str]
    grace_period_seconds: int
    ignore_store_read_error_with_cluster_breaking_potential: bool
    kind: str
    orphan_dependents: bool
    preconditions: Preconditions
    propagation_policy: str
    def __init__(self, api_version: _Optional[str] = ..., dry_run: _Optional[_Iterable[str]] = ..., grace_period_seconds: _Optional[int] = ..., ignore_store_read_error_with_cluster_breaking_potential: _Optional[bool] = ..., kind: _Optional[str] = ..., orphan_dependents: _Optional[bool] = ..., preconditions: _Optional[_Union[Preconditions, _Mapping]] = ..., propagation_policy: _Optional[str] = ...) -> None: ...

class Preconditions(_message.Message):
    __slots__ = ("resource_version", "uid")
    RESOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    resource_version: str
    uid: str
    def __init__(self, resource_version: _Optional[str] = ..., uid: _Optional[str] = ...) -> None: ...
