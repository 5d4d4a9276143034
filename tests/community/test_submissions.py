"""Paper submissions and links (``dailypapers.community.submissions``) on each backend, against a real local fake
arXiv API (:mod:`tests.fakes_arxiv`): every accepted form of an id, refused forms with their messages, duplicates,
the submission window, unknown ids, arXiv down, nothing stored half, the instance-wide arXiv turn, and who may set
a paper's code and project links.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert

from dailypapers.community.arxiv_gate import LAST_REQUEST_KEY, LOCK_NAME
from dailypapers.community.submissions import ArxivUnavailable, Links, Submissions, parse_submission
from dailypapers.config import Config
from dailypapers.db.schema import claims
from dailypapers.errors import BadInput, Conflict, Forbidden, RateLimited
from dailypapers.library import Library
from dailypapers.papers.periods import day_period
from dailypapers.papers.sources.arxiv_api import arxiv_options
from tests.demo import demo_embedder
from tests.fakes_arxiv import ArxivById, FakePaper, arxiv_by_id, days_ago
from tests.web.small_library import PASSWORD, build_small

FRESH = "2611.01234"  # an id of the future (so never one of the fixture libraries)
OLD_STYLE = "hep-th/0611001"
LINKED = "2611.04444"


@pytest.fixture
def fake() -> Iterator[ArxivById]:
    with arxiv_by_id() as server:
        server.add(FakePaper(FRESH, "Fresh Results on Sparse Attention", days_ago(2), version=3))
        server.add(FakePaper(OLD_STYLE, "Strings on Fresh Backgrounds", days_ago(1)))
        server.add(FakePaper("2611.05555", "An Old Friend", datetime(2021, 6, 17, 12, tzinfo=UTC)))
        server.add(FakePaper("2611.07777", "Right at the Edge", days_ago(14)))
        server.add(FakePaper("2611.08888", "Just Past the Edge", days_ago(15)))
        linked = "We release code at https://github.com/abstract/repo and a demo at https://abstract.example.org."
        server.add(FakePaper(LINKED, "Linked From the Abstract", days_ago(3), abstract=linked))
        yield server


def config_for(backend: str, request: pytest.FixtureRequest, tmp_path: Any, api_url: str, **kw: Any) -> Config:
    url = request.getfixturevalue("db_config").database_url  # a copy of the migrated database
    return Config(
        password_hash="cheapest",
        data_dir=tmp_path,
        database_url=url,
        arxiv_api_url=api_url,
        arxiv_delay=0.01,
        arxiv_retries=1,
        **kw,
    )


@pytest.fixture
def lib(backend: str, request: pytest.FixtureRequest, tmp_path: Any, fake: ArxivById) -> Iterator[Library]:
    library = build_small(config_for(backend, request, tmp_path, fake.url), demo_embedder())
    yield library
    library.close()


def user(lib: Library, name: str = "ann") -> str:
    """A new account's id (the first account of a library is its admin)."""
    return lib.accounts.create_user(name, f"{name}@example.org", PASSWORD).id


def counts(lib: Library) -> tuple[int, int]:
    return lib.papers.count(), lib.submissions.count()


