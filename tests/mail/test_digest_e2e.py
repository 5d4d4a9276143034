"""The inbox, end to end, on both backends, with every part real: a reader subscribes in the web form (the app
through its public routes, in-process), the confirmation email arrives over SMTP (aiosmtpd on 127.0.0.1), its link
is followed and confirmed, the due batch runs (``lib.digests.send_due``, the function of the ``digest.send`` job),
the digest arrives over SMTP with the right papers and reasons, its ``List-Unsubscribe`` URL is POSTed the way a
mail client does (RFC 8058: no cookies, no CSRF token, body ``List-Unsubscribe=One-Click``) — and the next period's
batch sends nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.sources.jsonl import read_jsonl
from dailypapers.web.app import create_app
from tests.demo import DEMO_CORPUS, demo_embedder
from tests.mail.smtp_server import SmtpServer
from tests.web.small_library import token_of

FRIDAY, THURSDAY, MONDAY = date(2026, 11, 20), date(2026, 11, 19), date(2026, 11, 23)
READER = "reader@example.org"
_CONFIRM = re.compile(r"https?://[^/\s]+(/subscribe/confirm\?token=[\w.\-%]+)")
_HIDDEN_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def _papers() -> list[Paper]:
    rows = [
        ("2611.20001", "Speculative Decoding for Tiny Language Models", ["cs.CL", "cs.LG"], 40),
        ("2611.20002", "A Survey of Retrieval-Augmented Generation", ["cs.CL"], 12),
        ("2611.20003", "Protein Folding with Equivariant Networks", ["q-bio.BM", "cs.LG"], 25),
        ("2611.20004", "Tokenizers for Low-Resource Languages", ["cs.CL"], 0),
    ]
    return [
        make_paper(source="jsonl", arxiv_id=i, title=t, categories=c, upvotes=u, authors=["Grace Hopper"],
                   abstract=f"{t}: what it is, why it matters, and how well it works on public benchmarks.")
        for i, t, c, u in rows
    ]  # fmt: skip


def _demo() -> list[Paper]:
    """Demo papers as background: none in cs.CL, the reader's category (the demo has real categories now), so the
    categories section holds only :func:`_papers`' one."""
    return [r for r in read_jsonl(DEMO_CORPUS) if isinstance(r, Paper) and "cs.CL" not in r.categories]


@pytest.fixture
def lib(db_config: Config, smtp: SmtpServer) -> Iterator[Library]:
    """A small library (demo papers on Thursday; :func:`_papers` and more demo papers on Friday) sending through
    ``smtp``."""
    config = smtp.config(db_config, subscribe_rate_limit="100/hour", digest_papers=3)  # 3 a section: trending
    library = Library(config, embedder=demo_embedder())  # takes the 3 upvoted papers, categories the 4th
    library.init()
    demo = _demo()
    library.ingest(demo[:20], added_at=THURSDAY, progress=False, index=False)
    library.ingest(demo[20:40] + _papers(), added_at=FRIDAY, progress=False, index=False)
    yield library
    library.close()


def body(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body((kind,))
    assert part is not None, f"no text/{kind} part"
    # Lines come off the wire ending in CRLF (RFC 5321 §2.3.8); the templates wrote LF.
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 5, tzinfo=UTC)


def test_subscribe_confirm_digest_one_click_unsubscribe_then_nothing(lib: Library, smtp: SmtpServer) -> None:
    reader = TestClient(create_app(lib), follow_redirects=False)  # a visitor: cookies of its own only
    form = {"email": READER, "frequency": "daily", "time_zone": "Europe/Paris", "send_hour": "8",
            "sections": ["trending", "categories"], "categories": "cs.CL",
            "csrf_token": token_of(reader, "/subscribe")}  # fmt: skip
    sent = reader.post("/subscribe", data=form)
    assert sent.status_code == 200 and "Check your inbox" in sent.text

    assert lib.wait_for_delivery(30)
    (confirmation,) = smtp.wait_for(1)
    assert confirmation.rcpt_tos == [READER]
    link = _CONFIRM.search(body(confirmation.message))
    assert link, body(confirmation.message)
    page = reader.get(link.group(1))  # what a mail scanner fetches too: a button, nothing changes yet
    assert page.status_code == 200 and lib.subscriptions.active() == []
    token = _HIDDEN_TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    done = reader.post("/subscribe/confirm", data={"token": token, "csrf_token": token_of(reader, link.group(1))})
    assert done.status_code == 200 and "You are subscribed" in done.text
    (sub,) = lib.subscriptions.active()

    early = lib.digests.send_due(now=at(FRIDAY, 6))  # 07:05 in Paris: before the reader's hour
    assert (early.due, early.recorded) == (0, 0) and len(smtp.messages) == 1
    report = lib.digests.send_due(now=at(FRIDAY, 7))  # 08:05 in Paris
    assert (report.recorded, report.delivery.sent) == (1, 1), report
    (_, arrived) = smtp.wait_for(2)
    digest = arrived.message
    assert arrived.rcpt_tos == [READER] and digest["To"] == READER
    assert digest["Subject"] == "dailypapers: 4 new papers for Fri 20 Nov"
    text, html = body(digest), body(digest, "html")
    reasons = re.findall(r"^\d+\. (.+)\n(?:   .+\n)?   Why: (.+)$", text, re.M)
    assert reasons == [  # the reader's two sections, each paper once: the cs.CL papers trending took stay there
        ("Speculative Decoding for Tiny Language Models", "trending in cs.CL (40 upvotes)"),
        ("Protein Folding with Equivariant Networks", "trending in q-bio.BM (25 upvotes)"),
        ("A Survey of Retrieval-Augmented Generation", "trending in cs.CL (12 upvotes)"),
        ("Tokenizers for Low-Resource Languages", "new in cs.CL"),
    ]
    assert re.findall(r"^== (.+) ==$", text, re.M) == ["Trending", "New in your categories"]
    assert "Speculative Decoding for Tiny Language Models" in html and "https://arxiv.org/pdf/2611.20001" in html
    thursday = _demo()[0].title
    assert thursday not in text  # Thursday's papers were not added since the previous period

    one_click = digest["List-Unsubscribe"].strip("<>")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = urlsplit(one_click)
    mail_client = TestClient(create_app(lib))  # a mail client's POST: no cookies, no CSRF token
    gone = mail_client.post(f"{url.path}?{url.query}", data={"List-Unsubscribe": "One-Click"})
    assert gone.status_code == 200 and gone.json() == {"ok": True, "unsubscribed": True}
    assert lib.subscriptions.active() == [] and lib.subscriptions.get(sub.id).status == "unsubscribed"  # type: ignore[union-attr]

    for later in (at(FRIDAY, 12), at(MONDAY, 7)):  # later that day, and the next period
        after = lib.digests.send_due(now=later)
        assert (after.subscriptions, after.recorded) == (0, 0)
    assert lib.wait_for_delivery(30)
    assert len(smtp.wait_for(3, timeout=1.0)) == 2  # the confirmation and one digest: nothing after unsubscribing
