"""The lab's long-running processes: started detached, remembered by pid files, stopped by pid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable

from lablib.config import log_dir, run_dir


def _pidfile(name: str) -> str:
    return os.path.join(run_dir(), f"{name}.pid")


def log_path(name: str) -> str:
    return os.path.join(log_dir(), f"{name}.log")


def _alive(pid: int, exe: str) -> bool:
    """True if pid is a live (not zombie) process running exe: pids get reused."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().decode(errors="replace").split("\0")
    except (OSError, IndexError):
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    # A script runs as "python SCRIPT ...": its name is then the second word.
    return os.path.basename(exe) in {os.path.basename(a) for a in argv[:2]}


def running_pid(name: str) -> int | None:
    try:
        with open(_pidfile(name)) as f:
            pid_text, exe = f.read().split("\n")[:2]
    except (OSError, ValueError):
        return None
    pid = int(pid_text)
    return pid if _alive(pid, exe) else None


def names() -> list[str]:
    try:
        return sorted(f[:-4] for f in os.listdir(run_dir()) if f.endswith(".pid"))
    except FileNotFoundError:
        return []


def start(name: str, argv: list[str], netns: str | None = None) -> int:
    """Starts argv detached (in /var/run/netns/NETNS when given) unless it already runs."""
    pid = running_pid(name)
    if pid is not None:
        return pid
    os.makedirs(run_dir(), exist_ok=True)
    os.makedirs(log_dir(), exist_ok=True)
    # nsenter, not `ip netns exec`: that also remounts /sys and hides the cgroup v1 mounts from runc.
    prefix = ["nsenter", f"--net=/var/run/netns/{netns}", "--"] if netns else []
    with open(log_path(name), "ab") as log:
        proc = subprocess.Popen([*prefix, *argv], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd="/")
    with open(_pidfile(name), "w") as f:
        f.write(f"{proc.pid}\n{argv[0]}\n")
    # Until the child has exec'd argv[0], /proc shows the forked lab script: a check made
    # in that window would take the new process for dead.
    deadline = time.monotonic() + 5
    while not _alive(proc.pid, argv[0]) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc.pid


def stop(name: str, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Signals the process, waits for it to go, kills it after timeout; forgets its pid file."""
    pid = running_pid(name)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if not wait_until(lambda: running_pid(name) is None, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_until(lambda: running_pid(name) is None, 5)
    with contextlib.suppress(FileNotFoundError):
        os.remove(_pidfile(name))


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def must_wait(condition: Callable[[], bool], timeout: float, what: str, log: str | None = None) -> None:
    if not wait_until(condition, timeout):
        tail = ""
        if log:
            with contextlib.suppress(OSError), open(log_path(log), errors="replace") as f:
                tail = "\n  " + "\n  ".join(f.read().splitlines()[-15:])
        raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}{tail}")


def pids_with_arg(arg: str, exe_substring: str) -> list[int]:
    """Pids of processes whose argv[0] contains exe_substring and whose argv contains arg."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and exe_substring.encode() in argv[0] and arg.encode() in argv:
            found.append(int(pid))
    return found
