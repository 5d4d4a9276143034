"""The panels of the paper page: claims, comments, submitted links, and whatever a feature adds later.

A feature contributes a panel by decorating a provider, ``(request, library, paper) -> context``, with
:func:`paper_panel`; the paper page asks every provider (:func:`panel_context`) instead of importing them, so
features never import each other. Providers run in ``order`` (lowest first): a later one may override what an
earlier one set (submitted links carry the paper's effective links, so they come last).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from dailypapers.library import Library
from dailypapers.papers.models import Paper

Panel = Callable[[Request, Library, Paper], dict[str, Any]]
P = TypeVar("P", bound=Callable[..., dict[str, Any]])
_PANELS: list[tuple[int, str, Panel]] = []


def paper_panel(order: int) -> Callable[[P], P]:
    """Register the decorated provider as a panel of the paper page (once per provider)."""

    def register(provider: P) -> P:
        name = f"{provider.__module__}.{provider.__qualname__}"
        if all(name != known for _, known, _ in _PANELS):
            _PANELS.append((order, name, provider))
            _PANELS.sort(key=lambda entry: (entry[0], entry[1]))
        return provider

    return register


def panels() -> list[str]:
    """The registered providers' names, in the order they run."""
    return [name for _, name, _ in _PANELS]


def panel_context(request: Request, library: Library, paper: Paper) -> dict[str, Any]:
    """Every panel's context for the page of ``paper``, merged in order."""
    merged: dict[str, Any] = {}
    for _, _, provider in _PANELS:
        merged.update(provider(request, library, paper))
    return merged
