"""The ``hf papers`` CLI of the pinned ``huggingface_hub`` (ls, search, info, read) with ``HF_ENDPOINT`` set to us."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.demo import DEMO_DAYS
from tests.hf.papers import LORA, LORA_AUTHORS

HF = Path(sys.executable).with_name("hf")
pytestmark = [
    pytest.mark.skipif(not HF.exists(), reason="the pinned huggingface_hub has no `hf` CLI"),
    pytest.mark.slow,  # each call starts the `hf` CLI (seconds of imports)
]


def hf(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HF), "papers", *args], env=env, capture_output=True, text=True, timeout=120)


def hf_json(env: dict[str, str], *args: str) -> Any:
    done = hf(env, *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_papers_ls(hf_env: dict[str, str]) -> None:
    rows = hf_json(hf_env, "ls", "--date", DEMO_DAYS[-1].isoformat(), "--limit", "100")
    lora = next(row for row in rows if row["id"] == "2106.09685")
    assert lora["title"] == LORA["title"]
    assert lora["upvotes"] == 42
    assert lora["published_at"].startswith("2021-06-17T17:37:18")
    assert lora["submitted_at"].startswith(DEMO_DAYS[-1].isoformat())
    assert lora["submitted_by_name"] == "dailypapers importer"
    assert [a["name"] for a in lora["authors"]] == LORA_AUTHORS
    assert len(hf_json(hf_env, "ls", "--week", "2026-W47", "--sort", "trending", "--limit", "7")) == 7
    assert len(hf_json(hf_env, "ls", "--month", "2026-11", "--submitter", "dailypapers", "--limit", "3")) == 3
    assert hf_json(hf_env, "ls", "--submitter", "akhaliq") == []
    bad = hf(hf_env, "ls", "--date", "2026-02-30")
    assert bad.returncode != 0
    assert "'date' must be a date (YYYY-MM-DD)" in bad.stderr


def test_papers_search(hf_env: dict[str, str]) -> None:
    rows = hf_json(hf_env, "search", "low-rank adaptation of large language models", "--limit", "5")
    assert 1 <= len(rows) <= 5
    assert "2106.09685" in [row["id"] for row in rows]


def test_papers_info(hf_env: dict[str, str]) -> None:
    info = hf_json(hf_env, "info", "2106.09685v2")
    assert info["id"] == "2106.09685"
    assert info["title"] == LORA["title"]
    assert info["upvotes"] == 42
    assert info["github_repo"] == "https://github.com/microsoft/LoRA"
    missing = hf(hf_env, "info", "2401.99999")
    assert missing.returncode != 0
    assert "not found" in missing.stderr


def test_papers_read(hf_env: dict[str, str]) -> None:
    done = hf(hf_env, "read", "2106.09685")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# LoRA: Low-Rank Adaptation of Large Language Models")
    assert "Edward J. Hu" in done.stdout
