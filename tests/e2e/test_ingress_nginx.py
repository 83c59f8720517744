"""The ingress controller on real nginx: host and path routing to pods on another node, TLS by SNI
with the Secret's certificate (and a rotated one), the 404 default, HTTP redirected to HTTPS, and
the Ingress's status. nginx and the controller run in one lab node's namespace, the backends (busybox
httpd) in another; requests come from a third, so nothing leaves the namespaces the test made."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.etcd import start_etcd
from tests.fixtures.netns import NetLab, ns_argv, start_apiserver_unix
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually
from tests.fixtures.tlscert import self_signed

CONTROLLER = "skiff.io/ingress-nginx"
REQUEST = """
import hashlib, http.client, json, socket, ssl, sys
host, ip, port, path, tls = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
sock = socket.create_connection((ip, port), timeout=3)
cert = ""
if tls:  # SNI names the host; the certificate served is reported, not verified
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    sock = ctx.wrap_socket(sock, server_hostname=host)
    cert = hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest()
conn = http.client.HTTPConnection(ip, port, timeout=3)
conn.sock = sock
conn.request("GET", path, headers={"Host": host})
r = conn.getresponse()
print(json.dumps({"status": r.status, "body": r.read().decode(errors="replace").strip(), "cert": cert,
                  "location": r.getheader("Location") or ""}))
"""


@pytest.fixture
async def ingress_lab(tmp_path):
    etcd = start_etcd()
    server = start_apiserver_unix(etcd)
    lab = NetLab()
    client = Client(server.target)
    try:
        edge, backends, outside = lab.add_node("edge"), lab.add_node("backends"), lab.add_node("outside")
        config = session_pki().write_config(tmp_path / "admin-config", server.target)
        state = tmp_path / "ingress"
        lab.spawn_in(edge.netns, [sys.executable, "-m", "control.ingress.main", "--kubeconfig", str(config),
                                  "--apiserver", server.target, "--controller-class", CONTROLLER,
                                  "--address", edge.ip, "--http-port", "80", "--https-port", "443",
                                  "--publish-address", edge.ip, "--state-dir", str(state),
                                  "--leader-elect=false", "-v", "2"], log_name="ingress-controller.log")
        yield lab, client, edge, backends, outside, state
    finally:
        await client.close()
        lab.cleanup()
        server.stop()
        etcd.stop()


def request(lab: NetLab, netns: str, host: str, ip: str, port: int, path: str = "/", tls: bool = False) -> dict:
    out = lab.run_in(netns, ["python3", "-c", REQUEST, host, ip, str(port), path, "1" if tls else "0"],
                     check=False, timeout=10)
    return json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else {"status": 0,
                                                                                        "error": out.stderr}


def backend(lab: NetLab, netns: str, name: str, port: int, paths: list[str], files: tuple[str, ...] = ()) -> None:
    lab.serve_http_in(netns, name, port)
    root = os.path.join(lab.workdir, f"www-{name}")
    # busybox httpd serves files: each routed path (a directory's index, or a file) answers with the name.
    targets = [os.path.join(root, p.strip("/"), "index.html") for p in paths]
    targets += [os.path.join(root, p.strip("/")) for p in files]
    for target in targets:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            f.write(f"{name}\n")


async def service(client: Client, name: str, ip: str, port: int) -> None:
    await client.create(from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                                   "spec": {"ports": [{"name": "http", "port": 80}]}}))
    await client.create(from_dict({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name},
                                   "subsets": [{"addresses": [{"ip": ip}],
                                                "ports": [{"name": "http", "port": port}]}]}))


async def test_routes_by_host_and_path_with_tls(ingress_lab):
    lab, client, edge, backends, outside, state = ingress_lab
    backend(lab, backends.netns, "shop", 8081, ["/app", "/app/deep", "/app/exact"])
    backend(lab, backends.netns, "exact", 8082, ["/"], files=("/app/exact",))
    await service(client, "shop", backends.ip, 8081)
    await service(client, "exact", backends.ip, 8082)
    crt, key, fingerprint = self_signed("shop.test")
    await client.create(from_dict({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shop-tls"},
                                   "type": "kubernetes.io/tls",
                                   "stringData": {"tls.crt": crt.decode(), "tls.key": key.decode()}}))
    await client.create(from_dict({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                                   "metadata": {"name": "skiff"}, "spec": {"controller": CONTROLLER}}))
    await client.create(from_dict({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "shop"},
        "spec": {"ingressClassName": "skiff", "tls": [{"hosts": ["shop.test"], "secretName": "shop-tls"}],
                 "rules": [
                     {"host": "shop.test", "http": {"paths": [
                         {"path": "/app", "pathType": "Prefix",
                          "backend": {"service": {"name": "shop", "port": {"name": "http"}}}},
                         {"path": "/app/exact", "pathType": "Exact",
                          "backend": {"service": {"name": "exact", "port": {"number": 80}}}}]}},
                     {"host": "plain.test", "http": {"paths": [
                         {"path": "/", "pathType": "Prefix",
                          "backend": {"service": {"name": "exact", "port": {"number": 80}}}}]}}]}}))

    async def served() -> bool:
        return request(lab, outside.netns, "plain.test", edge.ip, 80)["status"] == 200
    await eventually(served, timeout=30, what="nginx serving plain.test")
    https = request(lab, outside.netns, "shop.test", edge.ip, 443, "/app/deep/", tls=True)
    assert (https["status"], https["body"], https["cert"]) == (200, "shop", fingerprint)
    assert request(lab, outside.netns, "shop.test", edge.ip, 443, "/app/exact/", tls=True)["body"] == "shop"
    exact = request(lab, outside.netns, "shop.test", edge.ip, 443, "/app/exact", tls=True)
    assert (exact["status"], exact["body"]) == (200, "exact")  # Exact beats the Prefix
    assert request(lab, outside.netns, "shop.test", edge.ip, 443, "/application", tls=True)["status"] == 404
    redirect = request(lab, outside.netns, "shop.test", edge.ip, 80, "/app/")
    assert (redirect["status"], redirect["location"]) == (308, "https://shop.test/app/")
    assert request(lab, outside.netns, "nobody.test", edge.ip, 80)["status"] == 404

    async def published() -> bool:
        ing = await client.get("Ingress", "shop", "default")
        return [i.ip for i in ing.status.load_balancer.ingress] == [edge.ip]
    await eventually(published, timeout=15, what="status.loadBalancer")

    new_crt, new_key, new_fingerprint = self_signed("shop.test")
    secret = await client.get("Secret", "shop-tls", "default")
    secret.data["tls.crt"], secret.data["tls.key"] = new_crt, new_key
    await client.update(secret)

    async def rotated() -> bool:
        return request(lab, outside.netns, "shop.test", edge.ip, 443, "/app/", tls=True).get("cert") == new_fingerprint
    await eventually(rotated, timeout=30, what="the rotated certificate served")
    assert os.path.exists(state / "nginx.conf")


STEADY = """
import http.client, json, sys, time
ip, host, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
ok, failed, seen, end = 0, [], {}, time.monotonic() + seconds
while time.monotonic() < end:
    try:
        conn = http.client.HTTPConnection(ip, 80, timeout=3)
        conn.request("GET", "/", headers={"Host": host})
        r = conn.getresponse(); body = r.read().decode().strip(); conn.close()
        if r.status == 200:
            ok += 1; seen[body] = seen.get(body, 0) + 1
            if ok == 1:
                print("first answer", flush=True)
        else:
            failed.append(r.status)
    except OSError as e:
        failed.append(repr(e))
