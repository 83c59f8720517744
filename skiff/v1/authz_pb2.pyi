from google.protobuf import struct_pb2 as _struct_pb2
from skiff.v1 import meta_pb2 as _meta_pb2
from skiff.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SelfSubjectAccessReview(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    spec: SelfSubjectAccessReviewSpec
    status: SubjectAccessReviewStatus
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[SelfSubjectAccessReviewSpec, _Mapping]] = ..., status: _Optional[_Union[SubjectAccessReviewStatus, _Mapping]] = ...) -> None: ...

class SelfSubjectAccessReviewSpec(_message.Message):
    __slots__ = ("non_resource_attributes", "resource_attributes")
    NON_RESOURCE_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    non_resource_attributes: NonResourceAttributes
    resource_attributes: ResourceAttributes
    def __init__(self, non_resource_attributes: _Optional[_Union[NonResourceAttributes, _Mapping]] = ..., resource_attributes: _Optional[_Union[ResourceAttributes, _Mapping]] = ...) -> None: ...

class SubjectAccessReviewStatus(_message.Message):
    __slots__ = ("allowed", "denied", "evaluation_error", "reason")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    DENIED_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_ERROR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    denied: bool
    evaluation_error: str
    reason: str
    def __init__(self, allowed: _Optional[bool] = ..., denied: _Optional[bool] = ..., evaluation_error: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class NonResourceAttributes(_message.Message):
    __slots__ = ("path", "verb")
    PATH_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    path: str
    verb: str
    def __init__(self, path: _Optional[str] = ..., verb: _Optional[str] = ...) -> None: ...

class ResourceAttributes(_message.Message):
    __slots__ = ("field_selector", "group", "label_selector", "name", "namespace", "resource", "subresource", "verb", "version")
    FIELD_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    LABEL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    SUBRESOURCE_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    field_selector: FieldSelectorAttributes
    group: str
    label_selector: LabelSelectorAttributes
    name: str
    namespace: str
    resource: str
    subresource: str
    verb: str
    version: str
    def __init__(self, field_selector: _Optional[_Union[FieldSelectorAttributes, _Mapping]] = ..., group: _Optional[str] = ..., label_selector: _Optional[_Union[LabelSelectorAttributes, _Mapping]] = ..., name: _Optional[str] = ..., namespace: _Optional[str] = ..., resource: _Optional[str] = ..., subresource: _Optional[str] = ..., verb: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class FieldSelectorAttributes(_message.Message):
    __slots__ = ("raw_selector", "requirements")
    RAW_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    raw_selector: str
    requirements: _containers.RepeatedCompositeFieldContainer[FieldSelectorRequirement]
    def __init__(self, raw_selector: _Optional[str] = ..., requirements: _Optional[_Iterable[_Union[FieldSelectorRequirement, _Mapping]]] = ...) -> None: ...

class LabelSelectorAttributes(_message.Message):
    __slots__ = ("raw_selector", "requirements")
    RAW_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    raw_selector: str
    requirements: _containers.RepeatedCompositeFieldContainer[_meta_pb2.LabelSelectorRequirement]
    def __init__(self, raw_selector: _Optional[str] = ..., requirements: _Optional[_Iterable[_Union[_meta_pb2.LabelSelectorRequirement, _Mapping]]] = ...) -> None: ...

class FieldSelectorRequirement(_message.Message):
    __slots__ = ("key", "operator", "values")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: str
    operator: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., operator: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class SelfSubjectReview(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    status: SelfSubjectReviewStatus
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., status: _Optional[_Union[SelfSubjectReviewStatus, _Mapping]] = ...) -> None: ...

class SelfSubjectReviewStatus(_message.Message):
    __slots__ = ("user_info",)
    USER_INFO_FIELD_NUMBER: _ClassVar[int]
    user_info: UserInfo
    def __init__(self, user_info: _Optional[_Union[UserInfo, _Mapping]] = ...) -> None: ...

class UserInfo(_message.Message):
    __slots__ = ("extra", "groups", "uid", "username")
    class ExtraEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.ListValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ...) -> None: ...
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    extra: _containers.MessageMap[str, _struct_pb2.ListValue]
    groups: _containers.RepeatedScalarFieldContainer[str]
    uid: str
    username: str
    def __init__(self, extra: _Optional[_Mapping[str, _struct_pb2.ListValue]] = ..., groups: _Optional[_Iterable[str]] = ..., uid: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...
