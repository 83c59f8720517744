"""DELETE on a collection (`deletecollection`): every object the label and field selectors match, each
deleted with the request's DeleteOptions as a DELETE of its own would be; the answer is the list of
what was deleted (objects still held by graceful deletion or finalizers as they now are)."""

from __future__ import annotations

import grpc

from control.apiserver import errors
from control.apiserver.auth.gate import Action
from control.apiserver.rest.encode import object_doc
from control.apiserver.rest.http import Request
from control.apiserver.rest.routes import Route
from control.apiserver.rpc import LIST
from skiff.v1 import requests_pb2

DELETE_COLLECTION = Action("deletecollection", LIST.target, mutating=True)


async def delete_collection(resources, req: Request, route: Route, caller, options: requests_pb2.DeleteRequest) -> dict:
    """resources: the REST verbs (handlers, lister, guarded); options: the DeleteOptions as a DeleteRequest."""
    kind = route.kind
    selection = requests_pb2.ListRequest(namespace=route.namespace, label_selector=req.arg("labelSelector"),
                                         field_selector=req.arg("fieldSelector"))

    async def run(_call) -> tuple[list, str]:
        listed = await resources.lister(kind).list(selection)
        deleted = []
        for item in listed.items:
            request = requests_pb2.DeleteRequest()
            request.CopyFrom(options)
            request.namespace, request.name = item.metadata.namespace, item.metadata.name
            try:
                deleted.append(await resources.handlers(kind).delete(request))
            except errors.ApiError as e:
                if e.code is not grpc.StatusCode.NOT_FOUND:  # gone meanwhile: nothing left to delete
                    raise
        return deleted, listed.metadata.resource_version

    deleted, revision = await resources.guarded(kind, DELETE_COLLECTION, selection, caller, run)
    return {"kind": f"{kind.kind}List", "apiVersion": kind.api_version, "metadata": {"resourceVersion": revision},
            "items": [object_doc(kind, obj) for obj in deleted]}
