"""Benchmark: requests through the ingress controller's nginx against the same client straight to the pod.

Three network namespaces on a bridge (tests/fixtures/netns.NetLab): `edge` runs skiff-ingress-controller
with its nginx on :80 (a real apiserver and etcd behind it), `backends` is the pod (a one-worker
nginx by default, or busybox httpd as the lab's whoami), `outside` the client. The client (a small
asyncio load generator, one new connection per request) runs with the same concurrency for the same
time against the pod's address and against the Ingress, alternating rounds so both see the same
machine load. Figures: requests/s of each, `ingress_ratio` = ingress/direct, p99 latency through
the ingress.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from control.client.client import Client  # noqa: E402
from control.client.convert import from_dict  # noqa: E402
from tests.fixtures.etcd import start_etcd  # noqa: E402
from tests.fixtures.netns import NetLab, start_apiserver_unix  # noqa: E402
from tests.fixtures.pki import session_pki, use_session_admin  # noqa: E402
from tests.fixtures.procs import eventually  # noqa: E402

CONTROLLER = "skiff.io/bench-nginx"
HOST = "bench.test"
BACKEND_PORT = 8080

LOAD = r"""
import asyncio, json, sys, time
ip, port, host, seconds, concurrency = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
request = f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
latencies, errors = [], 0

async def worker(end):
    global errors
    while time.monotonic() < end:
        start = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection(ip, port)
            writer.write(request)
            data = await reader.read()
            writer.close()
            if not data.startswith(b"HTTP/1.1 200") and not data.startswith(b"HTTP/1.0 200"):
                errors += 1
                continue
            latencies.append(time.perf_counter() - start)
        except OSError:
            errors += 1

async def main():
    started = time.monotonic()
    await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
    return time.monotonic() - started

elapsed = asyncio.run(main())
print(json.dumps({"ok": len(latencies), "errors": errors, "seconds": elapsed, "latencies": latencies}))
"""


POD_NGINX = """daemon off;
worker_processes 1;
pid {state}/pod-nginx.pid;
error_log {state}/pod-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {state}/pod-tmp;
  proxy_temp_path {state}/pod-tmp;
  fastcgi_temp_path {state}/pod-tmp;
  uwsgi_temp_path {state}/pod-tmp;
  scgi_temp_path {state}/pod-tmp;
  server {{ listen {ip}:{port}; location / {{ return 200 "pod\\n"; }} }}
}}
"""


def serve_pod(lab: NetLab, netns: str, ip: str, server: str, state: str) -> None:
    """The pod's server: busybox httpd (as the lab's whoami image) or a one-worker nginx."""
    if server == "busybox":
        lab.serve_http_in(netns, "pod", BACKEND_PORT)
        return
    os.makedirs(os.path.join(state, "pod-tmp"), exist_ok=True)
    conf = os.path.join(state, "pod-nginx.conf")
    with open(conf, "w") as f:
        f.write(POD_NGINX.format(state=state, ip=ip, port=BACKEND_PORT))
    lab.spawn_in(netns, ["/usr/sbin/nginx", "-c", conf, "-e", os.path.join(state, "pod-error.log")],
                 log_name="pod-nginx.log")


def load(lab: NetLab, netns: str, ip: str, port: int, seconds: float, concurrency: int) -> dict:
    out = lab.run_in(netns, [sys.executable, "-c", LOAD, ip, str(port), HOST, str(seconds), str(concurrency)],
                     timeout=seconds + 60)
    return json.loads(out.stdout)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def configure(client: Client, backend_ip: str) -> None:
    await client.create(from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                   "spec": {"ports": [{"name": "http", "port": 80}]}}))
    await client.create(from_dict({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"},
                                   "subsets": [{"addresses": [{"ip": backend_ip}],
                                                "ports": [{"name": "http", "port": BACKEND_PORT}]}]}))
    await client.create(from_dict({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                                   "metadata": {"name": "bench"}, "spec": {"controller": CONTROLLER}}))
    await client.create(from_dict({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
        "spec": {"ingressClassName": "bench", "rules": [{"host": HOST, "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}))


def machine() -> str:
    model = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} x {model}, kernel {platform.release()}"


async def run(args: argparse.Namespace) -> dict:
    etcd = start_etcd()
    server = start_apiserver_unix(etcd)
    lab = NetLab()
    state = tempfile.mkdtemp(prefix="skiff-bench-ingress-")
    try:
        edge, backends, outside = lab.add_node("edge"), lab.add_node("backends"), lab.add_node("outside")
        serve_pod(lab, backends.netns, backends.ip, args.pod_server, state)
        config = session_pki().write_config(os.path.join(state, "admin-config"), server.target)
        lab.spawn_in(edge.netns, [sys.executable, "-m", "control.ingress.main", "--kubeconfig", str(config),
                                  "--apiserver", server.target, "--controller-class", CONTROLLER,
                                  "--address", edge.ip, "--state-dir", os.path.join(state, "ingress"),
                                  "--leader-elect=false"], log_name="ingress-controller.log")
        async with Client(server.target) as client:
            await configure(client, backends.ip)

        async def serving() -> bool:
            got = await asyncio.to_thread(load, lab, outside.netns, edge.ip, 80, 0.2, 1)
            return got["ok"] > 0 and got["errors"] == 0
        await eventually(serving, timeout=60, what="nginx serving the Ingress")
        load(lab, outside.netns, backends.ip, BACKEND_PORT, 1, args.concurrency)  # warm-up
        results: dict[str, list[dict]] = {"direct": [], "ingress": []}
        for _ in range(args.rounds):
            results["direct"].append(load(lab, outside.netns, backends.ip, BACKEND_PORT, args.seconds,
                                          args.concurrency))
            results["ingress"].append(load(lab, outside.netns, edge.ip, 80, args.seconds, args.concurrency))
        return results
    finally:
        lab.cleanup()
        server.stop()
        etcd.stop()


def summary(rounds: list[dict]) -> tuple[float, float, float, int]:
    ok = sum(r["ok"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    latencies = [x for r in rounds for x in r["latencies"]]
    return ok / seconds, percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000, \
        sum(r["errors"] for r in rounds)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="length of each round")
    p.add_argument("--rounds", type=int, default=3, help="rounds of each, alternating")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--pod-server", choices=("nginx", "busybox"), default="nginx",
                   help="what the pod runs: a one-worker nginx, or busybox httpd (one process per request)")
    args = p.parse_args()
    use_session_admin()
    load_before = os.getloadavg()[0]
    results = asyncio.run(run(args))
    direct, ingress = summary(results["direct"]), summary(results["ingress"])
    print(f"machine: {machine()}; load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"{'path':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, (rate, p50, p99, errors) in (("direct", direct), ("ingress", ingress)):
        print(f"{name:<10}{rate:>10.0f}{p50:>10.2f}{p99:>10.2f}{errors:>8}")
    print(json.dumps({"ingress_per_s": round(ingress[0], 1), "direct_per_s": round(direct[0], 1),
                      "ingress_ratio": round(ingress[0] / direct[0], 3) if direct[0] else 0.0,
                      "ingress_p99_ms": round(ingress[2], 2), "direct_p99_ms": round(direct[2], 2),
                      "concurrency": args.concurrency, "pod_server": args.pod_server,
                      "errors": ingress[3] + direct[3]}))


if __name__ == "__main__":
    main()
