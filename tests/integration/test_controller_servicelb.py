"""The LoadBalancer service controller against a real apiserver: addresses from the pool, a
requested address, refusals as Kubernetes' events, release on delete and on type change, and a
restarted controller (as after a failover) handing out nothing twice."""

from __future__ import annotations

import uuid

from control.client.convert import from_dict
from tests.fixtures.controllers import running_controllers
from tests.fixtures.procs import eventually

POOL = "192.0.2.10-192.0.2.11"


def lb(name: str, namespace: str, **spec) -> object:
    return from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
                      "spec": {"type": "LoadBalancer", "ports": [{"port": 80}], **spec}})


async def namespace(client) -> str:
    ns = f"lb-{uuid.uuid4().hex[:6]}"
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
    return ns


async def remove(client, ns: str) -> None:
    """No namespace controller runs here: the Services go first, so the next test starts clean."""
    for svc in (await client.list("Service", ns)).items:
        await client.delete("Service", svc.metadata.name, ns)
    await client.delete("Namespace", ns)


def address_is(client, ns: str, name: str, expected: list[str]):
    async def check() -> bool:
        svc = await client.get("Service", name, ns)
        return [i.ip for i in svc.status.load_balancer.ingress] == expected
    return check


def event_says(client, ns: str, name: str, reason: str, fragment: str):
    async def check() -> bool:
        events = (await client.list("Event", ns)).items
        return any(e.involved_object.name == name and e.reason == reason and fragment in e.message
                   for e in events)
    return check


async def test_pool_requested_address_refusals_and_release(apiserver, client):
    ns = await namespace(client)
    options = {"loadbalancer_ip_range": POOL}
    async with running_controllers(apiserver.target, ["service"], options):
        await client.create(lb("a", ns))
        await eventually(address_is(client, ns, "a", ["192.0.2.10"]), timeout=10, what="a's address")
        await client.create(lb("want", ns, loadBalancerIP="192.0.2.11"))
        await eventually(address_is(client, ns, "want", ["192.0.2.11"]), timeout=10, what="the requested one")
        await eventually(event_says(client, ns, "want", "EnsuredLoadBalancer", "Ensured load balancer"),
                         timeout=10, what="EnsuredLoadBalancer")
        # The pool is exhausted; an address outside it is refused.
        await client.create(lb("late", ns))
        await client.create(lb("outside", ns, loadBalancerIP="198.51.100.1"))
        failed = "Error syncing load balancer: failed to ensure load balancer: "
        await eventually(event_says(client, ns, "late", "SyncLoadBalancerFailed",
                                    failed + f"no available IPs in the address pool {POOL}"),
                         timeout=10, what="the exhausted pool's event")
        await eventually(event_says(client, ns, "outside", "SyncLoadBalancerFailed",
                                    failed + "requested IP 198.51.100.1 is not in the address pool"),
                         timeout=10, what="the out-of-range event")
        # A type change releases (and clears) the address; the waiting Service gets it.
        a = await client.get("Service", "a", ns)
        a.spec.type = "ClusterIP"
        a.spec.ports[0].node_port = 0
        updated = await client.update(a)
        assert not updated.spec.HasField("allocate_load_balancer_node_ports")
        await eventually(address_is(client, ns, "a", []), timeout=10, what="a's status cleared")
        await eventually(address_is(client, ns, "late", ["192.0.2.10"]), timeout=10, what="late served")
        # Deleting frees the requested one too.
        await client.delete("Service", "want", ns)
        await client.create(lb("after", ns))
        await eventually(address_is(client, ns, "after", ["192.0.2.11"]), timeout=10, what="released on delete")

    # A new controller (a restart, or another manager elected) reads what is taken from the Services.
    async with running_controllers(apiserver.target, ["service"], options):
        await client.create(lb("third", ns))
        await eventually(event_says(client, ns, "third", "SyncLoadBalancerFailed", "no available IPs"),
                         timeout=10, what="nothing handed out twice")
        for name in ("late", "after"):
            assert len((await client.get("Service", name, ns)).status.load_balancer.ingress) == 1
    await remove(client, ns)


async def test_no_node_ports_when_not_wanted_and_other_classes_left_alone(apiserver, client):
    ns = await namespace(client)
    async with running_controllers(apiserver.target, ["service"], {"loadbalancer_ip_range": "192.0.2.20/32"}):
        bare = await client.create(lb("bare", ns, allocateLoadBalancerNodePorts=False))
        assert bare.spec.ports[0].node_port == 0
        theirs = await client.create(lb("theirs", ns, loadBalancerClass="example.com/lb"))
        assert theirs.spec.ports[0].node_port  # allocated by default
        await eventually(address_is(client, ns, "bare", ["192.0.2.20"]), timeout=10, what="bare's address")
        # externalTrafficPolicy Local gets a healthCheckNodePort, given back when the policy changes.
        local = await client.create(lb("local", ns, externalTrafficPolicy="Local"))
        hc = local.spec.health_check_node_port
        assert hc and hc != local.spec.ports[0].node_port
        local.spec.external_traffic_policy = "Cluster"
        assert not (await client.update(local)).spec.HasField("health_check_node_port")
        taker = await client.create(from_dict({"apiVersion": "v1", "kind": "Service",
                                               "metadata": {"name": "taker", "namespace": ns},
                                               "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": hc}]}}))
        assert taker.spec.ports[0].node_port == hc
        # The other class's Service is never touched: no address, no event.
        events = (await client.list("Event", ns)).items
        assert not [e for e in events if e.involved_object.name == "theirs"]
        assert not (await client.get("Service", "theirs", ns)).status.load_balancer.ingress
    await remove(client, ns)
