"""Schemathesis hooks of :mod:`tests.hf.test_schemathesis`: rules of the API that OpenAPI cannot express.

``/api/search`` documents that ``since`` must not be later than ``until``, nor ``added_since`` than ``added_until``
(a 400 otherwise); a schema has no words for a rule between two parameters, so the generator is told here instead
of the server being loosened.
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
