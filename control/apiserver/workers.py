"""Several apiserver processes behind one listening address, so that the API uses every core.

grpc.aio spends most of a request's time in Python on one core. With `--workers N` the process given
the flags (worker 0) starts N-1 copies of itself; each is a whole apiserver (its own etcd client and
watch cache) and every one binds the same address with SO_REUSEPORT, so the kernel spreads
connections over them. A client's connection stays with one worker, so what it wrote is what it
reads back (writes note their revision in that worker's cache). Only worker 0 creates the built-in
objects, compacts etcd and serves metrics. A worker that dies is started again; workers die with
worker 0 (PR_SET_PDEATHSIG), so a crash of the whole server leaves none behind.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import signal
import subprocess
import sys

log = logging.getLogger("skiff-apiserver")

WORKER_FLAG = "--worker-index"
RESTART_DELAY = 1.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(argv: list[str], index: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "control.apiserver.main", *argv, WORKER_FLAG, str(index)],
                            preexec_fn=_die_with_parent)


class Workers:
    """Worker 0's children: started, restarted when they die, stopped with it."""

    def __init__(self, argv: list[str], count: int) -> None:
        self.argv = argv
        self.children: dict[int, subprocess.Popen] = {i: _start(argv, i) for i in range(1, count)}
        self._task: asyncio.Task | None = None

    def start_supervising(self) -> None:
        if self.children:
            self._task = asyncio.create_task(self._supervise())

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(RESTART_DELAY)
            for index, child in list(self.children.items()):
                if child.poll() is not None:
                    log.warning("apiserver worker %d exited with %s; starting it again", index, child.returncode)
                    self.children[index] = _start(self.argv, index)

    async def stop(self, timeout: float = 10.0) -> None:
        if self._task is not None:
            self._task.cancel()
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        for child in self.children.values():
            try:
                await asyncio.to_thread(child.wait, timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                await asyncio.to_thread(child.wait)
