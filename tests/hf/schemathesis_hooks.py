"""Schemathesis hooks of :mod:`tests.hf.test_schemathesis`: rules of the API that OpenAPI cannot express.

``/api/search`` documents that ``since`` must not be later than ``until``, nor ``added_since`` than ``added_until``
(a 400 otherwise); a schema has no words for a rule between two parameters, so the generator is told here instead
of the server being loosened. Likewise a NUL character anywhere in a request (path, query, body, even a key the
API ignores) is a 400 (``dailypapers.web.middleware.NulRefusalMiddleware``; PostgreSQL text cannot hold one):
cases that carry one are left out here, and ``tests/web/test_errors.py`` tests that rule.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook("filter_query").apply_to(path="/api/search")
def since_not_after_until(ctx: Any, query: dict[str, Any] | None) -> bool:
    for low, high in (("since", "until"), ("added_since", "added_until")):  # both pairs: the same rule
        since, until = (query or {}).get(low), (query or {}).get(high)
        if isinstance(since, str) and isinstance(until, str) and since > until:  # YYYY-MM-DD sorts as dates
            return False
    return True


def _has_nul(value: Any) -> bool:
    """Whether ``value`` (a string, or a JSON-like structure of them) holds a NUL character, keys included."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


@schemathesis.hook
def filter_case(ctx: Any, case: Any) -> bool:
    parts = (case.path_parameters, case.query, case.body, case.headers, case.cookies)
    return not any(_has_nul(part) for part in parts)
