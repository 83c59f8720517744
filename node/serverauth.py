"""Who may call the agent: only the apiserver, with a kube-apiserver-kubelet-client certificate in
system:masters, over TLS that requires a client certificate from the cluster CA (the kubelet's
authentication and authorization of its API, reduced to that one caller)."""

from __future__ import annotations

import functools

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

MASTERS = "system:masters"


@functools.lru_cache(maxsize=64)
def _subject(pem: bytes) -> tuple[str, tuple[str, ...]]:
    """(CN, O...) of a client certificate: Kubernetes' user and groups."""
    name = x509.load_pem_x509_certificate(pem).subject
    cn = next((str(a.value) for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)), "")
    return cn, tuple(str(a.value) for a in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))


async def _authorize(context: grpc.aio.ServicerContext, method: str) -> None:
    pems = context.auth_context().get("x509_pem_cert")
    if not pems:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "Unauthorized: a client certificate is required")
    user, groups = _subject(pems[0])
    if MASTERS not in groups:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                            f"Forbidden (user={user}, groups={list(groups)}, method={method}): "
                            f"the node agent serves only members of {MASTERS}")


def _guarded(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    """The same handler, authorizing the caller before the method runs."""
    if handler.unary_unary:
        async def unary_unary(request, context):
            await _authorize(context, method)
            return await handler.unary_unary(request, context)
        return grpc.unary_unary_rpc_method_handler(unary_unary, handler.request_deserializer,
                                                   handler.response_serializer)
    if handler.unary_stream:
        async def unary_stream(request, context):
            await _authorize(context, method)
            async for response in handler.unary_stream(request, context):
                yield response
        return grpc.unary_stream_rpc_method_handler(unary_stream, handler.request_deserializer,
                                                    handler.response_serializer)
    if handler.stream_stream:
        async def stream_stream(requests, context):
            await _authorize(context, method)
            async for response in handler.stream_stream(requests, context):
                yield response
        return grpc.stream_stream_rpc_method_handler(stream_stream, handler.request_deserializer,
                                                     handler.response_serializer)
    raise TypeError(f"{method}: unsupported handler type")


class MastersOnly(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        return _guarded(handler, handler_call_details.method) if handler else handler


def server_credentials(cert_file: str, key_file: str, client_ca_file: str) -> grpc.ServerCredentials:
    """The agent's serving certificate, requiring a client certificate signed by the cluster CA."""
    def read(path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()
    return grpc.ssl_server_credentials([(read(key_file), read(cert_file))], root_certificates=read(client_ca_file),
                                       require_client_auth=True)
