"""Test helpers shared by the whole suite: the demo corpus, a demo library, and the real server in a subprocess.

The demo library is built by the same code `dailypapers init --demo` runs (JSONL import, embedding, ANN index).
Its papers are spread over three consecutive days so that daily pages and previous/next navigation have
something to show.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

import httpx

from dailypapers.config import Config
from dailypapers.service import Library

ROOT = Path(__file__).resolve().parents[1]
DEMO_CORPUS = ROOT.parent / "shared" / "corpus" / "papers.jsonl"
DEMO_DAYS = (date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20))  # Wed, Thu, Fri of ISO week 47
DROPOUT_TITLE = "Multi-Sample Dropout for Accelerated Training and Better Generalization"


def build_demo(config: Config) -> Library:
    """Import the demo corpus into ``config``'s store in three daily batches and index it."""
    from dailypapers.sources.jsonl import read_jsonl

    lib = Library(config)
    lib.init()
    records = list(read_jsonl(DEMO_CORPUS))
    per_day = -(-len(records) // len(DEMO_DAYS))
    it = iter(records)
    for day in DEMO_DAYS:
        lib.ingest(islice(it, per_day), added_at=day, progress=False, index=False)
    lib.update_index(progress=False)
    return lib


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(config: Config, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(
        DAILYPAPERS_DATA_DIR=str(config.data_dir),
        DAILYPAPERS_DATABASE_URL=config.database_url,
        DAILYPAPERS_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@contextmanager
def running_server(config: Config, *, workers: int = 1, timeout: float = 60.0) -> Iterator[str]:
    """Start `dailypapers serve` on a free loopback port; yield its base URL; stop it afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=server_env(config),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in time")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def days_ago(n: int) -> date:
    return date.today() - timedelta(days=n)
