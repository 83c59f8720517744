"""The Endpoints controller's reconcile(key) on the fake client."""

from __future__ import annotations

from google.protobuf.message import Message

from control.client.convert import from_dict
from control.client.testing import on_fake
from control.controllers.endpoints import EndpointsController


def service(selector: dict | None = None, target_port: int | str = 8080) -> Message:
    spec: dict = {"ports": [{"name": "http", "port": 80, "targetPort": target_port}]}
    if selector is not None:
        spec["selector"] = selector
    return from_dict({"apiVersion": "v1", "kind": "Service",
                      "metadata": {"name": "web", "namespace": "default", "labels": {"tier": "front"}},
                      "spec": spec})


def pod(name: str, ip: str, ready: bool = True, labels: dict | None = None, phase: str = "Running",
        port_name: str = "") -> Message:
    container: dict = {"name": "c", "image": "busybox:1"}
    if port_name:
        container["ports"] = [{"name": port_name, "containerPort": 9090}]
    return from_dict({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": "default", "labels": labels or {"app": "web"}},
                      "spec": {"nodeName": "n1", "containers": [container]},
                      "status": {"phase": phase, "podIP": ip,
                                 "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}})


async def endpoints(run) -> Message:
    return await run.client.get("Endpoints", "web", "default")


async def test_ready_pod_ips_become_addresses_and_others_not_ready_addresses() -> None:
    async with on_fake(EndpointsController, service({"app": "web"}), pod("a", "10.0.0.2"),
                       pod("b", "10.0.0.3", ready=False), pod("c", "10.0.0.4", labels={"app": "db"}),
                       pod("d", "10.0.0.5", phase="Succeeded")) as run:
        await run.reconcile("default/web")
        [subset] = (await endpoints(run)).subsets
        assert [a.ip for a in subset.addresses] == ["10.0.0.2"]
        assert [a.ip for a in subset.not_ready_addresses] == ["10.0.0.3"]
        assert [(p.name, p.port, p.protocol) for p in subset.ports] == [("http", 8080, "TCP")]
        assert subset.addresses[0].target_ref.name == "a"
        assert dict((await endpoints(run)).metadata.labels) == {"tier": "front"}


async def test_a_named_target_port_is_resolved_per_pod() -> None:
    async with on_fake(EndpointsController, service({"app": "web"}, target_port="metrics"),
                       pod("a", "10.0.0.2", port_name="metrics"), pod("b", "10.0.0.3")) as run:
        await run.reconcile("default/web")
        [subset] = (await endpoints(run)).subsets
        assert [a.ip for a in subset.addresses] == ["10.0.0.2"]
        assert subset.ports[0].port == 9090


async def test_endpoints_follow_pod_changes() -> None:
    async with on_fake(EndpointsController, service({"app": "web"}), pod("a", "10.0.0.2")) as run:
        await run.reconcile("default/web")
        await run.client.delete("Pod", "a", "default")
        await run.reconcile("default/web")
        assert list((await endpoints(run)).subsets) == []


async def test_a_pod_change_enqueues_the_services_selecting_it() -> None:
    async with on_fake(EndpointsController, service({"app": "web"})) as run:
        await run.synced()
        run.forget_queued()
        await run.client.create(pod("a", "10.0.0.2"))
        await run.client.create(pod("b", "10.0.0.3", labels={"app": "db"}))
        await run.synced()
        assert run.queued() == {"default/web"}


async def test_endpoints_of_a_deleted_service_are_deleted_and_selectorless_ones_left_alone() -> None:
    async with on_fake(EndpointsController, service({"app": "web"}), pod("a", "10.0.0.2")) as run:
        await run.reconcile("default/web")
        await run.client.delete("Service", "web", "default")
        await run.reconcile("default/web")
        assert run.client.objects("Endpoints") == []
    manual = from_dict({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
                        "subsets": [{"addresses": [{"ip": "192.0.2.1"}]}]})
    async with on_fake(EndpointsController, service(None), manual) as run:
        await run.reconcile("default/web")
        assert (await endpoints(run)).subsets[0].addresses[0].ip == "192.0.2.1"
