"""Papers added after a digest went out, on both backends, with the real outbox and a real SMTP server: a paper
listed under a day whose digest was already sent (a late import, a submission after the send hour) reaches the
subscriber's next digest — daily, weekly and on a weekend — exactly once, and ``digest preview`` shows what
``digest send`` then sends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import count

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.db.schema import papers
from dailypapers.library import Library
from dailypapers.mail.render import parts
from dailypapers.mail.subscriptions import Subscription
from dailypapers.papers.models import Paper, make_paper
from tests.demo import cli_env
from tests.mail.smtp_server import SmtpServer

THURSDAY, FRIDAY, SATURDAY = date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 21)
MONDAY, TUESDAY, NEXT_MONDAY = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 30)
_ids = count(1)


def paper(title: str, upvotes: int = 0) -> Paper:
    return make_paper(source="jsonl", arxiv_id=f"2611.{30000 + next(_ids)}", title=title, categories=["cs.LG"],
                      upvotes=upvotes, authors=["Grace Hopper"],
                      abstract=f"{title}: a method, its analysis and experiments on public benchmarks.")  # fmt: skip


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 5, tzinfo=UTC)


@pytest.fixture
def lib(db_config: Config, smtp: SmtpServer) -> Iterator[Library]:
    """An empty library sending through ``smtp``; every paper of a test is added by the test, at its time."""
    library = Library(smtp.config(db_config, digest_papers=10, subscribe_rate_limit="100/hour"))
    library.init()
    yield library
    library.close()


def add(lib: Library, day: date, *titles: str) -> None:
    """Papers listed under ``day``, stored now (whatever day it is now: a late import, a submission)."""
    lib.ingest([paper(t, upvotes=len(titles) - i) for i, t in enumerate(titles)], added_at=day, progress=False,
               index=False)  # fmt: skip


def subscribe(lib: Library, email: str, **prefs: object) -> Subscription:
    sub = lib.subscriptions.subscribe(email, sections=["trending"], time_zone="UTC", send_hour=8, **prefs)
    return lib.subscriptions.confirm(lib.links.token("confirm", sub))


def titles_of(text: str) -> list[str]:
    return sorted(re.findall(r"^\d+\. (.+?)\r?$", text, re.M))  # CRLF off the wire (RFC 5321 §2.3.8)


def arrived(smtp: SmtpServer, email: str) -> list[list[str]]:
    """The papers of each digest ``email`` received over SMTP, in the order they arrived."""
    return [titles_of(parts(m.message)[0]) for m in smtp.messages
            if m.rcpt_tos == [email] and m.message["List-Id"]]  # fmt: skip


def test_papers_added_after_a_digest_reach_the_next_one_exactly_once(
    lib: Library, smtp: SmtpServer, db_config: Config
) -> None:
    daily = subscribe(lib, "daily@example.org")
    add(lib, THURSDAY, "Thursday Morning A", "Thursday Morning B")
    assert lib.digests.send_due(now=at(THURSDAY, 9)).recorded == 1
    add(lib, THURSDAY, "Thursday Afternoon Import")  # listed under Thursday, after Thursday's digest went out
    add(lib, THURSDAY, "Thursday Evening Submission")  # a submission after the send hour: today's list

    # What the preview shows is what the next batch sends: the papers added since the previous digest.
    preview = titles_of(parts(lib.digests.preview(daily.email, period="2026-11-20", now=at(FRIDAY, 9)))[0])
    assert preview == ["Thursday Afternoon Import", "Thursday Evening Submission"]
    env = {**cli_env(db_config), **smtp.env()}
    sent = CliRunner().invoke(main, ["digest", "send", "--now", "2026-11-20T09:05:00"], env=env)
    assert sent.exit_code == 0 and "digests: 1 recorded" in sent.output, sent.output

    add(lib, FRIDAY, "Friday After Ten")  # after Friday's digest: Saturday is no day of this subscriber's
    weekends = subscribe(lib, "weekends@example.org", weekends=True)
    assert lib.digests.send_due(now=at(SATURDAY, 9)).recorded == 1  # the new weekend subscriber's first digest
    assert lib.digests.send_due(now=at(MONDAY, 9)).recorded == 1  # the daily one's; nothing new for the other
    tuesday = lib.digests.send_due(now=at(TUESDAY, 9))
    assert (tuesday.empty, tuesday.recorded) == (2, 0)  # each paper once: nothing was added since Monday's
    assert lib.wait_for_delivery(30)  # the confirmations' background sender, which may have held the mail lock
    lib.deliver_mail()
    assert arrived(smtp, daily.email) == [
        ["Thursday Morning A", "Thursday Morning B"],
        ["Thursday Afternoon Import", "Thursday Evening Submission"],
        ["Friday After Ten"],
    ]
    assert arrived(smtp, weekends.email) == [["Friday After Ten"]]


def test_a_weekly_digest_brings_what_was_added_to_last_week_after_it_went_out(lib: Library, smtp: SmtpServer) -> None:
    weekly = subscribe(lib, "weekly@example.org", frequency="weekly")
    add(lib, THURSDAY, "Thursday Paper")
    add(lib, FRIDAY, "Friday Paper")
    assert lib.digests.send_due(now=at(MONDAY, 9)).recorded == 1  # the week to Monday 23 Nov
    add(lib, FRIDAY, "Friday Paper Imported On Monday Afternoon")  # listed ten days before the next weekly
    add(lib, TUESDAY, "Tuesday Paper")
    assert lib.digests.send_due(now=at(TUESDAY, 9)).already == 1  # once a week
    preview = titles_of(parts(lib.digests.preview(weekly.email, period="2026-W49", now=at(NEXT_MONDAY, 9)))[0])
    assert preview == ["Friday Paper Imported On Monday Afternoon", "Tuesday Paper"]
    assert lib.digests.send_due(now=at(NEXT_MONDAY, 9)).recorded == 1
    assert lib.wait_for_delivery(30)
    lib.deliver_mail()
    assert arrived(smtp, weekly.email) == [
        ["Friday Paper", "Thursday Paper"],
        ["Friday Paper Imported On Monday Afternoon", "Tuesday Paper"],
    ]


def test_a_paper_deleted_after_a_digest_saw_it_does_not_hide_the_next_one(lib: Library, smtp: SmtpServer) -> None:
    daily = subscribe(lib, "daily@example.org")
    add(lib, THURSDAY, "Thursday Paper", "Half-Done Submission")
    assert lib.digests.send_due(now=at(THURSDAY, 9)).recorded == 1  # it saw the submission: the newest key
    with lib.db.write() as conn:  # the submission failed and removed its paper (community.submissions._discard)
        conn.execute(delete(papers).where(papers.c.title == "Half-Done Submission"))
    add(lib, THURSDAY, "Thursday Evening Paper")  # on SQLite it takes the deleted paper's key
    assert lib.digests.send_due(now=at(FRIDAY, 9)).recorded == 1
    assert lib.wait_for_delivery(30)
    lib.deliver_mail()
    assert arrived(smtp, daily.email)[1:] == [["Thursday Evening Paper"]]
