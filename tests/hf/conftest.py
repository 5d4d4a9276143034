"""Fixtures of the Hugging Face compatibility tests: the demo library plus a few real arXiv papers, served for real.

The server is ``dailypapers serve`` on a loopback port, started once per session and storage backend (every test
that uses it runs once per backend ``--backend`` selects); ``huggingface_hub`` talks to it over HTTP exactly as it
would to huggingface.co. The library is the demo's plus three papers, built separately from the web tests' demo
(whose page counts assume exactly the 298 demo papers).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import cast

import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import make_paper
from tests.demo import DEMO_DAYS, build_demo, built_once, demo_embedder, kept_for_session, running_server
from tests.hf.papers import ATTENTION, LORA, MALDACENA, HfDemo


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of the demo library: session-scoped here (the root conftest's is per test), so that
    each backend's library is built and served once. The root conftest parametrises it by ``--backend``."""
    return str(request.param)


def _build_hf_demo(config: Config) -> None:
    library = build_demo(config, embedder=demo_embedder())
    recent = [make_paper(source="arxiv", **fields) for fields in (LORA, MALDACENA)]  # type: ignore[arg-type]
    old = [make_paper(source="arxiv", **ATTENTION)]  # type: ignore[arg-type]
    library.ingest(recent, added_at=DEMO_DAYS[-1], progress=False)
    library.ingest(old, added_at=DEMO_DAYS[0], progress=False)
    library.close()


@contextmanager
def _hf_demo(config: Config) -> Iterator[HfDemo]:
    with closing(Library(config, embedder=demo_embedder())) as library, running_server(config) as base_url:
        yield HfDemo(base_url, library, config)


@pytest.fixture(scope="session")
def hf_demo(request: pytest.FixtureRequest, backend: str) -> HfDemo:
    """The Hugging Face demo library and its server, started once per backend (see ``kept_for_session``)."""
    config = built_once(request, "hf-demo", backend, _build_hf_demo)
    return cast(HfDemo, kept_for_session(request, ("hf-demo", backend), lambda: _hf_demo(config)))


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
