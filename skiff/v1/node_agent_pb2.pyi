import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LogsRequest(_message.Message):
    __slots__ = ("namespace", "name", "container", "follow", "tail_lines", "previous", "timestamps", "since_seconds", "since_time")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    TAIL_LINES_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    SINCE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SINCE_TIME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    container: str
    follow: bool
    tail_lines: int
    previous: bool
    timestamps: bool
    since_seconds: int
    since_time: _timestamp_pb2.Timestamp
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., container: _Optional[str] = ..., follow: _Optional[bool] = ..., tail_lines: _Optional[int] = ..., previous: _Optional[bool] = ..., timestamps: _Optional[bool] = ..., since_seconds: _Optional[int] = ..., since_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LogChunk(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class ExecRequest(_message.Message):
    __slots__ = ("namespace", "name", "container", "command", "timeout_seconds")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    container: str
    command: _containers.RepeatedScalarFieldContainer[str]
    timeout_seconds: int
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., container: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., timeout_seconds: _Optional[int] = ...) -> None: ...

class ExecResponse(_message.Message):
    __slots__ = ("stdout", "stderr", "exit_code")
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    stdout: bytes
    stderr: bytes
    exit_code: int
    def __init__(self, stdout: _Optional[bytes] = ..., stderr: _Optional[bytes] = ..., exit_code: _Optional[int] = ...) -> None: ...

class ExecInput(_message.Message):
    __slots__ = ("start", "stdin", "close_stdin", "tty", "stdin_open", "resize")
    START_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    CLOSE_STDIN_FIELD_NUMBER: _ClassVar[int]
    TTY_FIELD_NUMBER: _ClassVar[int]
    STDIN_OPEN_FIELD_NUMBER: _ClassVar[int]
    RESIZE_FIELD_NUMBER: _ClassVar[int]
    start: ExecRequest
    stdin: bytes
    close_stdin: bool
    tty: bool
    stdin_open: bool
    resize: TerminalSize
    def __init__(self, start: _Optional[_Union[ExecRequest, _Mapping]] = ..., stdin: _Optional[bytes] = ..., close_stdin: _Optional[bool] = ..., tty: _Optional[bool] = ..., stdin_open: _Optional[bool] = ..., resize: _Optional[_Union[TerminalSize, _Mapping]] = ...) -> None: ...

class TerminalSize(_message.Message):
    __slots__ = ("width", "height")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class ExecOutput(_message.Message):
    __slots__ = ("stdout", "stderr", "exit_code")
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    stdout: bytes
    stderr: bytes
    exit_code: int
    def __init__(self, stdout: _Optional[bytes] = ..., stderr: _Optional[bytes] = ..., exit_code: _Optional[int] = ...) -> None: ...

class PortForwardRequest(_message.Message):
    __slots__ = ("namespace", "name", "port")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    port: int
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., port: _Optional[int] = ...) -> None: ...

class PortForwardInput(_message.Message):
    __slots__ = ("start", "data", "close")
    START_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    start: PortForwardRequest
    data: bytes
    close: bool
    def __init__(self, start: _Optional[_Union[PortForwardRequest, _Mapping]] = ..., data: _Optional[bytes] = ..., close: _Optional[bool] = ...) -> None: ...

class PortForwardOutput(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ContainerStats(_message.Message):
    __slots__ = ("name", "cpu_usage_nano_cores", "memory_working_set_bytes", "cpu_usage_core_nano_seconds", "cpu_timestamp_ns", "id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CPU_USAGE_NANO_CORES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_WORKING_SET_BYTES_FIELD_NUMBER: _ClassVar[int]
    CPU_USAGE_CORE_NANO_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CPU_TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    cpu_usage_nano_cores: int
    memory_working_set_bytes: int
    cpu_usage_core_nano_seconds: int
    cpu_timestamp_ns: int
    id: str
    def __init__(self, name: _Optional[str] = ..., cpu_usage_nano_cores: _Optional[int] = ..., memory_working_set_bytes: _Optional[int] = ..., cpu_usage_core_nano_seconds: _Optional[int] = ..., cpu_timestamp_ns: _Optional[int] = ..., id: _Optional[str] = ...) -> None: ...

class PodStats(_message.Message):
    __slots__ = ("namespace", "name", "cpu_usage_nano_cores", "memory_working_set_bytes", "containers")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CPU_USAGE_NANO_CORES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_WORKING_SET_BYTES_FIELD_NUMBER: _ClassVar[int]
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    cpu_usage_nano_cores: int
    memory_working_set_bytes: int
    containers: _containers.RepeatedCompositeFieldContainer[ContainerStats]
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., cpu_usage_nano_cores: _Optional[int] = ..., memory_working_set_bytes: _Optional[int] = ..., containers: _Optional[_Iterable[_Union[ContainerStats, _Mapping]]] = ...) -> None: ...

class StatsSummary(_message.Message):
    __slots__ = ("node_name", "cpu_usage_nano_cores", "memory_working_set_bytes", "memory_capacity_bytes", "cpu_count", "pods", "cpu_usage_core_nano_seconds", "cpu_timestamp_ns")
    NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    CPU_USAGE_NANO_CORES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_WORKING_SET_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_CAPACITY_BYTES_FIELD_NUMBER: _ClassVar[int]
    CPU_COUNT_FIELD_NUMBER: _ClassVar[int]
    PODS_FIELD_NUMBER: _ClassVar[int]
    CPU_USAGE_CORE_NANO_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CPU_TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    node_name: str
    cpu_usage_nano_cores: int
    memory_working_set_bytes: int
    memory_capacity_bytes: int
    cpu_count: int
    pods: _containers.RepeatedCompositeFieldContainer[PodStats]
    cpu_usage_core_nano_seconds: int
    cpu_timestamp_ns: int
    def __init__(self, node_name: _Optional[str] = ..., cpu_usage_nano_cores: _Optional[int] = ..., memory_working_set_bytes: _Optional[int] = ..., memory_capacity_bytes: _Optional[int] = ..., cpu_count: _Optional[int] = ..., pods: _Optional[_Iterable[_Union[PodStats, _Mapping]]] = ..., cpu_usage_core_nano_seconds: _Optional[int] = ..., cpu_timestamp_ns: _Optional[int] = ...) -> None: ...
