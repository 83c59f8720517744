"""`scripts/lab status` for an HA control plane: the etcd members (health, leader), which apiservers answer,
and who holds the scheduler's and the controller manager's leases."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
from dataclasses import dataclass

from lablib import procs
from lablib.config import admin_config, pki_dir
from lablib.controlplanes import Member, members

LEASES = (("kube-scheduler", "skiff-scheduler"), ("kube-controller-manager", "skiff-controller-manager"))


@dataclass
class EtcdState:
    member: Member
    healthy: bool
    member_id: int = 0
    leader_id: int = 0
    revision: int = 0
    error: str = ""


def etcd_state(member: Member) -> EtcdState:
    pki = pki_dir()
    result = subprocess.run(
        ["etcdctl", "--endpoints", member.etcd_url, "--cacert", f"{pki}/ca.crt",
         "--cert", f"{pki}/apiserver-etcd-client.crt", "--key", f"{pki}/apiserver-etcd-client.key",
         "--dial-timeout", "1s", "--command-timeout", "2s", "endpoint", "status", "-w", "json"],
        capture_output=True, text=True, env={**os.environ, "ETCDCTL_API": "3"})
    if result.returncode != 0:
        return EtcdState(member, False, error=(result.stderr.strip().splitlines() or ["no answer"])[-1][:80])
    status = json.loads(result.stdout)[0]["Status"]
    return EtcdState(member, True, status["header"]["member_id"], status["leader"], status["header"]["revision"])


def etcd_leader(states: list[EtcdState]) -> Member | None:
    for state in states:
        if state.healthy and state.member_id == state.leader_id:
            return state.member
    return None


async def apiserver_answers(member: Member) -> bool:
    """A gRPC health check of the member's apiserver, as a load balancer would make."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from control.client.kubeconfig import load_client_config, make_channel

    channel = make_channel(member.apiserver, load_client_config(admin_config()))
    try:
        answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        return answer.status == health_pb2.HealthCheckResponse.SERVING
    except Exception:  # noqa: BLE001 - any failure means it does not answer
        return False
    finally:
        await channel.close()


def holder_member(identity: str, process: str) -> Member | None:
    """Which member's process wrote that it became leader as `identity` (every member has one hostname)."""
    for member in members():
        with contextlib.suppress(OSError), open(procs.log_path(member.process(process)), errors="replace") as f:
            if f"{identity}: became leader" in f.read():
                return member
    return None


async def lease_holders() -> dict[str, str]:
    from control.client.client import Client
    from control.client.kubeconfig import load_client_config

    config = load_client_config(admin_config())
    holders = {}
    async with Client(config.target, config=config) as client:
        for lease, process in LEASES:
            try:
                spec = (await client.get("Lease", lease, "kube-system")).spec
            except Exception as e:  # noqa: BLE001 - shown as the answer
                holders[lease] = f"unknown ({type(e).__name__})"
                continue
            member = holder_member(spec.holder_identity, process)
            holders[lease] = f"{member.name if member else '?'} ({spec.holder_identity})"
    return holders


async def _answers() -> list[bool]:
    return list(await asyncio.gather(*(apiserver_answers(m) for m in members())))


def print_control_planes() -> None:
    states = [etcd_state(m) for m in members()]
    leader = etcd_leader(states)
    print(f"{'MEMBER':8} {'ADDRESS':15} {'ETCD':9} {'LEADER':7} {'REVISION':>9}  APISERVER")
    answers = asyncio.run(_answers())
    for state, answer in zip(states, answers, strict=True):
        m = state.member
        health = "healthy" if state.healthy else "DOWN"
        print(f"{m.name:8} {m.ip:15} {health:9} {'*' if m == leader else '':7} "
              f"{state.revision or '-':>9}  {'answers' if answer else 'NO ANSWER'}")
    with contextlib.suppress(Exception):
        for lease, holder in asyncio.run(lease_holders()).items():
            print(f"lease kube-system/{lease}: {holder}")
