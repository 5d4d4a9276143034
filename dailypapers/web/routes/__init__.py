"""The web features, one module each; :data:`ROUTERS` lists their routers in the order the app includes them.

Order matters where paths overlap: the period pages' ``/papers/date|week|month/…`` and the Hugging Face API's
``/papers/{id}.md`` come before the paper page's catch-all ``/papers/{id}``. Feature modules never import each
other (``tests/test_layers.py``): what they share lives in :mod:`dailypapers.web.deps`, ``params``, ``forms``,
``responses``, ``views`` and ``panels``.
"""

from __future__ import annotations

from fastapi import APIRouter

from dailypapers.web.routes import (
    account_email,
    accounts,
    admin_status,
    alerts,
    authors,
    claims,
    collections,
    comments,
    for_you,
    health,
    hf,
    map,
    moderation,
    pages,
    papers,
    profiles,
    rate,
    search,
    submissions,
    subscriptions,
    topics,
    trending,
    votes,
)

ROUTERS: list[APIRouter] = [
    health.router,  # /healthz, /readyz, /metrics
    hf.router,  # Hugging Face compatible: /api/papers/…, /api/daily_papers, /papers/{id}.md
    pages.router,  # /, /papers/date|week|month/… (and their /api/ and /feeds/ twins) before /papers/{id}
    search.router,
    papers.router,  # /papers/{id}, /papers/{id}.bib, /api/similar/{id}
    votes.router,
    accounts.router,
    account_email.router,  # /password/forgot, /password/reset, /account/email/verify
    collections.router,
    comments.router,
    moderation.router,
    trending.router,
    authors.router,
    claims.router,  # its /api/claims routes come first, as when they were a router of their own
    profiles.router,
    admin_status.router,
    submissions.router,
    subscriptions.router,
    alerts.router,
    for_you.router,
    map.router,  # /map, /api/map (issue 24)
    topics.router,  # key phrases, rising topics; its paper panel
    rate.router,  # /for-you/rate: the rating round of a first visit
]
