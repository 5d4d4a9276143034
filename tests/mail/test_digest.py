"""The digest on the demo library (real papers, real embeddings), on both backends: sections and their reasons,
each paper once and only papers added in the window, escaping of hostile papers, headers (RFC 8058, RFC 2919), no
empty digests, the weekend rule, weekly periods, never twice, late but never a backlog, inactive subscriptions,
previews, the CLI and the ``digest.send`` job.

The library is built once per backend for this module (the demo corpus over Wed 18 – Fri 20 Nov 2026, plus
:data:`EXTRA` on Friday with categories, authors and hostile text, and one paper on 2 Nov that no window covers).
Every test makes its own subscriptions and ends them afterwards, so each batch sees only its own test's.
"""

from __future__ import annotations

import dataclasses
import email
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from itertools import count
from typing import Any
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.db.schema import subscriptions
from dailypapers.errors import BadInput, NotFound
from dailypapers.jobs.scheduler import run_now
from dailypapers.library import Library
from dailypapers.mail.links import Purpose
from dailypapers.mail.render import parts
from dailypapers.mail.subscriptions import Subscription
from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.periods import day_period
from dailypapers.papers.store import Filters
from tests.demo import DEMO_DAYS, DROPOUT_TITLE, build_demo, built_once, cli_env, demo_embedder

FRIDAY = DEMO_DAYS[2]  # Fri 20 Nov 2026, the newest day with papers
EARLY = date(2026, 11, 2)  # a Monday no digest window of these tests covers
HOSTILE = '<script>alert("t")</script> Robust <img src=x onerror=alert(1)> Dropout & Friends'
_emails = count(1)


def _paper(arxiv_id: str, title: str, categories: list[str], upvotes: int, **extra: Any) -> Paper:
    return make_paper(
        source="jsonl", arxiv_id=arxiv_id, title=title, categories=categories, upvotes=upvotes,
        abstract=extra.pop("abstract", f"{title}. We study regularisation of deep networks with dropout noise, "
                                       "and show when it helps generalisation on held-out data."),
        authors=extra.pop("authors", ["Ada Lovelace", "Alan Turing"]), **extra,
    )  # fmt: skip


EXTRA = [
    _paper("2611.10001", HOSTILE, ["cs.LG"], 90, authors=['Eve "><b>bold</b>', "Mallory <i>x</i>"],
           abs_url="javascript:alert(2)"),
    _paper("2611.10002", "Sparse Attention for Long Contexts", ["cs.CL"], 7,
           abstract="Sparse attention patterns let transformers read long contexts in linear time and memory."),
    _paper("2611.10003", "Category Only Paper About Graphs", ["cs.DM", "math.CO"], 0,
           abstract="We bound the chromatic number of sparse planar graphs without short cycles."),
    _paper("2611.10005", "Trending Without Dropout", ["cs.LG"], 5,
           abstract="A benchmark of tabular classifiers; gradient boosted trees remain strong baselines."),
]  # fmt: skip
OLD = _paper("2611.10004", "An Older Discrete Mathematics Paper", ["cs.DM"], 50)
WEDNESDAY = _paper(
    "2611.10006",
    "Wednesday Graph Minors",
    ["cs.DM"],
    0,
    abstract="Graph minors of bounded treewidth, revisited with a shorter proof.",
)


def _build(config: Config) -> None:
    lib = build_demo(config, embedder=demo_embedder())
    lib.ingest(EXTRA, added_at=FRIDAY, progress=False)
    lib.ingest([OLD], added_at=EARLY, progress=False)
    lib.ingest([WEDNESDAY], added_at=DEMO_DAYS[0], progress=False)
    lib.close()


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest) -> str:
    """Module-scoped (the root conftest's is per test): each backend's library is built once for the module."""
    return str(request.param)


