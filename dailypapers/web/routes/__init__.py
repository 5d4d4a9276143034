"""The web features, one module each; :data:`ROUTERS` lists their routers in the order the app includes them.

Order matters where paths overlap: the period pages' ``/papers/date|week|month/…`` and the Hugging Face API's
``/papers/{id}.md`` come before the paper page's catch-all ``/papers/{id}``. Feature modules never import each
other (``tests/test_layers.py``): what they share lives in :mod:`dailypapers.web.deps`, ``params``, ``forms``,
``responses``, ``views`` and ``panels``.
"""

from __future__ import annotations

from fastapi import APIRouter

from dailypapers.web.routes import (
    account_api,
    accounts,
    admin_status,
    alerts,
    authors,
    claims,
    claims_api,
    collections,
    collections_api,
    comments,
    comments_api,
    for_you,
    hf,
    moderation,
    pages,
    papers,
    profiles,
    search,
    submissions,
    subscriptions,
    trending,
    votes,
)

ROUTERS: list[APIRouter] = [
    hf.router,  # Hugging Face compatible: /api/papers/…, /api/daily_papers, /papers/{id}.md
    pages.router,  # /, /papers/date|week|month/… (and their /api/ and /feeds/ twins) before /papers/{id}
    search.router,
    papers.router,  # /papers/{id}, /papers/{id}.bib, /api/similar/{id}
    votes.router,
    accounts.router,
    account_api.router,
    collections.router,
    collections_api.router,
    comments.router,
    comments_api.router,
    moderation.router,
    trending.router,
    trending.api_router,
    trending.feeds_router,
    authors.router,
    authors.api_router,
    authors.feeds_router,
    claims_api.router,
    claims.router,
    profiles.router,
    profiles.api_router,
    admin_status.router,
    admin_status.api_router,
    submissions.router,
    subscriptions.router,
    subscriptions.api_router,
    alerts.router,
    alerts.api_router,
    for_you.router,
    for_you.api_router,
]
