"""Node and container resource usage for `skiffctl top` (the kubelet's stats summary).

CPU usage is a rate: nano-cores = (cpu time used between two samples) / (wall time between
them). The node's comes from psutil; a container's from the cumulative
usage_core_nano_seconds CRI reports, against the previous sample of the same container
(the first sample of a container is taken twice, a short interval apart).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import psutil

from cri.runtime.v1 import api_pb2 as cri_pb
from node.cri import CONTAINER_NAME_LABEL, CRI, POD_NAME_LABEL, POD_NAMESPACE_LABEL
from skiff.v1 import node_agent_pb2 as na_pb

FIRST_SAMPLE_INTERVAL = 0.2  # seconds between the two samples of a container seen for the first time


@dataclass
class _Sample:
    timestamp_ns: int
    usage_ns: int


def _busy_seconds(times: psutil._common.scputimes) -> float:  # type: ignore[name-defined]
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)


class NodeCPU:
    """The node's CPU usage in nano-cores since the previous call."""

    def __init__(self) -> None:
        self._last = (time.monotonic(), _busy_seconds(psutil.cpu_times()))

    @staticmethod
    def cumulative() -> tuple[int, int]:
        """(busy CPU time in ns since boot, now in Unix ns)."""
        return int(_busy_seconds(psutil.cpu_times()) * 1e9), time.time_ns()

    def usage_nano_cores(self) -> int:
        now, busy = time.monotonic(), _busy_seconds(psutil.cpu_times())
        last_time, last_busy = self._last
        self._last = (now, busy)
        if now <= last_time:
            return 0
        return max(0, int((busy - last_busy) / (now - last_time) * 1e9))


def memory_working_set() -> tuple[int, int]:
    """(working set, capacity) in bytes; working set as the kubelet counts it: total minus available."""
    vm = psutil.virtual_memory()
    return vm.total - vm.available, vm.total


class StatsProvider:
    def __init__(self, cri: CRI, node_name: str) -> None:
        self.cri = cri
        self.node_name = node_name
        self.node_cpu = NodeCPU()
        self._samples: dict[str, _Sample] = {}

    async def summary(self) -> na_pb.StatsSummary:
        stats = await self._container_stats()
        working_set, capacity = memory_working_set()
        busy_ns, now_ns = self.node_cpu.cumulative()
        summary = na_pb.StatsSummary(node_name=self.node_name, cpu_usage_nano_cores=self.node_cpu.usage_nano_cores(),
                                     memory_working_set_bytes=working_set, memory_capacity_bytes=capacity,
                                     cpu_count=psutil.cpu_count() or 1, cpu_usage_core_nano_seconds=busy_ns,
                                     cpu_timestamp_ns=now_ns)
        pods: dict[tuple[str, str], na_pb.PodStats] = {}
        for s, nano_cores in stats:
            labels = s.attributes.labels
            key = (labels.get(POD_NAMESPACE_LABEL, ""), labels.get(POD_NAME_LABEL, ""))
            if not key[1]:
                continue
            pod = pods.setdefault(key, na_pb.PodStats(namespace=key[0], name=key[1]))
            memory = s.memory.working_set_bytes.value
            pod.containers.append(na_pb.ContainerStats(
                name=labels.get(CONTAINER_NAME_LABEL, s.attributes.metadata.name),
                cpu_usage_nano_cores=nano_cores, memory_working_set_bytes=memory,
                cpu_usage_core_nano_seconds=s.cpu.usage_core_nano_seconds.value, cpu_timestamp_ns=s.cpu.timestamp,
                id=s.attributes.id))
            pod.cpu_usage_nano_cores += nano_cores
            pod.memory_working_set_bytes += memory
        summary.pods.extend(sorted(pods.values(), key=lambda p: (p.namespace, p.name)))
        return summary

    async def _container_stats(self) -> list[tuple[cri_pb.ContainerStats, int]]:
        running = {c.id for c in await self.cri.list_containers(state=cri_pb.CONTAINER_RUNNING)}
        stats = [s for s in await self.cri.list_container_stats() if s.attributes.id in running]
        if any(s.attributes.id not in self._samples for s in stats):
            for s in stats:
                self._record(s)
            await asyncio.sleep(FIRST_SAMPLE_INTERVAL)
            stats = [s for s in await self.cri.list_container_stats() if s.attributes.id in running]
        result = [(s, self._record(s)) for s in stats]
        for gone in set(self._samples) - {s.attributes.id for s in stats}:
            del self._samples[gone]
        return result

    def _record(self, s: cri_pb.ContainerStats) -> int:
        """Stores this sample and returns nano-cores since the previous one (0 without one)."""
        sample = _Sample(s.cpu.timestamp, s.cpu.usage_core_nano_seconds.value)
        last = self._samples.get(s.attributes.id)
        self._samples[s.attributes.id] = sample
        if last is None or sample.timestamp_ns <= last.timestamp_ns or sample.usage_ns < last.usage_ns:
            return 0
        return (sample.usage_ns - last.usage_ns) * 10**9 // (sample.timestamp_ns - last.timestamp_ns)