@pytest.fixture(scope="module")
def digest_config(request: pytest.FixtureRequest, backend: str) -> Config:
    built = built_once(request, "digest", backend, _build)
    # The outbox holds what it records (SMTP is test_digest_e2e's); 3 papers a section keep the sections apart.
    return dataclasses.replace(built, mailer="none", digest_papers=3)


@pytest.fixture(scope="module")
def lib(digest_config: Config) -> Iterator[Library]:
    library = Library(digest_config, embedder=demo_embedder())
    yield library
    library.close()


Subscribe = Callable[..., Subscription]


@pytest.fixture
def subscribe(lib: Library) -> Iterator[Subscribe]:
    """Make a confirmed subscription (unique address); every one made is unsubscribed after the test."""
    made: list[str] = []

    def make(**prefs: Any) -> Subscription:
        prefs.setdefault("time_zone", "UTC")
        prefs.setdefault("send_hour", 8)
        sub = lib.subscriptions.subscribe(f"reader{next(_emails)}@example.org", **prefs)
        made.append(sub.id)
        return lib.subscriptions.confirm(lib.links.token("confirm", sub))

    yield make
    for sub_id in made:
        sub = lib.subscriptions.get(sub_id)
        if sub is not None and sub.status == "active":
            lib.subscriptions.unsubscribe(lib.links.token("unsubscribe", sub))


def at(day: date, hour: int, minute: int = 5) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def digests_of(lib: Library, sub: Subscription) -> dict[str, EmailMessage]:
    """The digests recorded for ``sub``, by period."""
    found = {}
    for entry in lib.outbox.recent(1000):
        if entry.subscription_id == sub.id and entry.kind == "digest":
            message = lib.outbox.message(entry.id)
            assert message is not None
            found[entry.period] = message
    return found


def papers_in(lib: Library, text: str) -> list[Paper]:
    """The papers a digest's text part links to, in order (one "Page:" line per paper)."""
    ids = re.findall(r"Page: +\S+/papers/(\S+)", text)
    found = [lib.papers.get(i) for i in ids]
    assert all(found), ids
    return [p for p in found if p is not None]


def sections_of(text: str) -> list[str]:
    return re.findall(r"^== (.+) ==$", text, re.M)


def reasons_by_section(text: str) -> dict[str, list[tuple[str, str]]]:
    """``{section title: [(paper title, reason), ...]}`` read back from a digest's text part."""
    out: dict[str, list[tuple[str, str]]] = {}
    section = title = ""
    for line in text.splitlines():
        if m := re.match(r"^== (.+) ==$", line):
            section = m.group(1)
            out[section] = []
        elif m := re.match(r"^\d+\. (.+)$", line):
            title = m.group(1)
        elif m := re.match(r"^   Why: (.+)$", line):
            out[section].append((title, m.group(1)))
    return out


def signed_for(lib: Library, purpose: Purpose, token: str) -> tuple[str, str]:
    """``(subscription id, nonce)`` a link's token was signed over (:class:`BadLink` when it is not ours)."""
    read = lib.links.read(purpose, unquote(token))
    return read.subscription_id, read.nonce


def find(lib: Library, title: str) -> Paper:
    for day in DEMO_DAYS:
        for paper in lib.papers.in_period(day_period(day)):
            if paper.title == title:
                return paper
    raise AssertionError(f"no paper {title!r}")


