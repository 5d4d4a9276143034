"""Fixtures of the Hugging Face compatibility tests: the demo library plus a few real arXiv papers, served for real.

The server is ``dailypapers serve`` on a loopback port, started once per session; ``huggingface_hub`` talks to it
over HTTP exactly as it would to huggingface.co.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from dailypapers.config import Config
from dailypapers.models import make_paper
from tests.demo import DEMO_DAYS, build_demo, running_server
from tests.hf.papers import ATTENTION, LORA, MALDACENA, HfDemo


@pytest.fixture(scope="session")
def hf_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HfDemo]:
    config = Config(data_dir=tmp_path_factory.mktemp("hf-demo"))
    library = build_demo(config)
    recent = [make_paper(source="arxiv", **fields) for fields in (LORA, MALDACENA)]  # type: ignore[arg-type]
    old = [make_paper(source="arxiv", **ATTENTION)]  # type: ignore[arg-type]
    library.ingest(recent, added_at=DEMO_DAYS[-1], progress=False)
    library.ingest(old, added_at=DEMO_DAYS[0], progress=False)
    with running_server(config) as base_url:
        yield HfDemo(base_url, library, config)
    library.close()


@pytest.fixture
def hf_env(
    hf_demo: HfDemo, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Online mode for ``huggingface_hub`` in this process, and the environment for the ``hf`` CLI.

    The embedder sets ``HF_HUB_OFFLINE=1`` (it never downloads models); the client would then refuse every
    request. The CLI gets a fresh ``HF_HOME`` so that no saved token is sent.
    """
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    drop = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        HF_ENDPOINT=hf_demo.base_url,
        HF_HOME=str(tmp_path_factory.mktemp("hf-home")),
        HF_HUB_DISABLE_TELEMETRY="1",
        NO_COLOR="1",
    )
    return env
