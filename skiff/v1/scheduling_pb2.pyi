from skiff.v1 import meta_pb2 as _meta_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PriorityClass(_message.Message):
    __slots__ = ("api_version", "description", "global_default", "kind", "metadata", "preemption_policy", "value")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PREEMPTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    description: str
    global_default: bool
    kind: str
    metadata: _meta_pb2.ObjectMeta
    preemption_policy: str
    value: int
    def __init__(self, api_version: _Optional[str] = ..., description: _Optional[str] = ..., global_default: _Optional[bool] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., preemption_policy: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
