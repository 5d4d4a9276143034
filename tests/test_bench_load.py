"""The load benchmark (``python -m bench.load``) runs end to end: a smoke run of 2 clients for 3 seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import load


@pytest.mark.slow  # builds and embeds the demo library, starts `dailypapers serve --workers 2`
def test_a_small_load_has_no_errors_and_loses_no_writes(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    result = load.main(["--clients", "2", "--seconds", "3", "--backends", "sqlite",
                        "--workdir", str(tmp_path / "work"), "--out", str(out)])  # fmt: skip
    run = json.loads(out.read_text())["runs"][0]
    assert run == result["runs"][0] and run["backend"] == "sqlite" and run["clients"] == 2
    assert run["requests"] > 0 and run["errors"] == 0, run["error_samples"]
    writes = run["writes"]
    assert writes["votes_lost"] == writes["votes_wrong"] == writes["comments_lost"] == 0
    assert set(run["kinds"]) >= {"all", "paper", "search"}
    assert run["kinds"]["all"]["p99_ms"] >= run["kinds"]["all"]["p50_ms"] > 0
