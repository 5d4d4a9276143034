"""A bounded loopback load on the real server, and the peak memory of the process that serves it.

The server is ``dailypapers serve`` started by ``tests.demo.running_server`` on the benchmark's data. Each
endpoint gets ``requests`` GETs from ``clients`` threads (one ``httpx.Client`` each), stopped after ``max_s``
seconds whatever is left; the load runs on the same machine as the server, so the clients' CPU counts against it.
Peak RSS is ``VmHWM`` from ``/proc/<pid>/status`` of the worker: the ``serve`` process itself with one worker,
the largest of its child processes with several.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.measure import summarize
from dailypapers.config import Config

WARMUP = 10


def http_load(
    config: Config, queries: list[str], *, requests: int, clients: int = 4, max_s: float = 30.0
) -> dict[str, Any]:
    """Requests/s and latency of ``/`` and ``/api/search?q=…``, and the worker's peak RSS in MiB."""
    from tests.demo import running_server

    endpoints: dict[str, list[tuple[str, dict[str, str]]]] = {
        "home": [("/", {})],
        "search": [("/api/search", {"q": q}) for q in queries],
    }
    with running_server(config) as base:
        port = base.rsplit(":", 1)[1]
        serve = _serve_pid(port)
        out: dict[str, Any] = {}
        for name, targets in endpoints.items():
            with httpx.Client(base_url=base, timeout=120) as client:  # the first search waits for the model
                for i in range(WARMUP):  # failures show in the load's error count
                    path, params = targets[i % len(targets)]
                    client.get(path, params=params)
            out[name] = _load(base, targets, requests, clients, max_s)
        workers = _children(serve) or [serve]
        out["peak_rss_mib"] = max(_status_kib(pid, "VmHWM") for pid in workers) / 1024
        out["rss_mib"] = max(_status_kib(pid, "VmRSS") for pid in workers) / 1024
        out["workers"] = len(workers)
    return out


def _load(
    base: str, targets: list[tuple[str, dict[str, str]]], total: int, clients: int, max_s: float
) -> dict[str, Any]:
    numbers = itertools.count()  # next() on it is atomic under the GIL: each request number is taken once
    ms: list[float] = []
    errors: list[int] = []
    deadline = time.monotonic() + max_s

    def client_thread() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < deadline and (i := next(numbers)) < total:
                path, params = targets[i % len(targets)]
                started = time.perf_counter()
                try:
                    ok = client.get(path, params=params).status_code == 200
                except httpx.HTTPError:
                    ok = False
                ms.append((time.perf_counter() - started) * 1000)
                if not ok:
                    errors.append(i)

    threads = [threading.Thread(target=client_thread) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"requests": len(ms), "errors": len(errors), "seconds": elapsed, "rps": len(ms) / elapsed, **summarize(ms)}


def _serve_pid(port: str) -> int:
    """The ``dailypapers serve`` child of this process listening on ``port``."""
    for pid in _children(os.getpid()):
        args = _cmdline(pid)
        if "serve" in args and port in args:
            return pid
    raise RuntimeError(f"no `dailypapers serve --port {port}` process among this process' children")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # exited meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def _status_kib(pid: int, field: str) -> int:
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")
