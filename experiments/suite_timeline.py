"""Where the test suite's wall time goes: a pytest plugin that logs each test's start and end
per xdist worker, and a summary of those logs.

    rm -rf runs/suite_timeline
    PYTHONPATH=experiments .venv/bin/python -m pytest -n 2 --dist loadfile \
        -p suite_timeline -m "not slow" tests
    .venv/bin/python experiments/suite_timeline.py [runs/suite_timeline]

The summary prints, per worker, the span from its first test's start to its last test's
end, and each test file in the order the worker ran it with its start (seconds after the
earliest start) and the time from its first test's start to its last test's end (class
fixtures included). The difference between the workers' spans is time one core idled at
the end. Results: experiments/README.md, "Test suite time".
"""

from __future__ import annotations

import os
import pathlib
import sys
import time

LOG_DIR = pathlib.Path(os.environ.get("SUITE_TIMELINE_DIR", "runs/suite_timeline"))


def _log(kind: str, nodeid: str) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / f"{worker}.log", "a") as log:
        log.write(f"{time.time():.3f} {kind} {nodeid}\n")


def pytest_runtest_logstart(nodeid, location):
    """Pytest hook: a test (its set-up included) starts."""
    del location
    _log("start", nodeid)


def pytest_runtest_logfinish(nodeid, location):
    """Pytest hook: a test (its tear-down included) ends."""
    del location
    _log("end", nodeid)


def summarize(log_dir: pathlib.Path) -> str:
    """The per-worker spans and per-file times of the logs in `log_dir`."""
    workers = {}
    for path in sorted(log_dir.glob("*.log")):
        rows = []
        for line in path.read_text().splitlines():
            stamp, kind, nodeid = line.split(" ", 2)
            rows.append((float(stamp), kind, nodeid))
        if rows:
            workers[path.stem] = rows
    # Under xdist the controlling process gets every worker's hooks too: not a worker.
    if len(workers) > 1:
        workers.pop("main", None)
    if not workers:
        raise FileNotFoundError(f"no timeline logs in {log_dir}: run pytest with the plugin.")
    origin = min(rows[0][0] for rows in workers.values())
    lines = []
    for worker, rows in workers.items():
        span = rows[-1][0] - rows[0][0]
        lines.append(f"{worker}: {span:.0f} s from its first test to its last")
        files: dict[str, list[float]] = {}
        for stamp, _, nodeid in rows:
            interval = files.setdefault(nodeid.split("::")[0], [stamp, stamp])
            interval[1] = stamp
        for name, (first, last) in files.items():
            lines.append(f"  {first - origin:7.0f} {last - first:6.0f} s  {name}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarize(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else LOG_DIR))
