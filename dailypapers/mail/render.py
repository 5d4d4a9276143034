"""A composed digest as an email: ``templates/digest/{subject.txt,body.txt,body.html}`` rendered with Jinja2 into one
``multipart/alternative`` :class:`~email.message.EmailMessage` (text first, HTML last: RFC 2046 §5.1.4, the last
part is the preferred one).

The HTML template is autoescaped (every title, author, abstract and reason is text, never markup) and is made for
mail clients: inline styles and tables only, no scripts, no external images, style sheets or fonts. The text
templates are not escaped (plain text has nothing to escape), and the subject is collapsed to one line, so no
title can add a header line. Headers: ``From``, ``To``, ``Subject``, ``Date``, ``Message-ID``, ``List-Id``
(RFC 2919) and ``List-Unsubscribe`` with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058: a
mail client's unsubscribe button POSTs to the URL, no cookies, no page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from dailypapers.mail.digest import Digest

TEMPLATES = Path(__file__).resolve().parent / "templates"
SITE_NAME = "dailypapers"
MAX_SUBJECT = 200  # characters; RFC 5322 §2.1.1 asks for lines under 78, the header is folded beyond that


@dataclass(frozen=True)
class FooterLinks:
    """The subscriber's signed links (:class:`dailypapers.mail.links.Links`) that every digest carries."""

    manage: str
    unsubscribe: str  # the page (a GET shows a button: mail scanners prefetch links)
    one_click: str  # RFC 8058's POST target, for the List-Unsubscribe header


@cache
def environment() -> Environment:
    """The templates' Jinja2 environment: HTML autoescaped, undefined names an error (never an empty string)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_template(name: str, context: dict[str, Any]) -> str:
    return environment().get_template(name).render(**context)


def _host(site: str) -> str:
    return urlsplit(site).hostname or "localhost"


def digest_context(digest: Digest, links: FooterLinks, site: str, *, preview: bool = False) -> dict[str, Any]:
    """What the three digest templates see (``preview``: the footer says it is one, not why it was sent)."""
    return {
        "preview": preview,
        "site_name": SITE_NAME,
        "site_url": site,
        "site_host": _host(site),
        "window": digest.window,
        "sections": digest.sections,
        "count": digest.count,
        "email": digest.subscriber.email,
        "frequency_word": "weekly" if digest.window.frequency == "weekly" else "daily",
        "manage_url": links.manage,
        "unsubscribe_url": links.unsubscribe,
    }


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """``text`` on one line (every run of whitespace, CR and LF included, one space), at most ``limit`` chars."""
    return " ".join(text.split())[:limit]


def render_digest(
    digest: Digest,
    links: FooterLinks,
    *,
    site: str,
    mail_from: str,
    now: datetime | None = None,
    message_id: str | None = None,
    preview: bool = False,
) -> EmailMessage:
    """The digest as a ready-to-send multipart message (the outbox stores it exactly as it will be sent)."""
    context = digest_context(digest, links, site, preview=preview)
    subject = one_line(render_template("digest/subject.txt", context))
    context["subject"] = subject
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = digest.subscriber.email
    msg["Subject"] = subject
    msg["Date"] = format_datetime((now or datetime.now(UTC)).astimezone(UTC))
    msg["Message-ID"] = message_id or make_msgid("digest", domain=_sender_domain(mail_from))
    msg["List-Id"] = f"{SITE_NAME} digest <digest.{_host(site)}>"
    msg["List-Unsubscribe"] = f"<{links.one_click}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(render_template("digest/body.txt", context), subtype="plain", charset="utf-8")
    msg.add_alternative(render_template("digest/body.html", context), subtype="html", charset="utf-8")
    return msg


def _sender_domain(mail_from: str) -> str:
    """The domain of the sender's address, for Message-IDs (RFC 5322 §3.6.4: unique, on a domain we own)."""
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


def parts(message: EmailMessage) -> tuple[str, str]:
    """``(text, html)`` of a multipart digest (for previews and tests)."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    if text is None or html is None:
        raise ValueError("not a multipart/alternative digest")
    return str(text.get_content()), str(html.get_content())  # type: ignore[attr-defined]
