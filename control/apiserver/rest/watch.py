"""Watch over REST: one JSON line per event (`{"type":"ADDED","object":{...}}`), flushed as it happens;
a Table per event when the client asked for tables; errors (410 Expired) as an ERROR event."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from control.apiserver import errors
from control.apiserver.listing import Lister
from control.apiserver.rest import status, table
from control.apiserver.rest.encode import object_doc, plain_doc
from control.apiserver.rest.http import Request
from control.client.kinds import Kind
from skiff.v1 import requests_pb2

DEFAULT_TIMEOUT = 3600.0


def _line(event_type: str, obj: dict) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _timeout(req: Request) -> float:
    text = req.arg("timeoutSeconds")
    return float(text) if text.isdigit() and int(text) > 0 else DEFAULT_TIMEOUT


async def watch_stream(kind: Kind, lister: Lister, request: requests_pb2.WatchRequest, req: Request,
                       caller) -> AsyncIterator[bytes]:
    as_table = table.wants_table(req.header("accept"))
    include = req.arg("includeObject", "Metadata")
    deadline = time.monotonic() + _timeout(req)
    events = lister.watch(request, caller)
    first = True
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                data = await asyncio.wait_for(anext(events), remaining)
            except (StopAsyncIteration, TimeoutError):
                return
            event = kind.watch_event_message.FromString(data)
            if as_table and event.type != "BOOKMARK":
                obj = table.table(kind, [event.object], event.object.metadata.resource_version, include,
                                  with_columns=first)
                first = False
            elif event.type == "BOOKMARK":  # only its resourceVersion (and annotations) mean anything
                obj = plain_doc(kind, event.object)
            else:
                obj = object_doc(kind, event.object)
            yield _line(event.type, obj)
    except errors.ApiError as e:
        yield _line("ERROR", status.from_error(e)[1])
    finally:
        await events.aclose()
