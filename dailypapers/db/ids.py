"""Random row ids whose text order is their creation order.

Comments, collections and claims are keyed by such an id rather than an integer: it is the same in every copy
of the database (``db copy`` keeps rows as they are), it does not reveal how many rows exist, and because it
starts with the creation time, ordering by it is ordering by time — ``db copy`` writes rows in key order, so a
reply always follows the comment it answers.
"""

from __future__ import annotations

import secrets
import time


def sortable_id() -> str:
    """14 hex digits of microseconds since 1970 (enough until the year 10889), then 12 random hex digits."""
    return f"{time.time_ns() // 1000:014x}{secrets.token_hex(6)}"