def test_every_section_with_reasons_each_paper_once_only_the_window(lib: Library, subscribe: Subscribe) -> None:
    user = lib.accounts.create_user(f"digester{next(_emails)}", f"d{next(_emails)}@example.org", "pw-long-enough-1")
    dropout = find(lib, DROPOUT_TITLE)
    lib.votes.cast(dropout.id, f"user:{user.id}", True)
    lib.saved_searches.save(user.id, name="long contexts", query="sparse attention", filters=Filters())
    sub = subscribe(user_id=user.id, sections=["trending", "picks", "saved", "categories"], categories=["math.CO"])
    report = lib.digests.send_due(now=at(FRIDAY, 9))
    assert (report.due, report.recorded, report.empty, report.failed) == (1, 1, 0, 0)
    text, _ = parts(digests_of(lib, sub)["2026-11-20"])
    found = papers_in(lib, text)
    assert len({p.id for p in found}) == len(found)  # each paper once, though several sections would list it
    assert {p.added_at for p in found} == {FRIDAY}  # only the window's papers: not 2 Nov's, not Wednesday's
    assert dropout.id not in {p.id for p in found}  # a pick is never the paper the user upvoted
    sections = reasons_by_section(text)
    assert list(sections) == ["Trending", "Picked for you", "Your saved searches", "New in your categories"], text
    assert all(0 < len(items) <= lib.config.digest_papers for items in sections.values())
    assert sections["Trending"][0] == (HOSTILE, "trending in cs.LG (90 upvotes)")  # the most upvoted first
    assert [why for _, why in sections["Trending"][1:]] == [
        "trending in cs.CL (7 upvotes)",
        "trending in cs.LG (5 upvotes)",
    ]
    assert any(why.startswith(f"similar to “{DROPOUT_TITLE}”") for _, why in sections["Picked for you"])
    saved = sections["Your saved searches"]
    assert all(why.startswith("matches your saved search 'long contexts'") for _, why in saved)
    assert sections["New in your categories"] == [("Category Only Paper About Graphs", "new in math.CO")]
    assert "Sparse Attention for Long Contexts" in text and OLD.title not in text


def test_hostile_papers_are_escaped_and_headers_follow_the_rfcs(lib: Library, subscribe: Subscribe) -> None:
    sub = subscribe(sections=["trending"])
    lib.digests.send_due(now=at(FRIDAY, 9))
    message = digests_of(lib, sub)["2026-11-20"]
    text, html = parts(message)
    assert message.get_content_type() == "multipart/alternative"
    assert HOSTILE in text  # plain text shows the title as written: nothing in text/plain is markup
    assert "<script" not in html and "<img" not in html  # every tag of the title is text
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; Robust &lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "javascript:" not in html and "javascript:" not in text  # a hostile record's link is not shown
    assert not re.search(r"<(script|style|link|iframe|form|object)\b", html, re.I)
    assert not re.search(r"<[^>]*\bsrc=", html)  # no images at all, so no external ones
    assert message["Subject"] == f"dailypapers: {text.count('Page:')} new papers for Fri 20 Nov"
    assert message["From"] == lib.config.mail_from and message["To"] == sub.email
    one_click = re.fullmatch(
        r"<(http://127\.0\.0\.1:8000/unsubscribe/one-click)\?token=([\w.\-]+)>", message["List-Unsubscribe"]
    )
    assert one_click, message["List-Unsubscribe"]
    assert signed_for(lib, "unsubscribe", one_click.group(2)) == (sub.id, sub.nonce)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].startswith("dailypapers digest <digest.") and message["Message-ID"]
    assert email.utils.parsedate_to_datetime(message["Date"]) == at(FRIDAY, 9)
    manage = re.search(r"^Change what it holds: \S+/subscription/manage\?token=(\S+)$", text, re.M)
    leave = re.search(r'href="[^"]+/unsubscribe\?token=([^"]+)"', html)
    assert manage and leave
    assert signed_for(lib, "manage", manage.group(1)) == signed_for(lib, "unsubscribe", leave.group(1))
    assert signed_for(lib, "manage", manage.group(1)) == (sub.id, sub.nonce)


def test_no_empty_digest(lib: Library, subscribe: Subscribe) -> None:
    sub = subscribe(sections=["categories"], categories=["hep-th"])  # nothing new in hep-th on Friday
    report = lib.digests.send_due(now=at(FRIDAY, 9))
    assert (report.due, report.empty, report.recorded) == (1, 1, 0)
    assert digests_of(lib, sub) == {}
    with pytest.raises(NotFound, match="nothing to preview"):
        lib.digests.preview(sub.email, period="2026-11-20")


