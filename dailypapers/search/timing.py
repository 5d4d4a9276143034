"""A small hook through which search reports how long its steps take, without knowing who listens.

:mod:`dailypapers.search.fusion` and :mod:`dailypapers.search.hybrid` time their steps with :func:`timed`; the
embedding indexer reports each batch with :func:`embedded`. Observers (``dailypapers.ops.metrics`` registers one
when the web app starts) receive ``(step, seconds)`` or ``(papers, seconds)``. With no observer each call costs one
``perf_counter`` pair. Lower layers never import the web or ops code this way (tests/test_layers.py).

Steps: ``keyword``, ``embedding`` (the query vector), ``vector`` (nearest papers), ``fusion`` (RRF), and
``search:<mode>`` for a whole hybrid search.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

StepObserver = Callable[[str, float], None]
EmbedObserver = Callable[[int, float], None]
_steps: list[StepObserver] = []
_embeds: list[EmbedObserver] = []


def observe_steps(fn: StepObserver) -> None:
    """Call ``fn(step, seconds)`` after each timed step (once per function, however often it is added)."""
    if fn not in _steps:
        _steps.append(fn)


def observe_embedding(fn: EmbedObserver) -> None:
    """Call ``fn(papers, seconds)`` after each embedded batch."""
    if fn not in _embeds:
        _embeds.append(fn)


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Time the ``with`` block as ``step`` (also when it raises)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        if _steps:
            elapsed = time.perf_counter() - start
            for fn in _steps:
                fn(step, elapsed)


def embedded(papers: int, seconds: float) -> None:
    """Report a batch of ``papers`` embedded in ``seconds``."""
    for fn in _embeds:
        fn(papers, seconds)
