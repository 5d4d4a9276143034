"""What an oversized request body costs the real server: ``python -m bench.body_limit``.

Starts ``dailypapers serve`` on an empty SQLite library (``tests.demo.running_server``), waits for the model warm-up,
then POSTs 200 MiB to ``/login`` twice: once streamed without a length (chunked, 1 MiB chunks) and once with a
declared ``Content-Length``. Prints the answers, the time of the streamed one and the worker's resident memory
before and after (``VmRSS``), and writes them to ``bench/results/body_limit.json``. Before the body limit, the
same request cost the server about 570 MB (Starlette buffers a form whole).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from dailypapers.config import Config
from dailypapers.library import Library
from tests.demo import running_server

MIB = 1 << 20
SIZE_MIB = 200
RESULTS = Path(__file__).with_name("results") / "body_limit.json"


def rss_mib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


def chunks() -> Iterator[bytes]:
    chunk = b"x" * MIB
    for _ in range(SIZE_MIB):
        yield chunk


def main() -> None:
    config = Config(data_dir=Path(tempfile.mkdtemp(prefix="dp-body-limit-")))
    lib = Library(config)
    lib.init()
    lib.close()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with running_server(config) as base:
        port = base.rsplit(":", 1)[1]
        pid = int(subprocess.check_output(["pgrep", "-f", f"serve --host 127.0.0.1 --port {port}"]).split()[0])
        time.sleep(8)  # the model loads in the background after start-up; measure after it
        before = rss_mib(pid)
        started = time.perf_counter()
        streamed = httpx.post(base + "/login", content=chunks(), headers=form, timeout=60)
        seconds = time.perf_counter() - started
        declared = httpx.post(base + "/login", content=b"x" * (SIZE_MIB * MIB), headers=form, timeout=60)
        after = rss_mib(pid)
    result = {
        "body_mib": SIZE_MIB,
        "streamed_status": streamed.status_code,
        "streamed_s": round(seconds, 3),
        "declared_status": declared.status_code,
        "rss_before_mib": before,
        "rss_after_mib": after,
    }
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