def test_weekends_are_skipped_unless_asked_for(lib: Library, subscribe: Subscribe) -> None:
    weekdays = subscribe(sections=["trending"])
    weekends = subscribe(sections=["trending"], weekends=True)
    saturday, sunday = date(2026, 11, 21), date(2026, 11, 22)
    report = lib.digests.send_due(now=at(saturday, 10))
    assert (report.due, report.recorded) == (1, 1)
    assert digests_of(lib, weekdays) == {}
    assert list(digests_of(lib, weekends)) == ["2026-11-21"]  # Friday's papers: the newest day up to Saturday
    report = lib.digests.send_due(now=at(sunday, 10))
    assert (report.due, report.empty, report.recorded) == (1, 1, 0)  # nothing new since Saturday's digest
    assert list(digests_of(lib, weekends)) == ["2026-11-21"]


def test_weekly_digest_is_the_iso_week_from_monday_at_its_hour(lib: Library, subscribe: Subscribe) -> None:
    sub = subscribe(
        sections=["categories"], categories=["cs.DM"], frequency="weekly", time_zone="Europe/Berlin", send_hour=9
    )
    monday = date(2026, 11, 23)
    assert lib.digests.send_due(now=at(monday, 7, 30)).due == 0  # 08:30 in Berlin: before its hour
    assert lib.digests.send_due(now=at(monday, 8, 5)).recorded == 1  # 09:05 in Berlin
    message = digests_of(lib, sub)["2026-W48"]
    text, _ = parts(message)
    assert message["Subject"].endswith("new papers for the week to Mon 23 Nov")
    titles = [p.title for p in papers_in(lib, text)]  # the 7 days to Monday: Friday's and Wednesday's, not 2 Nov's
    assert titles == ["Category Only Paper About Graphs", "Wednesday Graph Minors"]
    report = lib.digests.send_due(now=at(date(2026, 11, 25), 12))  # Wednesday: the week's digest is out
    assert (report.due, report.already, report.recorded) == (0, 1, 0)
    assert list(digests_of(lib, sub)) == ["2026-W48"]


def test_never_twice_even_when_the_batch_forgets(lib: Library, subscribe: Subscribe) -> None:
    sub = subscribe(sections=["trending"])
    first = lib.digests.send_due(now=at(FRIDAY, 9))
    second = lib.digests.send_due(now=at(FRIDAY, 10))
    assert (first.recorded, second.recorded, second.already) == (1, 0, 1)
    lib.store.meta.set(f"digest:{sub.id}", "{}")  # as if the state write was lost: the outbox's key still holds
    third = lib.digests.send_due(now=at(FRIDAY, 11))
    assert (third.due, third.recorded, third.already) == (1, 0, 1)
    assert [e.period for e in lib.outbox.recent(1000) if e.subscription_id == sub.id and e.kind == "digest"] == [
        "2026-11-20"
    ]


def test_a_late_worker_sends_the_current_period_never_the_missed_ones(lib: Library, subscribe: Subscribe) -> None:
    sub = subscribe(sections=["trending"], send_hour=6)
    assert lib.digests.send_due(now=at(FRIDAY, 17)).recorded == 1  # down since Wednesday; back on Friday evening
    assert list(digests_of(lib, sub)) == ["2026-11-20"]


def test_unsubscribed_pending_and_disabled_get_nothing(lib: Library, subscribe: Subscribe) -> None:
    gone = subscribe(sections=["trending"])
    lib.subscriptions.unsubscribe(lib.links.token("unsubscribe", gone))
    pending = lib.subscriptions.subscribe(f"pending{next(_emails)}@example.org", sections=["trending"])
    disabled = subscribe(sections=["trending"])
    with lib.db.write() as conn:  # the state the outbox leaves after permanent failures (tested in its own tests)
        conn.execute(update(subscriptions).where(subscriptions.c.id == disabled.id).values(status="disabled"))
    report = lib.digests.send_due(now=at(FRIDAY, 9))
    assert (report.subscriptions, report.recorded) == (0, 0)
    assert digests_of(lib, gone) == digests_of(lib, pending) == digests_of(lib, disabled) == {}