ACCEPTED = [
    (FRESH, (FRESH, None)),
    (f"{FRESH}v2", (FRESH, 2)),
    (f"arXiv:{FRESH}", (FRESH, None)),
    (f"ARXIV:{FRESH}v3", (FRESH, 3)),
    (f"https://arxiv.org/abs/{FRESH}", (FRESH, None)),
    (f"http://arxiv.org/abs/{FRESH}v1", (FRESH, 1)),
    (f"https://arxiv.org/pdf/{FRESH}", (FRESH, None)),
    (f"https://arxiv.org/pdf/{FRESH}v2.pdf", (FRESH, 2)),
    (f"https://export.arxiv.org/abs/{FRESH}", (FRESH, None)),
    (f"https://www.arxiv.org/abs/{FRESH}/", (FRESH, None)),
    (f"https://arxiv.org/abs/{FRESH}?context=cs.LG#top", (FRESH, None)),
    (f"  {FRESH}  ", (FRESH, None)),
    ("1412.6980", ("1412.6980", None)),  # four digits after the dot until 2014
    (OLD_STYLE, (OLD_STYLE, None)),
    (f"{OLD_STYLE}v2", (OLD_STYLE, 2)),
    (f"arXiv:{OLD_STYLE}", (OLD_STYLE, None)),
    (f"https://arxiv.org/abs/{OLD_STYLE}", (OLD_STYLE, None)),
    ("https://arxiv.org/pdf/math.GT/0309136v1", ("math.GT/0309136", 1)),
]
REFUSED = [
    ("", "Enter the paper's arXiv id or link"),
    ("   ", "Enter the paper's arXiv id or link"),
    ("x" * 301, "too long for an arXiv id or link (at most 300 characters)"),
    ("hello world", "'hello world' is not an arXiv id"),
    ("2611.1234", "is not an arXiv id"),  # five digits after the dot since 2015
    ("2613.01234", "is not an arXiv id"),  # there is no month 13
    ("1412.69801", "is not an arXiv id"),
    ("arXiv: 2611.01234", "is not an arXiv id"),
    ("hep-th/061100", "is not an arXiv id"),
    ("https://evil.example/abs/2611.01234", "Only arxiv.org links can be submitted, not links to 'evil.example'"),
    ("https://arxiv.org.evil.example/abs/2611.01234", "Only arxiv.org links"),
    ("https://arxiv.org/html/2611.01234", "is not an arXiv id"),
    ("javascript:alert(1)", "is not an arXiv id"),
    ("http://[::1/abs/2611.01234", "is not a valid link"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_every_form_of_an_id_is_accepted(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_submission(text) == expected


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_refused_forms_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(BadInput) as refused:
        parse_submission(text)
    assert message in refused.value.message
    assert "2106.09685v2" in refused.value.message and "hep-th/9901001" in refused.value.message


def test_a_submission_lands_on_todays_list_with_its_submitter(lib: Library, fake: ArxivById) -> None:
    ann = user(lib)
    before = counts(lib)
    result = lib.submissions.submit(f"https://arxiv.org/abs/{FRESH}v3", ann)
    assert not result.duplicate and result.paper.id == FRESH and result.paper.version == 3
    assert result.paper.added_at == lib.submissions.today()
    assert counts(lib) == (before[0] + 1, before[1] + 1)
    assert fake.seen[0].params["id_list"] == f"{FRESH}v3"
    assert lib.submissions.submitted_by([result.paper.pk or 0, 1, 2]) == {result.paper.pk: "ann"}
    today = lib.papers.in_period(day_period(lib.submissions.today()))
    assert [p.id for p in today] == [FRESH]
    assert lib.wait_for_indexing(60)  # embedded by a background thread, never in the submission's path
    hits = lib.search.query("sparse attention", mode="semantic").results
    assert hits and hits[0].paper.id == FRESH  # indexed, not only stored


def test_an_old_style_id_is_submitted_too(lib: Library) -> None:
    result = lib.submissions.submit(f"arXiv:{OLD_STYLE}", user(lib))
    assert result.paper.id == OLD_STYLE and lib.papers.get(OLD_STYLE) is not None


def test_a_duplicate_points_to_the_stored_paper_without_asking_arxiv(lib: Library, fake: ArxivById) -> None:
    ann = user(lib)
    for text in ("2106.09685", "arXiv:2106.09685v1", "https://arxiv.org/pdf/2106.09685v2.pdf"):
        result = lib.submissions.submit(text, ann)
        assert result.duplicate and result.paper.id == "2106.09685"
    first = lib.submissions.submit(FRESH, ann)
    again = lib.submissions.submit(f"{FRESH}v1", user(lib, "bob"))
    assert again.duplicate and again.paper.pk == first.paper.pk
    assert len(fake.seen) == 1 and lib.submissions.submitted_by([first.paper.pk or 0]) == {first.paper.pk: "ann"}


def test_the_window_refuses_stale_papers_with_the_date(lib: Library) -> None:
    ann = user(lib)
    before = counts(lib)
    with pytest.raises(BadInput) as stale:
        lib.submissions.submit("2611.05555", ann)
    message = stale.value.message
    assert "first published on 2021-06-17, more than 14 days ago" in message and "within 14 days" in message
    with pytest.raises(BadInput, match="more than 14 days ago"):
        lib.submissions.submit("2611.08888", ann)
    assert counts(lib) == before
    assert not lib.submissions.submit("2611.07777", ann).duplicate  # 14 days: still inside


def test_a_window_of_zero_takes_any_age(lib: Library) -> None:
    any_age = Library(dataclasses.replace(lib.config, submission_window_days=0), store=lib.store)
    assert any_age.submissions.submit("2611.05555", user(lib)).paper.title == "An Old Friend"


@pytest.mark.parametrize("as_error", [False, True])
def test_an_unknown_id_is_a_clear_error(lib: Library, fake: ArxivById, as_error: bool) -> None:
    fake.unknown_as_error = as_error
    before = counts(lib)
    with pytest.raises(BadInput) as unknown:
        lib.submissions.submit("2611.09999", user(lib))
    expected = "arXiv does not know the paper 2611.09999" if as_error else "arXiv has no paper 2611.09999"
    assert expected in unknown.value.message
    assert counts(lib) == before


def test_arxiv_down_is_a_clear_error_and_nothing_is_stored(lib: Library, fake: ArxivById) -> None:
    before = counts(lib)
    fake.script = [(503, {}, b"down"), (503, {}, b"down")]  # the first request and its one retry
    with pytest.raises(ArxivUnavailable) as down:
        lib.submissions.submit(FRESH, user(lib))
    assert down.value.status == 502 and "arXiv could not be reached" in down.value.message
    assert "nothing was stored" in down.value.message and len(fake.seen) == 2
    assert counts(lib) == before
    closed = Library(dataclasses.replace(lib.config, arxiv_api_url="http://127.0.0.1:9/api/query"), store=lib.store)
    with pytest.raises(ArxivUnavailable):
        closed.submissions.submit(FRESH, user(lib, "bob"))
    assert counts(lib) == before
    assert lib.submissions.submit(FRESH, user(lib, "cy")).paper.id == FRESH  # arXiv is back


def test_a_long_retry_after_gives_up_instead_of_hanging(lib: Library, fake: ArxivById) -> None:
    fake.script = [(503, {"Retry-After": "120"}, b"busy")]
    started = time.monotonic()
    with pytest.raises(ArxivUnavailable, match="arXiv asks us to wait 120 s"):
        lib.submissions.submit(FRESH, user(lib))
    assert time.monotonic() - started < 5 and lib.papers.get(FRESH) is None


def test_a_failed_submission_row_takes_the_paper_back(lib: Library) -> None:
    before = counts(lib)
    with pytest.raises(Conflict, match="no longer exists"):
        lib.submissions.submit(FRESH, "no-such-user")  # the foreign key refuses the row
    assert counts(lib) == before and lib.papers.get(FRESH) is None


class BrokenEmbedder:
    """An embedding model that fails (out of memory, say) after loading: indexing fails after the import."""

    name, dim = "broken-model", 384

    def embed(self, texts: Any) -> np.ndarray:
        raise RuntimeError("the embedding model ran out of memory")


def test_a_failed_embedding_keeps_the_submission_for_the_embed_job(lib: Library) -> None:
    """Embedding runs after the request, in the background: when it fails, the submission stands (listed, and found
    by keywords), and the ``index.embed`` job embeds the paper later."""
    broken = Library(lib.config, store=lib.store, embedder=BrokenEmbedder())  # type: ignore[arg-type]
    before = counts(lib)
    result = broken.submissions.submit(FRESH, user(lib))
    assert broken.wait_for_indexing(30)  # it ran, and failed ("out of memory"): logged, not raised
    assert counts(lib) == (before[0] + 1, before[1] + 1) and lib.papers.get(FRESH) is not None
    assert lib.store.count_needing_embedding(lib.embedder.name) == 1
    assert lib.search.update_index() == 1  # what the index.embed job does
    assert lib.search.similar(result.paper, k=3)  # searchable by meaning now


def test_submissions_wait_for_the_instances_last_arxiv_request(lib: Library, fake: ArxivById) -> None:
    spaced = Library(dataclasses.replace(lib.config, arxiv_delay=0.4), store=lib.store)
    lib.store.meta.set(LAST_REQUEST_KEY, repr(time.time()))  # another worker asked arXiv just now
    started = time.monotonic()
    spaced.submissions.submit(FRESH, user(lib))
    assert fake.seen[0].at - started >= 0.35
    spaced.submissions.submit(OLD_STYLE, user(lib, "bob"))
    assert fake.gaps()[0] >= 0.35
    assert abs(float(lib.store.meta.get(LAST_REQUEST_KEY) or 0) - time.time()) < 5


def test_a_busy_arxiv_turn_is_refused_after_a_bounded_wait(lib: Library, fake: ArxivById) -> None:
    quick = Submissions(
        lib.db,
        lib.papers,
        lib.store.meta,
        lambda records, day: lib.ingest(records, added_at=day, progress=False),
        arxiv=arxiv_options(lib.config),
        window_days=14,
        time_zone="UTC",
        busy_wait=0.5,
    )
    ann = user(lib)
    with lib.papers.job_lock(LOCK_NAME) as mine:  # another worker (or machine) is asking arXiv
        assert mine
        started = time.monotonic()
        with pytest.raises(RateLimited, match="arXiv is busy") as busy:
            quick.submit(FRESH, ann)
        assert 0.3 <= time.monotonic() - started < 3 and busy.value.headers["Retry-After"] == "5"
    assert not fake.seen and lib.papers.get(FRESH) is None
    assert not quick.submit(FRESH, ann).duplicate  # the turn is free again


def test_concurrent_submissions_of_one_paper_store_it_once(lib: Library, fake: ArxivById) -> None:
    ids = [user(lib, name) for name in ("ann", "bob", "cy")]
    results: list[Any] = []
    threads = [threading.Thread(target=lambda u=u: results.append(lib.submissions.submit(FRESH, u))) for u in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.duplicate for r in results) == [False, True, True] and len(fake.seen) == 1
    assert lib.submissions.count() == 1


# -- links ------------------------------------------------------------------------------------------------------------
GITHUB = "https://github.com/example/sparse"
PROJECT = "https://example.org/sparse"


def submitted(lib: Library) -> tuple[Any, str]:
    ann = user(lib)
    return lib.submissions.submit(FRESH, ann).paper, ann


def test_the_submitter_sets_links_and_empty_resets_them(lib: Library) -> None:
    paper, ann = submitted(lib)
    s = lib.submissions
    assert s.links(paper) == Links(None, None)
    assert s.set_links(paper, ann, f"  {GITHUB} ", PROJECT, is_admin=False) == Links(GITHUB, PROJECT)
    assert s.links(paper) == Links(GITHUB, PROJECT)
    assert s.set_links(paper, ann, "", PROJECT, is_admin=False) == Links(None, PROJECT)
    assert s.set_links(paper, ann, "", " ", is_admin=False) == Links(None, None)


def test_overrides_win_over_the_abstract_and_empty_goes_back_to_it(lib: Library) -> None:
    ann = user(lib)
    paper = lib.submissions.submit(LINKED, ann).paper
    abstract = Links("https://github.com/abstract/repo", "https://abstract.example.org")
    assert lib.submissions.links(paper) == abstract
    assert lib.submissions.set_links(paper, ann, GITHUB, "", is_admin=False) == Links(GITHUB, abstract.project_url)
    assert lib.submissions.set_links(paper, ann, GITHUB, PROJECT, is_admin=False) == Links(GITHUB, PROJECT)
    assert lib.submissions.set_links(paper, ann, None, None, is_admin=False) == abstract


def test_only_the_submitter_an_approved_author_or_an_admin_may_set_links(lib: Library) -> None:
    root = user(lib, "root")
    paper, ann = submitted(lib)
    bob = user(lib, "bob")
    s = lib.submissions
    with pytest.raises(Forbidden, match="Only the paper's submitter"):
        s.set_links(paper, bob, GITHUB, None, is_admin=False)
    assert s.links(paper) == Links(None, None)
    assert s.may_edit_links(paper, ann, is_admin=False) and s.may_edit_links(paper, root, is_admin=True)
    with lib.db.write() as conn:  # bob's claim to be an author, pending: not yet
        row = {"paper_pk": paper.pk, "user_id": bob, "author_name": "Ada Lovelace", "created_at": datetime.now(UTC)}
        conn.execute(insert(claims).values(id="c1", status="pending", **row))
    assert not s.may_edit_links(paper, bob, is_admin=False)
    with lib.db.write() as conn:
        conn.execute(claims.update().where(claims.c.id == "c1").values(status="approved"))
    assert s.set_links(paper, bob, None, PROJECT, is_admin=False) == Links(None, PROJECT)
    assert s.set_links(paper, root, GITHUB, PROJECT, is_admin=True) == Links(GITHUB, PROJECT)


@pytest.mark.parametrize(
    ("code", "project", "message"),
    [
        ("javascript:alert(1)", None, "The GitHub repository must be an http:// or https:// link"),
        (None, "JAVASCRIPT:alert(1)//https://x", "The project page must be an http:// or https:// link"),
        ("github.com/example/sparse", None, "must be an http:// or https:// link"),
        ("https://", None, "must be an http:// or https:// link"),
        (None, "https://exa mple.org", "must be an http:// or https:// link"),
        (None, "data:text/html,<script>", "must be an http:// or https:// link"),
        ("https://github.com/" + "a" * 490, None, "The GitHub repository link is too long (at most 500 characters)"),
    ],
)
def test_bad_links_are_refused_with_a_message(
    lib: Library, code: str | None, project: str | None, message: str
) -> None:
    paper, ann = submitted(lib)
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        lib.submissions.set_links(paper, ann, code, project, is_admin=False)
    assert lib.submissions.links(paper) == Links(None, None)


def test_a_paper_a_moderator_hid_cannot_be_submitted_again(lib: Library, fake: ArxivById) -> None:
    root = user(lib, "root")
    lib.papers.hide("2106.09685", root, "spam")
    with pytest.raises(Conflict, match="taken off the lists by a moderator"):
        lib.submissions.submit("arXiv:2106.09685", root)
    assert not fake.seen
