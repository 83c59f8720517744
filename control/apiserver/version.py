"""`skiff.v1.Version/Get`: kube-apiserver's GET /version, open to every caller (Kubernetes grants it to
system:unauthenticated through system:public-info-viewer)."""

from __future__ import annotations

import grpc
from google.protobuf import json_format

from control.client.version import version_info
from skiff.v1 import version_pb2

SERVICE_NAME = version_pb2.DESCRIPTOR.services_by_name["Version"].full_name


def service() -> grpc.GenericRpcHandler:
    info = json_format.ParseDict(version_info(), version_pb2.VersionInfo())

    async def get(_request: version_pb2.GetVersionRequest, _context: grpc.aio.ServicerContext):
        return info

    handler = grpc.unary_unary_rpc_method_handler(get, version_pb2.GetVersionRequest.FromString,
                                                  version_pb2.VersionInfo.SerializeToString)
    return grpc.method_handlers_generic_handler(SERVICE_NAME, {"Get": handler})