def test_one_failing_subscriber_does_not_stop_the_batch(lib: Library, subscribe: Subscribe) -> None:
    user = lib.accounts.create_user(f"broken{next(_emails)}", f"b{next(_emails)}@example.org", "pw-long-enough-1")
    good = subscribe(sections=["trending"])
    broken = subscribe(sections=["picks"], user_id=user.id)
    wired = lib.digests.picks

    def broken_model(user_id: str, limit: int, since: date) -> list[Any]:
        raise RuntimeError("the recommendation model broke")  # a fault injected into one part, not a stand-in

    lib.digests.picks = broken_model
    try:
        report = lib.digests.send_due(now=at(FRIDAY, 9))
    finally:
        lib.digests.picks = wired
    assert (report.failed, report.recorded) == (1, 1)
    assert list(digests_of(lib, good)) == ["2026-11-20"] and digests_of(lib, broken) == {}


def test_preview_for_a_subscriber_and_for_a_stranger(lib: Library, subscribe: Subscribe) -> None:
    sub = subscribe(sections=["categories"], categories=["cs.CL"])
    text, _ = parts(lib.digests.preview(sub.email, period="2026-11-20"))
    assert sections_of(text) == ["New in your categories"] and "Sparse Attention for Long Contexts" in text
    stranger, _ = parts(lib.digests.preview("Stranger@Example.org", period="2026-W48"))
    assert sections_of(stranger) == ["Trending"] and "preview of the weekly digest for Stranger@example.org" in stranger
    assert digests_of(lib, sub) == {}  # a preview records nothing
    with pytest.raises(BadInput, match="YYYY-Www"):
        lib.digests.preview(sub.email, period="2026-W60")
    with pytest.raises(BadInput):
        lib.digests.preview("evil@example.org\r\nBcc: all@example.org")


def test_cli_preview_and_send(lib: Library, digest_config: Config, subscribe: Subscribe, tmp_path: Any) -> None:
    sub = subscribe(sections=["trending"])
    runner = CliRunner()
    env = {**cli_env(digest_config), "DAILYPAPERS_MAILER": "none"}
    out = tmp_path / "d.eml"
    result = runner.invoke(main, ["digest", "preview", "--to", sub.email, "--period", "2026-11-20", "--out", str(out)],
                           env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "new papers for Fri 20 Nov" in result.output
    parsed = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    result = runner.invoke(main, ["digest", "send", "--now", "2026-11-20T09:05:00"], env=env)
    assert result.exit_code == 0, result.output
    assert "digests: 1 recorded" in result.output and "delivery:" in result.output
    bad = runner.invoke(main, ["digest", "send", "--now", "friday"], env=env)
    assert bad.exit_code == 2 and "not an ISO 8601 time" in bad.output
    bad = runner.invoke(main, ["digest", "preview", "--to", sub.email, "--period", "2026-13-01"], env=env)
    assert bad.exit_code == 1 and "not a valid date" in bad.output
    assert list(digests_of(lib, sub)) == ["2026-11-20"]


def test_the_job_runs_the_same_batch(lib: Library, subscribe: Subscribe) -> None:
    subscribe(sections=["trending"], send_hour=0)
    outcome = run_now(lib, "digest.send")  # the scheduler's path: the job's lock, a recorded run, its counts
    assert outcome.run is not None and outcome.run.status == "ok", outcome
    counts = outcome.run.counts
    assert counts["subscriptions"] == 1 and counts["failed"] == 0
    assert counts["due"] == counts["recorded"] + counts["empty"] and isinstance(counts["delivery"], dict)
