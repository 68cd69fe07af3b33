"""Helpers for tests that start calls together or wait for a server's state to change."""

from __future__ import annotations

import threading
import time


def concurrently(*calls):
    """Runs the calls in threads started together; each one's result or the exception it raised."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index):
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # noqa: BLE001  The test looks at what each call raised.
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def wait_for(condition, seconds: float = 300.0):
    """Polls `condition()` until it holds; fails the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {seconds} s: {condition}")
        time.sleep(0.02)
