"""hostUsers: false on the node: the runtime's say, each pod's own ID range, the CRI options."""

from __future__ import annotations

import asyncio
import os

import pytest

from control.client.convert import from_dict
from cri.runtime.v1 import api_pb2 as cri_pb
from node.config import AgentConfig
from node.cri import CRIError
from node.runtime import userns
from node.runtime.sandbox import Sandboxes


def pod(uid: str, host_users: bool | None) -> object:
    spec = {"containers": [{"name": "app", "image": "busybox"}]}
    if host_users is not None:
        spec["hostUsers"] = host_users
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": uid, "namespace": "ns", "uid": uid},
                      "spec": spec})


class FakeCRI:
    def __init__(self, handlers: list[cri_pb.RuntimeHandler] | None) -> None:
        self.handlers = handlers

    async def runtime_handlers(self) -> list[cri_pb.RuntimeHandler]:
        if self.handlers is None:
            raise CRIError("Status", None, "unavailable")
        return self.handlers


def handler(name: str, user_namespaces: bool) -> cri_pb.RuntimeHandler:
    return cri_pb.RuntimeHandler(name=name, features=cri_pb.RuntimeHandlerFeatures(user_namespaces=user_namespaces))


@pytest.mark.parametrize("handlers, supported", [
    ([], False),  # a runtime that lists no handlers (containerd 1.x) cannot
    ([handler("", False)], False),
    ([handler("runc", True)], False),  # only the default handler runs pods without a runtime class
    ([handler("", True)], True),
    (None, False),
])
def test_the_default_handler_must_say_it_makes_user_namespaces(handlers, supported) -> None:
    assert asyncio.run(userns.handler_supports(FakeCRI(handlers))) is supported


def test_each_pod_keeps_its_own_range_until_its_directory_goes(tmp_path) -> None:
    ns = userns.UserNamespaces(str(tmp_path), max_pods=2)
    first, second = ns.host_id("a"), ns.host_id("b")
    assert (first, second) == (65536, 131072)
    # recorded in the pod's directory: a restarted agent gives the same range back
    assert userns.UserNamespaces(str(tmp_path), max_pods=2).host_id("a") == first
    with pytest.raises(RuntimeError):
        ns.host_id("c")
    os.remove(os.path.join(tmp_path, "pods", "a", userns.MAPPINGS_FILE))
    assert ns.host_id("c") == first


def test_only_pods_without_host_users_get_a_user_namespace(tmp_path) -> None:
    sandboxes = Sandboxes(None, AgentConfig(node_name="n", root_dir=str(tmp_path)), None, None)
    assert userns.wants_user_namespace(pod("x", False))
    assert not userns.wants_user_namespace(pod("y", True)) and not userns.wants_user_namespace(pod("z", None))
    options = sandboxes.sandbox_config(pod("x", False), 0).linux.security_context.namespace_options
    mapping = cri_pb.IDMapping(host_id=65536, container_id=0, length=65536)
    assert options.userns_options == cri_pb.UserNamespace(mode=cri_pb.POD, uids=[mapping], gids=[mapping])
    plain = sandboxes.sandbox_config(pod("y", True), 0).linux.security_context.namespace_options
    assert not plain.HasField("userns_options")
