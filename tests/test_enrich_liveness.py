"""Telling a live worker process from a gone one, with real processes and a real SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from musicwb.enrich.liveness import WorkerProcess, process_start_time, worker_gone


def test_a_killed_process_is_gone_even_before_it_is_reaped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        recorded = WorkerProcess.current()
        recorded = replace(recorded, pid=child.pid, started=process_start_time(child.pid))
        assert worker_gone(recorded) is False
        child.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while worker_gone(recorded) is not True and time.monotonic() < deadline:
            time.sleep(0.01)
        assert worker_gone(recorded) is True  # a zombie now: killed, not reaped yet
        assert child.poll() == -signal.SIGKILL
        assert worker_gone(recorded) is True  # reaped: no such process at all
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_this_process_lives_a_reused_pid_does_not_and_another_host_cannot_be_told() -> None:
    me = WorkerProcess.current()
    assert worker_gone(me) is False and me.describe() == f"PID {me.pid}"
    if me.started is None:
        pytest.skip("this system does not tell when a process started (/proc)")
    earlier = replace(me, started=me.started - 3600)  # the same PID, another process's start
    assert worker_gone(earlier) is True
    elsewhere = replace(me, host=me.host + "-elsewhere")
    assert worker_gone(elsewhere) is None and elsewhere.describe().endswith("-elsewhere")
