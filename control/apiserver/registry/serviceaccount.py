"""ServiceAccounts (core/v1): the identities pods run as; every namespace has `default`. CreateToken is
the `serviceaccounts/token` subresource (a TokenRequest names the ServiceAccount in its metadata)."""

from __future__ import annotations

import grpc

from control.apiserver import tokenrequest
from control.apiserver.auth.gate import Action
from control.apiserver.context import ApiContext
from control.apiserver.registry.base import Strategy
from control.apiserver.rpc import Guarded, parser
from skiff.v1 import authz_pb2


def _target(request: authz_pb2.TokenRequest) -> tuple[str, str]:
    return request.metadata.namespace, request.metadata.name


CREATE_TOKEN = Action("create", _target, "token", mutating=True, body=lambda r: r)


class ServiceAccountStrategy(Strategy):
    def rpc_methods(self, api: ApiContext, guard: Guarded) -> dict[str, grpc.RpcMethodHandler]:
        async def create_token(r):
            return await tokenrequest.create_token(api, r)

        return {"CreateToken": grpc.unary_unary_rpc_method_handler(
            guard.unary(create_token, CREATE_TOKEN), parser(authz_pb2.TokenRequest),
            authz_pb2.TokenRequest.SerializeToString)}


strategy = ServiceAccountStrategy()
