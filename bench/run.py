"""Run every benchmark in bench/ (files named bench_*.py), each printing JSON lines.

Usage: ``python bench/run.py [NAME ...]`` (names without ``bench_`` and ``.py``). Each benchmark is
its own process, so one cannot warm another's caches; the exit code is non-zero when any
benchmark failed to run or reported ``"pass": false``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    failed = 0
    for script in scripts:
        done = subprocess.run([sys.executable, str(script)], check=False, capture_output=True,
                              text=True)
        sys.stderr.write(done.stderr[-2000:] if done.returncode else "")
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        for line in lines:
            print(line, flush=True)
            if json.loads(line).get("pass") is False:
                failed += 1
        if done.returncode or not lines:
            print(json.dumps({"bench": script.stem, "error": f"exit {done.returncode}"}), flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