print(json.dumps({"ok": ok, "failed": failed, "seen": seen}))
"""


async def test_endpoints_change_under_steady_requests_without_a_failure(ingress_lab):
    lab, client, edge, backends, outside, _state = ingress_lab
    backend(lab, backends.netns, "old", 8091, ["/"])
    backend(lab, backends.netns, "new", 8092, ["/"])
    await service(client, "web", backends.ip, 8091)
    await client.create(from_dict({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                                   "metadata": {"name": "skiff"}, "spec": {"controller": CONTROLLER}}))
    await client.create(from_dict({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
        "spec": {"ingressClassName": "skiff", "rules": [{"host": "web.test", "http": {"paths": [
            {"path": "/", "pathType": "Prefix",
             "backend": {"service": {"name": "web", "port": {"name": "http"}}}}]}}]}}))

    async def served() -> bool:
        return request(lab, outside.netns, "web.test", edge.ip, 80)["body"] == "old"
    await eventually(served, timeout=30, what="nginx serving web.test")
    steady = subprocess.Popen(ns_argv(outside.netns, ["python3", "-c", STEADY, edge.ip, "web.test", "8"]),
                              stdout=subprocess.PIPE, text=True)
    lab.procs.append(steady)
    assert await asyncio.to_thread(steady.stdout.readline) == "first answer\n"  # traffic flows: now switch
    ep = await client.get("Endpoints", "web", "default")
    ep.subsets[0].ports[0].port = 8092  # the new pod takes over (same address, other port)
    await client.update(ep)

    async def switched() -> bool:
        return request(lab, outside.netns, "web.test", edge.ip, 80)["body"] == "new"
    await eventually(switched, timeout=8, what="traffic on the new endpoint")
    out, _ = await asyncio.to_thread(steady.communicate, timeout=30)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["failed"] == [] and result["ok"] > 20, result
    assert set(result["seen"]) == {"old", "new"}, result
