"""What a user tells the recommender directly: "not for me" on a paper (``paper_feedback``), and the interests of
the cold start (``interests``: categories, keywords, seed papers), and the secret tokens of private "For you"
feeds (``feed_tokens``), queried once for both backends.

Both are signals of :mod:`dailypapers.search.recommend`: after each change the service calls ``on_signal(user_id,
paper_keys)`` (the Library folds those papers in or out of the user's model, :meth:`Tastes.changed`). The rules:

* "not for me" is idempotent both ways; an unknown paper is :class:`NotFound`.
* Categories look like arXiv's (``cs.CL``, ``hep-th``, ``astro-ph.GA``), at most :data:`MAX_CATEGORIES`; keywords
  are 1 to :data:`MAX_KEYWORD` characters without control characters or commas (they are stored comma-separated),
  at most :data:`MAX_KEYWORDS`; seed papers are ids of papers here (a version suffix or abs URL resolves), at most
  :data:`MAX_SEEDS`. Anything else is a :class:`BadInput` that says what is allowed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select, update

from dailypapers.db.engine import Database, key_chunks
from dailypapers.db.ids import sortable_id
from dailypapers.db.schema import feed_tokens, interests, paper_feedback, papers, users
from dailypapers.errors import BadInput, NotFound
from dailypapers.papers.models import clean_text
from dailypapers.papers.service import Papers
from dailypapers.search.recommend import Interests

Signal = Callable[[str, Sequence[int]], None]
MAX_CATEGORIES = 20
MAX_KEYWORDS = 10
MAX_KEYWORD = 100
MAX_SEEDS = 20
CATEGORY = re.compile(r"^[a-z][a-z-]{0,20}(\.[A-Za-z-]{1,10})?$")


def _nothing(user_id: str, pks: Sequence[int]) -> None:
    return None


class Feedback:
    """``lib.feedback``: "not for me"."""

    def __init__(self, db: Database, papers_: Papers, on_signal: Signal | None = None) -> None:
        self.db = db
        self.papers = papers_
        self.on_signal = on_signal or _nothing

    def mark(self, user_id: str, paper_id: str, not_for_me: bool) -> bool:
        """Mark (or unmark) paper ``paper_id`` "not for me" for ``user_id``; True when it is marked afterwards."""
        paper = self.papers.get(str(paper_id)[:300])
        if paper is None or paper.pk is None:
            raise NotFound(f"No paper has the id '{str(paper_id)[:200]}'.")
        with self.db.write() as conn:
            if not_for_me:
                row = dict(user_id=user_id, paper_pk=paper.pk, kind="not_for_me", created_at=datetime.now(UTC))
                conn.execute(self.db.insert(paper_feedback).values(row).on_conflict_do_nothing())
            else:
                conn.execute(
                    delete(paper_feedback).where(
                        paper_feedback.c.user_id == user_id, paper_feedback.c.paper_pk == paper.pk
                    )
                )
        self.on_signal(user_id, [paper.pk])
        return bool(not_for_me)

    def marked(self, user_id: str, paper_pks: Iterable[int]) -> set[int]:
        """The keys among ``paper_pks`` the user marked "not for me" (the pages' toggle state)."""
        found: set[int] = set()
        with self.db.read() as conn:
            for chunk in key_chunks(paper_pks):
                query = select(paper_feedback.c.paper_pk).where(
                    paper_feedback.c.user_id == user_id, paper_feedback.c.paper_pk.in_(chunk)
                )
                found.update(int(pk) for pk in conn.execute(query).scalars())
        return found


def clean_categories(values: Iterable[str]) -> tuple[str, ...]:
    out = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    for value in out:
        if not CATEGORY.match(value):
            raise BadInput(f"'{value[:50]}' is not an arXiv category (such as cs.CL or hep-th).")
    if len(out) > MAX_CATEGORIES:
        raise BadInput(f"Pick at most {MAX_CATEGORIES} categories (these are {len(out)}).")
    return tuple(out)


def clean_keywords(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        text = clean_text(str(value))
        if not text:
            continue
        if "," in text:
            raise BadInput("A keyword cannot hold a comma: write each keyword on its own.")
        if len(text) > MAX_KEYWORD:
            raise BadInput(f"A keyword is at most {MAX_KEYWORD} characters (this one has {len(text)}).")
        if text.lower() not in {k.lower() for k in out}:
            out.append(text)
    if len(out) > MAX_KEYWORDS:
        raise BadInput(f"Pick at most {MAX_KEYWORDS} keywords (these are {len(out)}).")
    return tuple(out)


class InterestsService:
    """``lib.interests``: the cold-start interests of a user."""

    def __init__(self, db: Database, papers_: Papers, on_signal: Signal | None = None) -> None:
        self.db = db
        self.papers = papers_
        self.on_signal = on_signal or _nothing

    def get(self, user_id: str) -> Interests:
        with self.db.read() as conn:
            row = conn.execute(select(interests).where(interests.c.user_id == user_id)).first()
        if row is None:
            return Interests()
        m = row._mapping
        keywords = tuple(k.strip() for k in (m["keywords"] or "").split(",") if k.strip())
        return Interests(tuple((m["categories"] or "").split()), keywords, tuple((m["paper_ids"] or "").split()))

    def set(
        self,
        user_id: str,
        *,
        categories: Iterable[str] = (),
        keywords: Iterable[str] = (),
        paper_ids: Iterable[str] = (),
    ) -> Interests:
        """Replace the user's interests (each part validated, see the module docstring); returns them."""
        if isinstance(categories, str) or isinstance(keywords, str) or isinstance(paper_ids, str):
            raise BadInput("Categories, keywords and papers are lists.")
        cats, words = clean_categories(categories), clean_keywords(keywords)
        wanted = list(dict.fromkeys(p.strip() for p in paper_ids if p and p.strip()))
        if len(wanted) > MAX_SEEDS:
            raise BadInput(f"Pick at most {MAX_SEEDS} papers (these are {len(wanted)}).")
        seeds: list[str] = []
        for pid in wanted:
            paper = self.papers.get(pid[:300])
            if paper is None:
                raise BadInput(f"No paper has the id '{pid[:200]}'.")
            if paper.id not in seeds:
                seeds.append(paper.id)
        before = self.get(user_id).paper_ids
        values = {
            "categories": " ".join(cats),
            "keywords": ",".join(words),
            "paper_ids": " ".join(seeds),
            "updated_at": datetime.now(UTC),
        }
        with self.db.write() as conn:
            stmt = self.db.insert(interests).values(user_id=user_id, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["user_id"], set_=values))
            changed = set(before) ^ set(seeds)
            pks = [int(pk) for pk in conn.execute(select(papers.c.pk).where(papers.c.id.in_(changed))).scalars()]
        if pks:
            self.on_signal(user_id, pks)
        return Interests(cats, words, tuple(seeds))


class FeedTokens:
    """``lib.feed_tokens``: the secret in the URL of a user's private "For you" Atom feed (``feed_tokens``).

    Only the SHA-256 of a token is stored (a copied table opens no feed); it is shown once, when made. A user has
    at most one live token: making one revokes the others. A revoked or unknown token finds nobody.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, user_id: str) -> str:
        """A new token for ``user_id`` (the old ones revoked); returned once, never stored in the clear."""
        token = secrets.token_urlsafe(32)  # 256 bits: not guessable (RFC 6750 §5.2 asks for at least 2^-128 odds)
        now = datetime.now(UTC)
        with self.db.write() as conn:
            self._revoke(conn, user_id, now)
            conn.execute(
                feed_tokens.insert().values(
                    id=sortable_id(), user_id=user_id, token_hash=_digest(token), created_at=now, revoked_at=None
                )
            )
        return token

    def revoke(self, user_id: str) -> int:
        """Revoke the user's live tokens; how many there were."""
        with self.db.write() as conn:
            return self._revoke(conn, user_id, datetime.now(UTC))

    def active(self, user_id: str) -> bool:
        query = select(feed_tokens.c.id).where(feed_tokens.c.user_id == user_id, feed_tokens.c.revoked_at.is_(None))
        with self.db.read() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def user_of(self, token: str) -> str | None:
        """The id of the user whose live token this is (an enabled account), else None."""
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            return None
        query = (
            select(feed_tokens.c.user_id)
            .join(users, users.c.id == feed_tokens.c.user_id)
            .where(feed_tokens.c.token_hash == _digest(token), feed_tokens.c.revoked_at.is_(None), ~users.c.disabled)
        )
        with self.db.read() as conn:
            found = conn.execute(query).scalar_one_or_none()
        return None if found is None else str(found)

    @staticmethod
    def _revoke(conn: Connection, user_id: str, now: datetime) -> int:
        stmt = update(feed_tokens).where(feed_tokens.c.user_id == user_id, feed_tokens.c.revoked_at.is_(None))
        return int(conn.execute(stmt.values(revoked_at=now)).rowcount or 0)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
