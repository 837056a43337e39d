"""Whether the process that a store names as its worker is still alive.

``musicwb enrich run`` (or a notebook kernel) records its process in the store when its worker
starts: PID, host name and the process's start time. A worker killed with ``SIGKILL`` cannot
record that it stopped, so its row keeps saying ``running``; :func:`worker_gone` lets a reader
(``musicwb enrich status``, a second worker) tell. The start time guards against a reused PID;
a zombie (killed, not yet reaped by its parent) counts as gone.

Examples
--------
>>> me = WorkerProcess.current()
>>> worker_gone(me)
False
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WorkerProcess", "process_start_time", "worker_gone"]

START_TOLERANCE_S = 2.0
"""Start times further apart than this name two different processes with one PID."""


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from ``/proc``; None elsewhere.

    Parameters
    ----------
    pid : int

    Returns
    -------
    float or None
        None when ``/proc`` cannot tell (not Linux, or no such process).
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    # the command name (field 2) may hold spaces and parentheses: count from the last ")"
    fields = stat[stat.rindex(")") + 2 :].split()
    try:
        ticks = int(fields[19])  # field 22 of the line: starttime, in clock ticks after boot
    except (IndexError, ValueError):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[:1] == ["Z"]


@dataclass(frozen=True)
class WorkerProcess:
    """The process a worker runs in.

    Attributes
    ----------
    pid : int
    host : str
        ``socket.gethostname()`` of the machine.
    started : float or None
        The process's start time (seconds since the epoch), when the system tells.
    """

    pid: int
    host: str
    started: float | None = None

    @classmethod
    def current(cls) -> WorkerProcess:
        """This process."""
        pid = os.getpid()
        return cls(pid=pid, host=socket.gethostname(), started=process_start_time(pid))

    def describe(self) -> str:
        """``"PID 123"``, with the host when it is not this machine."""
        here = self.host == socket.gethostname()
        return f"PID {self.pid}" + ("" if here else f" on {self.host}")


def worker_gone(process: WorkerProcess) -> bool | None:
    """Whether the recorded worker process has ended.

    Parameters
    ----------
    process : WorkerProcess
        As recorded in the store.

    Returns
    -------
    bool or None
        True: no such process (or a zombie, or another process that reuses the PID); False: it
        runs; None: it runs on another host, so this machine cannot tell.
    """
    if process.host != socket.gethostname():
        return None
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # a process of another user: it exists
    if _is_zombie(process.pid):
        return True
    if process.started is not None:
        now_started = process_start_time(process.pid)
        if now_started is not None and abs(now_started - process.started) > START_TOLERANCE_S:
            return True
    return False
